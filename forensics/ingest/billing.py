"""Billing exports (legacy CUR, CUR 2.0, FOCUS; CSV, gzip, zip or Parquet) → `billing`.

Recognised by their column names, read by DuckDB (`read_csv` all-VARCHAR with `union_by_name`,
since columns vary month to month; `read_parquet` with Hive partitions for the
`data/BILLING_PERIOD=YYYY-MM/` layout), cast by name (billing_columns.py). Rows are staged, and
only once every batch is in does supersession (billing_supersede.py) decide which export of each
account and billing period counts, so money is never counted twice. Manifests are recorded, not
loaded. A file the reader refuses is parsed in Python row by row and goes through the same SQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from .billing_columns import BILLING_COLUMNS, RANK, projection, required_missing
from .billing_supersede import settle
from .context import LoadContext, Sniff, outcome_for
from .evidence import ZIP_ERRORS, EvidenceFile
from .outcome import FileOutcome
from .salvage import read_text
from .tabular import batches, bisect_load, parquet_columns, quarantine, reader_compression

SOURCE = "billing"

_MANIFEST_KEYS = ('"reportKeys"', '"assemblyId"', '"executionId"', '"dataFiles"')
_HIVE = re.compile(r"^([^=]+)=([^=]*)$")
_PATH_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2})(?::?(\d{2}))?")
_PART = re.compile(r"([-_.]\d+)?$")
_STAGE_COLS = ", ".join(BILLING_COLUMNS)


def _format_of(names: set[str], types: dict[str, str], path: str) -> str | None:
    """Which billing export a set of column names (lower-cased) is, or None.

    Recognised by identity and time columns, so that an export lacking its cost column is still
    claimed, then rejected with that reason rather than called an unknown file.
    """
    if "chargeperiodstart" in names and {"billedcost", "billingaccountid"} & names:
        return "focus"
    slash = {"identity/lineitemid", "lineitem/usagestartdate", "lineitem/unblendedcost"}
    if any(n.startswith("lineitem/") for n in names) and slash & names:
        return "cur_legacy_csv"
    snake = {"identity_line_item_id", "line_item_usage_start_date", "line_item_unblended_cost"}
    if any(n.startswith("line_item_") for n in names) and snake & names:
        cur2 = {"product_region_code", "product", "resource_tags", "billing_period"} & names
        if cur2 or "BILLING_PERIOD=" in path or not types:
            return "cur2"  # CUR 2.0, or snake_case CSV (only CUR 2.0 writes those)
        return "cur_legacy_parquet"
    return None


def sniff(f: EvidenceFile) -> Sniff | None:
    """Recognise a billing export or its manifest by content (column names), not by file name."""
    hive = tuple(sorted(k for k, _ in _hive_keys(f.path)))
    if f.compression == "parquet":
        cols = parquet_columns(f.path, f.sha256) or ()
        types = {name.lower(): typ for name, typ in cols}
        fmt = _format_of(set(types), types, f.path)
        if fmt is None:
            return None
        options = {"kind": "parquet", "columns": cols, "hive": hive}
        return Sniff(fmt if fmt != "cur_legacy_csv" else "cur_legacy_parquet", options=options)
    text = f.head_text.lstrip()
    if text.startswith("{"):
        if any(k in text[:8192] for k in _MANIFEST_KEYS) and (
            '"billingPeriod"' in text or '"columns"' in text
        ):
            return Sniff("cur-manifest", skip="skipped-manifest", detail=_manifest_detail(text))
        return None
    first = text.split("\n", 1)[0].rstrip("\r")
    if "," not in first:
        return None
    try:
        header = next(csv.reader(io.StringIO(first)))
    except (csv.Error, StopIteration):
        return None
    fmt = _format_of({h.strip().lower() for h in header}, {}, f.path)
    if fmt is None:
        return None
    options = {
        "kind": "csv",
        "columns": tuple(h.strip() for h in header),
        "compression": reader_compression(f),
        "zip": f.compression == "zip",
        "hive": hive,
    }
    return Sniff(fmt, options=options)


def _manifest_detail(text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        return "billing export manifest (lists the report files; no line items)"
    period = doc.get("billingPeriod") or {}
    ident = doc.get("assemblyId") or doc.get("executionId") or ""
    start = period.get("start", "") if isinstance(period, dict) else str(period)
    return f"billing export manifest {ident} for period {start[:10]} (no line items)".replace("  ", " ")


def _hive_keys(path: str) -> list[tuple[str, str]]:
    return [m.groups() for part in Path(path).parent.parts if (m := _HIVE.match(part))]


def delivery_of(f: EvidenceFile, fmt: str) -> tuple[str, datetime]:
    """Which report version a file belongs to, and when it was delivered.

    Parts of one delivery sit in one folder and differ only by a part number
    (`report-00001.csv.gz`, `report-00002.csv.gz`); a re-delivery lands in another folder
    (a new assemblyId or execution folder) or replaces the same path. The time is taken from the
    path when it holds one (`20260305T1200Z`, CUR 2.0's execution folders), else the file's
    modification time (which `aws s3 cp/sync` sets to the object's LastModified).
    """
    p = Path(f.path)
    stem = p.name.split(".", 1)[0]
    stem = _PART.sub("", stem) or stem
    when = None
    for part in reversed(p.parent.parts):
        m = _PATH_TIME.search(part)
        if m:
            y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
            try:
                when = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
                break
            except ValueError:
                continue
    if when is None:
        when = datetime.fromtimestamp(p.stat().st_mtime, tz=UTC)
    return f"{fmt} {p.parent}/{stem}", when


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Stage every file (in batches by format and layout), then settle supersession and record."""
    con = ctx.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE bl_pending AS SELECT {_STAGE_COLS} FROM billing LIMIT 0")
    pending: dict[str, FileOutcome] = {}
    groups: dict[tuple, list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        o = s.options
        names = {c.lower(): c for c in (o["columns"] if o["kind"] == "csv" else [n for n, _ in o["columns"]])}
        why = required_missing(s.format, names)
        if why:
            ctx.reject(
                f.path, "line 1" if o["kind"] == "csv" else "byte 0", why, ", ".join(names.values())[:300]
            )
            ctx.record([outcome_for(f, s.format, "rejected", SOURCE, why)])
            continue
        if o["kind"] == "parquet":
            key: tuple = ("parquet", s.format, o["columns"], o["hive"])
        else:
            key = ("csv", s.format, o["compression"], o["zip"], o["hive"])
        groups.setdefault(key, []).append((f, s))
    for key, members in groups.items():
        for batch in batches(members):
            bisect_load(
                batch,
                lambda b, k=key: _attempt(ctx, b, k, pending),
                lambda item, exc, k=key: _salvage(ctx, item, exc, k, pending),
            )
    con.execute("BEGIN TRANSACTION")
    try:
        settle(ctx, pending)
        ctx.record(list(pending.values()))
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS bl_pending")


def _file_table(ctx: LoadContext, rows: list[tuple[str, str, str, datetime]]) -> None:
    ctx.con.execute(
        "CREATE OR REPLACE TEMP TABLE bl_files "
        "(read_path VARCHAR, path VARCHAR, delivery VARCHAR, delivered_at TIMESTAMPTZ)"
    )
    ctx.con.executemany("INSERT INTO bl_files VALUES (?, ?, ?, ?)", rows)


def _attempt(ctx: LoadContext, batch, key: tuple, pending: dict[str, FileOutcome]) -> None:
    kind, fmt = key[0], key[1]
    with tempfile.TemporaryDirectory(prefix="forensics-zip-") as tmp:
        rows, read_paths = [], []
        for f, _ in batch:
            delivery, when = delivery_of(f, fmt)
            for read_path in _extract(f, tmp) if key[0] == "csv" and key[3] else [f.path]:
                rows.append((read_path, f.path, delivery, when))
                read_paths.append(read_path)
        _file_table(ctx, rows)
        hive = "true" if key[-1] else "false"
        if kind == "parquet":
            columns = {n.lower(): n for n, _ in key[2]}
            types = {n.lower(): t for n, t in key[2]}
            src = (
                "SELECT *, file_row_number + 1 AS _ord, 1 AS _first FROM read_parquet($files, "
                f"hive_partitioning = {hive}, union_by_name = true, filename = '_evidence_file', "
                "file_row_number = true)"
            )
        else:
            columns = {}
            for _, s in batch:
                columns.update({c.lower(): c for c in s.options["columns"]})
            for k, _ in _hive_keys(batch[0][0].path):
                columns[k.lower()] = k
            types = {}
            src = (
                # ordinality runs across the batch; each file's first row is found after
                # staging, for rejected rows only (a window over every row costs more than the read)
                "SELECT * EXCLUDE (ordinality), ordinality AS _ord, NULL::BIGINT AS _first "
                "FROM read_csv($files, header = true, all_varchar = true, union_by_name = true, "
                "delim = ',', quote = '\"', escape = '\"', nullstr = ['', 'NULL'], "
                f"filename = '_evidence_file', hive_partitioning = {hive}, "
                f"compression = '{key[2] if not key[3] else 'none'}') WITH ORDINALITY"
            )
        _stage(ctx, batch, fmt, src, columns, types, {"files": read_paths}, pending)


def _extract(f: EvidenceFile, tmp: str) -> list[str]:
    """A zipped CUR's CSV members, copied out for DuckDB (which cannot read inside a zip)."""
    out = []
    try:
        with zipfile.ZipFile(f.path) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _room_for(sum(m.file_size for m in members), tmp)
            for i, member in enumerate(members):
                target = Path(tmp) / f"{len(list(Path(tmp).iterdir()))}-{i}.csv"
                with zf.open(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                out.append(str(target))
    except ZIP_ERRORS as exc:
        raise duckdb.IOException(f"corrupt zip archive: {exc}") from None
    return out


def _room_for(inflated: int, tmp: str) -> None:
    """Refuse a zip whose members would not fit in the temp folder (with 1 MiB to spare) before
    writing a byte: a zip member never yields more than its declared size, so the sum is a true
    bound, and a bomb fills no disk (the file is then read in memory, under the document cap)."""
    free = shutil.disk_usage(tmp).free
    if inflated + (1 << 20) > free:
        raise duckdb.IOException(
            f"zip archive inflates to {inflated:,} bytes, more than the {free:,} bytes free in the "
            f"temp folder {Path(tmp).parent} (set TMPDIR to a larger disk)"
        )


def _stage(ctx, batch, fmt, src, columns, types, params, pending, extra=None) -> None:
    """Cast by name, quarantine rows with unusable values, append the rest to `bl_pending`."""
    con = ctx.con
    raw, typed = projection(fmt, columns, types)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE bl_stage AS
        WITH src AS ({src}),
        r AS (SELECT m.path AS source_file, m.delivery, m.delivered_at, src._ord, src._first,
                     {raw}
              FROM src JOIN bl_files m ON m.read_path = src._evidence_file),
        t AS (SELECT {typed}, '{fmt}' AS source_format, source_file, delivery, delivered_at,
                     _ord, _first, r_line_item_id, r_usage_start, r_usage_type, r_cost
              FROM r)
        SELECT * EXCLUDE (r_line_item_id, r_usage_start, r_usage_type, r_cost),
               CASE WHEN reason IS NOT NULL THEN concat_ws(' ', 'line item', r_line_item_id,
                    r_usage_start, r_usage_type, 'cost', r_cost) END AS excerpt
        FROM t""",
        params,
    )
    rejected = quarantine(
        ctx,
        "SELECT s.source_file, 'record ' || (s._ord - coalesce(s._first, f.first) + 1) AS position, "
        "reason, excerpt, _ord AS ord FROM bl_stage s JOIN (SELECT source_file, min(_ord) AS first "
        "FROM bl_stage GROUP BY ALL) f USING (source_file) WHERE reason IS NOT NULL",
    )
    con.execute(f"INSERT INTO bl_pending SELECT {_STAGE_COLS} FROM bl_stage WHERE reason IS NULL")
    read = dict(con.execute("SELECT source_file, count(*) FROM bl_stage GROUP BY ALL").fetchall())
    con.execute("DROP TABLE bl_stage; DROP TABLE bl_files")
    for f, s in batch:
        cut, note = (extra or {}).get(f.path, (0, ""))
        o = outcome_for(f, s.format, "loaded", SOURCE)
        n_read = read.get(f.path, 0) + cut
        n_rejected = rejected.get(f.path, 0) + cut
        # duplicates (superseded line items) are counted later, when supersession is settled
        o.settle(n_read, n_read - n_rejected, n_rejected, note, unit="line items")
        pending[f.path] = o


def _salvage(ctx, item, exc, key, pending) -> None:
    """Parse the file the reader refused with Python's csv module; good rows go through the
    same SQL, bad rows (wrong field count, cut short) are rejected with their line."""
    f, s = item
    if key[0] == "parquet":
        reason = f"unreadable Parquet file: {str(exc).splitlines()[0]}"
        ctx.reject(f.path, "byte 0", reason, "")
        ctx.record([outcome_for(f, s.format, "rejected", SOURCE, reason)])
        return
    text, problems = read_text(f.path)
    for position, reason, excerpt in problems:
        ctx.reject(f.path, position, reason, excerpt)
    cut_short = bool(problems) and not text.endswith("\n")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    good: list[list[str]] = []
    ords: list[int] = []
    bad = 0
    rows = list(_rows_with_lines(reader))
    for n, (line, row) in enumerate(rows, start=1):
        last = n == len(rows)
        if len(row) != len(header) or (last and cut_short):
            bad += 1
            why = (
                "record cut short where the compressed stream breaks"
                if last and cut_short
                else f"record has {len(row)} fields where the header has {len(header)}"
            )
            ctx.reject(f.path, f"record {n} (line {line})", why, ",".join(row)[:300])
            continue
        good.append(row)
        ords.append(n)
    note = f"salvaged after reader error: {(problems[0][1] if problems else str(exc).splitlines()[0])}"
    names = [h.strip() for h in header]
    table = pa.table(
        {
            **{
                f"c{i}": [r[i] if r[i] not in ("", "NULL") else None for r in good] for i in range(len(names))
            },
            "_evidence_file": [f.path] * len(good),
            "_ord": ords,
        }
    )
    ctx.con.register("bl_salvaged", table)
    try:
        delivery, when = delivery_of(f, key[1])
        _file_table(ctx, [(f.path, f.path, delivery, when)])
        renames = ", ".join(f'c{i} AS "{n.replace(chr(34), chr(34) * 2)}"' for i, n in enumerate(names))
        src = f"SELECT {renames}, _evidence_file, _ord, 1 AS _first FROM bl_salvaged"
        columns = {n.lower(): n for n in names}
        _stage(ctx, [item], key[1], src, columns, {}, None, pending, {f.path: (bad, note)})
    finally:
        ctx.con.unregister("bl_salvaged")


def _rows_with_lines(reader):
    """(line number where the record starts, fields) for each CSV record after the header."""
    start = reader.line_num + 1
    for row in reader:
        if row:
            yield start, row
        start = reader.line_num + 1


__all__ = ["RANK", "SOURCE", "delivery_of", "load", "sniff"]
