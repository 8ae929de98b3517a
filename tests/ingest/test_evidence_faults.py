"""Evidence as it really arrives (issue 17), through the CLI: EventBridge envelopes in every
shape, duplicates across deliveries in both orders, symlink faults, Hive-partitioned Parquet flow
logs, a loader's unexpected exception, and absurd times. Fixtures are written here, in tmp dirs."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from .fixtures_evidence import ACCT as FLOW_ACCT
from .fixtures_evidence import flow
from .test_cloudtrail_shapes import event

ACCT = "012345678901"  # the recipient account of test_cloudtrail_shapes.event


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "forensics", *args], capture_output=True, text=True, timeout=timeout
    )


def load(case: Path, *paths: Path, code: int = 0) -> tuple[dict, str]:
    done = run("load", *map(str, paths), "--case", str(case), "--json")
    assert done.returncode == code, done.stderr
    report = json.loads(done.stdout)
    assert report["read"] == report["loaded"] + report["duplicates"] + report["rejected"]
    return report, done.stderr


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def rows(case: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(case), read_only=True) as con:
        return con.execute(sql).fetchall()


def envelope(rec: dict, kind: str = "AWS API Call via CloudTrail", **over) -> dict:
    env = {
        "version": "0",
        "id": "eb-" + rec.get("eventID", "x"),
        "detail-type": kind,
        "source": "aws.ec2",
        "account": ACCT,
        "time": rec.get("eventTime", "2026-10-01T05:00:00Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": rec,
    }
    env.update(over)
    return env


def case_consistent(case: Path) -> None:
    """Every row of `cloudtrail` is counted once as loaded in `sources`, and each file reconciles."""
    ((n, loaded),) = rows(
        case, "SELECT (SELECT count(*) FROM cloudtrail), (SELECT sum(records_loaded) FROM sources)"
    )
    assert n == loaded
    assert rows(
        case, "SELECT count(*) FROM sources WHERE records_read <> records_loaded + duplicates + rejected"
    ) == [(0,)]


# --- EventBridge ------------------------------------------------------------------------------
def test_eventbridge_envelopes_in_every_shape_load_as_cloudtrail(tmp_path):
    ev = tmp_path / "ev"
    ev.mkdir()
    recs = [event(i) for i in range(7)]
    (ev / "eb.ndjson").write_text("\n".join(json.dumps(envelope(r)) for r in recs[:2]) + "\n")
    (ev / "eb-array.json").write_text(json.dumps([envelope(r) for r in recs[2:4]], indent=1))
    bare = {k: v for k, v in recs[5].items() if k not in ("eventTime", "awsRegion")}
    firehose = "".join(
        json.dumps(e)
        for e in (
            envelope(recs[4], kind="AWS Console Sign In via CloudTrail"),
            envelope(bare, time="2026-10-01T05:00:00Z", region="eu-west-1"),
            envelope(recs[6], kind="AWS Service Event via CloudTrail"),
            envelope({"id": "gd"}, kind="GuardDuty Finding"),
        )
    )
    assert "}{" in firehose  # documents concatenated with no separator, as Firehose writes them
    (ev / "firehose-1-2026-10-01").write_bytes(gzip.compress(firehose.encode()))
    before = digests(ev)

    report, stderr = load(tmp_path / "c.duckdb", ev)

    assert (report["read"], report["loaded"], report["rejected"]) == (8, 7, 1)
    assert "holds no CloudTrail record (EventBridge detail-type GuardDuty Finding)" in stderr
    got = rows(
        tmp_path / "c.duckdb",
        "SELECT event_id, delivery, aws_region, event_time::VARCHAR, record_flags, envelope ->> 'id', "
        "raw ->> 'eventName' FROM cloudtrail ORDER BY event_id",
    )
    assert [r[0][-1] for r in got] == list("0123456")
    assert {r[1] for r in got} == {"eventbridge"}
    assert all(r[6] == "DescribeInstances" for r in got)  # raw is the record, not the envelope
    filled = got[5]
    assert filled[2] == "eu-west-1" and filled[3].startswith("2026-10-01 05:00:00")
    assert filled[4] == ["filled from an envelope"] and filled[5] == "eb-" + recs[5]["eventID"]
    assert got[0][2] == "ap-northeast-1" and got[0][4] == []  # the record's own fields win
    assert digests(ev) == before
    case_consistent(tmp_path / "c.duckdb")


def _trail_and_copies(tmp_path: Path) -> tuple[Path, Path]:
    trail, copies = tmp_path / "trail", tmp_path / "copies"
    trail.mkdir(parents=True)
    copies.mkdir(parents=True)
    recs = [event(i) for i in range(4)]
    (trail / "111_CloudTrail_ap-northeast-1_x.json").write_text(json.dumps({"Records": recs[:3]}))
    # the forwarded copies carry one event the trail lacks, and a poorer copy of three it has
    (copies / "eb.ndjson").write_text("\n".join(json.dumps(envelope(r)) for r in recs) + "\n")
    return trail, copies


def test_duplicates_keep_the_trail_copy_whatever_the_order(tmp_path):
    for order in ("trail-first", "copies-first"):
        trail, copies = _trail_and_copies(tmp_path / order)
        case = tmp_path / order / "c.duckdb"
        first, second = (trail, copies) if order == "trail-first" else (copies, trail)
        r1, _ = load(case, first)
        r2, stderr2 = load(case, second)
        kept = rows(case, "SELECT event_id, delivery FROM cloudtrail ORDER BY event_id")
        assert [d for _, d in kept] == ["trail"] * 3 + ["eventbridge"], order
        copies_rows = rows(
            case,
            "SELECT delivery, replaced, envelope_id IS NOT NULL FROM cloudtrail_copies ORDER BY event_id",
        )
        assert copies_rows == [("eventbridge", order == "copies-first", True)] * 3, order
        assert r1["read"] + r2["read"] == 7
        if order == "copies-first":
            assert (r1["loaded"], r2["loaded"]) == (4, 3)
            assert "3 events already in the case replaced by a more complete copy" in stderr2
            assert "(from 1 earlier file(s))" in stderr2
        else:
            assert (r1["loaded"], r2["loaded"], r2["duplicates"]) == (3, 1, 3)
        case_consistent(case)


def test_duplicates_in_one_load_keep_the_trail_copy(tmp_path):
    trail, copies = _trail_and_copies(tmp_path)
    report, _ = load(tmp_path / "c.duckdb", trail, copies)
    assert (report["read"], report["loaded"], report["duplicates"]) == (7, 4, 3)
    assert rows(tmp_path / "c.duckdb", "SELECT count(*) FROM cloudtrail WHERE delivery = 'trail'") == [(3,)]
    case_consistent(tmp_path / "c.duckdb")


# --- faults -----------------------------------------------------------------------------------
def test_symlink_loop_and_dangling_link_are_one_problem_each(tmp_path):
    ev = tmp_path / "ev"
    (ev / "sub").mkdir(parents=True)
    (ev / "a.json").write_text(json.dumps({"Records": [event(i) for i in range(3)]}))
    os.symlink("..", ev / "sub" / "loop")
    os.symlink("nowhere.json", ev / "dangling.json")
    os.symlink("self", ev / "self")
    before = digests(ev)

    report, stderr = load(tmp_path / "c.duckdb", ev)

    assert report["loaded"] == 3 and report["rejected_files"] == 3
    lines = stderr.splitlines()
    assert sum("symbolic link loop" in ln and "sub/loop" in ln for ln in lines) == 1
    assert sum("symbolic link loop" in ln and "self" in ln for ln in lines) == 1
    assert sum("dangling symbolic link to nowhere.json" in ln for ln in lines) == 1
    assert "Traceback" not in stderr
    status = dict(rows(tmp_path / "c.duckdb", "SELECT path, status FROM sources"))
    assert status[str(ev / "dangling.json")] == "rejected"
    assert status[str(ev / "a.json")] == "loaded"
    assert digests(ev) == before
    # a dangling link given by name is also one problem, not "no such file"
    alone, _ = load(tmp_path / "c2.duckdb", ev / "dangling.json", code=2)
    assert alone["rejected_files"] == 1


def test_hive_partitioned_parquet_flow_logs_keep_identifiers_as_text(tmp_path):
    ev = tmp_path / "ev"
    con = duckdb.connect()
    for account, with_column in (("777788889999", True), ("077788889999", False)):
        folder = (
            ev / f"AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region=us-east-1"
            "/year=2026/month=05/day=14"
        )
        folder.mkdir(parents=True)
        recs = [flow(i) for i in range(3)]
        values = ", ".join(
            f"(2, {repr(account) if with_column else 'NULL'}, '{r['interface-id']}', '{r['srcaddr']}', "
            f"'{r['dstaddr']}', {r['srcport']}, {r['dstport']}, 6, {r['packets']}, {r['bytes']}, "
            f"{r['start']}, {r['end']}, 'ACCEPT', 'OK')"
            for r in recs
        )
        con.execute(
            f"COPY (SELECT * FROM (VALUES {values}) t(version, account_id, interface_id, srcaddr, dstaddr, "
            'srcport, dstport, protocol, packets, bytes, start, "end", action, log_status)) '
            f"TO '{folder}/{account}_vpcflowlogs_us-east-1_fl-1_20260514T0000Z_x.log.parquet'"
        )
    (ev / "trail.json").write_text(json.dumps({"Records": [event(1)]}))
    before = digests(ev)

    report, stderr = load(tmp_path / "c.duckdb", ev)

    assert "Traceback" not in stderr and report["rejected"] == 0
    assert report["by_source"]["vpcflow"]["loaded"] == 6
    assert report["by_source"]["cloudtrail"]["loaded"] == 1  # the rest of the load is kept
    assert rows(tmp_path / "c.duckdb", "SELECT DISTINCT account_id, region FROM vpc_flows ORDER BY 1") == [
        ("077788889999", "us-east-1"),
        ("777788889999", "us-east-1"),
    ]
    assert digests(ev) == before
    assert FLOW_ACCT  # the fixtures' flow() account is overridden by the partition's here


POISON = """
import sys
from forensics.ingest import cloudtrail
real = cloudtrail._stage_and_insert
def poisoned(ctx, src_sql, delivery, params=None):
    if params and any("poison" in f for f in params["files"]):
        raise RuntimeError("a bug met by this file")
    return real(ctx, src_sql, delivery, params)
