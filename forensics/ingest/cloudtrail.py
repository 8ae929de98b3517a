"""CloudTrail in every export shape, recognised by content, loaded in batches by DuckDB's reader.

A corrupt file aborts a whole multi-file DuckDB read, so a failing batch is split in halves until
the bad file is alone; only that file goes through the record-by-record salvage, and clean
evidence keeps the batch speed.
"""

from __future__ import annotations

import re

import pyarrow as pa

from .. import connection
from . import gzip_members
from .cloudtrail_sql import DELIVERY_RANK_SQL, POSITION_ORDER_SQL, SOURCES, WRAPPED, stage_sql
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile, json_layout
from .outcome import FileOutcome
from .salvage import Problem, salvage_records
from .tabular import batches, bisect_load, environment_failure, json_object_limit, unexpected_reason

SOURCE = "cloudtrail"
# JSON per DuckDB read, decompressed: big enough to keep both cores busy, small enough that the
# batch's uncommitted rows and dedupe keys stay a few hundred MB whatever the case's size.
BATCH_JSON_BYTES = 768 * 1024 * 1024
BATCH_FILES = 2000
GZIP_RATIO_GUESS = 10  # for files whose decompressed size is unknown (zip)

_FIRST_KEY = re.compile(r'^\s*\{\s*"([^"]*)"')
_EVENT_KEYS = ('"eventVersion"', '"eventName"', '"eventSource"', '"eventTime"')
# EventBridge's detail-types for CloudTrail records (API calls, console sign-ins, service events)
# a CloudTrail record as `_source` of an Elasticsearch hit, or as ECS's `event.original` text
_SIEM_WRAPPED = re.compile(
    r'"_source"\s*:\s*\{\s*"(eventVersion|eventTime|eventName|eventSource|userIdentity)"'
    r'|"original"\s*:\s*"\{\\"(eventVersion|eventTime|eventName|eventSource|userIdentity)\\"'
)
_EVENTBRIDGE = re.compile(r'"detail-type"\s*:\s*"AWS [A-Za-z ]+ via CloudTrail"')


def sniff(f: EvidenceFile) -> Sniff | None:
    """Recognise a CloudTrail export by its content (never by name alone)."""
    if f.compression == "parquet":
        return None
    text = f.head_text.lstrip()
    if not text:
        return None
    if '"digestStartTime"' in text or '"digestPublicKeyFingerprint"' in text:
        return Sniff("cloudtrail-digest", skip="skipped-digest", detail="CloudTrail digest file")
    if '"detail-type"' in text[:4096] and _EVENTBRIDGE.search(text[:16384]):
        # EventBridge envelopes of CloudTrail records: NDJSON, an array, or concatenated
        layout = "array" if text.startswith("[") else json_layout(text)
        return Sniff(
            "cloudtrail-eventbridge",
            options={"shape": "eventbridge", "layout": layout, "delivery": "eventbridge"},
        )
    if _SIEM_WRAPPED.search(text[:16384]):
        # a SIEM export whose documents wrap the record (`_source`, or ECS `event.original`)
        layout = "array" if text.startswith("[") else json_layout(text)
        return Sniff(
            "cloudtrail-siem-wrapped", options={"shape": "siem", "layout": layout, "delivery": "siem"}
        )
    if text.startswith("["):
        if any(k in text for k in _EVENT_KEYS):
            return Sniff(
                "cloudtrail-array", options={"shape": "events", "layout": "array", "delivery": "export"}
            )
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
        options = {"shape": shape, "layout": layout, "delivery": "trail"}
        if shape == "records" and (at := gzip_members.trailing_offset(f)) is not None:
            options["trailing_at"] = at  # a second gzip member: only the first is CloudTrail's
        return Sniff("cloudtrail-records", options=options)
    if first_key == "Events" or ('"CloudTrailEvent"' in text and '"Events"' in text):
        return Sniff(
            "cloudtrail-lookup-events", options={"shape": "lookup", "layout": layout, "delivery": "lookup"}
        )
    if sum(k in text[:4096] for k in _EVENT_KEYS) >= 2:
        siem = '"@timestamp"' in text[:4096]
        fmt = "cloudtrail-logstash" if siem else "cloudtrail-ndjson"
        delivery = "siem" if siem else "export"
        return Sniff(fmt, options={"shape": "events", "layout": layout, "delivery": delivery})
    return None


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Load files in batches grouped by shape; record each file's outcome."""
    # One reader call per shape and layout; big documents apart from small ones, since every
    # file of a batch gets a buffer of the batch's object limit.
    groups: dict[tuple[str, str, int, str], list[tuple[EvidenceFile, Sniff]]] = {}
    (before,) = ctx.con.execute("SELECT coalesce(max(load_id), 0) FROM cloudtrail").fetchall()[0]
    for f, s in items:
        if "trailing_at" in s.options and _guarded_first_member(ctx, (f, s)):
            continue
        o = s.options
        key = (o["shape"], o["layout"], json_object_limit([f]), o["delivery"])
        groups.setdefault(key, []).append((f, s))
    unread: list[tuple[EvidenceFile, Sniff]] = []
    for (shape, layout, _, delivery), members in groups.items():
        src_sql = SOURCES[shape].replace("$layout", f"'{layout}'")  # one of our constants
        for batch in batches(members, BATCH_JSON_BYTES, BATCH_FILES, weight=_json_bytes):
            bisect_load(
                batch,
                lambda part, src_sql=src_sql, d=delivery: unread.extend(_load_batch(ctx, src_sql, d, part)),
                lambda item, exc: _salvage_one(ctx, item, exc),
                lambda item, exc: _reject_file(ctx, item, exc),
            )
    # A file that gave the reader no records at all is decoded again in Python: DuckDB's
    # multi-threaded reader has been seen to pass over a cut-short document without an error,
    # and an empty file must be shown to be empty, not assumed so.
    for item in unread:
        try:
            _salvage_one(ctx, item, None)
        except Exception as exc:
            if environment_failure(exc):
                raise
            _reject_file(ctx, item, exc)
    _report_implausible(ctx, before)


