"""The case file: tables, UTC, bound parameters, read-only analysis, one clear line when locked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import forensics
from forensics.errors import QueryError, UnknownQueryError
from forensics.hunt import run_hunt

from .test_cloudtrail_shapes import event


def test_new_case_has_the_design_tables(case):
    assert set(case.tables()) >= {"cloudtrail", "vpc_flows", "billing", "findings", "sources", "rejects"}
    assert case.sql("SELECT current_setting('TimeZone') tz")["tz"][0] in ("UTC", "Etc/UTC")


def test_parameters_are_bound_not_pasted(case):
    hostile = "x'); DROP TABLE cloudtrail; --"
    out = case.sql("SELECT $v AS v", v=hostile)
    assert out["v"][0] == hostile
    assert "cloudtrail" in case.tables()


def test_engine_errors_name_the_query(case, tmp_path):
    (tmp_path / "e.json").write_text(json.dumps({"Records": [event(1)]}))
    case.load([tmp_path])
    with pytest.raises(QueryError, match="access_key_first_seen"):
        case.query("access_key_first_seen", access_key_id={"not": "a key"})
    with pytest.raises(QueryError, match="no_such_table"):
        case.sql("SELECT * FROM no_such_table")
    with pytest.raises(UnknownQueryError):
        case.query("no_such_query")


def test_read_only_case_refuses_to_load(tmp_path):
    path = tmp_path / "c.duckdb"
    forensics.Case(path).close()
    with (
        forensics.Case(path, read_only=True) as ro,
        pytest.raises(forensics.ForensicsError, match="read-only"),
    ):
        ro.load([tmp_path])


def test_a_locked_case_gives_one_clear_line(tmp_path):
    path = tmp_path / "c.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import forensics,time; c=forensics.Case({str(path)!r}); "
            "print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(forensics.CaseLockedError) as err:
            forensics.Case(path)
        message = str(err.value)
        assert "locked" in message and str(path) in message and "\n" not in message
        cli = subprocess.run(
            [sys.executable, "-m", "forensics", "load", str(tmp_path), "--case", str(path)],
            capture_output=True,
            text=True,
        )
        assert cli.returncode == 2
        assert cli.stderr.strip().count("\n") == 0 and "locked" in cli.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_broken_query_header_names_its_file(tmp_path):
    from forensics.catalog import parse_query

    bad = tmp_path / "broken.sql"
    bad.write_text("/* ---\nid: broken\ntitle: a: b: c\n--- */\nSELECT 1\n")
    with pytest.raises(forensics.ForensicsError, match="broken.sql"):
        parse_query(bad)


def test_a_case_from_an_older_version_says_so(tmp_path):
    """A case written before a column existed fails on open with what is missing, not later
    with a binder error in the middle of a load or a query."""
    import duckdb

    path = tmp_path / "old.duckdb"
    forensics.Case(path).close()
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE findings DROP COLUMN updated_at")
    con.close()
    for read_only in (False, True):
        with pytest.raises(forensics.ForensicsError, match="older version.*findings lacks updated_at"):
            forensics.Case(path, read_only=read_only)


def test_a_load_leaves_the_analysts_duckdb_settings_as_they_were(tmp_path):
    """The load caps DuckDB's memory for itself only."""
    setting = "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t"
    with forensics.Case(tmp_path / "c.duckdb") as c:
        default = c.sql(setting).rows()
        c.load([], on_problem=lambda line: None)
        assert c.sql(setting).rows() == default
        c.con.execute("SET memory_limit = '3GB'")
        mine = c.sql(setting).rows()
        c.load([], on_problem=lambda line: None)
        assert c.sql(setting).rows() == mine


def test_a_load_after_a_hunt_is_seen_by_the_cached_definitions(tmp_path) -> None:
    """The hunt computes the vocabulary's case-wide views once; a later load on the same case
    must not be answered from that snapshot."""

    def record(i: int, key: str) -> dict:
        return {
            "eventVersion": "1.08",
            "eventTime": f"2026-10-01T00:00:0{i}Z",
            "eventID": f"00000000-0000-0000-0000-00000000000{i}",
            "eventName": "GetCallerIdentity",
            "eventSource": "sts.amazonaws.com",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.9",
            "userAgent": "aws-cli/2.15.0",
            "recipientAccountId": "111122223333",
            "readOnly": True,
            "userIdentity": {
                "type": "IAMUser",
                "arn": "arn:aws:iam::111122223333:user/u",
                "accountId": "111122223333",
                "accessKeyId": key,
                "userName": "u",
            },
        }

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "a.json").write_text(json.dumps({"Records": [record(1, "AKIAFIRST00000000001")]}))
    (second / "b.json").write_text(json.dumps({"Records": [record(2, "AKIASECOND0000000002")]}))
    with forensics.Case(tmp_path / "c.duckdb") as case:
        case.load([first], on_problem=lambda line: None)
        run_hunt(case, on_problem=lambda line: None)
        case.load([second], on_problem=lambda line: None)
        seen = case.sql("SELECT access_key_id FROM key_first_seen ORDER BY 1")["access_key_id"].to_list()
        first_use = case.query("access_key_first_seen").drop_nulls("first_use_time")["access_key_id"]
    assert seen == sorted(first_use.to_list()) == ["AKIAFIRST00000000001", "AKIASECOND0000000002"]
