"""GuardDuty findings and AWS Health risk events → `findings`.

Shapes: the JSON `aws guardduty get-findings` prints (`{"Findings": [...]}`), findings exported
to S3 (JSON lines), EventBridge events (`detail` holds the finding) one per line, in an array or
pretty-printed, and AWS Health events as EventBridge delivers them. Read with DuckDB's JSON
readers and flattened in SQL (findings_sql.py); `raw` keeps the whole record.

A finding is updated in place by GuardDuty (count, last seen), so the same id appears in several
exports: one row per finding id is kept, the latest version (`updated_at`); older versions count
as duplicates, and a newer version loaded later replaces the row.
"""

from __future__ import annotations

import json
import re

import duckdb
import pyarrow as pa

from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile, json_layout
from .findings_sql import COLUMNS, SOURCES, stage_sql
from .salvage import iter_values, read_text
from .tabular import batches, bisect_load, json_object_limit, quarantine

SOURCE = "findings"

_FIRST_KEY = re.compile(r'^\s*\{\s*"([^"]*)"')
_ENVELOPE = ('"GuardDuty Finding"', '"AWS Health Event"')
_FINDING_KEYS = (('"schemaVersion"', '"SchemaVersion"'), ('"resource"', '"Resource"'),
                 ('"service"', '"Service"'), ('"type"', '"Type"'))  # fmt: skip
_COLS = ", ".join(COLUMNS)
FORMATS = ("guardduty-get-findings", "guardduty-eventbridge", "health-eventbridge", "guardduty-findings")


def sniff(f: EvidenceFile) -> Sniff | None:
    """Recognise findings by content: the get-findings document, findings, or events."""
    if f.compression == "parquet":
        return None
    text = f.head_text.lstrip()
    if not text or text[0] not in "{[":
        return None
    head = text[:16384]
    m = _FIRST_KEY.match(text)
    if m and m.group(1) == "Findings":
        return Sniff("guardduty-get-findings", options={"shape": "doc", "layout": json_layout(text)})
    layout = "array" if text.startswith("[") else json_layout(text)
    if '"detail-type"' in head and '"detail"' in head and any(e in head for e in _ENVELOPE):
        fmt = "guardduty-eventbridge" if '"GuardDuty Finding"' in head else "health-eventbridge"
        return Sniff(fmt, options={"shape": "objects", "layout": layout})
    if all(any(k in head for k in pair) for pair in _FINDING_KEYS):
        return Sniff("guardduty-findings", options={"shape": "objects", "layout": layout})
    return None


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Load in batches grouped by shape and layout; keep the latest version of each finding."""
    groups: dict[tuple[str, str], list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        groups.setdefault((s.options["shape"], s.options["layout"]), []).append((f, s))
    for (shape, layout), members in groups.items():
        src = SOURCES[shape].replace("$layout", f"'{layout}'")  # layout is one of our constants
        for batch in batches(members):
            bisect_load(
                batch,
                lambda b, s=src: _stage_and_record(ctx, b, s, _reader_params(b)),
                lambda item, exc: _salvage(ctx, item, exc),
            )


def _reader_params(batch: list[tuple[EvidenceFile, Sniff]]) -> dict:
    return {"files": [f.path for f, _ in batch], "max_object": json_object_limit(f for f, _ in batch)}


def _stage_and_record(
    ctx: LoadContext,
    batch,
    src_sql: str,
    params: dict | None,
    extra: dict[str, tuple[int, str]] | None = None,
) -> None:
    con = ctx.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE fd_stage AS {stage_sql(src_sql)}", params)
        rejected = quarantine(
            ctx,
            "SELECT DISTINCT ON (source_file, ord) source_file, position, reason, "
            "left(raw::VARCHAR, 300) AS excerpt, ord FROM fd_stage WHERE reason IS NOT NULL",
        )
        # the latest version of each finding in this batch, if newer than the case's
        con.execute(
            """CREATE OR REPLACE TEMP TABLE fd_new AS
            SELECT s.* FROM fd_stage s
            WHERE s.reason IS NULL
            QUALIFY row_number() OVER (PARTITION BY s.finding_id
                ORDER BY s.updated_at DESC NULLS LAST, s.source_file DESC, s.ord DESC) = 1"""
        )
        con.execute(
            """DELETE FROM fd_new n USING findings f
               WHERE f.finding_id = n.finding_id
                 AND coalesce(f.updated_at, '-infinity'::TIMESTAMPTZ)
                     >= coalesce(n.updated_at, '-infinity'::TIMESTAMPTZ)"""
        )
        replaced = con.execute(
            """SELECT f.source_file, count(*) FROM findings f JOIN fd_new n USING (finding_id)
               GROUP BY ALL"""
        ).fetchall()
        for path, n in replaced:  # older versions from earlier loads become duplicates
            _demote(ctx, path, n)
        con.execute("DELETE FROM findings WHERE finding_id IN (SELECT finding_id FROM fd_new)")
        con.execute(f"INSERT INTO findings ({_COLS}) SELECT {_COLS} FROM fd_new")
        counts = dict(
            (path, (read, loaded))
            for path, read, loaded in con.execute(
                """SELECT s.source_file, count(DISTINCT s.ord), count(DISTINCT n.ord)
                   FROM fd_stage s LEFT JOIN fd_new n
                     ON n.source_file = s.source_file AND n.ord = s.ord
                   GROUP BY ALL"""
            ).fetchall()
        )
        con.execute("DROP TABLE fd_stage; DROP TABLE fd_new")
        outcomes = []
        for f, s in batch:
            cut, note = (extra or {}).get(f.path, (0, ""))
            read, loaded = counts.get(f.path, (0, 0))
            o = outcome_for(f, s.format, "loaded", SOURCE)
            o.settle(read + cut, loaded, rejected.get(f.path, 0) + cut, note, unit="findings")
            outcomes.append(o)
        ctx.record(outcomes)
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise


def _demote(ctx: LoadContext, path: str, n: int) -> None:
    """A file's finding versions were replaced by newer ones: count them as duplicates now."""
    marks = ", ".join("?" for _ in FORMATS)
    ctx.con.execute(
        f"""UPDATE sources SET records_loaded = records_loaded - ?, duplicates = duplicates + ?
            WHERE path = ? AND status IN ('loaded', 'partial') AND format IN ({marks})""",
        [n, n, path, *FORMATS],
    )
    for o in ctx.outcomes:  # the same load's report, when the older version came in this run
        if o.path == path and o.source == SOURCE:
            o.records_loaded -= n
            o.duplicates += n


