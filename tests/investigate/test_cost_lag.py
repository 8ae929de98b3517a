"""DESIGN.md Incident cost: usage only (tax, credits, refunds apart), billed to the last billed hour,
and a labelled projection at the last hourly rate for what is still running when billing lags."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import forensics


@pytest.fixture(scope="module")
def lagging_case(sample_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample case whose bill stops at 06:00 (as a bill read early does), with one tax line on
    a still-running instance."""
    path = tmp_path_factory.mktemp("lag") / "case.duckdb"
    shutil.copy(sample_case, path)
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM billing WHERE usage_start >= TIMESTAMPTZ '2026-11-16 06:00:00+00'")
    con.execute(
        """INSERT INTO billing (usage_start, usage_end, account_id, region, resource_id, cost,
                               currency, line_item_type)
           VALUES ('2026-11-16 05:00:00+00', '2026-11-16 06:00:00+00', '047391826504', 'ap-south-1',
                   'i-004aa4b392dd23179', 7.5, 'USD', 'Tax')"""
    )
    con.close()
    return path


def test_billing_lag_is_projected_apart_and_tax_is_excluded(lagging_case: Path, ground_truth: dict) -> None:
    with forensics.Case(lagging_case, read_only=True) as case:
        story = case.investigate(access_key=ground_truth["leaked_access_key"])
        con = duckdb.connect(str(lagging_case), read_only=True)
        # the still-running instances' usage in their last billed hour, read straight off the table
        (rate,) = con.execute(
            """SELECT sum(cost) FROM billing
               WHERE resource_id IN ('i-004aa4b392dd23179', 'i-0333266d3d32f99f0')
                 AND usage_start = TIMESTAMPTZ '2026-11-16 05:00:00+00'
                 AND coalesce(line_item_type, 'Usage') = 'Usage'"""
        ).fetchone()
        (end,) = con.execute("SELECT max(event_time) FROM cloudtrail").fetchone()
        con.close()
    cost = story["cost"]
    assert sorted(story["still_running"]) == sorted(["i-004aa4b392dd23179", "i-0333266d3d32f99f0"])
    assert cost["billed_until"] == "2026-11-16T06:00:00Z"
    assert cost["excluded"]["tax"] == pytest.approx(7.5)
    assert "2026-11-16T05:00:00Z" in cost["by_hour"]
    hours = (end - datetime(2026, 11, 16, 6, tzinfo=UTC)).total_seconds() / 3600
    projected = cost["projected"]
    assert projected is not None and "estimate" in projected["label"]
    assert projected["rate_per_hour"] == pytest.approx(rate, abs=1e-6)
    assert projected["amount"] == pytest.approx(rate * hours, rel=1e-6)
    assert set(projected["resources"]) == set(story["still_running"])


def test_a_bill_that_reaches_the_end_needs_no_projection(sample_case: Path, ground_truth: dict) -> None:
    with forensics.Case(sample_case, read_only=True) as case:
        story = case.investigate(access_key=ground_truth["leaked_access_key"])
    assert story["account_id"] == ground_truth["account_id"]
    assert story["cost"]["projected"] is None
    assert story["cost"]["total"] == pytest.approx(ground_truth["incident_cost"]["total"], abs=0.01)
    assert story["cost"]["excluded"] == {"tax": 0.0, "credits": 0.0, "refunds": 0.0}
