"""Fixtures for investigation tests: the key-chaining case, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

import forensics

from . import chain


@pytest.fixture(scope="session")
def chain_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chain")
    evidence = chain.build(root / "evidence")
    path = root / "case.duckdb"
    with forensics.Case(path) as case:
        report = case.load([evidence], on_problem=lambda line: None)
    assert report.rejected == 0
    return path
