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
    "events.sql",
    "record.sql",
    "escalation.sql",
    "regions.sql",
    "network.sql",
    "actors.sql",
    "instances.sql",
    "compute.sql",
    "findings.sql",
    "billing.sql",
    "flows.sql",
)


@functools.cache
def sql_text() -> str:
    """The whole vocabulary as one SQL script (DuckDB dialect)."""
    here = resources.files(__package__)
    return "\n".join(here.joinpath(name).read_text(encoding="utf-8") for name in FILES)


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the vocabulary's TEMP tables, macros and views on `con`."""
    if not con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'addresses' AND NOT temporary"
    ).fetchone():
        # A case written before `addresses` existed, opened read-only: its views see no
        # address data (every address is its own network) until a read-write open fills it.
        from ..schema import TABLES

        con.execute(TABLES["addresses"].replace("CREATE TABLE", "CREATE TEMP TABLE"))
    con.execute(sql_text())


def event_names(con: duckdb.DuckDBPyConnection, tag: str) -> list[str]:
    """Event names carrying a tag of the event vocabulary (for Python that must hand a list to
    something that is not SQL); the table stays the only place the list is written."""
    rows = con.execute(
        "SELECT DISTINCT split_part(api, ':', 2) FROM vocab_event WHERE list_contains(tags, $tag) ORDER BY 1",
        {"tag": tag},
    ).fetchall()
    return [r[0] for r in rows]
