"""A trail's S3 log file is one gzip member (engineering-notes.md §9): bytes after it are not
CloudTrail's. Through the CLI: the first member loads, the rest is rejected with the reason, and
the appended event never reaches the case; Firehose objects keep their many members; zero padding
after the member is no tampering."""

from __future__ import annotations

import gzip
import json

from .test_cloudtrail_shapes import ACCT, event
from .test_evidence_faults import case_consistent, digests, envelope, load, rows


def _member(records: list[dict]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)


def test_a_second_gzip_member_in_a_trail_file_is_rejected_as_possible_tampering(tmp_path):
    ev = tmp_path / "ev" / "AWSLogs" / ACCT / "CloudTrail" / "ap-northeast-1" / "2026" / "10" / "01"
    ev.mkdir(parents=True)
    first = _member([event(1), event(2)])
    appended = _member([event(3, eventName="StopLogging", eventSource="cloudtrail.amazonaws.com")])
    tampered = ev / f"{ACCT}_CloudTrail_ap-northeast-1_20261001T0000Z_aaaaaaaaaaaaaaaa.json.gz"
    tampered.write_bytes(first + appended)
    (ev / f"{ACCT}_CloudTrail_ap-northeast-1_20261001T0005Z_bbbbbbbbbbbbbbbb.json.gz").write_bytes(
        _member([event(4)]) + b"\x00" * 64  # padding after the member: not data
    )
    firehose = tmp_path / "ev" / "firehose" / "2026" / "10" / "01" / "ct-1-2026-10-01-00-00-00-x"
    firehose.parent.mkdir(parents=True)
    firehose.write_bytes(b"".join(gzip.compress(json.dumps(envelope(event(i))).encode()) for i in (5, 6, 7)))
    before = digests(tmp_path / "ev")

    report, stderr = load(tmp_path / "c.duckdb", tmp_path / "ev")

    assert (report["read"], report["loaded"], report["rejected"]) == (7, 6, 1)
    line = next(ln for ln in stderr.splitlines() if "gzip member" in ln)
    assert f"{tampered} (byte {len(first)}): bytes after the first gzip member (possible tampering)" in line
    assert f"{len(appended)} bytes from byte {len(first)} not loaded" in line
    names = rows(tmp_path / "c.duckdb", "SELECT right(event_id, 1), event_name FROM cloudtrail ORDER BY 1")
    assert [n for n, _ in names] == ["1", "2", "4", "5", "6", "7"]
    assert "StopLogging" not in {e for _, e in names}
    status = dict(rows(tmp_path / "c.duckdb", "SELECT regexp_extract(path, '[^/]+$'), status FROM sources"))
    assert status[tampered.name] == "partial"
    assert rows(tmp_path / "c.duckdb", f"SELECT reason FROM rejects WHERE source_file = '{tampered}'") == [
        (
            f"bytes after the first gzip member (possible tampering): {len(appended)} bytes from byte "
            f"{len(first)} not loaded",
        )
    ]
    assert digests(tmp_path / "ev") == before
    case_consistent(tmp_path / "c.duckdb")
