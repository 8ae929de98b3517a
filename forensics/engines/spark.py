"""The hunt on Spark: the catalogue and the vocabulary over a Parquet lake (`forensics export`).

PySpark is an optional extra (`pip install 'forensics[spark]'`). The lake's tables become Spark
temp views with the case's column names and types (partition folders read as text and left out);
the vocabulary's data tables are copied from DuckDB's own install of the vocabulary (data, not
SQL, so nothing is rewritten); its views become Spark temp views with every macro inlined (the
shared ones computed once, when a query first reads them, and read as rows from then on); each
query is inlined, bound with typed literals and written as Spark SQL by sqlglot
(`forensics.dialects`). Findings are assembled by the same code as the DuckDB hunt.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlglot import exp

from .. import dialects
from ..catalog import Query, catalog
from ..errors import ForensicsError
from ..lake.export import read_manifest

log = logging.getLogger(__name__)

SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.ansi.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.legacy.sizeOfNull": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "2g",  # the default; --spark-memory or FORENSICS_SPARK_MEMORY
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
}


class SparkUnavailable(ForensicsError):
    """PySpark or Java is not installed."""


MEMORY = re.compile(r"\d+[kmgt]?", re.IGNORECASE)


def spark_session(
    master: str | None = None,
    app_name: str = "forensics",
    memory: str | None = None,
    conf: dict[str, str] | None = None,
):
    """A SparkSession with the settings the translated SQL relies on (UTC, no type inference
    of partition folders), and `conf` on top (settings that change speed, not results).
    `memory` is the driver's heap (local mode runs every task in it): `memory`, else
    $FORENSICS_SPARK_MEMORY, else 2g; it takes effect only when this call starts the JVM."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("PySpark is not installed (pip install 'forensics[spark]')") from None
    memory = memory or os.environ.get("FORENSICS_SPARK_MEMORY") or SPARK_CONF["spark.driver.memory"]
    if not MEMORY.fullmatch(memory):
        raise ForensicsError(f"Spark memory {memory!r} is not a JVM size (like 2g or 6144m)")
    builder = SparkSession.builder.master(master or "local[*]").appName(app_name)
    for key, value in {**SPARK_CONF, **(conf or {}), "spark.driver.memory": memory}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Java missing surfaces as several error types
        raise SparkUnavailable(f"cannot start Spark (is Java 17 installed?): {exc}") from None
    spark.sparkContext.setLogLevel("OFF")
    # PySpark logs every failed statement's Java stack as JSON: a failed query is reported once,
    # by the hunt, in one line
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


def _spark_type(duck_type: str) -> str:
    t = duck_type.upper()
    if t.endswith("[]"):
        return f"ARRAY<{_spark_type(t[:-2])}>"
    return {
        "VARCHAR": "STRING",
        "JSON": "STRING",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
        "INTEGER": "INT",
        "BIGINT": "BIGINT",
        "DOUBLE": "DOUBLE",
        "BOOLEAN": "BOOLEAN",
        "DATE": "DATE",
    }.get(t, t)


