"""`forensics load`, `queries` and `query` as scripts use them: JSON on stdout, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from .test_cloudtrail_shapes import event


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forensics", *args], capture_output=True, text=True)


def test_load_json_reconciles_and_query_reads_it_back(tmp_path):
    ev = tmp_path / "evidence"
    ev.mkdir()
    (ev / "a.json").write_text(json.dumps({"Records": [event(i) for i in range(3)] + [event(1)]}))
    (ev / "bad.json").write_text("{not json")
    case = tmp_path / "case.duckdb"
    done = run("load", str(ev), "--case", str(case), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {k: report[k] for k in ("files", "read", "loaded", "duplicates", "rejected")} == {
        "files": 2,
        "read": 4,
        "loaded": 3,
        "duplicates": 1,
        "rejected": 0,
    }
    assert report["read"] == report["loaded"] + report["duplicates"] + report["rejected"]
    assert "bad.json" in done.stderr
    again = run("load", str(ev), "--case", str(case), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["loaded"] == 0

    out = run("query", "access_key_first_seen", "--case", str(case), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows[0]["access_key_id"] == "AKIAEXAMPLE000000001"
    assert rows[0]["first_seen"] == "2026-10-01T00:00:00Z"
    csv = run(
        "query",
        "access_key_first_seen",
        "--case",
        str(case),
        "--format",
        "csv",
        "--param",
        "access_key_id=AKIANOTHERE",
    )
    assert csv.returncode == 0 and csv.stdout.strip().count("\n") == 0  # header only


def test_nothing_loadable_exits_2_with_one_line(tmp_path):
    (tmp_path / "junk.txt").write_text("hello")
    done = run("load", str(tmp_path / "junk.txt"), "--case", str(tmp_path / "c.duckdb"), "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["skipped_files"] == 1  # prose: skipped, and still nothing loaded
    missing = run("load", str(tmp_path / "nope"), "--case", str(tmp_path / "c.duckdb"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_queries_lists_the_catalogue_as_json():
    done = run("queries", "--json")
    assert done.returncode == 0
    ids = {q["id"] for q in json.loads(done.stdout)}
    assert "access_key_first_seen" in ids
