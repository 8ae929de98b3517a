"""The parts of `forensics lake build` every evidence source shares: which raw files are under
`--from`, their fingerprints, the build's Spark settings, the per-file `sources` rows whose counts
reconcile, and the small tables and manifest written beside the Spark-written ones.

The sources themselves (forensics/lake/build.py for CloudTrail, forensics/lake/flows.py for VPC
flow logs) read their files and write their tables; this module knows nothing of their shapes.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .export import MANIFEST, PARTITIONS, TABLES, LakeError


@dataclass
class BuildReport:
    lake: str
    files: int = 0
    bad_files: dict[str, str] = field(default_factory=dict)
    read: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lake": self.lake,
            "files": self.files,
            "bad_files": self.bad_files,
            "records_read": self.read,
            "records_written": self.written,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "tables": self.tables,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class BuildRun:
    """One build's state every source's step shares: the lake folder, the case's columns, the
    build's time (rows' `loaded_at`, `rejected_at`), its report and where problems are said."""

    target: Path
    columns: dict[str, list[tuple[str, str]]]
    built_at: datetime
    report: BuildReport
    on_problem: Callable[[str], None]


def is_s3(source: str) -> bool:
    return source.startswith(("s3://", "s3a://", "s3n://"))


def _hadoop_path(spark, uri: str):
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark._jsc.hadoopConfiguration())


def list_files(spark, source: str, kinds: dict[str, re.Pattern[str]]) -> dict[str, list[tuple[str, int]]]:
    """Every file under `source` (a folder, or s3a:// when Spark can read S3) whose path matches
    one of `kinds`' patterns, by kind: sorted (URI, bytes), in one listing."""
    found: dict[str, list[tuple[str, int]]] = {kind: [] for kind in kinds}

    def keep(path: str, uri: str, size: int) -> None:
        for kind, pattern in kinds.items():
            if pattern.search(path):
                found[kind].append((uri, size))
                return

    if is_s3(source):
        try:
            spark._jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
        except Exception:  # noqa: BLE001 - a Py4J error: the class is not on Spark's classpath
            raise LakeError(
                "reading S3 needs the hadoop-aws and AWS SDK jars on Spark's classpath, which this "
                "Spark lacks: copy the evidence locally (`aws s3 sync`) and give the folder, or run "
                "with --packages org.apache.hadoop:hadoop-aws on a cluster that has them",
                path=source,
            ) from None
        source = "s3a://" + source.split("://", 1)[1]
        path, fs = _hadoop_path(spark, source)
        it = fs.listFiles(path, True)
        while it.hasNext():
            st = it.next()
            uri = st.getPath().toString()
            keep(uri, uri, int(st.getLen()))
    else:
        root = Path(source)
        if not root.is_dir():
            raise LakeError("--from is not a folder (or an s3:// URI)", path=source)
        for dirpath, _, names in os.walk(root):
            for name in names:
                full = Path(dirpath) / name
                # Spark is given the path as written ("file://" so that a cluster whose default
                # file system is HDFS reads the local file); it names what it read as a URI
                keep(full.as_posix(), "file://" + full.resolve().as_posix(), 0)
        for kind, files in found.items():
            found[kind] = [(uri, Path(local_path(uri)).stat().st_size) for uri, _ in files]
    return {kind: sorted(files) for kind, files in found.items()}


def sha256_of(path: str) -> str | None:
    """A local file's sha256, as the loader records it in `sources`; None for an object Spark
    reads remotely (`forensics acquire`'s manifest holds its digest)."""
    if "://" in path:
        return None
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def digests(uris: list[str]) -> list[str | None]:
    """Every file's sha256 (local files; a few threads: hashing releases the GIL)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(sha256_of, (local_path(u) for u in uris)))


def local_path(uri: str) -> str:
    """The path a case's `source_file` names, of a listed file: a local file as a plain path,
    else the URI."""
    return uri[len("file://") :] if uri.startswith("file://") else uri


def read_path(uri: str) -> str:
    """`local_path` of the name Spark gives a file it read (`input_file_name()`: a URI, encoded)."""
    return unquote(re.sub("^file:(//)?", "", uri)) if uri.startswith("file:") else uri


# `read_path` in Spark SQL ('+' kept: url_decode would read it as a space)
SPARK_LOCAL_PATH = "url_decode(replace(regexp_replace({}, '^file:(//)?', ''), '+', '%2B'))"


def source_row(
    run: BuildRun,
    path: str,
    digest: str | None,
    size: int,
    fmt: str,
    counts: tuple[int, int, int],
    problem: str | None,
) -> tuple:
    """One file's `sources` row from what it gave (read, duplicates, rejected) and why it gave
    nothing (`problem`), added to the build's totals: read = written + duplicates + rejected."""
    report, on_problem = run.report, run.on_problem
    read, dupes, rejected = counts
    loaded = read - rejected - dupes
    if problem and not loaded:
        status, detail = "rejected", problem
        report.bad_files[path] = problem
        on_problem(f"{path}: {problem}")
    elif problem:
        status, detail = "partial", problem
        report.bad_files[path] = problem
        on_problem(f"{path}: {problem}")
    elif rejected:  # as the loader settles a file: rejected when nothing of it stays
        status = "partial" if loaded or dupes else "rejected"
        detail = f"{rejected} record(s) rejected (see rejects)"
    else:
        status, detail = "loaded", (f"{dupes} duplicate(s) in cloudtrail_copies" if dupes else None)
    report.read += read
    report.rejected += rejected
    report.duplicates += dupes
    report.written += loaded
    return (path, digest, size, fmt, status, read, loaded, dupes, rejected, detail, run.built_at, None)


def view_carrying(source: str, carried: tuple[str, ...]) -> str:
    """The shipped view onto AWS's table `source` (forensics/lake/views) as Spark SQL, with the
    read's own columns carried through beside the case's."""
    import sqlglot
    from sqlglot import exp

    from .views import view_select

    tree = sqlglot.parse_one(view_select(source, "spark"), read="spark")
    relation = tree.args.get("from") or tree.args.get("from_")
    if not isinstance(tree, exp.Select) or relation is None or relation.this.name != source:
        raise LakeError(f"the {source} view is not one SELECT over {source}; lake build cannot use it")
    return tree.select(*carried, append=True).sql(dialect="spark")


def case_columns() -> dict[str, list[tuple[str, str]]]:
    """Every case table's columns and DuckDB types, from the schema (as export records them)."""
    import duckdb

    from ..schema import TABLES as CASE_TABLES

    con = duckdb.connect()
    for ddl in CASE_TABLES.values():
        con.execute(ddl)
    out = {
        t: [
            (c, str(ty))
            for c, ty in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE table_name = $t ORDER BY column_index",
                {"t": t},
            ).fetchall()
        ]
        for t in CASE_TABLES
    }
    con.close()
    return out


