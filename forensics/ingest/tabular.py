"""Helpers shared by the loaders (CloudTrail, flow logs, billing, findings).

They batch files for one DuckDB read, split a failing batch in halves until the bad file is alone
(a corrupt file aborts a whole multi-file read), move unusable records into `rejects` in bulk, and
read a Parquet file's columns for sniffing without loading it.
"""

from __future__ import annotations

import errno
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import duckdb

from .context import LoadContext
from .evidence import EvidenceFile

BATCH_BYTES = 256 * 1024 * 1024  # on-disk bytes per DuckDB read
BATCH_FILES = 400
PROBLEM_LINES_PER_FILE = 20  # one stderr line each; the rest are summarised (all go to rejects)
# What a reader raises on bad input; anything else (a binder error) is a bug and propagates.
# NotImplemented: a compression the reader lacks (zip), which the Python salvage reads.
# OutOfMemory: a batch too big for the load's memory cap is split like a bad one; a lone file
# that still does not fit is decoded by the salvage path, so it is loaded, not lost.
READER_ERRORS = (
    duckdb.IOException,
    duckdb.InvalidInputException,
    duckdb.ConversionException,
    duckdb.NotImplementedException,
    duckdb.OutOfMemoryException,
)

T = TypeVar("T")

MIB = 1024 * 1024
# The largest file held whole in memory, inflated: one JSON document (DuckDB's reader needs a
# whole `{"Records": [...]}` at once), or a file decoded by the Python salvage (zip archives, and
# files the reader refused). Beyond it the file is rejected, saying so, before it is inflated:
# a gzip or zip bomb cannot take the machine's memory. Files that stream (NDJSON, CSV, flow
# logs; CUR CSVs inflate to gigabytes) have no such limit. Peak memory for a file at the limit is
# about three times it (README "What the loader reads").
MAX_DOCUMENT_BYTES = int(os.environ.get("FORENSICS_MAX_DOCUMENT_MB", "512")) * MIB
LIMIT_HINT = "raise it with FORENSICS_MAX_DOCUMENT_MB"
# DuckDB's JSON reader allocates `maximum_object_size` per file it reads: set far above need
# (512 MiB) it spent as much time in the kernel as parsing (8.7 s of a 9.4 s read of 1M events).
# So the limit follows the batch's largest file; DuckDB's own 16 MiB default is the least.
MIN_OBJECT_BYTES = 16 * MIB
MAX_OBJECT_BYTES = max(MAX_DOCUMENT_BYTES, MIN_OBJECT_BYTES)


def single_document(options: dict) -> bool:
    """True for a JSON file read as one document (not one document per line)."""
    return options.get("layout") in ("unstructured", "array") or options.get("shape") in ("records", "doc")


def json_object_limit(files: Iterable[EvidenceFile]) -> int:
    """`maximum_object_size` for reading these files: a power of two above the largest document.

    A file's decompressed size bounds any document in it. Unknown sizes (zip) take the maximum.
    """
    need = max((f.content_size if f.content_size >= 0 else MAX_OBJECT_BYTES for f in files), default=0)
    limit = MIN_OBJECT_BYTES
    while limit <= need and limit < MAX_OBJECT_BYTES:
        limit *= 2
    return limit


def batches(
    items: Iterable[tuple[EvidenceFile, T]],
    max_bytes: int = BATCH_BYTES,
    max_files: int = BATCH_FILES,
    weight: Callable[[EvidenceFile], int] = lambda f: f.size,
) -> Iterator[list[tuple[EvidenceFile, T]]]:
    """Consecutive groups of files small enough for one reader call (by `weight`, on-disk bytes
    unless told otherwise)."""
    batch: list[tuple[EvidenceFile, T]] = []
    size = 0
    for item in items:
        w = weight(item[0])
        if batch and (size + w > max_bytes or len(batch) >= max_files):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += w
    if batch:
        yield batch


def environment_failure(exc: BaseException) -> bool:
    """A failure of the machine, not of one file (no space, no memory, interrupted): it stops the
    load instead of rejecting evidence that is fine."""
    if isinstance(exc, (MemoryError, duckdb.InterruptException, duckdb.FatalException)):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "No space left on device" in str(exc)