def _guarded_first_member(ctx: LoadContext, item: tuple[EvidenceFile, Sniff]) -> bool:
    """A trail file with data after its gzip member; False when it is one stream in pieces."""
    try:
        return gzip_members.load_first_member(ctx, item, _stage_and_insert, _replaced)
    except Exception as exc:
        if environment_failure(exc):
            raise
        _reject_file(ctx, item, exc)
        return True


def _report_implausible(ctx: LoadContext, before: int) -> None:
    """Replaced copies, and events with absurd times (kept, flagged: DESIGN.md record_flags),
    each said in one line for the whole load."""
    (n,) = ctx.con.execute(
        "SELECT count(*) FROM cloudtrail "
        "WHERE load_id > $b AND list_contains(record_flags, 'time implausible')",
        {"b": before},
    ).fetchone()
    replaced = ctx.tally.pop("replaced", 0)
    if replaced:
        files = len(ctx.tally.pop("replaced_files", ()))
        ctx.on_problem(
            f"{replaced} events already in the case replaced by a more complete copy of the same event "
            f"(from {files} earlier file(s)); every copy is in cloudtrail_copies"
        )
    if n:
        ctx.on_problem(
            f"{n} CloudTrail events have a time before 2013-11 or more than a day ahead: kept, "
            "flagged 'time implausible' in record_flags (spans and coverage leave them out)"
        )


def _json_bytes(f: EvidenceFile) -> int:
    return f.content_size if f.content_size >= 0 else f.size * GZIP_RATIO_GUESS


def _load_batch(
    ctx: LoadContext, src_sql: str, delivery: str, batch: list[tuple[EvidenceFile, Sniff]]
) -> list[tuple[EvidenceFile, Sniff]]:
    """One DuckDB read for the batch, in one transaction: all of it lands, or nothing does.
    Returns the files that yielded no records (their fate is settled by the caller)."""
    files = [f.path for f, _ in batch]
    mark = len(ctx.pending_rejects)
    ctx.con.execute("BEGIN TRANSACTION")
    try:
        params = {"files": files, "max_object": json_object_limit(f for f, _ in batch)}
        counts, replaced = _stage_and_insert(ctx, src_sql, delivery, params)
        ctx.record([_outcome(f, s, counts[f.path]) for f, s in batch if f.path in counts])
        ctx.con.execute("COMMIT")
    except Exception:
        ctx.con.execute("ROLLBACK")
        del ctx.pending_rejects[mark:]  # the retry finds them again
        raise
    _replaced(ctx, replaced)
    return [(f, s) for f, s in batch if f.path not in counts]