def write_partitioned(df, table: str, folder: Path) -> None:
    """An evidence table's rows under `folder`, split as export splits it (PARTITIONS: account,
    region, day as text; the original columns stay in the files)."""
    import sqlglot
    from pyspark.sql import functions as F

    from ..dialects import translate_tree

    account, region, day = (
        translate_tree(sqlglot.parse_one(e, read="duckdb"), "spark", f"{table} partition")
        for e in PARTITIONS[table]
    )
    (
        df.withColumn("p_account", F.expr(account).cast("string"))
        .withColumn("p_region", F.expr(region).cast("string"))
        .withColumn("p_date", F.expr(day).cast("string"))
        .write.option("compression", "zstd")
        .partitionBy("p_account", "p_region", "p_date")
        .parquet(str(folder))
    )


# Uncompressed bytes per shuffle partition the build aims at (the window that deduplicates sorts
# every record; gzip files inflate about 10x).
PARTITION_BYTES = 64 * 1024 * 1024
INFLATION = 10


def set_build_conf(conf, gzip_bytes: int, local: bool) -> dict[str, str | None]:
    """Session settings for the build's duration; returns the previous values to restore.
    Shuffle partitions grow with the input (the session's default of 4 put a quarter of every
    record in one task), adaptive execution merges the small ones back; timestamps are written
    as microseconds (the lake's type); a local folder's files are listed by the driver, not by
    one Spark task per file."""
    wanted = {
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
    }
    current = int(conf.get("spark.sql.shuffle.partitions") or 200)
    wanted["spark.sql.shuffle.partitions"] = str(max(current, -(-gzip_bytes * INFLATION // PARTITION_BYTES)))
    if local:
        wanted["spark.sql.sources.parallelPartitionDiscovery.threshold"] = str(1 << 30)
    saved: dict[str, str | None] = {}
    for key, value in wanted.items():
        try:
            saved[key] = conf.get(key)
        except Exception:  # noqa: BLE001 - an unset key without a default raises on some versions
            saved[key] = None
        conf.set(key, value)
    return saved


def write_local_tables(
    target: Path, addresses_seen: dict[str, list[str]], sources: list[tuple], written: set[str]
) -> dict[str, int]:
    """The small tables, written by DuckDB as export writes them: sources, the addresses of the
    evidence (the loader's own lookup, `forensics.ingest.addresses.fill`, given each table's
    addresses: `addresses_seen` maps a case column such as `cloudtrail.source_ip` to its distinct
    values), case_meta, and the evidence tables this build did not write (`written`: empty,
    with their columns and types)."""
    import duckdb

    from .. import vocabulary
    from ..ingest import addresses
    from ..schema import create_tables
    from .export import _copy

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_tables(con)
    vocabulary.install(con)
    # the addresses' lookup reads the case's tables: give it their addresses, then empty them
    for column, values in addresses_seen.items():
        table, name = column.split(".")
        if values:
            flag = ", source_is_ip" if table == "cloudtrail" else ""
            marks = ", true" if flag else ""
            con.executemany(
                f'INSERT INTO "{table}" ("{name}"{flag}) VALUES (?{marks})', [[v] for v in values]
            )
    addresses.fill(con)
    for table in {c.split(".")[0] for c in addresses_seen}:
        con.execute(f'DELETE FROM "{table}"')
    if sources:
        con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sources)
    counts = {}
    for table in TABLES:
        if table in written:
            continue
        counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        _copy(con, table, target / table, counts[table])
    con.close()
    return counts


def write_manifest(target: Path, columns, report: BuildReport, source: str, built_at: datetime) -> None:
    import json

    from ..schema import SCHEMA_VERSION
    from .export import LAKE_VERSION, PARTITION_COLUMNS

    manifest = {
        "lake_version": LAKE_VERSION,
        "schema_version": SCHEMA_VERSION,
        "built_from": str(source),
        "built_at": built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "built_by": "forensics lake build --engine spark",
        "partitioned_by": list(PARTITION_COLUMNS),
        "tables": {
            t: {
                "columns": [[c, ty] for c, ty in columns[t]],
                "rows": report.tables.get(t, 0),
                "partitioned": t in PARTITIONS,
            }
            for t in TABLES
        },
        "build": {k: v for k, v in report.to_dict().items() if k not in ("lake", "tables", "seconds")},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
