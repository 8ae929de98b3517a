"""Derived tables: the vocabulary's shared case-wide views, computed once per load and kept in the case.

Every novelty detection reads `identity_network`, `key_first_use` and the other views of
`vocabulary.SHARED_VIEWS`; computed from the evidence they cost seconds at a million events,
which each canned query would otherwise pay on its own. A load (or a read-write open of a case
whose snapshot is missing or stale) writes each view's rows to a table of the case's `derived`
schema, with its provenance in `derived.provenance`: the vocabulary it was computed with (a
hash of the whole vocabulary text) and a fingerprint of the evidence it read (row count and
row-id sum of every table the views read). `vocabulary.install` points a view at its table only
when both still match; otherwise the view computes from the evidence as before (a read-only
case, a case written by another version, evidence changed outside a load). The tables are the
views' own rows, never a second definition: a stale or missing one is only slower.
"""

from __future__ import annotations

import hashlib
import logging

import duckdb

log = logging.getLogger(__name__)

SCHEMA = "derived"
# What the shared views read (vocabulary/*.sql): a change to any of them outdates the snapshot.
INPUTS = ("cloudtrail", "addresses", "billing", "findings", "vpc_flows")


def vocabulary_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """Rows and row-id sum of every input table (a load, a dedupe, a superseded billing file or
    a replaced finding changes it); None when a table is missing."""
    parts = " || '/' || ".join(
        f"(SELECT count(*) || ':' || coalesce(sum(rowid), 0) FROM main.{t})" for t in INPUTS
    )
    try:
        return con.execute(f"SELECT {parts}").fetchall()[0][0]
    except duckdb.Error:
        return None


def has_snapshot(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the case in use has a provenance table (never an error: callers may be inside a
    transaction)."""
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() "
            "AND schema_name = $s AND table_name = 'provenance'",
            {"s": SCHEMA},
        ).fetchall()
    )


def fresh_views(con: duckdb.DuckDBPyConnection, views: tuple[str, ...], vocab_text: str) -> list[str]:
    """The views whose derived table matches this vocabulary and the evidence as it is now."""
    if not has_snapshot(con):  # a case from before, or not a case at all
        return []
    rows = con.execute(
        f"SELECT view, vocabulary, evidence FROM {SCHEMA}.provenance WHERE list_contains($v, view)",
        {"v": list(views)},
    ).fetchall()
    if not rows:
        return []
    now = fingerprint(con)
    want = vocabulary_hash(vocab_text)
    return [view for view, v, e in rows if v == want and e == now and now is not None]


def refresh(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Compute every shared view from the evidence into the case's derived tables (the plain
    vocabulary must be installed on `con`: views that read the evidence, not older snapshots).
    Returns the views written, which on return read their new tables (as `vocabulary.install`
    would point them); on failure the snapshot is dropped, nothing is returned, and the caller
    installs the vocabulary again so the views compute."""
    from . import vocabulary

    vocab = vocabulary_hash(vocabulary.sql_text())
    written: list[str] = []
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(
            f"CREATE OR REPLACE TABLE {SCHEMA}.provenance (view VARCHAR PRIMARY KEY, vocabulary VARCHAR, "
            "evidence VARCHAR, computed_at TIMESTAMPTZ, row_count BIGINT)"
        )
        con.execute(
            f"COMMENT ON TABLE {SCHEMA}.provenance IS 'Which vocabulary (hash of its text) and which "
            "evidence (rows and row-id sums of the tables the views read) each derived table was computed "
            "from; a view reads its table only while both still match (forensics.derived).'"
        )
        evidence = fingerprint(con)
        for view in vocabulary.SHARED_VIEWS:
            con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{view} AS SELECT * FROM temp.main.{view}")
            con.execute(
                f"COMMENT ON TABLE {SCHEMA}.{view} IS 'The rows of the vocabulary view {view} as of the "
                "last load (forensics.derived; provenance in derived.provenance).'"
            )
            # the views after it read these rows instead of computing them again (SHARED_VIEWS is
            # in dependency order): the same rows, one pass over the evidence fewer per reader
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {SCHEMA}.{view}")
            ((n,),) = con.execute(f"SELECT count(*) FROM {SCHEMA}.{view}").fetchall()
            con.execute(
                f"INSERT INTO {SCHEMA}.provenance VALUES ($view, $vocab, $evidence, now(), $n)",
                {"view": view, "vocab": vocab, "evidence": evidence, "n": n},
            )
            written.append(view)
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        log.warning("derived tables not written (queries compute the views instead): %s", exc)
        drop(con)
        return []
    return written


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the snapshot (its provenance), so every view computes from the evidence."""
    if has_snapshot(con):
        con.execute(f"DELETE FROM {SCHEMA}.provenance")
