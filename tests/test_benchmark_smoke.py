"""The benchmark harness stays runnable: its floors and our loader agree on the event count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_floors_and_loader_count_the_same_events(tmp_path):
    evidence = REPO / "sample_data" / "evidence"
    floor = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "floors.py"),
            "duckdb_floor",
            str(evidence),
            str(tmp_path / "floor.duckdb"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    loop = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "floors.py"), "python_loop", str(evidence)],
        capture_output=True,
        text=True,
        check=True,
    )
    load = subprocess.run(
        [
            sys.executable,
            "-m",
            "forensics",
            "load",
            str(evidence),
            "--case",
            str(tmp_path / "c.duckdb"),
            "--source",
            "cloudtrail",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    truth = json.loads((REPO / "sample_data" / "ground_truth.json").read_text())
    expected = truth["counts"]["cloudtrail_events"]["total"]
    assert int(floor.stdout) == int(loop.stdout) == json.loads(load.stdout)["loaded"] == expected
