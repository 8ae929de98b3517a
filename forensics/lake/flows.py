"""`forensics lake build` for VPC flow logs: raw flow-log files, read by Spark, into the lake's
`vpc_flows` (the high-volume source at organisation scale).

Which files: S3's delivery layout, AWSLogs/(<org-id>/)?<account>/vpcflowlogs/<region>/<Y>/<M>/<D>/
(hourly folders optional, or its Hive form aws-account-id=/aws-service=vpcflowlogs/aws-region=/
year=/month=/day=/hour=), text (`*.log.gz`, `*.log`) or Parquet (`*.log.parquet`).

How: every text line is numbered as the loader numbers it (its line in the file), matched to the
nearest header line above it in the same file (the field names, in the log's own order: custom
formats, versions 2 to 8), and split into AWS's documented Athena table `vpc_flow_logs`
(forensics/lake/views/tables.py VPC_FLOW_LOGS: '-' kept in a string column, NULL in a number).
The shipped view (forensics/lake/views/vpc_flow_logs.sql) then derives the case's `vpc_flows`, so
the loader's logic lives once. What that table cannot hold and the file has (the file and line,
the v7 ECS fields and v8 reject-reason, fields of other formats as `extra`, the account or region
the loader takes from the S3 path) is carried beside it through the view.

As the loader does (forensics/ingest/vpcflow.py, vpcflow_sql.py): a line is rejected with the
loader's reason (no header and not the default v2 format, a wrong field count, a value that is not
an integer or epoch seconds, a JSON line without a message); flow records carry no identifier, so
no record is a duplicate of another, but a file whose content (sha256) was already read under
another path is skipped as the loader skips it. A gzip file Spark cannot read to its end (cut
short, corrupt, not gzip) keeps the lines before the break and is reported: the gzip trailer's
length is compared with what was read. Parquet files are read by column name.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from ..ingest.vpcflow_sql import (
    DEFAULT_V2,
    EXPORT_TS,
    FIELDS,
    KNOWN,
    LATEST_EPOCH,
    NO_HEADER_HEAD,
    NO_HEADER_TAIL,
    NO_MESSAGE,
    NOT_EPOCH,
    NOT_INTEGER,
)
from .build_parts import (
    SPARK_LOCAL_PATH,
    BuildRun,
    digests,
    local_path,
    read_path,
    source_row,
    view_carrying,
    write_partitioned,
)

_DAY = r"\d{4}/\d{2}/\d{2}(/\d{2})?"
_HIVE = (
    r"aws-account-id=\d{12}/aws-service=vpcflowlogs/aws-region=[^/]+/"
    r"year=\d{4}/month=\d{2}/day=\d{2}(/hour=\d{2})?"
)
FLOW_FILE = re.compile(
    rf"(^|/)AWSLogs/(o-[a-z0-9]+/)?(\d{{12}}/vpcflowlogs/[^/]+/{_DAY}|{_HIVE})/[^/]+\.log(\.gz|\.parquet)?$"
)

# vpc_flows columns AWS's table has no column for (v7 ECS fields, v8 reject-reason)
_BEYOND_DDL = tuple((name, col) for name, col, _ in FIELDS if name.startswith(("ecs-", "reject-")))
# The read's columns carried through the view beside the case's columns.
CARRIED = ("_source_file", "_position", "_reason", "_line", "_extra") + tuple(f"_{c}" for _, c in _BEYOND_DDL)


def _lit(text: str) -> str:
    """A Spark SQL string literal (Spark unescapes backslashes in literals)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _array(names) -> str:
    return "array(" + ", ".join(_lit(n) for n in names) + ")"


_KNOWN = _array(KNOWN)


def _positions(fields: str) -> str:
    """A struct of the 1-based position of every known field in a field list (0 when absent)."""
    return (
        "named_struct("
        + ", ".join(f"'{col}', array_position({fields}, '{name}')" for name, col, _ in FIELDS)
        + ")"
    )


def _value(col: str) -> str:
    """A field's text in a line by its header's position ('-' kept, as AWS's table keeps it)."""
    return f"CASE WHEN p.{col} > 0 THEN try_element_at(vals, CAST(p.{col} AS INT)) END"


