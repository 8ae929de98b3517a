"""`forensics lake build` at scale: what ran a 1M-event trail out of a 2 GB heap stays fixed, the
settings that grow with the input, and the Spark benchmark's record of a failing step."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from forensics.errors import ForensicsError

from .conftest import REPO

SAMPLE_TRAIL = REPO / "sample_data" / "evidence"


@pytest.mark.xdist_group("spark")
def test_the_explode_does_not_carry_each_files_records_into_every_row(spark) -> None:
    # Spark copies the columns an explode's rows carry into each of them: carrying `Records`
    # (the whole file's records) copied a file once per record and ran 1M events out of heap
    from forensics.lake.build import list_trail_files, read_cloudtrail_logs

    files = [u for u, _ in list_trail_files(spark, str(SAMPLE_TRAIL))][:3]
    df = read_cloudtrail_logs(spark, files).select("_source_file", "_index", "_problem", "_raw")
    plan = df._jdf.queryExecution().executedPlan().toString()
    generate = [line for line in plan.splitlines() if "Generate posexplode" in line]
    assert len(generate) == 1, plan
    carried = re.search(r"Generate posexplode\([^)]*\), \[([^\]]*)\]", generate[0])
    assert carried is not None, generate[0]
    names = {re.sub(r"#\d+$", "", c.strip()) for c in carried.group(1).split(",")}
    assert names == {"_source_file", "_problem"}


class _Conf:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def unset(self, key: str) -> None:
        self.values.pop(key, None)


def test_shuffle_partitions_grow_with_the_input_and_never_shrink() -> None:
    from forensics.lake.build_parts import set_build_conf as _set_build_conf

    conf = _Conf({"spark.sql.shuffle.partitions": "4"})
    saved = _set_build_conf(conf, 132 * 1024 * 1024, local=True)  # the 1M bench trail, gzip
    assert int(conf.get("spark.sql.shuffle.partitions")) == 21  # ~1.3 GB inflated / 64 MB
    assert conf.get("spark.sql.adaptive.enabled") == "true"
    assert saved["spark.sql.shuffle.partitions"] == "4"
    assert saved["spark.sql.adaptive.enabled"] is None
    small = _Conf({"spark.sql.shuffle.partitions": "4"})
    _set_build_conf(small, 1000, local=False)
    assert small.get("spark.sql.shuffle.partitions") == "4"
    assert small.get("spark.sql.sources.parallelPartitionDiscovery.threshold") is None


def test_spark_memory_must_be_a_jvm_size() -> None:
    pytest.importorskip("pyspark")
    from forensics.engines.spark import spark_session

    with pytest.raises(ForensicsError, match="not a JVM size"):
        spark_session("local[1]", memory="2 GB")


def _bench():
    spec = importlib.util.spec_from_file_location("bench_spark", REPO / "benchmarks" / "spark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_spark_benchmark_records_a_failed_step_and_goes_on(tmp_path: Path) -> None:
    bench = _bench()
    out = tmp_path / "spark-x.json"
    results: dict = {"steps": {}}

    def dies():
        raise RuntimeError("SparkContext.dagScheduler() is null\nstack")

    value = bench.step(results, out, "lake_build", dies)
    assert value is bench.FAILED
    written = json.loads(out.read_text())  # on disk after the failing step, before the run ends
    assert written["steps"]["lake_build"]["error"] == "RuntimeError: SparkContext.dagScheduler() is null"
    after = bench.step(results, out, "needs_it", lambda: 1, value)
    assert after is bench.FAILED and "skipped" in json.loads(out.read_text())["steps"]["needs_it"]
    assert bench.step(results, out, "fine", lambda: 7) == 7
    assert "seconds" in json.loads(out.read_text())["steps"]["fine"]
