"""Differential test: every catalogue query on DuckDB (the case) and on Spark local[2] (its lake),
rows compared as multisets (lists sorted, money to 1e-6, times in UTC)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import forensics
from forensics import catalog
from forensics.engines.compare import differences
from forensics.hunt import fold

pytestmark = pytest.mark.xdist_group("spark")

# Stateful queries one by one; the single-event rules as the hunt runs them, in one scan.
QUERIES = sorted(qid for qid, q in catalog.catalog().items() if not q.meta.get("rule"))
RULES = sorted(qid for qid, q in catalog.catalog().items() if q.meta.get("rule"))
# Not yet the same on Spark, each with why; strict: a query that starts passing must leave the list.
NOT_YET: dict[str, str] = {}


@pytest.fixture(scope="session")
def spark_lake(spark, lake_dir: Path):
    from forensics.engines.spark import SparkLake

    return SparkLake(spark, lake_dir)


@pytest.fixture(scope="session")
def duck_rows(lake_case: Path) -> dict[str, list[dict[str, Any]]]:
    with forensics.Case(lake_case, read_only=True) as case:
        case.cache_shared_views()
        rows = {qid: case.query(qid).to_dicts() for qid in QUERIES}
        rows["rules"] = case.sql(_rules_query().sql, from_time=None, to_time=None).to_dicts()
        return rows


def _rules_query():
    from forensics.engines.spark import rules_query

    return rules_query([catalog.get_query(r) for r in RULES])


_spark_rows: dict[str, list[dict[str, Any]]] = {}


# Not yet deterministic on Spark: rows or findings differ on some runs only, each with why (none
# since list(x ORDER BY ..) keeps its order on Spark and event ids break time ties).
FINDINGS_NOT_YET: dict[str, str] = {}


def _params(qid: str) -> list:
    marks = []
    if qid in NOT_YET:
        marks.append(pytest.mark.xfail(reason=NOT_YET[qid], strict=True))
    elif qid in FINDINGS_NOT_YET:  # differs on some runs only: not strict
        marks.append(pytest.mark.xfail(reason=FINDINGS_NOT_YET[qid], strict=False))
    return pytest.param(qid, marks=marks, id=qid)


@pytest.mark.parametrize("qid", [_params(q) for q in QUERIES])
def test_query_gives_the_same_rows_on_spark(qid: str, spark_lake, duck_rows) -> None:
    assert spark_lake.view_problems == {}
    q = catalog.get_query(qid)
    rows = spark_lake.rows(q)
    _spark_rows[qid] = rows
    assert differences(duck_rows[qid], rows) == []


# Rules whose rows are not yet the same on Spark, each with what differs (strict, as NOT_YET).
RULES_NOT_YET: dict[str, str] = {}


def test_every_rule_in_one_scan_gives_the_same_rows_on_spark(spark_lake, duck_rows) -> None:
    rows = spark_lake.rows(_rules_query())
    # the rules' own fixtures are in the lake: most rules fire, each on both engines alike
    assert len({r["detection"] for r in duck_rows["rules"]}) > 40
    differing = set()
    for qid in RULES:
        q = catalog.get_query(qid)
        mine = [r for r in rows if r["detection"] == qid]
        theirs = [r for r in duck_rows["rules"] if r["detection"] == qid]
        if differences(theirs, mine) or differences(fold(q, theirs), fold(q, mine)):
            differing.add(qid)
    assert differing == set(RULES_NOT_YET)


def test_the_lake_holds_every_fixture_and_the_sample(duck_rows) -> None:
    # facts of the evidence, not of either engine: the sample's intrusion and fixtures' accounts
    assert any(r["access_key_id"] == "AKIAJNRSY47UUVASTROP" for r in duck_rows["multi_region_compute_launch"])
    accounts = {r.get("account_id") for rows in duck_rows.values() for r in rows}
    assert len({a for a in accounts if a and a.startswith("2100000")}) > 20


def test_findings_are_the_same_json_from_both_engines(duck_rows, spark_lake) -> None:
    """The hunt's findings folded from each engine's rows (forensics.hunt.fold on both)."""
    compared = 0
    for qid in QUERIES:
        q = catalog.get_query(qid)
        if q.kind != "detection" or qid in NOT_YET or qid in FINDINGS_NOT_YET:
            continue
        if qid not in _spark_rows:  # run out of order
            _spark_rows[qid] = spark_lake.rows(q)
        rows = _spark_rows[qid]
        a, b = fold(q, duck_rows[qid]), fold(q, rows)
        assert differences(a, b) == [], qid
        compared += 1
    assert compared > 20
