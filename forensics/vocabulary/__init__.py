"""The one vocabulary: every forensic definition of DESIGN.md, written once in SQL.

The `.sql` files beside this module hold small vocabulary tables (which calls launch compute,
which phase a call belongs to, which services are global, AWS's quarantine policies) and scalar
macros and views built on them (outcome, read-only, account scope, escalation by effect, region
use). They are installed as TEMP objects on every connection to a case, read-only ones included
(DuckDB refuses persistent macros there), so the loader, the detections, the investigation and
the timeline all read the same definitions. Python composes them; it keeps no second list.
"""

from __future__ import annotations

import functools
from importlib import resources

import duckdb

# Installed in this order: later files use what earlier ones define.
FILES = (
    "portable.sql",  # JSON-array primitives, written per engine (forensics.dialects)
    "events.sql",
    "record.sql",
    "fields.sql",  # the columns the loader derives from a record (and the lake views)
    "escalation.sql",
    "billing.sql",  # before regions.sql, whose views read only AWS's bill
    "regions.sql",
    "network.sql",
    "actors.sql",
    "instances.sql",
    "compute.sql",
    "findings.sql",
    "flows.sql",
    "rules.sql",
    "automation.sql",  # automation incidents: a function that runs away, its start and stop
)


@functools.cache
def sql_text() -> str:
    """The whole vocabulary as one SQL script (DuckDB dialect)."""
    here = resources.files(__package__)
    return "\n".join(here.joinpath(name).read_text(encoding="utf-8") for name in FILES)


# Views over the whole case that several definitions read (every novelty detection reads
# identity_network). An analysis that runs many of them at once (the hunt, an investigation)
# computes each once per connection; they stay views, so a cached one is the same definition, only
# read from a snapshot of the evidence as it was when cached. In dependency order: a view comes
# after every shared view it reads, so computed in this order each reads the rows of those before
# it instead of computing them again (tests/vocabulary/test_derived.py checks the order).
SHARED_VIEWS = (
    "instance_home_address",
    "instance_session_address",
    "region_use",
    "account_evidence",
    "key_first_seen",
    "identity_network",  # reads instance_home_address and region_use
    "key_first_use",  # reads key_first_seen and identity_network
    "instance_interface",
    "resource_creator",
)
_CACHE_PREFIX = "vocab_cache_"


_MARK = "vocab_installed"  # TEMP: the vocabulary's hash and each shared view's plain definition


@functools.cache
def _view_statements() -> dict[str, str]:
    """Each shared view's own CREATE statement, cut from the vocabulary text (DuckDB's parser)."""
    out: dict[str, str] = {}
    for stmt in duckdb.extract_statements(sql_text()):
        code = "\n".join(line for line in stmt.query.splitlines() if not line.lstrip().startswith("--"))
        head = code.split()[:6]
        if head[:5] == ["CREATE", "OR", "REPLACE", "TEMP", "VIEW"] and head[5] in SHARED_VIEWS:
            out[head[5]] = stmt.query
    missing = set(SHARED_VIEWS) - set(out)
    if missing:
        raise RuntimeError(f"shared views not found in the vocabulary: {sorted(missing)}")
    return out


def _shared_view_sql(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE temporary AND list_contains($v, view_name)",
        {"v": list(SHARED_VIEWS)},
    ).fetchall()
    return dict(rows)


def _installed(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """The shared views' plain definitions when this connection holds this vocabulary already."""
    try:
        rows = con.execute(f"SELECT vocabulary, view, sql FROM temp.main.{_MARK}").fetchall()
    except duckdb.CatalogException:
        return None
    from ..derived import vocabulary_hash

    if not rows or any(v != vocabulary_hash(sql_text()) for v, _, _ in rows):
        return None
    return {view: sql for _, view, sql in rows}


def install(con: duckdb.DuckDBPyConnection, derived: bool = True) -> None:
    """Create (or replace) the vocabulary's TEMP tables, macros and views on `con` (dropping
    any cached snapshot: after a load the views must read the evidence again). With `derived`,
    a shared view whose table in the case's `derived` schema is fresh (same vocabulary, same
    evidence: forensics.derived) reads that table instead of computing.

    On a connection that holds this vocabulary already (a load installs it before and after),
    only the shared views that read a snapshot or a cache are defined again: the script's
    tables, macros and other views are the same text, and binding them costs most of a
    small load."""
    plain = _installed(con)
    if plain is None:
        _install_script(con)
    else:
        now = _shared_view_sql(con)
        for view, statement in _view_statements().items():  # in the script's order
            if now.get(view) != plain[view]:
                con.execute(statement)
    for (name,) in con.execute(  # after: a view is bound when made, and may read a cached one
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, $p)",
        {"p": _CACHE_PREFIX},
    ).fetchall():
        con.execute(f'DROP TABLE temp.main."{name}"')
    if derived:
        read_snapshot(con)


def read_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Point each shared view whose derived table is fresh (forensics.derived) at that table; the
    others stay as installed."""
    from .. import derived as snapshot

    for view in snapshot.fresh_views(con, SHARED_VIEWS, sql_text()):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {snapshot.SCHEMA}.{view}")


def _install_script(con: duckdb.DuckDBPyConnection) -> None:
    """Run the whole vocabulary script on `con` and mark it installed there."""
    if not con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'addresses' AND NOT temporary"
    ).fetchone():
        # A case written before `addresses` existed, opened read-only: its views see no
        # address data (every address is its own network) until a read-write open fills it.
        from ..schema import TABLES

        con.execute(TABLES["addresses"].replace("CREATE TABLE", "CREATE TEMP TABLE"))
    con.execute(sql_text())
    from ..derived import vocabulary_hash

    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_MARK} AS SELECT $h AS vocabulary, v.view_name AS view, v.sql "
        "FROM duckdb_views() v WHERE v.temporary AND list_contains($v, v.view_name)",
        {"h": vocabulary_hash(sql_text()), "v": list(SHARED_VIEWS)},
    )


def cache_shared_views(con: duckdb.DuckDBPyConnection) -> None:
    """Compute the shared views once for this connection (a no-op when already done). Only for
    analysis: a load on the same connection installs the vocabulary again, which drops them."""
    for view in SHARED_VIEWS:
        table = _CACHE_PREFIX + view
        done = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $t", {"t": table}
        ).fetchall()[0][0]
        if done:
            continue
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {view}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {table}")


def event_names(con: duckdb.DuckDBPyConnection, tag: str) -> list[str]:
    """Event names carrying a tag of the event vocabulary (for Python that must hand a list to
    something that is not SQL); the table stays the only place the list is written."""
    rows = con.execute(
        "SELECT DISTINCT split_part(api, ':', 2) FROM vocab_event WHERE list_contains(tags, $tag) ORDER BY 1",
        {"tag": tag},
    ).fetchall()
    return [r[0] for r in rows]
