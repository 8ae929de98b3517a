"""`forensics hunt` as scripts use it: one JSON document on stdout, exit 0 found or not."""

from __future__ import annotations

import json
import subprocess
import sys

import forensics


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forensics", *args], capture_output=True, text=True)


def test_hunt_json_is_one_document_sorted_by_first_seen(sample_case, ground_truth) -> None:
    done = run("hunt", "--case", str(sample_case), "--format", "json", "--from", "2026-11-16T02:00:00Z")
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)
    assert findings and [f["first_seen"] for f in findings] == sorted(f["first_seen"] for f in findings)
    assert all(f["first_seen"] >= "2026-11-16T02:00:00Z" for f in findings)
    assert ground_truth["first_use"]["source_ip"] in {f["source_ip"] for f in findings}
    assert {f["source"] for f in findings} == {"query", "guardduty", "health"}


def test_hunt_table_reads_like_a_summary(sample_case) -> None:
    done = run("hunt", "--case", str(sample_case), "--to", "2026-11-10T23:59:59Z")
    assert done.returncode == 0, done.stderr
    assert "Hunt:" in done.stdout and "instance_credentials_used_elsewhere" in done.stdout
    assert "1 critical" in done.stdout


def test_hunt_on_a_quiet_case_exits_zero_with_an_empty_list(tmp_path) -> None:
    path = tmp_path / "empty.duckdb"
    forensics.Case(path).close()
    done = run("hunt", "--case", str(path), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_hunt_rejects_a_bad_time_or_format_in_one_line(sample_case, tmp_path) -> None:
    bad = run("hunt", "--case", str(sample_case), "--from", "yesterday")
    assert bad.returncode == 2 and "not a time" in bad.stderr and bad.stdout == ""
    fmt = run("hunt", "--case", str(sample_case), "--format", "xml")
    assert fmt.returncode == 2 and "--format" in fmt.stderr
    missing = run("hunt", "--case", str(tmp_path / "nope.duckdb"), "--format", "json")
    assert missing.returncode == 2 and missing.stdout == ""