cloudtrail._stage_and_insert = poisoned
from forensics.cli import main
sys.argv = ["forensics", *sys.argv[1:]]
main()
"""


def test_an_unexpected_exception_rejects_that_file_and_the_load_goes_on(tmp_path):
    ev = tmp_path / "ev"
    ev.mkdir()
    for name, first in (("a.json", 0), ("poison.json", 10), ("z.json", 20)):
        (ev / name).write_text(json.dumps({"Records": [event(first + i) for i in range(2)]}))
    done = subprocess.run(
        [sys.executable, "-c", POISON, "load", str(ev), "--case", str(tmp_path / "c.duckdb"), "--json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["loaded"], report["rejected_files"]) == (4, 1)
    assert "Traceback" not in done.stderr
    assert "poison.json (file): unexpected error while reading this file (RuntimeError" in done.stderr
    assert rows(tmp_path / "c.duckdb", "SELECT status FROM sources WHERE path LIKE '%poison.json'") == [
        ("rejected",)
    ]


# --- absurd times -----------------------------------------------------------------------------
def test_absurd_times_are_kept_reported_and_never_drive_a_loop(tmp_path):
    ev = tmp_path / "ev"
    ev.mkdir()
    recs = [event(i) for i in range(3)]
    # by another identity than the one investigated: what is tested here is the coverage span
    # (the story's own phase spans over flagged times are the investigation's to bound)
    other = {**event(0)["userIdentity"], "accessKeyId": "AKIAOTHER00000000000", "userName": "ops"}
    recs += [
        event(7, eventTime="1900-01-01T00:00:00Z", userIdentity=other),
        event(8, eventTime="9999-12-31T23:00:00Z", userIdentity=other),
    ]
    (ev / "a.json").write_text(json.dumps({"Records": recs}))
    case = tmp_path / "c.duckdb"
    report, stderr = load(case, ev)
    assert report["loaded"] == 5
    assert sum("2 CloudTrail events have a time before 2013-11" in ln for ln in stderr.splitlines()) == 1
    flagged = rows(
        case, "SELECT count(*) FROM cloudtrail WHERE list_contains(record_flags, 'time implausible')"
    )
    assert flagged == [(2,)]
    # before: generate_series over every hour from 1900 to 9999 (minutes, gigabytes)
    inv = run("investigate", "--case", str(case), "--access-key", "AKIAEXAMPLE000000001", "--format", "json",
              timeout=90)  # fmt: skip
    assert inv.returncode == 0, inv.stderr
    story = json.loads(inv.stdout)
    assert story["coverage"]["from"].startswith("2026-10-01")
    assert story["coverage"]["to"].startswith("2026-10-01")
    rep = run("report", "--case", str(case), "--access-key", "AKIAEXAMPLE000000001",
              "--out", str(tmp_path / "r.html"), timeout=90)  # fmt: skip
    assert rep.returncode == 0, rep.stderr


def test_absurd_times_of_the_investigated_key_never_bound_its_story(tmp_path):
    """The intruder's own events with times in 1900 and 9999 stay in the story (counted) but no
    phase, span or report window is stretched to them (a report once failed adding an hour to
    year 9999)."""
    ev = tmp_path / "ev"
    ev.mkdir()
    recs = [event(i) for i in range(3)]
    recs += [event(7, eventTime="1900-01-01T00:00:00Z"), event(8, eventTime="9999-12-31T23:00:00Z")]
    (ev / "a.json").write_text(json.dumps({"Records": recs}))
    case = tmp_path / "c.duckdb"
    load(case, ev)
    inv = run("investigate", "--case", str(case), "--access-key", "AKIAEXAMPLE000000001", "--format", "json",
              timeout=90)  # fmt: skip
    assert inv.returncode == 0, inv.stderr
    story = json.loads(inv.stdout)
    spans = [(p["start"], p["end"]) for p in story["phases"]]
    assert spans and all(t.startswith("2026-10-01") for span in spans for t in span if t), spans
    rep = run("report", "--case", str(case), "--access-key", "AKIAEXAMPLE000000001",
              "--out", str(tmp_path / "r.html"), timeout=90)  # fmt: skip
    assert rep.returncode == 0, rep.stderr


def test_a_cut_short_firehose_object_keeps_the_envelopes_before_the_break(tmp_path):
    ev = tmp_path / "ev"
    ev.mkdir()
    data = gzip.compress("".join(json.dumps(envelope(event(i))) for i in range(50)).encode())
    (ev / "fh-cut.gz").write_bytes(data[: len(data) * 2 // 3])
    (ev / "whole.ndjson").write_text(json.dumps(envelope(event(99))) + "\n")
    report, stderr = load(tmp_path / "c.duckdb", ev)
    assert "truncated gzip" in stderr and "Traceback" not in stderr
    cut = rows(
        tmp_path / "c.duckdb",
        "SELECT count(*), count(envelope), min(delivery), max(delivery) FROM cloudtrail "
        "WHERE source_file LIKE '%fh-cut.gz'",
    )
    n = cut[0][0]
    assert 0 < n < 50 and cut == [(n, n, "eventbridge", "eventbridge")]
    assert report["loaded"] == n + 1 and report["rejected"] >= 1
    case_consistent(tmp_path / "c.duckdb")


def test_siem_exports_that_wrap_the_record_load_and_yield_to_richer_copies(tmp_path):
    ev = tmp_path / "ev"
    ev.mkdir()
    hits = [{"_index": "ct-2026", "_id": f"h{i}", "_source": event(i)} for i in range(2)]
    ecs = [
        {"@timestamp": "2026-10-01T00:00:02Z", "event": {"original": json.dumps(event(i))}, "cloud": {}}
        for i in (2, 3)
    ]
    nested = [{"_index": "x", "_source": {"@timestamp": "t", "event": {"original": json.dumps(event(4))}}}]
    (ev / "hits.ndjson").write_text("\n".join(map(json.dumps, hits)) + "\n")
    (ev / "ecs.json").write_text(json.dumps(ecs, indent=2))
    (ev / "nested.ndjson").write_text("\n".join(map(json.dumps, nested)) + "\n")
    case = tmp_path / "c.duckdb"
    report, _ = load(case, ev)
    assert (report["read"], report["loaded"], report["rejected"]) == (5, 5, 0)
    got = rows(case, "SELECT raw = $$" + json.dumps(event(3)) + "$$::JSON, delivery FROM cloudtrail "
                     "WHERE event_id LIKE '%3'")  # fmt: skip
    assert got == [(True, "siem")]  # the record as the SIEM held it, JSON-equal
    assert rows(case, "SELECT count(*) FROM cloudtrail WHERE envelope IS NOT NULL") == [(5,)]
    # the trail copy of event 1 replaces the SIEM's
    trail = tmp_path / "trail"
    trail.mkdir()
    (trail / "t.json").write_text(json.dumps({"Records": [event(1)]}))
    load(case, trail)
    assert rows(case, "SELECT delivery FROM cloudtrail WHERE event_id LIKE '%1'") == [("trail",)]
    assert rows(case, "SELECT delivery, replaced FROM cloudtrail_copies") == [("siem", True)]
    case_consistent(case)
