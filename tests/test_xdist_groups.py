"""The suite's `-n 2 --dist loadgroup` (README, .ci/run) keeps an `xdist_group` on one worker:
the Spark tests share one JVM only if it does (tests/xdist_groups.py says why it needs help)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SUITE = """
import os
import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("i", range(6))
def test_grouped(i, request):
    with open(os.environ["WORKERS_LOG"], "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + " " + request.node.nodeid + "\\n")


@pytest.mark.parametrize("i", range(6))
def test_free(i):
    pass
"""


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(SUITE)
    log = tmp_path / "workers.log"
    env = dict(os.environ, WORKERS_LOG=str(log), PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "tests.xdist_groups"]
        + ["-p", "no:cacheprovider", "-q", "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert len(rows) == 6
    assert len({worker for worker, _ in rows}) == 1, rows  # one worker ran the whole group
    assert all(nodeid.endswith("@together") for _, nodeid in rows), rows
