"""CloudTrail in every export shape, recognised by content, loaded in batches by DuckDB's reader.

A corrupt file aborts a whole multi-file DuckDB read, so a failing batch is split in halves until
the bad file is alone; only that file goes through the record-by-record salvage, and clean
evidence keeps the batch speed.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from .. import connection
from .cloudtrail_sql import SOURCES, stage_sql
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile, json_layout
from .outcome import FileOutcome
from .salvage import Problem, salvage_records
from .tabular import batches, bisect_load, json_object_limit

SOURCE = "cloudtrail"
# JSON per DuckDB read, decompressed: big enough to keep both cores busy, small enough that the
# batch's uncommitted rows and dedupe keys stay a few hundred MB whatever the case's size.
BATCH_JSON_BYTES = 768 * 1024 * 1024
BATCH_FILES = 2000
GZIP_RATIO_GUESS = 10  # for files whose decompressed size is unknown (zip)

_FIRST_KEY = re.compile(r'^\s*\{\s*"([^"]*)"')
_EVENT_KEYS = ('"eventVersion"', '"eventName"', '"eventSource"', '"eventTime"')


def sniff(f: EvidenceFile) -> Sniff | None:
    """Recognise a CloudTrail export by its content (never by name alone)."""
    if f.compression == "parquet":
        return None
    text = f.head_text.lstrip()
    if not text:
        return None
    if '"digestStartTime"' in text or '"digestPublicKeyFingerprint"' in text:
        return Sniff("cloudtrail-digest", skip="skipped-digest", detail="CloudTrail digest file")
    if text.startswith("["):
        if any(k in text for k in _EVENT_KEYS):
            return Sniff("cloudtrail-array", options={"shape": "events", "layout": "array"})
        return None
    if not text.startswith("{"):
        return None
    m = _FIRST_KEY.match(text)
    first_key = m.group(1) if m else ""
    layout = json_layout(text)
    if first_key == "Records" or ('"Records"' in text[:512] and any(k in text for k in _EVENT_KEYS)):
        # several documents, one per line, when a second one starts within the head
        lines = [ln for ln in text.split("\n")[1:] if ln.strip()]
        many = layout == "newline_delimited" and any(ln.lstrip().startswith("{") for ln in lines)
        shape = "records_lines" if many else "records"
        return Sniff("cloudtrail-records", options={"shape": shape, "layout": layout})
    if first_key == "Events" or ('"CloudTrailEvent"' in text and '"Events"' in text):
        return Sniff("cloudtrail-lookup-events", options={"shape": "lookup", "layout": layout})
    if '"detail-type"' in text and '"AWS API Call via CloudTrail"' in text:
        return None  # EventBridge envelope: not handled here yet
    if sum(k in text[:4096] for k in _EVENT_KEYS) >= 2:
        fmt = "cloudtrail-logstash" if '"@timestamp"' in text[:4096] else "cloudtrail-ndjson"
        return Sniff(fmt, options={"shape": "events", "layout": layout})
    return None


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Load files in batches grouped by shape; record each file's outcome."""
    # One reader call per shape and layout; big documents apart from small ones, since every
    # file of a batch gets a buffer of the batch's object limit.
    groups: dict[tuple[str, str, int], list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        key = (s.options["shape"], s.options["layout"], json_object_limit([f]))
        groups.setdefault(key, []).append((f, s))
    unread: list[tuple[EvidenceFile, Sniff]] = []
    for (shape, layout, _), members in groups.items():
        src_sql = SOURCES[shape].replace("$layout", f"'{layout}'")  # one of our constants
        for batch in batches(members, BATCH_JSON_BYTES, BATCH_FILES, weight=_json_bytes):
            bisect_load(
                batch,
                lambda part, src_sql=src_sql: unread.extend(_load_batch(ctx, src_sql, part)),
                lambda item, exc: _salvage_one(ctx, item, exc),
            )
    # A file that gave the reader no records at all is decoded again in Python: DuckDB's
    # multi-threaded reader has been seen to pass over a cut-short document without an error,
    # and an empty file must be shown to be empty, not assumed so.
    for item in unread:
        _salvage_one(ctx, item, None)


def _json_bytes(f: EvidenceFile) -> int:
    return f.content_size if f.content_size >= 0 else f.size * GZIP_RATIO_GUESS


def _load_batch(
    ctx: LoadContext, src_sql: str, batch: list[tuple[EvidenceFile, Sniff]]
) -> list[tuple[EvidenceFile, Sniff]]:
    """One DuckDB read for the batch, in one transaction: all of it lands, or nothing does.
    Returns the files that yielded no records (their fate is settled by the caller)."""
    files = [f.path for f, _ in batch]
    mark = len(ctx.pending_rejects)
    ctx.con.execute("BEGIN TRANSACTION")
    try:
        params = {"files": files, "max_object": json_object_limit(f for f, _ in batch)}
        counts = _stage_and_insert(ctx, src_sql, params)
        ctx.record([_outcome(f, s, counts[f.path]) for f, s in batch if f.path in counts])
        ctx.con.execute("COMMIT")
    except duckdb.Error:
        ctx.con.execute("ROLLBACK")
        del ctx.pending_rejects[mark:]  # the retry finds them again
        raise
    return [(f, s) for f, s in batch if f.path not in counts]


def _stage_and_insert(
    ctx: LoadContext, src_sql: str, params: dict | None = None
) -> dict[str, tuple[int, int, int]]:
    """Insert the batch, then take out what cannot stay; per-file (read, rejected, loaded).

    Rows stream straight into `cloudtrail` (no wide staging copy, so memory stays flat); the
    few rows without a usable time, and duplicates of events already in the case or earlier in
    the batch, are found with narrow key-only queries and deleted again, inside the caller's
    transaction.
    """
    con = ctx.con
    (load_id,) = con.execute("SELECT nextval('load_id_seq')").fetchall()[0]
    con.execute(
        f"INSERT INTO cloudtrail BY NAME SELECT *, $load_id AS load_id FROM ({stage_sql(src_sql)})",
        {**(params or {}), "load_id": load_id},
    )
    read = dict(
        con.execute(
            "SELECT source_file, count(*) FROM cloudtrail WHERE load_id = $b GROUP BY ALL", {"b": load_id}
        ).fetchall()
    )
    bad = con.execute(
        "SELECT rowid, source_file, source_position, left(raw::VARCHAR, 300) FROM cloudtrail "
        "WHERE load_id = $b AND event_time IS NULL",
        {"b": load_id},
    ).fetchall()
    for _, path, pos, excerpt in bad:
        ctx.reject(path, pos, "record has no parseable eventTime or @timestamp", excerpt)
    # Deduplicate on (eventID, recipientAccountId): against the case, then within the batch.
    # The batch's keys are the small side of every join, so memory follows the batch, not the case.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch_keys AS "
        "SELECT rowid AS rid, event_id, coalesce(recipient_account_id, '') AS acct "
        "FROM cloudtrail WHERE load_id = $b AND event_time IS NOT NULL",
        {"b": load_id},
    )
    dupes = con.execute(
        """
        WITH earlier AS (
            SELECT event_id, coalesce(recipient_account_id, '') AS acct
            FROM cloudtrail
            WHERE load_id <> $b AND event_id IN (SELECT event_id FROM batch_keys)
        ),
        doomed AS (
            SELECT rid FROM batch_keys SEMI JOIN earlier USING (event_id, acct)
            UNION
            SELECT rid FROM batch_keys
            WHERE rid NOT IN (SELECT min(rid) FROM batch_keys GROUP BY event_id, acct)
        )
        SELECT rowid, source_file FROM cloudtrail  -- the load_id filter prunes by zone map
        WHERE load_id = $b AND rowid IN (SELECT rid FROM doomed)
        """,
        {"b": load_id},
    ).fetchall()
    con.execute("DROP TABLE batch_keys")
    doomed = [r[0] for r in bad] + [r[0] for r in dupes]
    if doomed:
        con.execute("DELETE FROM cloudtrail WHERE list_contains($ids, rowid)", {"ids": doomed})
    rejected: dict[str, int] = {}
    for _, path, _, _ in bad:
        rejected[path] = rejected.get(path, 0) + 1
    duplicates: dict[str, int] = {}
    for _, path in dupes:
        duplicates[path] = duplicates.get(path, 0) + 1
    return {
        path: (n, rejected.get(path, 0), n - rejected.get(path, 0) - duplicates.get(path, 0))
        for path, n in read.items()
    }


