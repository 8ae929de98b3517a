"""VPC Flow Logs (text as delivered to S3 or exported from CloudWatch Logs, and Parquet) → `vpc_flows`.

Files are recognised by content: a header line of field names, a default-format (v2) record, a
`{"message": "<record>"}` wrapper, or Parquet columns such as `srcaddr`/`interface_id`. Files as
AWS writes them (one header, single spaces) are read by one typed `read_csv` per header; a file
that deviates (a repeated header, a wrong field count, a bad value) is re-read as one text column
per line and split and typed in SQL by field name (vpcflow_sql.py), which explains every bad
line. Only a file the reader refuses (a truncated gzip, invalid UTF-8) is decoded in Python, and
its lines then go through the same SQL.

Flow records carry no identifier, so there is no record-level deduplication: reloading the same
file is skipped by its digest, and every line is one row.
"""

from __future__ import annotations

import json
import re

import pyarrow as pa

from ..schema import FLOW_FLAGS_SQL
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile
from .outcome import FileOutcome
from .salvage import read_text
from .tabular import (
    batches,
    bisect_load,
    parquet_columns,
    quarantine,
    reader_compression,
    unexpected_reason,
)
from .vpcflow_sql import (
    COLUMNS,
    DEFAULT_V2,
    KNOWN,
    fast_stage_sql,
    parquet_stage_sql,
    text_stage_steps,
)

SOURCE = "vpcflow"

_NAME = re.compile(r"^(\$\{)?[a-z][a-z0-9-]*\}?$")
_VERSION = re.compile(r"^\d{1,2}$")
_EXPORT_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?|\d{10}(\d{3})?)$"
)
_STATUS = {"OK", "NODATA", "SKIPDATA"}
_CORE = {"srcaddr", "dstaddr", "interface-id", "log-status"}
_DELIM = "\x1f"  # a byte that no flow record holds: one whole line per CSV "row"
_COLS = ", ".join(COLUMNS)
# the fast path leaves positions to here: its line numbers run across the batch
_POSITION = "coalesce(s.source_position, 'line ' || (s.line_no - f.first + 1 + s._base))"
# a record without region or account takes them from its S3 delivery path, which AWS defines:
# AWSLogs/<account>/vpcflowlogs/<region>/... or AWSLogs/aws-account-id=<a>/.../aws-region=<r>/...
FROM_PATH = {
    "region": "coalesce(s.region, nullif(regexp_extract(s.source_file, "
    "'/vpcflowlogs/([a-z]{2}(-gov)?-[a-z]+-[0-9])/', 1), ''), "
    "nullif(regexp_extract(s.source_file, '/aws-region=([a-z]{2}(-gov)?-[a-z]+-[0-9])/', 1), ''))",
    "account_id": "coalesce(s.account_id, nullif(regexp_extract(s.source_file, "
    "'/AWSLogs/([0-9]{12})/vpcflowlogs/', 1), ''), "
    "nullif(regexp_extract(s.source_file, '/aws-account-id=([0-9]{12})/', 1), ''))",
    "source_position": _POSITION,
}
_INSERTED = ", ".join(FROM_PATH.get(c, f"s.{c}") for c in COLUMNS)
# record_flags over the inserted row's own columns
_FLAGGED = (
    f"SELECT *, {FLOW_FLAGS_SQL} AS record_flags FROM (SELECT "
    + ", ".join(f"{FROM_PATH.get(c, f's.{c}')} AS {c}" for c in COLUMNS)
    + " FROM vf_stage s"
)


def header_fields(line: str) -> list[str] | None:
    """The field names of a header line (`version srcaddr ...` or `${version} ${srcaddr} ...`)."""
    tokens = line.split()
    if len(tokens) < 2 or not all(_NAME.match(t) for t in tokens):
        return None
    fields = [t.strip("${}") for t in tokens]
    known = [f for f in fields if f in KNOWN]
    if len(known) >= 2 and _CORE.intersection(known):
        return fields
    return None


def _record_kind(line: str) -> str | None:
    """'default' for a v2 record, 'export' for one after an export timestamp, 'custom' for a
    record of another field count (needs a header), None for anything else."""
    tokens = line.split()
    if tokens and _EXPORT_TS.match(tokens[0]) and len(tokens) > 1 and _VERSION.match(tokens[1]):
        tokens, exported = tokens[1:], True
    else:
        exported = False
    if len(tokens) < 5 or not _VERSION.match(tokens[0]) or not _STATUS.intersection(tokens):
        return None
    if len(tokens) == len(DEFAULT_V2) and tokens[-1] in _STATUS:
        return "export" if exported else "default"
    return "custom"


