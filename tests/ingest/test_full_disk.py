"""A load into a case on a full disk (issue 17), through the CLI, on a small tmpfs: one line
"no space left on <path>", exit 2, no traceback, the case exactly as it was before the load (the
part of the load that was committed before the disk filled is undone too), the evidence unchanged,
and the same evidence loads in full once there is room.

Mounting needs root (CAP_SYS_ADMIN). Where it is refused the tests skip, saying why, unless
FORENSICS_REQUIRE_TMPFS is set: .ci/run sets it after checking that it can mount a tmpfs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from .fixtures_evidence import V2, flow, flow_text
from .test_cloudtrail_shapes import event
from .test_evidence_faults import digests, run

TABLES = (
    "cloudtrail", "cloudtrail_copies", "vpc_flows", "billing", "findings", "sources", "rejects",
    "addresses",
)  # fmt: skip


def _mount(folder: Path, size: str, remount: bool = False) -> subprocess.CompletedProcess:
    options = f"remount,size={size}" if remount else f"size={size}"
    return subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "disk"
    folder.mkdir()
    done = _mount(folder, "2500k")
    if done.returncode != 0:
        why = f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})"
        if os.environ.get("FORENSICS_REQUIRE_TMPFS"):
            pytest.fail(f"FORENSICS_REQUIRE_TMPFS is set but {why}")
        pytest.skip(why)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def state(case: Path) -> dict[str, object]:
    """Every table's rows, as sorted text: 'as it was' means the same rows, not only counts."""
    with duckdb.connect(str(case), read_only=True) as con:
        return {
            t: sorted(map(str, con.execute(f"SELECT * FROM {t}").fetchall()))  # noqa: S608
            for t in TABLES
        }


def evidence(folder: Path, flows: int) -> Path:
    """A small trail file (its loader commits first) and a flow log too big for the disk."""
    folder.mkdir(parents=True)
    (folder / "trail.json").write_text(json.dumps({"Records": [event(100 + i) for i in range(40)]}))
    recs = [flow(i, srcaddr=f"10.{i % 200}.{i % 97}.{i % 251}", srcport=i % 65000) for i in range(flows)]
    (folder / "flows.log").write_text(flow_text(recs, V2.split()))
    return folder


def test_a_full_disk_leaves_the_case_as_it_was(tmp_path, small_disk):
    case = small_disk / "c.duckdb"
    first = tmp_path / "first"
    first.mkdir()
    (first / "a.json").write_text(json.dumps({"Records": [event(i) for i in range(5)]}))
    done = run("load", str(first), "--case", str(case), "--json")
    assert done.returncode == 0, done.stderr
    before = state(case)
    assert len(before["cloudtrail"]) == 5
    ev = evidence(tmp_path / "ev", flows=120_000)
    sha = digests(ev)

    done = run("load", str(ev), "--case", str(case), "--json")

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"forensics: no space left on {small_disk}")
    assert "the case is as it was before this load" in lines[0]
    assert done.stdout == ""
    assert state(case) == before  # the trail file's committed rows were undone with the rest
    assert not Path(f"{case}.wal").exists()
    assert digests(ev) == sha

    # with room again, the same evidence loads in full: nothing of it was recorded as judged
    assert _mount(small_disk, "64m", remount=True).returncode == 0
    done = run("load", str(ev), "--case", str(case), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["read"], report["loaded"]) == (120_040, 120_040)
    after = state(case)
    assert len(after["cloudtrail"]) == 45 and len(after["vpc_flows"]) == 120_000


def test_a_new_case_on_a_full_disk_is_one_line(tmp_path, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * (2500 * 1024 - 8192))
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "a.json").write_text(json.dumps({"Records": [event(i) for i in range(5)]}))
    case = small_disk / "c.duckdb"

    done = run("load", str(ev), "--case", str(case), "--json")

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"forensics: no space left on {small_disk}"), done.stderr
    assert not case.exists() and not Path(f"{case}.wal").exists()  # no half-made case left behind


def test_a_zipped_export_larger_than_the_free_temp_space_is_never_written_there(tmp_path, small_disk):
    """DuckDB cannot read inside a zip, so a zipped CUR is copied out to the temp folder first. A
    member that would not fit is refused by its declared size (a true bound for a zip) before a
    byte is written, so the disk is not filled; the file is then read in memory (bounded by the
    document cap) and loses nothing, and the reason is kept with its source."""
    from .fixtures_evidence import csv_text, cur_row, write_zip

    ev = tmp_path / "ev"
    big = [cur_row(n, "0.5", account="044444444444") for n in range(12_000)]  # 3.9 MB of CSV
    small = [cur_row(n, "0.25", account="055555555555") for n in range(8)]
    write_zip(ev / "big" / "r-1.csv.zip", "r-1.csv", csv_text(big))
    write_zip(ev / "small" / "r-1.csv.zip", "r-1.csv", csv_text(small))
    sha = digests(ev)
    case = tmp_path / "c.duckdb"

    env = {**os.environ, "TMPDIR": str(small_disk)}
    done = subprocess.run(
        [sys.executable, "-m", "forensics", "load", str(ev), "--case", str(case), "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["read"], report["loaded"], report["rejected"]) == (12_008, 12_008, 0)
    with duckdb.connect(str(case), read_only=True) as con:
        detail = dict(con.execute("SELECT parse_dirpath(path), detail FROM sources").fetchall())
        per_account = con.execute("SELECT account_id, count(*) FROM billing GROUP BY 1 ORDER BY 1").fetchall()
    assert per_account == [("044444444444", 12_000), ("055555555555", 8)]
    assert "more than the 2,560,000 bytes free in the temp folder" in detail[str(ev / "big")]
    assert detail[str(ev / "small")] == ""  # a zip that fits is copied out as before
    assert list(small_disk.iterdir()) == []  # nothing half-written left behind
    assert digests(ev) == sha
