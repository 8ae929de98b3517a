"""The Spark lake computes each shared view once, when a query first reads it, and re-points the
view's name at those rows (forensics.engines.spark.SparkLake._ensure_views)."""

from __future__ import annotations

import pytest

from forensics import catalog

pytestmark = pytest.mark.xdist_group("spark")


def _reads(qid: str) -> set[str]:
    from forensics.engines.spark import _views_read

    return _views_read(catalog.get_query(qid).sql)


def test_a_view_read_through_a_macro_is_read() -> None:
    # attacker_resources_not_removed reads account_evidence only through region_use_known
    assert "account_evidence" in _reads("attacker_resources_not_removed")
    assert "identity_network" not in _reads("launch_in_unused_region")


def test_the_novelty_views_are_read_through_each_other() -> None:
    # access_key_new_address names identity_network, key_first_use and caller_network_event;
    # the rest come from their definitions (network.sql, regions.sql)
    assert {
        "identity_network",
        "key_first_use",
        "caller_network_event",
        "instance_home_address",
        "region_use",
        "key_first_seen",
    } <= _reads("access_key_new_address")


def _analysed(spark, view: str) -> str:
    return spark.table(f"`{view}`")._jdf.queryExecution().analyzed().toString().lower()


def test_a_query_materialises_the_views_it_reads_and_no_other(spark, lake_dir) -> None:
    from forensics.engines.spark import SparkLake

    lake = SparkLake(spark, lake_dir)
    # before: every view is its definition, planned again by each reader
    assert "cloudtrail" in _analysed(spark, "region_use")
    assert lake.rows(catalog.get_query("launch_in_unused_region"))
    for view in ("region_use", "account_evidence"):
        plan = _analysed(spark, view)
        assert "logicalrdd" in plan and "cloudtrail" not in plan, plan
    # a view no query has read yet is still its definition (identity_network reads region_use,
    # now rows, so only key_first_seen, which reads the lake alone, is wholly unmaterialised)
    assert "logicalrdd" not in _analysed(spark, "key_first_seen")
    assert "cloudtrail" in _analysed(spark, "identity_network")
