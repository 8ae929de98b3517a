"""The lake tests' shared pieces: one lake (the sample incident plus every query fixture, each
fixture under its own recipient account) and one SparkSession for the whole run."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import forensics
from forensics import catalog
from forensics.fixtures import ACCOUNT, load_suite, write_evidence
from forensics.lake import export_case

REPO = Path(__file__).resolve().parents[2]
REQUIRE_SPARK = os.environ.get("FORENSICS_REQUIRE_SPARK") == "1"


def has_fixtures(q) -> bool:
    """A query's `<id>.tests.yaml` beside it, or a rule's own `tests:` in its family file."""
    return bool(q.meta.get("rule")) or Path(q.path).with_suffix(".tests.yaml").exists()


def fixture_accounts() -> dict[tuple[str, str], str]:
    """A distinct 12-digit recipient account for every fixture case, in catalogue order."""
    out = {}
    n = 0
    for qid, q in sorted(catalog.catalog().items()):
        if not has_fixtures(q):
            continue
        for case in load_suite(q.path).get("cases", []):
            n += 1
            out[(qid, str(case.get("name", n)))] = f"{210000000000 + n}"
    return out


def write_fixture_evidence(root: Path, only: set[str] | None = None) -> int:
    """Every query fixture's evidence under `root`, its default account replaced by its own."""
    accounts = fixture_accounts()
    written = 0
    for qid, q in sorted(catalog.catalog().items()):
        if not has_fixtures(q) or (only and qid not in only):
            continue
        suite = load_suite(q.path)
        for i, case in enumerate(suite.get("cases", []), 1):
            account = accounts[(qid, str(case.get("name", i)))]
            folder = root / qid / f"case{i:02d}"
            write_evidence(folder, case, suite, seed=f"{qid}/{case.get('name', '')}")
            for path in folder.rglob("*"):
                if path.is_file():
                    text = path.read_text(encoding="utf-8")
                    path.write_text(re.sub(ACCOUNT, account, text), encoding="utf-8")
            written += 1
    return written


@pytest.fixture(scope="session")
def lake_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case holding the sample incident and every query fixture."""
    root = tmp_path_factory.mktemp("lake_case")
    evidence = root / "evidence"
    shutil.copytree(REPO / "sample_data" / "evidence", evidence / "sample")
    assert write_fixture_evidence(evidence / "fixtures") > 30
    path = root / "case.duckdb"
    with forensics.Case(path) as case:
        case.load([evidence], on_problem=lambda line: None)
    return path


@pytest.fixture(scope="session")
def lake_dir(lake_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lake") / "lake"
    export_case(lake_case, lake)
    return lake


@pytest.fixture(scope="session")
def spark():
    """One local[2] SparkSession (UTC) for every Spark test; they share an xdist group."""
    try:
        import pyspark  # noqa: F401

        from forensics.engines.spark import spark_session

        session = spark_session("local[2]", app_name="forensics-tests")
    except Exception as exc:  # noqa: BLE001
        if REQUIRE_SPARK:
            pytest.fail(f"FORENSICS_REQUIRE_SPARK=1 but Spark cannot start: {exc}")
        pytest.skip(f"Spark is not available here: {exc}")
    yield session
    session.stop()