def read_flow_text(spark, files: list[str], staging: Path):
    """The text files' lines as `flow_lines` (one staged pass: the line numbers need a count per
    file before any line can be numbered, and no file is decompressed twice); returns it and
    per-file (lines, bytes) for the gzip check."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    (
        spark.read.option(
            "ignoreCorruptFiles", "true"
        )  # cut short: the lines before the break, checked below
        .text(files)
        .selectExpr(
            "input_file_name() AS _source_file",
            "_metadata.file_block_start AS _block",
            "monotonically_increasing_id() AS _id",
            "value AS _line",
        )
        .write.option("compression", "zstd")
        .parquet(str(staging))
    )
    lines = spark.read.parquet(str(staging))
    # a file lies in one task, or (uncompressed, split) in blocks each read by one task: a line's
    # number is its id's distance from its block's first, after the lines of the earlier blocks
    earlier = Window.partitionBy("_source_file").orderBy("_block").rowsBetween(Window.unboundedPreceding, -1)
    blocks = (
        lines.groupBy("_source_file", "_block")
        .agg(
            F.min("_id").alias("_first"),
            F.count(F.lit(1)).alias("_n"),
            F.sum(F.octet_length("_line") + 1).alias("_bytes"),
        )
        .withColumn("_base", F.coalesce(F.sum("_n").over(earlier), F.lit(0)))
    )
    numbered = lines.join(
        blocks.select("_source_file", "_block", "_first", "_base"), ["_source_file", "_block"]
    )
    numbered.selectExpr(
        "_source_file", "_id - _first + 1 + _base AS _line_no", "_line"
    ).createOrReplaceTempView("flow_lines")
    totals = {
        read_path(r["_source_file"]): (int(r["n"]), int(r["b"]))
        for r in blocks.groupBy("_source_file")
        .agg(F.sum("_n").alias("n"), F.sum("_bytes").alias("b"))
        .collect()
    }
    return totals


def _text_logs_sql() -> str:
    """Spark SQL over `flow_lines(_source_file, _line_no, _line)`: AWS's `vpc_flow_logs` columns
    of every record line, and the read's own (CARRIED), with the loader's reason for a bad line."""
    from .views.tables import VPC_FLOW_LOGS

    field_col = {name: col for name, col, _ in FIELDS}
    aws = []
    for aws_col, key, typ in VPC_FLOW_LOGS:
        v = _value(field_col[key])
        if typ == "string":
            aws.append(f"{v} AS `{aws_col}`")
        else:
            aws.append(f"try_cast(nullif({v}, '-') AS {typ.upper()}) AS `{aws_col}`")
    problems = []
    for name, col, typ in FIELDS:
        if typ == "VARCHAR":
            continue
        v = f"nullif({_value(col)}, '-')"
        if typ == "EPOCH":
            bad = f"NOT coalesce(try_cast({v} AS BIGINT) BETWEEN 0 AND {LATEST_EPOCH}, false)"
            what = NOT_EPOCH
        else:
            bad = f"try_cast({v} AS {'INT' if typ == 'INTEGER' else typ}) IS NULL"
            what = NOT_INTEGER
        problems.append(
            f"CASE WHEN {v} IS NOT NULL AND {bad} THEN concat({_lit(name + ' ')}, {v}, {_lit(what)}) END"
        )
    beyond = [f"nullif({_value(col)}, '-') AS _{col}" for _, col in _BEYOND_DDL]
    unknown_names = f"filter(fields, f -> NOT array_contains({_KNOWN}, f))"
    unknown_values = (
        f"transform(filter(vals, (v, i) -> NOT array_contains({_KNOWN}, fields[i])), v -> nullif(v, '-'))"
    )
    return rf"""
