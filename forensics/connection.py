"""Opening the case file with DuckDB, tuned for loading, and cursors that see it."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Rows per row group when loading. At DuckDB's default (122,880) each insert thread buffers some
# 300 MB of CloudTrail before writing; a quarter of that more than halves peak memory and loads
# no slower (benchmarks/README.md). DuckDB takes this only when attaching a file.
LOAD_ROW_GROUP_SIZE = 32_768
# Row groups an insert buffers before flushing them together (DuckDB's default is 5).
LOAD_WRITE_BUFFER_ROW_GROUPS = 2
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
    con.execute(f"SET write_buffer_row_group_count = {LOAD_WRITE_BUFFER_ROW_GROUPS}")
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor on the same database as `con` (a new cursor starts in the host's default one)."""
    (database,) = con.execute("SELECT current_database()").fetchone()
    cur = con.cursor()
    cur.execute(f'USE "{database}"')
    return cur