def _outcome(f: EvidenceFile, s: Sniff, counts: tuple[int, int, int]) -> FileOutcome:
    read, rejected, loaded = counts
    o = outcome_for(f, s.format, "loaded", SOURCE)
    o.settle(read, loaded, rejected)
    return o


def _salvage_one(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], exc: Exception | None) -> None:
    """Decode the bad file record by record in Python; load what parses, quarantine the rest."""
    f, s = item
    records, problems, read_extra = salvage_records(f.path, s.options["shape"])
    for position, reason, excerpt in problems:
        ctx.reject(f.path, position, reason, excerpt)
    # the salvage is the last resort: it may use more memory than a batch is allowed
    with connection.memory_cap_lifted(ctx.con):
        _insert_salvaged(ctx, f, s, records, problems, read_extra)
    if exc is not None and not problems and not records:
        ctx.on_problem(f"{f.path}: reader error with nothing to salvage: {exc}")


def _insert_salvaged(
    ctx: LoadContext,
    f: EvidenceFile,
    s: Sniff,
    records: list[tuple[str, str]],
    problems: list[Problem],
    read_extra: int,
) -> None:
    """Stage the salvaged records like a batch and record the file's outcome, in one transaction."""
    counts = (0, 0, 0)
    ctx.con.execute("BEGIN TRANSACTION")
    try:
        if records:
            table = pa.table(
                {
                    "source_file": [f.path] * len(records),
                    "source_position": [p for p, _ in records],
                    "raw": [r for _, r in records],
                }
            )
            ctx.con.register("salvaged", table)
            src = "SELECT source_file, source_position, raw::JSON AS raw FROM salvaged"
            counts = _stage_and_insert(ctx, src).get(f.path, (0, 0, 0))
            ctx.con.unregister("salvaged")
        read, rejected, loaded = counts
        o = _outcome(f, s, (read + read_extra, rejected + read_extra, loaded))
        if problems:
            o.status = "partial" if records else "rejected"
            o.detail = f"salvaged after reader error: {problems[0][1]}"
            if read_extra == 0 and not records:
                # nothing countable as a record: the file itself is the rejected unit
                o.detail = f"unreadable: {problems[0][1]}"
        ctx.record([o])
        ctx.con.execute("COMMIT")
    except duckdb.Error:
        ctx.con.execute("ROLLBACK")
        raise