def sniff(f: EvidenceFile) -> Sniff | None:
    """Recognise a flow log by its content (never by name alone)."""
    if f.compression == "parquet":
        cols = parquet_columns(f.path, f.sha256)
        names = {name.lower() for name, _ in cols or ()}
        if {"srcaddr", "dstaddr"} <= names or {"interface_id", "log_status"} <= names:
            return Sniff("vpcflow-parquet", options={"columns": cols, "path": "parquet"})
        return None
    lines = [ln.strip() for ln in f.head_text.splitlines()[:20] if ln.strip()]
    if not lines:
        return None
    first = lines[0]
    compression = reader_compression(f)
    generic = {"path": "generic", "compression": compression}
    if first.startswith("{"):
        if '"message"' not in first[:64]:
            return None
        try:
            message = json.loads(first).get("message")
        except (ValueError, AttributeError):
            return None
        if isinstance(message, str) and (header_fields(message) or _record_kind(message)):
            return Sniff("vpcflow-json-message", options=generic)
        return None
    fields = header_fields(first)
    if fields:
        fast = len(set(fields)) == len(fields) and first == " ".join(first.split())
        options = (
            {"path": "fast", "compression": compression, "fields": tuple(fields), "header": True}
            if fast
            else generic
        )
        return Sniff("vpcflow-text", options=options)
    kind = _record_kind(first)
    if kind == "default":
        return Sniff(
            "vpcflow-default",
            options={"path": "fast", "compression": compression, "fields": DEFAULT_V2, "header": False},
        )
    if kind == "export":
        return Sniff("vpcflow-cloudwatch-export", options=generic)
    if kind == "custom":  # claimed so that each record is rejected with the reason
        return Sniff("vpcflow-headerless-custom", options=generic)
    return None


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Load in batches: files that share a header through one typed read, odd files line by line
    in SQL, Parquet files grouped by schema."""
    groups: dict[tuple, list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        o = s.options
        if o["path"] == "parquet":
            key: tuple = ("parquet", o["columns"])
        elif o["path"] == "fast":
            key = ("fast", o["compression"], o["fields"], o["header"])
        else:
            key = ("generic", o["compression"])
        groups.setdefault(key, []).append((f, s))
    for key, members in groups.items():
        for batch in batches(members):
            if key[0] == "parquet":
                names = {name.lower(): name for name, _ in key[1]}
                steps = [parquet_stage_sql(names)]
                bisect_load(
                    batch,
                    lambda b, st=steps: _stage_and_record(ctx, b, st),
                    lambda item, exc: _reject_file(ctx, item, exc),
                    lambda item, exc: _reject_unexpected(ctx, item, exc),
                )
            elif key[0] == "fast":
                steps = [fast_stage_sql(key[2], key[3], key[1])]
                bisect_load(
                    batch,
                    lambda b, st=steps: _stage_and_record(ctx, b, st),
                    lambda item, exc: _load_generic(ctx, [item]),
                    lambda item, exc: _reject_unexpected(ctx, item, exc),
                )
            else:
                _load_generic(ctx, batch)
    report_implausible(ctx)


def report_implausible(ctx: LoadContext) -> None:
    """Flow records with absurd times (kept, flagged: DESIGN.md record_flags), in one line."""
    n = ctx.tally.pop("flows_implausible", 0)
    if n:
        ctx.on_problem(
            f"{n} flow records have a time before 2013-11 or more than a day ahead: kept, "
            "flagged 'time implausible' in record_flags (spans and coverage leave them out)"
        )


def _load_generic(ctx: LoadContext, batch: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Line by line in SQL: explains every bad line; a file the reader refuses is salvaged."""
    compression = reader_compression(batch[0][0])
    steps = text_stage_steps(_lines_sql(compression))
    bisect_load(
        batch,
        lambda b: _stage_and_record(ctx, b, steps),
        lambda item, exc: _salvage_text(ctx, item, exc),
        lambda item, exc: _reject_unexpected(ctx, item, exc),
    )


def _lines_sql(compression: str) -> str:
    # compression is one of our two constants; the file list is bound as $files
    return f"""
        SELECT filename AS source_file, ordinality AS ord, line
        FROM read_csv($files, columns = {{'line': 'VARCHAR'}}, delim = '{_DELIM}', quote = '',
                      escape = '', header = false, auto_detect = false, filename = true,
                      hive_partitioning = false, compression = '{compression}') WITH ORDINALITY"""


