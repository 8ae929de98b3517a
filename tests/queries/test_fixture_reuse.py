"""The fixtures' reused in-memory case (forensics.fixtures.empty_case) holds, once emptied, what
a new case holds: a fixture's rows never depend on the fixture that ran before it."""

from __future__ import annotations

from typing import Any

import forensics
from forensics.fixtures import empty_case, run_case, write_evidence

THIEF = {"user": "mallory", "ip": "198.51.100.7"}
BUSY = {
    "cloudtrail": [
        {"api": "iam:CreateUser", "actor": THIEF, "params": {"userName": "backdoor"}},
        {"api": "ec2:RunInstances", "actor": THIEF, "region": "ap-south-1", "denied": True, "repeat": 3},
    ],
    "vpcflow": [
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes"
        " start end action log-status",
        {
            "row": "2 111122223333 eni-0a1b2c3d 10.0.0.5 203.0.113.9 40000 3333 6 10 840"
            " {start} {end} ACCEPT OK"
        },
    ],
    "files": {"broken.json": '{"Records": [{"eventTime": "not a time"'},
}


def _state(c: forensics.Case) -> dict[str, Any]:
    con = c.con
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND NOT temporary ORDER BY 1"
        ).fetchall()
    ]
    return {
        "counts": {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables},
        "meta": con.execute("SELECT * FROM case_meta ORDER BY ALL").fetchall(),
        "temp": con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1").fetchall(),
    }


def _next_load_id(c: forensics.Case) -> int:
    return c.con.execute("SELECT nextval('load_id_seq')").fetchone()[0]


def test_an_emptied_case_is_a_new_case(tmp_path) -> None:
    write_evidence(tmp_path / "evidence", BUSY, {}, seed="reuse")
    used = empty_case()
    report = used.load([tmp_path / "evidence"], on_problem=lambda line: None)
    assert report.rejected_files or report.rejected  # the broken file left rejects behind
    assert used.tables()["cloudtrail"] == 4 and used.tables()["vpc_flows"] == 1
    used.con.execute("CREATE TEMP TABLE left_behind AS SELECT 1 AS x")  # as a staging table
    again = empty_case()
    assert again is used  # the same connection, emptied
    with forensics.Case(":memory:") as new:
        assert _state(again) == _state(new)
        assert _next_load_id(again) == _next_load_id(new)


def test_a_near_miss_stays_silent_after_a_case_that_fired() -> None:
    suite = {"actors": {"thief": THIEF}}
    fired, problems = run_case(
        "iam_credentials_created",
        {"cloudtrail": [{"api": "iam:CreateAccessKey", "actor": "thief", "params": {"userName": "bob"}}]},
        suite,
    )
    assert not problems and fired.height >= 1
    silent, problems = run_case("iam_credentials_created", {"cloudtrail": [{"api": "iam:ListUsers"}]}, suite)
    assert not problems and silent.height == 0
