"""Shared fixtures: the third-party corpus (read in place) and the sample incident as a case."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import forensics

REPO = Path(__file__).resolve().parent.parent
# The shared corpus sits beside the checkout (../shared/corpus); FORENSICS_CORPUS overrides it.
CORPUS = Path(
    os.environ.get("FORENSICS_CORPUS")
    or next(
        (str(p) for p in (REPO.parent / "shared" / "corpus", Path("/work/shared/corpus")) if p.is_dir()),
        str(REPO.parent / "shared" / "corpus"),
    )
)
SAMPLE = REPO / "sample_data"

# keeps `--dist loadgroup` grouping under pytest 9.2 (the Spark tests on one worker, one JVM)
pytest_plugins = ["tests.xdist_groups"]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real third-party logs (never copied into the repo)."""
    if not CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def ground_truth() -> dict:
    """The facts a correct investigation of the sample incident must recover."""
    return json.loads((SAMPLE / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def sample_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case file with the whole bundled sample incident loaded (open it read-only in tests)."""
    path = tmp_path_factory.mktemp("sample_case") / "case.duckdb"
    with forensics.Case(path) as case:
        report = case.load([SAMPLE / "evidence"], on_problem=lambda line: None)
    assert report.reconciles()
    return path


@pytest.fixture
def case(tmp_path_factory: pytest.TempPathFactory):
    """A fresh, empty read-write case (kept apart from the test's evidence folder)."""
    with forensics.Case(tmp_path_factory.mktemp("case") / "case.duckdb") as c:
        yield c


@pytest.fixture(scope="session")
def chain_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The investigate tests' key-chaining intrusion (tests/investigate/chain.py) as a case file,
    loaded once per session (open it read-only in tests)."""
    from tests.evidence_cases import load_case
    from tests.investigate import chain

    root = tmp_path_factory.mktemp("chain")
    return load_case(chain.build(root / "evidence"), root / "case.duckdb", clean=True)