WITH texted AS (
    -- documentation samples end some records with a '#comment'; flow fields never hold '#'
    SELECT *, trim(CASE WHEN contains(_msg, '#') THEN regexp_replace(_msg, '(^|\\s)#.*$', '')
                        ELSE _msg END) AS _text
    FROM (
        SELECT _source_file, _line_no, _line,
               CASE WHEN NOT startswith(ltrim(_line), '{{') THEN _line
                    ELSE get_json_object(_line, '$.message') END AS _msg
        FROM flow_lines
    )
),
tokens AS (
    SELECT *, split(_text, '\\s+') AS tok,
           -- a header holds only lower-case names, '-' and '${{}}', one of them a known field
           _msg IS NOT NULL AND _text RLIKE '^[a-z$\\{{\\}}\\s-]+$'
             AND exists(split(_text, '\\s+'),
                        t -> array_contains({_KNOWN}, trim(BOTH '${{}}' FROM t))) AS is_header
    FROM texted
    WHERE _line IS NOT NULL AND trim(_line) <> '' AND (_msg IS NULL OR _text <> '')
),
headers AS (  -- every header of a file, in order, with its fields' positions
    SELECT _source_file, array_sort(collect_list(named_struct(
               'line', _line_no, 'fields', fields, 'p', {_positions("fields")},
               'has_unknown', size(filter(fields, f -> NOT array_contains({_KNOWN}, f))) > 0))) AS hs
    FROM (SELECT _source_file, _line_no, transform(tok, t -> trim(BOTH '${{}}' FROM t)) AS fields
          FROM tokens WHERE is_header)
    GROUP BY _source_file
),
data AS (  -- each record with the nearest header above it
    SELECT d.*, try_element_at(filter(h.hs, x -> x.line < d._line_no), -1) AS h
    FROM (SELECT * FROM tokens WHERE NOT is_header) d LEFT JOIN headers h USING (_source_file)
),
resolved AS (
    SELECT *,
           -- no header above: the default v2 format (14 fields, or 15 after an export timestamp)
           CASE WHEN h IS NOT NULL THEN h.fields
                WHEN size(tok) = 14 OR exported THEN {_array(DEFAULT_V2)} END AS fields,
           CASE WHEN h IS NOT NULL THEN h.p
                WHEN size(tok) = 14 OR exported THEN {_positions(_array(DEFAULT_V2))} END AS p,
           CASE WHEN exported THEN slice(tok, 2, size(tok) - 1) ELSE tok END AS vals,
           CASE WHEN exported THEN tok[0] END AS exported_at
    FROM (SELECT *, h IS NULL AND size(tok) = 15 AND tok[0] RLIKE {_lit("^" + EXPORT_TS + "$")} AS exported
          FROM data)
)
SELECT {", ".join(aws)},
       {", ".join(beyond)},
       CASE WHEN (h.has_unknown OR exported_at IS NOT NULL) AND size(vals) = size(fields)
                 AND size(array_distinct({unknown_names})) = size({unknown_names})
            THEN to_json(map_concat(map_from_arrays({unknown_names}, {unknown_values}),
                 CASE WHEN exported_at IS NOT NULL THEN map('exported-at', exported_at)
                      ELSE CAST(map() AS MAP<STRING, STRING>) END)) END AS _extra,
       _source_file,
       concat('line ', CAST(_line_no AS STRING)) AS _position,
       _line,
       CASE WHEN _msg IS NULL THEN {_lit(NO_MESSAGE)}
            WHEN fields IS NULL THEN
                 concat({_lit(NO_HEADER_HEAD)}, CAST(size(tok) AS STRING), {_lit(NO_HEADER_TAIL)})
            WHEN size(vals) <> size(fields) THEN
                 concat('record has ', CAST(size(vals) AS STRING), ' fields where the header on line ',
                        CAST(h.line AS STRING), ' names ', CAST(size(fields) AS STRING))
            ELSE nullif(concat_ws('; ', {", ".join(problems)}), '') END AS _reason
