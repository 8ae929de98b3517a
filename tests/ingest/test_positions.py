"""Provenance that does not move: a record's position is its place in its file, and when one
event arrives twice the copy kept is the same on every run and machine."""

from __future__ import annotations

import json
from pathlib import Path

import forensics

# Past ~60k lines of this size DuckDB reads one newline-delimited file in parallel blocks (two
# threads are enough); a position numbered by a window without order then belonged to another
# record for most of the file.
LINES = 120_000


def _event(i: int) -> dict:
    return {
        "eventVersion": "1.08",
        "eventTime": f"2026-11-16T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "eventID": f"pos-{i}",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "accountId": "111122223333", "userName": "reader"},
    }


def test_every_record_of_a_large_ndjson_export_keeps_its_own_line_number(tmp_path: Path) -> None:
    evidence = tmp_path / "export.json"
    with evidence.open("w") as out:
        for i in range(LINES):
            out.write(json.dumps(_event(i)) + "\n")
    with forensics.Case(tmp_path / "case.duckdb") as case:
        case.load([evidence], on_problem=lambda line: None)
        loaded, misplaced = case.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE source_position "
            "<> 'record ' || (split_part(event_id, '-', 2)::BIGINT + 1)) FROM cloudtrail"
        ).fetchone()
    assert (loaded, misplaced) == (LINES, 0)