def _salvage(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], exc: Exception) -> None:
    """Decode the file the reader refused value by value; what parses goes through the same SQL."""
    f, s = item
    text, problems = read_text(f.path)
    for position, reason, excerpt in problems:
        ctx.reject(f.path, position, reason, excerpt)
    start, in_array = 0, False
    if s.options["shape"] == "doc":
        m = re.search(r'"Findings"\s*:\s*\[', text)
        start, in_array = (m.end(), True) if m else (0, False)
    elif text.lstrip().startswith("["):
        start, in_array = text.index("[") + 1, True
    objs, positions, bad = [], [], 0
    n = 0
    for pos, value in iter_values(text, start, stop_at_bracket=in_array):
        n += 1
        line = text.count("\n", 0, pos) + 1
        if isinstance(value, json.JSONDecodeError):
            bad += 1
            ctx.reject(
                f.path, f"record {n} (line {line})", f"invalid JSON: {value.msg}", text[pos : pos + 200]
            )
            continue
        objs.append(json.dumps(value))
        positions.append((f"record {n} (line {line})", n))
    note = f"salvaged after reader error: {problems[0][1] if problems else str(exc).splitlines()[0]}"
    table = pa.table(
        {
            "source_file": [f.path] * len(objs),
            "position": [p for p, _ in positions],
            "ord": [o for _, o in positions],
            "obj": objs,
        }
    )
    ctx.con.register("fd_salvaged", table)
    try:
        src = "SELECT source_file, position, ord::BIGINT AS ord, obj::JSON AS obj FROM fd_salvaged"
        _stage_and_record(ctx, [item], src, None, {f.path: (bad, note)})
    finally:
        ctx.con.unregister("fd_salvaged")
