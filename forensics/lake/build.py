"""`forensics lake build`: raw CloudTrail trail files, read by Spark, as the lake `forensics export`
writes (DESIGN.md Scale-out), for evidence too large for one machine's case.

The trail files (`{"Records": [...]}`, gzip JSON, under AWSLogs/(<org-id>/)?<account>/CloudTrail/
<region>/<Y>/<M>/<D>/) are read by Spark into a relation `cloudtrail_logs` with exactly the
columns and types of AWS's documented Athena table (shapes-and-lakes.md §6.1: payloads as JSON
text, `eventtime` and `readonly` as strings). The loader's projection is then the SQL view that
maps `cloudtrail_logs` onto the case's `cloudtrail` shape (forensics/lake/views), so the logic
lives once. What the view cannot supply from AWS's columns (the whole record, its file and
position) is joined back from the read, row by row.

As the loader does: records without a parseable time are rejected (kept in `rejects` with the
reason); events are deduplicated on (eventID, recipientAccountId), the first copy in file order
kept and every other in `cloudtrail_copies`; each file has a `sources` row whose counts
reconcile (read = written + duplicates + rejected); a file that is not gzip JSON or holds no
`Records` array is reported (a `sources` row with status `rejected` and the reason) and the build
goes on. `addresses` is filled by the loader's own code from the distinct caller addresses.

Spark reads JSON field names case-sensitively: the records are parsed with CloudTrail's own
(camelCase) names and cast, field by field and in order, to AWS's lowercase table types. A
StringType field given a JSON object or array yields that value's JSON text (checked on PySpark
4.3), a JSON string yields the string itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .export import MANIFEST, PARTITIONS, TABLES, LakeError

log = logging.getLogger(__name__)

# A trail file in S3's layout (an organisation trail has the organisation id first); digest and
# Insights folders are not trail files.
TRAIL_FILE = re.compile(
    r"(^|/)AWSLogs/(o-[a-z0-9]+/)?\d{12}/CloudTrail/[^/]+/\d{4}/\d{2}/\d{2}/[^/]+\.json(\.gz)?$"
)


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


def _is_s3(source: str) -> bool:
    return source.startswith(("s3://", "s3a://", "s3n://"))


def _hadoop_path(spark, uri: str):
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark._jsc.hadoopConfiguration())


def list_trail_files(spark, source: str) -> list[tuple[str, int]]:
    """Every trail file under `source` (a folder, or s3a:// when Spark can read S3): (URI, bytes)."""
    if _is_s3(source):
        try:
            spark._jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
        except Exception:  # noqa: BLE001 - a Py4J error: the class is not on Spark's classpath
            raise LakeError(
                "reading S3 needs the hadoop-aws and AWS SDK jars on Spark's classpath, which this "
                "Spark lacks: copy the trail locally (`aws s3 sync`) and give the folder, or run with "
                "--packages org.apache.hadoop:hadoop-aws on a cluster that has them",
                path=source,
            ) from None
        source = "s3a://" + source.split("://", 1)[1]
        path, fs = _hadoop_path(spark, source)
        found = []
        it = fs.listFiles(path, True)
        while it.hasNext():
            st = it.next()
            uri = st.getPath().toString()
            if TRAIL_FILE.search(uri):
                found.append((uri, int(st.getLen())))
        return sorted(found)
    root = Path(source)
    if not root.is_dir():
        raise LakeError("--from is not a folder (or an s3:// URI)", path=source)
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = Path(dirpath) / name
            if TRAIL_FILE.search(full.as_posix()):
                found.append((full.resolve().as_uri(), full.stat().st_size))
    return sorted(found)


def _sha256(path: str) -> str | None:
    """A local trail file's sha256, as the loader records it in `sources`; None for an object
    Spark reads remotely (`forensics acquire`'s manifest holds its digest)."""
    if "://" in path:
        return None
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def _local(uri: str) -> str:
    """The path a case's `source_file` names: a local file as a plain path, else the URI."""
    return uri[len("file://") :] if uri.startswith("file://") else uri


def read_cloudtrail_logs(spark, files: list[str]):
    """The trail files as one DataFrame: AWS's `cloudtrail_logs` columns (names and types of the
    documented table), then the read's own columns: `_raw` (the record's JSON text),
    `_source_file` (URI), `_index` (0-based position in the file's Records), `_problem` (why a
    file gave no record; NULL on a record's row) and `_not_object` (a Records item that is not an
    object: Spark gives a string item as its bare text, which `from_json` turns into a row of
    NULLs, not a NULL)."""
    from pyspark.sql import functions as F

    from .views.tables import CLOUDTRAIL_LOGS, spark_ddl

    docs = (
        spark.read.schema("Records ARRAY<STRING>, _corrupt_record STRING")
        .option("multiLine", "true")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .option("ignoreCorruptFiles", "true")  # not gzip / truncated: skipped here, reported below
        .json(files)
        # the file's problem is computed before the explode: a column the explode's rows carry
        # is copied into each of them, and carrying `Records` (the whole file) copied a file's
        # text once per record (1M events in 2 GB ran out of heap; see benchmarks/README.md)
        .selectExpr(
            "input_file_name() AS _source_file",
            "CASE WHEN _corrupt_record IS NOT NULL THEN 'not a JSON document' "
            "WHEN Records IS NULL THEN 'no Records array' END AS _problem",
            "Records",
        )
    )
    exploded = docs.selectExpr("_source_file", "_problem", "posexplode_outer(Records) AS (_index, _raw)")
    parsed = exploded.withColumn("_r", F.from_json("_raw", spark_ddl(CLOUDTRAIL_LOGS, keys=True)))
    aws = [(c, k, t) for c, k, t in CLOUDTRAIL_LOGS]
    types = dict(
        (c, t.split(" ", 1)[1])
        for c, t in zip([c for c, _, _ in aws], _split_ddl(spark_ddl(CLOUDTRAIL_LOGS)), strict=True)
    )
    cols = [f"CAST(_r.`{k}` AS {types[c]}) AS `{c}`" for c, k, _ in aws]
    return parsed.selectExpr(
        *cols,
        "_raw",
        "_source_file",
        "_index",
        "_problem",
        "_raw IS NOT NULL AND (_r IS NULL OR NOT startswith(ltrim(_raw), '{')) AS _not_object",
    )


def _split_ddl(ddl: str) -> list[str]:
    """A Spark DDL column list split at its top-level commas."""
    out, depth, cur = [], 0, []
    for ch in ddl:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


# The read's columns carried through the view beside the case's columns.
CARRIED = ("_raw", "_source_file", "_index", "_not_object", "_problem")


def cloudtrail_view_sql() -> str:
    """The view from AWS's `cloudtrail_logs` to the case's `cloudtrail` as Spark SQL (helper
    views, forensics/lake/views), with the read's own columns carried through."""
    import sqlglot
    from sqlglot import exp

    try:
        from .views import view_select
    except ImportError:
        raise LakeError("the cloudtrail_logs view (forensics/lake/views) is not in this build") from None
    tree = sqlglot.parse_one(view_select("cloudtrail_logs", "spark"), read="spark")
    source = tree.args.get("from") or tree.args.get("from_")
    if not isinstance(tree, exp.Select) or source is None or source.this.name != "cloudtrail_logs":
        raise LakeError(
            "the cloudtrail_logs view is not one SELECT over cloudtrail_logs; lake build cannot use it"
        )
    return tree.select(*CARRIED, append=True).sql(dialect="spark")


def _case_columns() -> dict[str, list[tuple[str, str]]]:
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


def build_lake(
    spark,
    source: str,
    to: str | os.PathLike[str],
    on_problem: Callable[[str], None] | None = None,
) -> BuildReport:
    """Raw trail files under `source` into a new lake at `to` (a new or empty folder)."""
    import shutil

    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    from ..engines.spark import _spark_type
    from ..ingest.context import EXCERPT_CHARS

    report_problem = on_problem or (lambda line: log.warning("%s", line))
    target = Path(to)
    if target.exists() and any(target.iterdir()):
        raise LakeError("the lake folder is not empty (build into a new folder)", path=str(target))
    started = time.perf_counter()
    listed = list_trail_files(spark, str(source))
    if not listed:
        raise LakeError(
            "no CloudTrail trail files (AWSLogs/<account>/CloudTrail/<region>/Y/M/D/) under --from",
            path=str(source),
        )
    view_sql = cloudtrail_view_sql()
    columns = _case_columns()
    target.mkdir(parents=True, exist_ok=True)
    report = BuildReport(lake=str(target), files=len(listed))
    built_at = datetime.now(UTC)
    conf = spark.conf
    saved = _set_build_conf(conf, sum(size for _, size in listed), local=not _is_s3(str(source)))
    try:
        logs = read_cloudtrail_logs(spark, [u for u, _ in listed])
        # every record gets an event id as the loader gives one (its content's hash when it has none)
        logs.withColumn(
            "eventid",
            F.expr("CASE WHEN _raw IS NOT NULL THEN coalesce(eventid, 'sha256:' || sha2(_raw, 256)) END"),
        ).createOrReplaceTempView("cloudtrail_logs")
        fate = F.expr(
            "CASE WHEN _raw IS NULL THEN 'no record' "  # a file's own row: empty, or its problem
            "WHEN _not_object THEN 'record is not a JSON object' "
            "WHEN event_time IS NULL THEN 'record has no parseable eventTime or @timestamp' END"
        )
        # the loader's dedupe: one copy per (event id, recipient account), the first in file order
        # (the loader keeps the copy whose source file sorts first, then the lower record number)
        path_of = F.regexp_replace("_source_file", "^file://", "")
        key = Window.partitionBy(
            "event_id", F.coalesce("recipient_account_id", F.lit("")), F.col("_fate").isNull()
        ).orderBy(path_of, "_index")
        # one pass over the JSON, written once to a staging folder inside the lake (removed
        # below) and read from there by every later step: nothing wide is held in memory (a
        # persisted copy of every record ran 2 GB out of heap), and no file is parsed twice
        # (not "_staging": Spark reads no path whose name starts with "_" or ".")
        staging = target / "staging"
        (
            spark.sql(view_sql)
            .withColumn("_fate", fate)
            .withColumn("_n", F.row_number().over(key))
            .write.option("compression", "zstd")
            .parquet(str(staging))
        )
        marked = spark.read.parquet(str(staging))
        good = marked.where("_fate IS NULL")
        position = F.concat(F.lit("record "), (F.col("_index") + 1).cast("string"))
        # the case's cloudtrail: the view's columns, with what the read knows and the view cannot
        carried = {
            "raw": F.col("_raw"),
            "source_file": path_of,
            "source_position": position,
            "load_id": F.lit(1).cast("bigint"),
            "record_flags": F.expr("filter(record_flags, f -> f NOT IN ('no raw record', 'no source file'))"),
        }
        ct = good.where("_n = 1").select(
            *[
                (carried[c] if c in carried else F.col(c)).cast(_spark_type(t)).alias(c)
                for c, t in columns["cloudtrail"]
            ]
        )
        copies = good.where("_n > 1").select(
            F.col("event_id"),
            F.col("recipient_account_id"),
            F.lit("trail").alias("delivery"),
            path_of.alias("source_file"),
            position.alias("source_position"),
            F.lit(None).cast("string").alias("envelope_id"),
            F.lit(False).alias("replaced"),
            F.lit(built_at).cast("timestamp").alias("recorded_at"),
        )
        rejects = marked.where("_fate IS NOT NULL AND _raw IS NOT NULL").select(
            path_of.alias("source_file"),
            position.alias("position"),
            F.col("_fate").alias("reason"),
            F.substring("_raw", 1, EXCERPT_CHARS).alias("excerpt"),
            F.lit(built_at).cast("timestamp").alias("rejected_at"),
        )
        account = PARTITIONS["cloudtrail"][0]
        (
            ct.withColumn("p_account", F.expr(account).cast("string"))
            .withColumn("p_region", F.col("aws_region").cast("string"))
            .withColumn("p_date", F.date_format("event_time", "yyyy-MM-dd"))
            .write.option("compression", "zstd")
            .partitionBy("p_account", "p_region", "p_date")
            .parquet(str(target / "cloudtrail"))
        )
        copies.write.option("compression", "zstd").parquet(str(target / "cloudtrail_copies"))
        rejects.write.option("compression", "zstd").parquet(str(target / "rejects"))
        # per file: what was read, kept, deduplicated, rejected (they reconcile), and why a file
        # gave nothing; a file Spark could not decompress has no row at all
        per_file = {
            r["_source_file"]: r
            for r in marked.groupBy("_source_file")
            .agg(
                F.sum(F.expr("CASE WHEN _raw IS NOT NULL THEN 1 ELSE 0 END")).alias("read"),
                F.sum(F.expr("CASE WHEN _raw IS NOT NULL AND _fate IS NOT NULL THEN 1 ELSE 0 END")).alias(
                    "rejected"
                ),
                F.sum(F.expr("CASE WHEN _fate IS NULL AND _n > 1 THEN 1 ELSE 0 END")).alias("duplicates"),
                F.max("_problem").alias("problem"),
            )
            .collect()
        }
        sources = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            digests = list(pool.map(_sha256, (_local(u) for u, _ in listed)))
        for (uri, size), digest in zip(listed, digests, strict=True):
            path = _local(uri)
            f = per_file.get(uri)
            if f is None:
                read, rejected, dupes, problem = 0, 0, 0, "not readable as gzip JSON (corrupt or truncated)"
            else:
                read, rejected, dupes, problem = (
                    int(f["read"]),
                    int(f["rejected"]),
                    int(f["duplicates"]),
                    f["problem"],
                )
            loaded = read - rejected - dupes
            if problem:
                status, detail = "rejected", problem
                report.bad_files[path] = problem
                report_problem(f"{path}: {problem}")
            elif rejected:
                status, detail = "partial", f"{rejected} record(s) rejected (see rejects)"
            else:
                status, detail = "loaded", (f"{dupes} duplicate(s) in cloudtrail_copies" if dupes else None)
            report.read += read
            report.rejected += rejected
            report.duplicates += dupes
            report.written += loaded
            sources.append(
                (
                    path,
                    digest,
                    size,
                    "cloudtrail-records",
                    status,
                    read,
                    loaded,
                    dupes,
                    rejected,
                    detail,
                    built_at,
                    None,
                )
            )
        ips = [r[0] for r in ct.where("source_is_ip").select("source_ip").distinct().collect()]
        report.tables = {
            "cloudtrail": report.written,
            "cloudtrail_copies": report.duplicates,
            "rejects": report.rejected,
            **_write_local_tables(target, ips, sources),
        }
        written = spark.read.parquet(str(target / "cloudtrail")).count()
        if written != report.written:
            raise LakeError(
                f"the lake's cloudtrail holds {written} rows where the build counted {report.written}",
                path=str(target),
            )
        shutil.rmtree(staging)
        _write_manifest(target, columns, report, source, built_at)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        for key_, value in saved.items():
            if value is None:
                conf.unset(key_)
            else:
                conf.set(key_, value)
    report.seconds = time.perf_counter() - started
    return report


# Uncompressed bytes per shuffle partition the build aims at (the window that deduplicates sorts
# every record; gzip trail files inflate about 10x).
PARTITION_BYTES = 64 * 1024 * 1024
INFLATION = 10


def _set_build_conf(conf, gzip_bytes: int, local: bool) -> dict[str, str | None]:
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


def _write_local_tables(target: Path, ips: list[str], sources: list[tuple]) -> dict[str, int]:
    """The small tables, written by DuckDB as export writes them: sources, the addresses of the
    callers (the loader's own lookup, `forensics.ingest.addresses.fill`), case_meta, and the
    evidence tables this build does not fill (empty, with their columns and types)."""
    import duckdb

    from .. import vocabulary
    from ..ingest import addresses
    from ..schema import create_tables
    from .export import _copy

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_tables(con)
    vocabulary.install(con)
    if ips:
        # the addresses' lookup reads the case's cloudtrail: give it the callers, then empty it
        con.executemany(
            "INSERT INTO cloudtrail (source_ip, source_is_ip) VALUES (?, true)", [[ip] for ip in ips]
        )
    addresses.fill(con)
    con.execute("DELETE FROM cloudtrail")
    if sources:
        con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sources)
    counts = {}
    for table in TABLES:
        if table in ("cloudtrail", "cloudtrail_copies", "rejects"):
            continue
        counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        _copy(con, table, target / table, counts[table])
    con.close()
    return counts


def _write_manifest(target: Path, columns, report: BuildReport, source: str, built_at: datetime) -> None:
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
