"""`forensics lake build`: raw CloudTrail trail files and VPC flow logs, read by Spark, as the lake
`forensics export` writes (DESIGN.md Scale-out), for evidence too large for one machine's case.
This module reads the trail; forensics/lake/flows.py the flow logs; forensics/lake/build_parts.py
holds what both share (file listing, fingerprints, `sources`, the small tables, the manifest).
Billing is not read: an organisation's billing is small, loaded into a case and exported.

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
goes on. `addresses` is filled by the loader's own code from the distinct caller (and flow)
addresses.

Spark reads JSON field names case-sensitively: the records are parsed with CloudTrail's own
(camelCase) names and cast, field by field and in order, to AWS's lowercase table types. A
StringType field given a JSON object or array yields that value's JSON text (checked on PySpark
4.3), a JSON string yields the string itself.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .build_parts import (
    SPARK_LOCAL_PATH,
    BuildReport,
    BuildRun,
    case_columns,
    digests,
    is_s3,
    list_files,
    local_path,
    read_path,
    set_build_conf,
    source_row,
    view_carrying,
    write_local_tables,
    write_manifest,
    write_partitioned,
)
from .export import LakeError

log = logging.getLogger(__name__)

# A trail file in S3's layout (an organisation trail has the organisation id first); digest and
# Insights folders are not trail files.
TRAIL_FILE = re.compile(
    r"(^|/)AWSLogs/(o-[a-z0-9]+/)?\d{12}/CloudTrail/[^/]+/\d{4}/\d{2}/\d{2}/[^/]+\.json(\.gz)?$"
)


def list_trail_files(spark, source: str) -> list[tuple[str, int]]:
    """Every trail file under `source` (a folder, or s3a:// when Spark can read S3): (URI, bytes)."""
    return list_files(spark, source, {"cloudtrail": TRAIL_FILE})["cloudtrail"]


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
    return view_carrying("cloudtrail_logs", CARRIED)


def build_lake(
    spark,
    source: str,
    to: str | os.PathLike[str],
    on_problem: Callable[[str], None] | None = None,
) -> BuildReport:
    """Raw trail and flow-log files under `source` into a new lake at `to` (a new or empty folder).
    Billing is not read here: an organisation's billing is small, loaded into a case by DuckDB
    and exported (`forensics export`)."""
    import shutil

    from .flows import FLOW_FILE, build_flows

    report_problem = on_problem or (lambda line: log.warning("%s", line))
    target = Path(to)
    if target.exists() and any(target.iterdir()):
        raise LakeError("the lake folder is not empty (build into a new folder)", path=str(target))
    started = time.perf_counter()
    listed = list_files(spark, str(source), {"cloudtrail": TRAIL_FILE, "vpc_flows": FLOW_FILE})
    if not any(listed.values()):
        raise LakeError(
            "no CloudTrail trail files (AWSLogs/<account>/CloudTrail/<region>/Y/M/D/) and no VPC "
            "flow log files (AWSLogs/<account>/vpcflowlogs/<region>/Y/M/D/) under --from",
            path=str(source),
        )
    columns = case_columns()
    target.mkdir(parents=True, exist_ok=True)
    report = BuildReport(lake=str(target), files=sum(len(files) for files in listed.values()))
    built_at = datetime.now(UTC)
    run = BuildRun(target, columns, built_at, report, report_problem)
    conf = spark.conf
    size = sum(size for files in listed.values() for _, size in files)
    saved = set_build_conf(conf, size, local=not is_s3(str(source)))
    sources: list[tuple] = []
    addresses_seen: dict[str, list[str]] = {}
    written: set[str] = set()
    try:
        if listed["cloudtrail"]:
            sources += _build_cloudtrail(spark, listed["cloudtrail"], run)
            ips = spark.read.parquet(str(target / "cloudtrail")).where("source_is_ip").select("source_ip")
            addresses_seen["cloudtrail.source_ip"] = [r[0] for r in ips.distinct().collect()]
            written |= {"cloudtrail", "cloudtrail_copies", "rejects"}
        if listed["vpc_flows"]:
            sources += build_flows(spark, listed["vpc_flows"], run)
            flows = spark.read.parquet(str(target / "vpc_flows"))
            for column in ("src_addr", "dst_addr"):
                values = flows.select(column).where(f"{column} IS NOT NULL").distinct().collect()
                addresses_seen[f"vpc_flows.{column}"] = [r[0] for r in values]
            written |= {"vpc_flows", "rejects"}
        report.tables = {
            "cloudtrail": report.tables.get("cloudtrail", 0),
            "cloudtrail_copies": report.duplicates,
            "vpc_flows": report.tables.get("vpc_flows", 0),
            "rejects": report.rejected,
            **write_local_tables(target, addresses_seen, sources, written),
        }
        for table in ("cloudtrail", "vpc_flows"):
            if table in written:
                rows = spark.read.parquet(str(target / table)).count()
                if rows != report.tables[table]:
                    raise LakeError(
                        f"the lake's {table} holds {rows} rows where the build counted "
                        f"{report.tables[table]}",
                        path=str(target),
                    )
        write_manifest(target, columns, report, source, built_at)
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


def _build_cloudtrail(spark, listed: list[tuple[str, int]], run: BuildRun) -> list[tuple]:
    """The trail files into the lake's cloudtrail, cloudtrail_copies and rejects; their `sources`
    rows."""
    import shutil

    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    from ..engines.spark import _spark_type
    from ..ingest.context import EXCERPT_CHARS

    target, columns, built_at, report = run.target, run.columns, run.built_at, run.report
    view_sql = cloudtrail_view_sql()
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
    path_of = F.expr(SPARK_LOCAL_PATH.format("_source_file"))
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
    write_partitioned(ct, "cloudtrail", target / "cloudtrail")
    copies.write.option("compression", "zstd").parquet(str(target / "cloudtrail_copies"))
    rejects.write.option("compression", "zstd").mode("append").parquet(str(target / "rejects"))
    # per file: what was read, kept, deduplicated, rejected (they reconcile), and why a file
    # gave nothing; a file Spark could not decompress has no row at all
    per_file = {
        read_path(r["_source_file"]): r
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
    written_before = report.written
    for (uri, size), digest in zip(listed, digests([u for u, _ in listed]), strict=True):
        f = per_file.get(local_path(uri))
        if f is None:
            counts, problem = (0, 0, 0), "not readable as gzip JSON (corrupt or truncated)"
        else:
            counts = (int(f["read"]), int(f["duplicates"]), int(f["rejected"]))
            problem = f["problem"]
        sources.append(source_row(run, local_path(uri), digest, size, "cloudtrail-records", counts, problem))
    report.tables["cloudtrail"] = report.written - written_before
    shutil.rmtree(staging)
    return sources