def _stage_and_record(
    ctx: LoadContext, batch, steps: list[str], extra: dict[str, tuple[int, str]] | None = None
) -> None:
    """Stage, quarantine bad records, insert the rest and record outcomes, in one transaction."""
    con = ctx.con
    params = {"files": [f.path for f, _ in batch]}
    mark = len(ctx.pending_rejects)
    con.execute("BEGIN TRANSACTION")
    try:
        for step in steps:
            con.execute(step, params if "$files" in step else None)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE vf_first AS SELECT source_file, min(line_no) AS first "
            "FROM vf_stage WHERE _base IS NOT NULL GROUP BY ALL"
        )
        rejected = quarantine(
            ctx,
            f"SELECT source_file, {_POSITION} AS position, reason, line_text AS excerpt, "
            "line_no AS ord FROM vf_stage s LEFT JOIN vf_first f USING (source_file) "
            "WHERE reason IS NOT NULL",
        )
        con.execute(
            f"INSERT INTO vpc_flows ({_COLS}, record_flags) {_FLAGGED} "
            "LEFT JOIN vf_first f USING (source_file) WHERE reason IS NULL)"
        )
        read = dict(con.execute("SELECT source_file, count(*) FROM vf_stage GROUP BY ALL").fetchall())
        (implausible,) = con.execute(
            "SELECT count(*) FROM vpc_flows WHERE source_file IN (SELECT unnest($files)) "
            "AND list_contains(record_flags, 'time implausible')",
            {"files": [f.path for f, _ in batch]},
        ).fetchall()[0]
        con.execute("DROP TABLE vf_stage")
        con.execute("DROP TABLE vf_first")
        outcomes = []
        for f, s in batch:
            o = outcome_for(f, s.format, "loaded", SOURCE)
            cut, note = (extra or {}).get(f.path, (0, ""))
            n_read = read.get(f.path, 0) + cut
            n_rejected = rejected.get(f.path, 0) + cut
            o.settle(n_read, n_read - n_rejected, n_rejected, note)  # flows have no duplicates
            outcomes.append(o)
        ctx.record(outcomes)
        con.execute("COMMIT")
        ctx.tally["flows_implausible"] = ctx.tally.get("flows_implausible", 0) + implausible
    except Exception:
        con.execute("ROLLBACK")
        del ctx.pending_rejects[mark:]  # the retry finds them again
        raise


def _salvage_text(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], exc: Exception) -> None:
    """Decode the one file the reader refused; its lines then go through the same SQL."""
    f, s = item
    text, problems = read_text(f.path)
    for position, reason, excerpt in problems:
        ctx.reject(f.path, position, reason, excerpt)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    cut = 0
    truncated = any("truncated" in reason or "corrupt" in reason for _, reason, _ in problems)
    if truncated and lines and not text.endswith("\n"):
        # the last line stops where the stream broke: its values cannot be trusted
        last = lines.pop()
        ctx.reject(
            f.path, f"line {len(lines) + 1}", "record cut short where the compressed stream breaks", last
        )
        cut = 1
    note = (
        f"salvaged after reader error: {problems[0][1]}"
        if problems
        else (f"salvaged line by line after reader error: {str(exc).splitlines()[0]}")
    )
    table = pa.table(
        {
            "source_file": [f.path] * len(lines),
            "line_no": list(range(1, len(lines) + 1)),
            "line": [ln.rstrip("\r") for ln in lines],
        }
    )
    ctx.con.register("vf_salvaged", table)
    try:
        src = "SELECT source_file, line_no::BIGINT AS ord, line FROM vf_salvaged"
        _stage_and_record(ctx, [item], text_stage_steps(src), {f.path: (cut, note)})
    finally:
        ctx.con.unregister("vf_salvaged")


def _reject_file(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], exc: Exception) -> None:
    """A Parquet file the reader refuses has no records to salvage: the file is the reject."""
    f, s = item
    reason = f"unreadable Parquet file: {str(exc).splitlines()[0]}"
    ctx.reject(f.path, "byte 0", reason, "")
    o: FileOutcome = outcome_for(f, s.format, "rejected", SOURCE, reason)
    ctx.record([o])


def _reject_unexpected(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], exc: Exception) -> None:
    """The file whose reading raised an unexpected error: rejected whole, with the reason."""
    f, s = item
    reason = unexpected_reason(exc)
    ctx.reject(f.path, "file", reason)
    ctx.record([outcome_for(f, s.format, "rejected", SOURCE, reason)])
