"""Opening the case file with DuckDB, tuned for loading, and cursors that see it."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import duckdb

from . import vocabulary

# Rows per row group when loading. At DuckDB's default (122,880) each insert thread buffers some
# 300 MB of CloudTrail before writing; a quarter of that more than halves peak memory and loads
# no slower (benchmarks/README.md). DuckDB takes this only when attaching a file.
LOAD_ROW_GROUP_SIZE = 32_768
# Row groups an insert buffers before flushing them together (DuckDB's default is 5).
LOAD_WRITE_BUFFER_ROW_GROUPS = 2
# DuckDB keeps the table blocks it has read (the dedupe probes every earlier event id) until
# memory runs short: 0.7 GiB at 10M events, growing with the case. A load needs well under a
# GiB, so a cap keeps memory flat; a batch that still runs out is split (tabular.bisect_load).
LOAD_MEMORY_LIMIT = "1536MB"
CASE_ALIAS = "case_file"


def open_case_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the case file.

    Read-write opens attach the file to an in-memory host with the loader's row-group size;
    analysis opens it directly, read-only.
    """
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    con = duckdb.connect()
    try:
        attach = f"ATTACH $path AS {CASE_ALIAS} (ROW_GROUP_SIZE {LOAD_ROW_GROUP_SIZE})"
        con.execute(attach, {"path": str(path)})
    except duckdb.Error:
        con.close()
        raise
    con.execute(f"USE {CASE_ALIAS}")
    return con


@contextlib.contextmanager
def temporary_settings(con: duckdb.DuckDBPyConnection, settings: dict[str, object]) -> Iterator[None]:
    """DuckDB settings for the length of a block, then the defaults again.

    Only settings still at DuckDB's default are touched: one the analyst chose is left as it is
    (DuckDB shows sizes rounded, '2.7 GiB', so a changed value could not be put back exactly).
    """
    touched = [name for name in settings if _value(con, name) == _value(_defaults(), name)]
    for name in touched:
        con.execute(f"SET {name} = $v", {"v": settings[name]})
    try:
        yield
    finally:
        for name in touched:
            con.execute(f"RESET {name}")


def _value(con: duckdb.DuckDBPyConnection, name: str) -> object:
    return con.execute("SELECT current_setting($n)", {"n": name}).fetchone()[0]


@functools.cache
def _defaults() -> duckdb.DuckDBPyConnection:
    """A connection with DuckDB's default settings, to compare against."""
    return duckdb.connect()


def load_settings(con: duckdb.DuckDBPyConnection) -> contextlib.AbstractContextManager[None]:
    """A load's memory cap and smaller write buffer; an analyst's own queries on a read-write
    case keep their settings."""
    return temporary_settings(
        con,
        {"memory_limit": LOAD_MEMORY_LIMIT, "write_buffer_row_group_count": LOAD_WRITE_BUFFER_ROW_GROUPS},
    )


# While a load runs, every commit goes to the write-ahead log and none is checkpointed into the
# case file: the file itself stays as it was before the load until the load's last CHECKPOINT,
# so a load that fails for want of disk space is undone by dropping the log (`undo_load`).
UNCHECKPOINTED = {"checkpoint_threshold": "1000TB", "auto_checkpoint_skip_wal_threshold": 2**62}


@contextlib.contextmanager
def journalled_load(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Checkpoint what came before, then hold every commit of the load in the WAL."""
    con.execute("CHECKPOINT")
    with temporary_settings(con, UNCHECKPOINTED):
        yield


def undo_load(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Close the case without checkpointing and drop its WAL: back to the state `journalled_load`
    checkpointed (DuckDB's own crash recovery, at the moment before the load)."""
    with contextlib.suppress(duckdb.Error):
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    with contextlib.suppress(duckdb.Error):
        con.execute("SET checkpoint_on_detach = 'DISABLED'")
    with contextlib.suppress(duckdb.Error):
        con.close()
    Path(f"{path}.wal").unlink(missing_ok=True)


@contextlib.contextmanager
def memory_cap_lifted(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's default memory limit for a last-resort step (one file the capped reader could not
    hold), then the load's cap again. A limit the analyst set is theirs and stays."""
    capped = _value(con, "memory_limit") == _shown("memory_limit", LOAD_MEMORY_LIMIT)
    if capped:
        con.execute("RESET memory_limit")
    try:
        yield
    finally:
        if capped:
            con.execute("SET memory_limit = $v", {"v": LOAD_MEMORY_LIMIT})


@functools.cache
def _shown(name: str, value: object) -> object:
    """How DuckDB shows a setting's value once set (sizes come back rounded, in GiB)."""
    scratch = duckdb.connect()
    scratch.execute(f"SET {name} = $v", {"v": value})
    shown = _value(scratch, name)
    scratch.close()
    return shown


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor on the same database as `con` (a new cursor starts in the host's default one)."""
    (database,) = con.execute("SELECT current_database()").fetchone()
    cur = con.cursor()
    cur.execute(f'USE "{database}"')
    vocabulary.install(cur)  # TEMP definitions belong to one connection; a cursor is another
    return cur