FROM resolved"""


def read_flow_parquet(spark, files: list[str]):
    """Parquet flow logs (columns named as the fields, '_' for '-') as AWS's `vpc_flow_logs`
    columns and the read's own; other columns are kept in `extra`, as the loader keeps them."""
    from .views.tables import VPC_FLOW_LOGS

    df = (
        spark.read.option("mergeSchema", "true")
        .option("ignoreCorruptFiles", "true")  # unreadable: reported from its footer below
        .parquet(*files)
    )
    names = {c.lower(): c for c in df.columns}

    def column(key: str) -> str | None:
        found = names.get(key.replace("-", "_"))
        return f"`{found}`" if found else None

    aws = [
        f"try_cast({column(key) or 'NULL'} AS {typ.upper()}) AS `{aws_col}`"
        for aws_col, key, typ in VPC_FLOW_LOGS
    ]
    beyond = [f"nullif(CAST({column(name) or 'NULL'} AS STRING), '-') AS _{col}" for name, col in _BEYOND_DDL]
    known = {n.replace("-", "_") for n in KNOWN}
    others = [c for k, c in names.items() if k not in known]
    extra = "CAST(NULL AS STRING)"
    if others:
        pairs = ", ".join(f"{_lit(o)}, `{o}`" for o in others)
        extra = f"to_json(named_struct({pairs}), map('ignoreNullFields', 'false'))"
    return df.selectExpr(
        *aws,
        *beyond,
        f"{extra} AS _extra",
        "input_file_name() AS _source_file",
        "concat('record ', CAST(_metadata.row_index + 1 AS STRING)) AS _position",
        "CAST(NULL AS STRING) AS _line",
        "CAST(NULL AS STRING) AS _reason",
    )


def _from_path(column: str) -> str:
    """The loader's rule (forensics.ingest.vpcflow.FROM_PATH) that takes a record's account or
    region from its S3 delivery path when the record lacks it, as Spark SQL over `_path`."""
    import sqlglot
    from sqlglot import exp

    from ..dialects import translate_tree
    from ..ingest.vpcflow import FROM_PATH

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.table == "s":
            return exp.column("_path" if node.name == "source_file" else node.name)
        return node

    tree = sqlglot.parse_one(FROM_PATH[column], read="duckdb").transform(rename)
    return translate_tree(tree, "spark", f"vpc_flows.{column} from the path")


def _gzip_problem(path: str, lines: int, inflated: int) -> str | None:
    """Why a local gzip file was not read to its end, from its trailer (the inflated length mod
    2^32): Spark stops a cut-short or corrupt stream silently and keeps the lines before the
    break. `inflated` counts one byte per line end; a file of CRLF lines has one more each, and a
    last line without an end one fewer."""
    if "://" in path or not path.endswith(".gz"):
        return None
    try:
        with open(path, "rb") as f:
            f.seek(-4, 2)
            size = int.from_bytes(f.read(4), "little")
    except OSError:
        return None
    if (size - (inflated - 1)) % (1 << 32) <= lines + 1:
        return None
    # The trailer holds only the last member's length: a file of several gzip members (a
    # Firehose or concatenated delivery) disagrees with it and is whole. Inflate it to be sure.
    if _gzip_reads_to_end(path):
        return None
    return f"gzip stream corrupt or cut short: {lines} line(s) before the break were read"


def _gzip_reads_to_end(path: str) -> bool:
    """Whether every gzip member of the file inflates to its end (zero padding after the last
    member allowed), with nothing kept: the check behind a trailer that disagrees."""
    chunk = 1 << 20
    decomp = zlib.decompressobj(wbits=31)
    with open(path, "rb") as fh:
        data = fh.read(chunk)
        while True:
            if decomp.eof:  # a member ended: another follows, or zero padding, or nothing
                data = decomp.unused_data or fh.read(chunk)
                while data and not data.strip(b"\0"):
                    data = fh.read(chunk)
                if not data:
                    return True
                decomp = zlib.decompressobj(wbits=31)
            elif not data:
                return False  # the file ends inside a member
            try:
                decomp.decompress(data, chunk)
            except zlib.error:
                return False
            data = decomp.unconsumed_tail or (b"" if decomp.eof else fh.read(chunk))


def _parquet_problem(path: str) -> str | None:
    """Why a local Parquet file cannot be read (its footer), as the loader says it."""
    if "://" in path:
        return None
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - any reader error is the file's reason
        return f"unreadable Parquet file: {str(exc).splitlines()[0]}"
    return None


