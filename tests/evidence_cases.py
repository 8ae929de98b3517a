"""Test evidence made into a case file, or into a lake by Spark, the way every fixture that needs
one does it: one place for the load and the build, so fixtures differ only in their evidence."""

from __future__ import annotations

from pathlib import Path

import forensics


def load_case(evidence: Path, path: Path, *, clean: bool = False) -> Path:
    """A new case at `path` holding `evidence`; `clean` asserts nothing was rejected."""
    with forensics.Case(path) as case:
        report = case.load([evidence], on_problem=lambda line: None)
    if clean:
        assert report.rejected == 0
    return path


def build_lake_from(spark, evidence: Path, lake: Path):
    """`lake build` of `evidence` into `lake`: (lake, report, the problems it reported)."""
    from forensics.lake.build import build_lake

    problems: list[str] = []
    report = build_lake(spark, str(evidence), lake, on_problem=problems.append)
    return lake, report, problems
