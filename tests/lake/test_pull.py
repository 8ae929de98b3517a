"""`forensics pull`: an indicator's accounts out of a lake holding others, investigated locally."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import forensics
from forensics.cli import app
from forensics.lake import export_case

from .conftest import REPO, write_fixture_evidence

LEAKED = "AKIAJNRSY47UUVASTROP"


@pytest.fixture(scope="module")
def mixed_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample incident beside two queries' fixtures, each fixture under its own account."""
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(REPO / "sample_data" / "evidence", root / "evidence" / "sample")
    write_fixture_evidence(
        root / "evidence" / "fixtures", only={"multi_region_compute_launch", "recon_burst"}
    )
    with forensics.Case(root / "case.duckdb") as case:
        case.load([root / "evidence"], on_problem=lambda line: None)
    export_case(root / "case.duckdb", root / "lake")
    return root / "lake"


def _story(case_path: Path) -> str:
    with forensics.Case(case_path, read_only=True) as case:
        return json.dumps(case.investigate(access_key=LEAKED), default=str, sort_keys=True)


def test_investigating_the_pulled_case_equals_investigating_the_full_case(
    mixed_lake: Path, sample_case: Path, tmp_path: Path
) -> None:
    pulled = tmp_path / "pulled.duckdb"
    result = CliRunner().invoke(
        app,
        [
            "pull",
            "--lake",
            str(mixed_lake),
            "--access-key",
            LEAKED,
            "--case",
            str(pulled),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["accounts"] == ["047391826504"]  # the fixtures' accounts stay in the lake
    with forensics.Case(pulled, read_only=True) as case:
        accounts = case.sql("SELECT DISTINCT recipient_account_id AS a FROM cloudtrail")["a"].to_list()
    assert accounts == ["047391826504"]
    assert _story(pulled) == _story(sample_case)


def test_an_indicator_missing_from_the_lake_exits_1(mixed_lake: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "pull",
            "--lake",
            str(mixed_lake),
            "--access-key",
            "AKIANOTINTHELAKE000",
            "--case",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 1 and "not in the lake" in result.output