def build_flows(spark, listed: list[tuple[str, int]], run: BuildRun) -> list[tuple]:
    """The flow-log files into the lake's vpc_flows and rejects; their `sources` rows."""
    import shutil

    from pyspark.sql import functions as F

    from ..engines.spark import _spark_type
    from ..ingest.context import EXCERPT_CHARS

    target, columns, built_at, report = run.target, run.columns, run.built_at, run.report
    sources: list[tuple] = []
    seen: dict[str, str] = {}
    files: list[tuple[str, int, str | None]] = []
    for (uri, size), digest in zip(listed, digests([u for u, _ in listed]), strict=True):
        first = seen.get(digest) if digest else None
        if first:  # the loader reads a content once (same sha256 under another path: skipped)
            detail = f"same content as {first}"
            sources.append(
                (
                    local_path(uri),
                    digest,
                    size,
                    "",
                    "skipped-already-loaded",
                    0,
                    0,
                    0,
                    0,
                    detail,
                    built_at,
                    None,
                )
            )
            continue
        if digest:
            seen[digest] = local_path(uri)
        files.append((uri, size, digest))
    text = [u for u, _, _ in files if not u.endswith(".parquet")]
    parquet = [u for u, _, _ in files if u.endswith(".parquet")]
    staging = target / "staging_flows"
    reads = []
    totals: dict[str, tuple[int, int]] = {}
    if text:
        totals = read_flow_text(spark, text, target / "staging_flow_lines")
        reads.append(spark.sql(_text_logs_sql()))
    if parquet:
        reads.append(read_flow_parquet(spark, parquet))
    logs = reads[0] if len(reads) == 1 else reads[0].unionByName(reads[1])
    logs.createOrReplaceTempView("vpc_flow_logs")
    # the view, once, staged: every later step reads the stage, no file is split twice
    spark.sql(view_carrying("vpc_flow_logs", CARRIED)).withColumn(
        "_path", F.expr(SPARK_LOCAL_PATH.format("_source_file"))
    ).write.option("compression", "zstd").parquet(str(staging))
    marked = spark.read.parquet(str(staging))
    # the case's vpc_flows: the view's columns, with what the read knows and the view cannot
    carried = {
        "account_id": F.expr(_from_path("account_id")),
        "region": F.expr(_from_path("region")),
        "extra": F.col("_extra"),
        "source_file": F.col("_path"),
        "source_position": F.col("_position"),
        "record_flags": F.expr(
            "filter(record_flags, f -> f NOT IN "
            "('no source file', 'ecs fields and reject_reason not in source'))"
        ),
        **{col: F.col(f"_{col}") for _, col in _BEYOND_DDL},
    }
    flows = marked.where("_reason IS NULL").select(
        *[
            (carried[c] if c in carried else F.col(c)).cast(_spark_type(t)).alias(c)
            for c, t in columns["vpc_flows"]
        ]
    )
    rejects = marked.where("_reason IS NOT NULL").select(
        F.col("_path").alias("source_file"),
        F.col("_position").alias("position"),
        F.col("_reason").alias("reason"),
        F.substring("_line", 1, EXCERPT_CHARS).alias("excerpt"),
        F.lit(built_at).cast("timestamp").alias("rejected_at"),
    )
    write_partitioned(flows, "vpc_flows", target / "vpc_flows")
    rejects.write.option("compression", "zstd").mode("append").parquet(str(target / "rejects"))
    per_file = {
        read_path(r["_source_file"]): (int(r["read"]), int(r["rejected"]))
        for r in marked.groupBy("_source_file")
        .agg(
            F.count(F.lit(1)).alias("read"),
            F.sum(F.expr("CASE WHEN _reason IS NOT NULL THEN 1 ELSE 0 END")).alias("rejected"),
        )
        .collect()
    }
    written_before = report.written
    for uri, size, digest in files:
        path = local_path(uri)
        read, rejected = per_file.get(path, (0, 0))
        if uri.endswith(".parquet"):
            fmt, problem = "vpcflow-parquet", _parquet_problem(path)
        else:
            fmt = "vpcflow-text"
            lines, inflated = totals.get(path, (0, 0))
            problem = _gzip_problem(path, lines, inflated) if lines else None
            if not lines and size:
                problem = "not readable as flow-log text (not gzip, or corrupt)"
        sources.append(source_row(run, path, digest, size, fmt, (read, 0, rejected), problem))
    report.tables["vpc_flows"] = report.written - written_before
    shutil.rmtree(staging)
    shutil.rmtree(target / "staging_flow_lines", ignore_errors=True)
    return sources