def _stage_and_insert(
    ctx: LoadContext, src_sql: str, delivery: str, params: dict | None = None
) -> tuple[dict[str, tuple[int, int, int]], dict[str, int]]:
    """Insert the batch, then take out what cannot stay; per-file (read, rejected, loaded), and
    per earlier file how many of its rows a more complete copy in this batch replaced.

    Rows stream straight into `cloudtrail` (no wide staging copy, so memory stays flat); the
    few rows without a usable time, and every copy of an event but the most complete one
    (DESIGN.md Duplicates), are found with narrow key-only queries and deleted again, inside the
    caller's transaction. Each copy not kept is recorded in `cloudtrail_copies`.
    """
    con = ctx.con
    (load_id,) = con.execute("SELECT nextval('load_id_seq')").fetchall()[0]
    con.execute(
        "INSERT INTO cloudtrail BY NAME SELECT *, $load_id AS load_id, $delivery AS delivery "
        f"FROM ({stage_sql(src_sql)})",
        {**(params or {}), "load_id": load_id, "delivery": delivery},
    )
    read = dict(
        con.execute(
            "SELECT source_file, count(*) FROM cloudtrail WHERE load_id = $b GROUP BY ALL", {"b": load_id}
        ).fetchall()
    )
    bad = con.execute(
        "SELECT rowid, source_file, source_position, left(coalesce(raw, envelope)::VARCHAR, 300), "
        "CASE WHEN raw IS NULL AND (envelope ->> '$.\"~reason\"') IS NOT NULL "
        "     THEN envelope ->> '$.\"~reason\"' "  # a shape's own reason (Security/CloudTrail Lake)
        "WHEN raw IS NULL THEN 'wrapper document that holds no CloudTrail record' "
        "     || coalesce(' (EventBridge detail-type ' || (envelope ->> '$.\"detail-type\"') || ')', '') "
        "ELSE 'record has no parseable eventTime or @timestamp' END "
        "FROM cloudtrail WHERE load_id = $b AND event_time IS NULL",
        {"b": load_id},
    ).fetchall()
    for _, path, pos, excerpt, reason in bad:
        ctx.reject(path, pos, reason, excerpt or "")
    # Deduplicate on (eventID, recipientAccountId) against the case and within the batch: the
    # copy of the best delivery stays; on a tie, a copy already in the case, else the one whose
    # file path sorts first, then the first in its file. (Not rowid: DuckDB inserts a batch's files
    # in parallel, and which copy kept its place changed from run to run.) The batch's keys are
    # the small side of every join, so memory follows the batch, not the case.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch_keys AS "
        "SELECT rowid AS rid, event_id, coalesce(recipient_account_id, '') AS acct, "
        f"{DELIVERY_RANK_SQL} AS rank FROM cloudtrail WHERE load_id = $b AND event_time IS NOT NULL",
        {"b": load_id},
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE batch_doomed AS
        WITH earlier AS (
            SELECT rowid AS rid, event_id, coalesce(recipient_account_id, '') AS acct,
                   {DELIVERY_RANK_SQL} AS rank
            FROM cloudtrail
            WHERE load_id <> $b AND event_id IN (SELECT event_id FROM batch_keys)
        ),
        cand AS (
            SELECT rid, event_id, acct, rank, false AS here FROM earlier
            SEMI JOIN batch_keys USING (event_id, acct)
            UNION ALL
            SELECT rid, event_id, acct, rank, true AS here FROM batch_keys
        ),
        twice AS (SELECT event_id, acct FROM cand GROUP BY ALL HAVING count(*) > 1)
        SELECT rid, here FROM (
            SELECT d.rid, d.here, row_number() OVER (
                       PARTITION BY d.event_id, d.acct
                       ORDER BY d.rank, d.here, c.source_file, {POSITION_ORDER_SQL}, d.rid) AS n
            FROM (SELECT * FROM cand SEMI JOIN twice USING (event_id, acct)) d
            JOIN cloudtrail c ON c.rowid = d.rid
        ) WHERE n > 1
        """,
        {"b": load_id},
    )
    dupes = con.execute(
        "SELECT c.rowid, c.source_file, d.here FROM cloudtrail c JOIN batch_doomed d ON c.rowid = d.rid"
    ).fetchall()
    con.execute(
        "INSERT INTO cloudtrail_copies SELECT event_id, recipient_account_id, delivery, source_file, "
        "source_position, envelope ->> 'id', NOT d.here, now() "
        "FROM cloudtrail c JOIN batch_doomed d ON c.rowid = d.rid"
    )
    if bad:
        con.execute("DELETE FROM cloudtrail WHERE list_contains($ids, rowid)", {"ids": [r[0] for r in bad]})
    if dupes:  # a join, not a list probe per row: copies can be most of a batch
        con.execute("DELETE FROM cloudtrail WHERE rowid IN (SELECT rid FROM batch_doomed)")
    con.execute("DROP TABLE batch_keys")
    con.execute("DROP TABLE batch_doomed")
    rejected: dict[str, int] = {}
    for _, path, _, _, _ in bad:
        rejected[path] = rejected.get(path, 0) + 1
    duplicates: dict[str, int] = {}
    replaced: dict[str, int] = {}
    for _, path, here in dupes:
        counter = duplicates if here else replaced
        counter[path] = counter.get(path, 0) + 1
    if replaced:
        # the earlier file's copies are now duplicates: its `sources` row says so
        con.execute(
            """UPDATE sources SET records_loaded = records_loaded - r.n, duplicates = duplicates + r.n
               FROM (SELECT unnest($paths) AS path, unnest($ns) AS n) r
               WHERE sources.rowid IN (SELECT arg_max(rowid, loaded_at) FROM sources
                                       WHERE path IN (SELECT unnest($paths))
                                         AND records_loaded > 0 GROUP BY path)
                 AND sources.path = r.path""",
            {"paths": list(replaced), "ns": list(replaced.values())},
        )
    counts = {
        path: (n, rejected.get(path, 0), n - rejected.get(path, 0) - duplicates.get(path, 0))
        for path, n in read.items()
    }
    return counts, replaced


def load_staged_batch(
    ctx: LoadContext, src: str, delivery: str, batch: list[tuple[EvidenceFile, Sniff]]
) -> None:
    """One read of a batch (a shape's `src` SELECT of CloudTrail records), in one transaction,
    through CloudTrail's own insert and deduplication; its rejects undone with it on failure."""
    mark = len(ctx.pending_rejects)
    ctx.con.execute("BEGIN TRANSACTION")
    try:
        counts, replaced = _stage_and_insert(ctx, src, delivery, {"files": [f.path for f, _ in batch]})
        ctx.record([_outcome(f, s, counts.get(f.path, (0, 0, 0))) for f, s in batch])
        ctx.con.execute("COMMIT")
    except Exception:
        ctx.con.execute("ROLLBACK")
        del ctx.pending_rejects[mark:]
        raise
    _replaced(ctx, replaced)


def _replaced(ctx: LoadContext, replaced: dict[str, int]) -> None:
    """Once committed: earlier files of this load whose rows were replaced count them as
    duplicates in the report too, and the problem is said in one line."""
    if not replaced:
        return
    for o in ctx.outcomes:
        n = replaced.get(o.path, 0)
        if n and o.records_loaded >= n:
            o.records_loaded -= n
            o.duplicates += n
    ctx.tally["replaced"] = ctx.tally.get("replaced", 0) + sum(replaced.values())
    ctx.tally.setdefault("replaced_files", set()).update(replaced)


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
    replaced: dict[str, int] = {}
    mark = len(ctx.pending_rejects)
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
            wrapped = WRAPPED.get(s.options["shape"])
            if wrapped:  # the record and its envelope, by the same SQL as the batch reader's
                doc = "(SELECT *, raw::JSON AS doc FROM salvaged)"
                src = f"SELECT source_file, source_position, {wrapped} FROM {doc}"
            else:
                src = "SELECT source_file, source_position, raw::JSON AS raw, NULL::JSON AS envelope "
                src += "FROM salvaged"
            by_file, replaced = _stage_and_insert(ctx, src, s.options["delivery"])
            counts = by_file.get(f.path, (0, 0, 0))
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
    except Exception:
        ctx.con.execute("ROLLBACK")
        del ctx.pending_rejects[mark:]
        raise
    _replaced(ctx, replaced)


def _reject_file(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], exc: Exception) -> None:
    """The file whose reading raised an unexpected error: rejected whole, with the reason."""
    f, s = item
    reason = unexpected_reason(exc)
    ctx.reject(f.path, "file", reason)
    ctx.record([outcome_for(f, s.format, "rejected", SOURCE, reason)])