def bisect_load(
    batch: list[T],
    attempt: Callable[[list[T]], None],
    salvage: Callable[[T, Exception], None],
    reject: Callable[[T, Exception], None] | None = None,
) -> None:
    """Try the whole batch; on a reader error, halve it until the bad file is alone, then salvage it.

    Any other exception (a bug met by one file's content) is halved the same way, and the file
    that raises it alone is given to `reject` with the exception, so the rest of the load goes
    on; without `reject`, or for an environment failure, it propagates.
    `attempt` must leave no trace when it raises (roll back what it started).
    """
    try:
        attempt(batch)
    except Exception as exc:
        from_reader = isinstance(exc, READER_ERRORS)
        if environment_failure(exc) or (not from_reader and reject is None):
            raise
        if len(batch) > 1:
            half = len(batch) // 2
            bisect_load(batch[:half], attempt, salvage, reject)
            bisect_load(batch[half:], attempt, salvage, reject)
        elif from_reader:  # the reader refused it: decode it record by record
            _guarded(salvage, reject, batch[0], exc)
        else:  # our own code failed on it: reject the file with the reason, load the rest
            reject(batch[0], exc)


def _guarded(
    step: Callable[[T, Exception], None],
    reject: Callable[[T, Exception], None] | None,
    item: T,
    exc: Exception,
) -> None:
    try:
        step(item, exc)
    except Exception as err:
        if reject is None or environment_failure(err):
            raise
        reject(item, err)


def unexpected_reason(exc: BaseException) -> str:
    """One line for a file rejected because reading it raised something no reader expects."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"unexpected error while reading this file ({type(exc).__name__}: {first}); the load went on"


def quarantine(ctx: LoadContext, select_sql: str, params: dict | None = None) -> dict[str, int]:
    """Write every (source_file, position, reason, excerpt) row of `select_sql` to `rejects`.

    The first few problems of each file also go to `on_problem`, one line each; the rest are
    summarised in one line, so a wholly broken file of millions of lines cannot flood the terminal.
    Returns the number of rejected records per file.
    """
    con = ctx.con
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _quarantine AS
            SELECT source_file, position, reason, left(excerpt, 300) AS excerpt,
                   row_number() OVER (PARTITION BY source_file ORDER BY ord) AS n
            FROM ({select_sql})""",
        params,
    )
    first = con.execute(
        "SELECT source_file, position, reason, excerpt FROM _quarantine WHERE n <= ? ORDER BY source_file, n",
        [PROBLEM_LINES_PER_FILE],
    ).fetchall()
    for path, position, reason, excerpt in first:
        ctx.reject(path, position, reason, excerpt or "")
    con.execute(
        "INSERT INTO rejects SELECT source_file, position, reason, excerpt, now() "
        "FROM _quarantine WHERE n > ?",
        [PROBLEM_LINES_PER_FILE],
    )
    counts = dict(con.execute("SELECT source_file, count(*) FROM _quarantine GROUP BY ALL").fetchall())
    for path, total in counts.items():
        if total > PROBLEM_LINES_PER_FILE:
            ctx.on_problem(
                f"{path}: {total - PROBLEM_LINES_PER_FILE} more rejected records "
                "(all are in the rejects table)"
            )
    con.execute("DROP TABLE _quarantine")
    return counts


_LOCAL = threading.local()


def _scratch() -> duckdb.DuckDBPyConnection:
    """A private in-memory connection for sniffing (never the case's own)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        _LOCAL.con = con
    return con


@functools.lru_cache(maxsize=4096)
def parquet_columns(path: str, sha256: str) -> tuple[tuple[str, str], ...] | None:
    """(name, type) of a Parquet file's columns, Hive partition keys included; None if unreadable."""
    try:
        rows = (
            _scratch()
            .execute(
                # partition values are identifiers (account ids, dates as written): kept as text
                "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = true, "
                "hive_types_autocast = false)",
                [path],
            )
            .fetchall()
        )
    except duckdb.Error:
        return None
    return tuple((name, str(typ)) for name, typ, *_ in rows)


def quote_ident(name: str) -> str:
    """A column name from a file's header as a SQL identifier (never a value)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A column name from a file's header as a SQL string literal (for JSON keys)."""
    return "'" + text.replace("'", "''") + "'"


def reader_compression(f: EvidenceFile) -> str:
    """DuckDB's `compression` option for this file, decided by content, not by extension."""
    return "gzip" if f.compression == "gzip" else "none"