class SparkLake:
    """A lake registered on a SparkSession with the vocabulary installed."""

    def __init__(self, spark, lake: str | os.PathLike[str], cache: bool = True, vocabulary: bool = True):
        """`vocabulary=False` registers the lake's tables only: a caller replacing one of them
        (a view over an AWS table) installs the vocabulary itself afterwards."""
        self.spark = spark
        self.lake = Path(lake)
        self.manifest = read_manifest(lake)
        self.tables = self._register_tables()
        self.view_problems: dict[str, str] = {}
        self._materialise = False
        self._materialised: set[str] = set()
        if vocabulary:
            self._install_vocabulary(cache)

    def _register_tables(self) -> list[str]:
        names = []
        for table, spec in self.manifest["tables"].items():
            path = str(self.lake / table)
            reader = self.spark.read.option("basePath", path) if spec.get("partitioned") else self.spark.read
            df = reader.option("recursiveFileLookup", "false").parquet(path)
            cols = ", ".join(f"CAST(`{c}` AS {_spark_type(t)}) AS `{c}`" for c, t in spec["columns"])
            df.createOrReplaceTempView(f"_lake_{table}")
            self.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{table}` AS SELECT {cols} FROM _lake_{table}")
            names.append(table)
        return names

    def _install_vocabulary(self, cache: bool) -> None:
        """The vocabulary's tables and views; `cache`: each shared view computed once, by the
        first query that reads it (`_ensure_views`)."""
        for table, rows, schema in _vocabulary_tables():
            self.spark.createDataFrame(rows, schema=schema).createOrReplaceTempView(table)
        self.view_problems = {}
        for name, text, problem in _vocabulary_views():
            try:
                if problem:
                    raise dialects.TranslationError(problem)
                self.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{name}` AS {text}")
            except Exception as exc:  # noqa: BLE001 - a query reading this view names it when it fails
                self.view_problems[name] = _first_line(exc)
                log.warning(
                    "vocabulary view %s is not available on Spark: %s", name, self.view_problems[name]
                )
        self._materialise = cache
        self._materialised = set()

    def _ensure_views(self, sql: str) -> None:
        """Materialise, before a query runs, the shared views it reads (directly or through
        other views), each once per lake and in install order (a view's inputs first).

        Why: a Spark temp view is SQL text, analysed, optimised and compiled again inside every
        statement that names it, and the shared views nest (identity_network reads
        caller_network_event, instance_home_address and region_use; key_first_use reads those
        and key_first_seen). `CACHE LAZY TABLE` saved the execution but not that: each reader
        still analysed the whole inlined plan and matched it against the cache. Here a view is
        computed once (`localCheckpoint`: its rows kept by the block manager, its lineage cut)
        and its name is re-pointed at those rows, so every later reader plans a scan of rows
        (kept in memory, spilled to disk when they do not fit). Lazy, so `hunt --only` pays
        only for what it reads. Measured in benchmarks/README.md (Spark section)."""
        if not self._materialise:
            return
        needed = _views_read(sql)
        for name in _install_order():
            if name in needed and name in MATERIALISED and name not in self._materialised:
                if name not in self.view_problems:
                    df = self.spark.table(f"`{name}`").localCheckpoint(eager=True)
                    df.createOrReplaceTempView(name)
                self._materialised.add(name)

    def sql_for(self, q: Query, params: dict[str, Any] | None = None) -> str:
        """The query as Spark SQL, its parameters bound as typed literals."""
        bound = q.bind(params or {})
        tree = dialects.bind_literals(dialects.parse(q.sql), bound, {p.name: p.type for p in q.params})
        tree = dialects.inline_macros(tree, dialects.vocabulary("spark"))
        return dialects.translate_tree(tree, "spark", f"query {q.id}")

    def rows(self, q: Query, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The query's rows as dicts of Python values (times as aware UTC datetimes)."""
        text = self.sql_for(q, params)
        self._ensure_views(q.sql)
        result = self.spark.sql(text).collect()
        return [_python(r.asDict(recursive=True)) for r in result]


@functools.cache
def _vocabulary_tables() -> tuple[tuple[str, list[tuple], str], ...]:
    """The vocabulary's tables of data as rows and a Spark schema, read once per process from
    DuckDB's own install of the vocabulary."""
    import duckdb

    from .. import vocabulary
    from ..schema import TABLES

    con = duckdb.connect()
    for ddl in TABLES.values():
        con.execute(ddl)
    vocabulary.install(con)
    out = []
    for table in dialects.vocabulary("spark").tables:
        rel = con.sql(f"SELECT * FROM {table}")
        types = zip(rel.columns, rel.types, strict=True)
        schema = ", ".join(f"`{c}` {_spark_type(str(t))}" for c, t in types)
        out.append((table, rel.fetchall(), schema))
    con.close()
    return tuple(out)


@functools.cache
def _vocabulary_views() -> tuple[tuple[str, str, str | None], ...]:
    """The vocabulary's views as Spark SQL (macros inlined), translated once per process: each
    (name, text, None), or (name, "", why) where it does not translate."""
    vocab = dialects.vocabulary("spark")
    out = []
    for name, body in vocab.views:
        try:
            tree = dialects.inline_macros(body.copy(), vocab)
            out.append((name, dialects.translate_tree(tree, "spark", f"view {name}"), None))
        except Exception as exc:  # noqa: BLE001 - a query reading this view names it when it fails
            out.append((name, "", _first_line(exc)))
    return tuple(out)


def _materialised_views() -> frozenset[str]:
    """The views the Spark hunt computes once: the vocabulary's shared views (cached by the
    DuckDB hunt too) and caller_network_event, the event base four of them read (DuckDB plans
    it in milliseconds; Spark, with its membership subqueries inlined, in seconds each time)."""
    from ..vocabulary import SHARED_VIEWS

    return frozenset((*SHARED_VIEWS, "caller_network_event"))


MATERIALISED = _materialised_views()


@functools.cache
def _install_order() -> tuple[str, ...]:
    return tuple(name for name, _ in dialects.vocabulary("spark").views)


@functools.cache
def _view_reads() -> dict[str, frozenset[str]]:
    """Each vocabulary view's directly read vocabulary views (its macros inlined)."""
    vocab = dialects.vocabulary("spark")
    names = set(_install_order())
    out = {}
    for name, body in vocab.views:
        tree = dialects.inline_macros(body.copy(), vocab)
        out[name] = frozenset(t.name for t in tree.find_all(exp.Table) if t.name in names)
    return out


@functools.cache
def _views_read(sql: str) -> frozenset[str]:
    """The vocabulary views a query (its DuckDB text) reads, directly or through other views;
    worked out once per query text, not again at every run of it."""
    reads = _view_reads()
    tree = dialects.inline_macros(dialects.parse(sql), dialects.vocabulary("spark"))
    todo = [t.name for t in tree.find_all(exp.Table) if t.name in reads]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(reads[name])
    return frozenset(seen)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _python(row: dict[str, Any]) -> dict[str, Any]:
    from datetime import UTC, datetime

    out = {}
    for k, v in row.items():
        if isinstance(v, datetime) and v.tzinfo is None:
            v = v.replace(tzinfo=UTC)  # the session's time zone is UTC
        elif isinstance(v, datetime):
            v = v.astimezone(UTC)
        out[k] = v
    return out


@contextlib.contextmanager
def open_lake(lake: str | os.PathLike[str], master: str | None = None) -> Iterator[SparkLake]:
    spark = spark_session(master)
    yield SparkLake(spark, lake)


def run_hunt_spark(
    lake: SparkLake,
    from_time: Any = None,
    to_time: Any = None,
    on_problem: Callable[[str], None] | None = None,
    only: Iterable[str] | None = None,
    timings: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """The hunt's findings from Spark: every detection of the catalogue, folded by the DuckDB
    hunt's own code (`forensics.hunt.fold`). `timings`, when given, receives each query's wall
    seconds (the single-event rules' one scan as "rules")."""
    from ..hunt import SEVERITY_RANK, fold, parse_time

    start, end = parse_time(from_time), parse_time(to_time)
    wanted = set(only) if only is not None else None
    report = on_problem or (lambda line: log.warning("%s", line))
    findings: list[dict[str, Any]] = []
    chosen = {
        qid: q
        for qid, q in sorted(catalog().items())
        if q.kind == "detection" and (wanted is None or qid in wanted)
    }
    rules = [q for q in chosen.values() if q.meta.get("rule")]
    clock = timings if timings is not None else {}
    if rules:  # every single-event rule in one scan, as the DuckDB hunt runs them
        began = time.perf_counter()
        findings.extend(_rule_findings(lake, rules, start, end, report))
        clock["rules"] = round(time.perf_counter() - began, 3)
    for qid, q in chosen.items():
        if q.meta.get("rule"):
            continue
        names = {p.name for p in q.params}
        params = {k: v for k, v in (("from_time", start), ("to_time", end)) if k in names and v is not None}
        began = time.perf_counter()
        try:
            rows = lake.rows(q, params)
        except ForensicsError as exc:
            report(f"hunt: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - Spark's analysis errors are many types
            report(f"hunt: query {qid!r} failed on Spark: {str(exc).strip().splitlines()[0]}")
            continue
        finally:
            clock[qid] = round(time.perf_counter() - began, 3)
            log.info("spark hunt: %s %.2f s", qid, clock[qid])
        findings.extend(fold(q, rows))
    findings.sort(key=lambda f: (f["first_seen"] or "", -SEVERITY_RANK.get(f["severity"], 0), f["detection"]))
    return findings


def rules_query(rules: list[Query]) -> Query:
    """The chosen single-event rules compiled into one scan, as a catalogue-shaped query."""
    from ..catalog import Param
    from ..rules import compile_rules, load_rules

    every = load_rules()
    return Query(
        id="rules",
        title="single-event rules, one scan",
        kind="detection",
        sources=("cloudtrail",),
        sql=compile_rules([every[q.id] for q in rules]),
        path="",
        params=(Param("from_time", "TIMESTAMPTZ"), Param("to_time", "TIMESTAMPTZ")),
    )


def _rule_findings(
    lake: SparkLake, rules: list[Query], start: Any, end: Any, report: Callable[[str], None]
) -> list[dict[str, Any]]:
    """The rules' rows from one Spark scan, folded per rule by the DuckDB hunt's own code."""
    from ..hunt import fold

    params = {k: v for k, v in (("from_time", start), ("to_time", end)) if v is not None}
    try:
        rows = lake.rows(rules_query(rules), params)
    except Exception as exc:  # noqa: BLE001 - Spark's analysis errors are many types
        report(f"hunt: rules failed on Spark: {str(exc).strip().splitlines()[0]}")
        return []
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_rule.setdefault(row["detection"], []).append(row)
    return [f for q in rules for f in fold(q, by_rule.get(q.id, []))]
