"""Fixtures for investigation tests: the small intrusions, built once per session (the
key-chaining case, `chain_case`, is in tests/conftest.py: the faces read it too)."""

from __future__ import annotations

from pathlib import Path

import pytest

import forensics

from ..evidence_cases import load_case
from . import incidents


@pytest.fixture(scope="session")
def incidents_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small intrusions of `incidents.py` (three accounts, one version 2 flow log)."""
    root = tmp_path_factory.mktemp("incidents")
    path = load_case(incidents.build(root / "evidence"), root / "case.duckdb", clean=True)
    assert case_tables(path)["vpc_flows"] == 18
    return path


def case_tables(path: Path) -> dict[str, int]:
    with forensics.Case(path, read_only=True) as case:
        return case.tables()
