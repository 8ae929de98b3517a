"""The SELECT list of a view onto an AWS billing table (legacy CUR, CUR 2.0, FOCUS), generated
from the loader's one mapping (`forensics.ingest.billing_columns`: TARGETS' candidates per
family, CUR 2.0's map keys, the tag column, the usage-type fallbacks) for the documented table's
column list (`tables.py`), so a candidate added there reaches the loader and every view.

The list is DuckDB SQL over the views' portable macros (`common.sql`: `view_text`, `view_utc`,
`view_map_value`, ...), inlined and translated by sqlglot like a hand-written view. The table is
typed (Athena's `timestamp`, `double`, maps), so a value is never rejected as the loader rejects
a cell that does not parse; text is trimmed and '' NULL as the loader keeps it.
"""

from __future__ import annotations

from ...ingest.billing_columns import (
    BILLING_COLUMNS,
    DEFAULT_PROVIDER,
    FAMILY,
    PERIOD_TEXT,
    TARGETS,
    map_candidates,
    resolve,
    tag_column,
)
from ...ingest.tabular import quote_ident, quote_literal

# The case's type of each kind of target, for a target the table has no candidate of.
_NULL = {"TS": "CAST(NULL AS TIMESTAMPTZ)", "NUM": "CAST(NULL AS DOUBLE)"}


def _value(column: str, athena_type: str, kind: str) -> str:
    """One candidate column as the target's kind, as the loader would read its text."""
    ident = quote_ident(column)
    if kind == "TS" and athena_type == "timestamp":
        return f"view_utc({ident})"
    if kind == "NUM" and athena_type in ("double", "bigint", "int"):
        return f"CAST({ident} AS DOUBLE)"
    if kind == "PERIOD" and athena_type == "timestamp":
        return f"strftime(view_utc({ident}), '%Y-%m')"
    if kind == "PERIOD" and athena_type == "string":
        # the partition's text ('2026-11'), as the loader keeps a period written so
        return f"CASE WHEN regexp_matches(view_text({ident}), '^{PERIOD_TEXT}$') THEN view_text({ident}) END"
    if kind == "TEXT" and athena_type == "string":
        return f"view_text({ident})"
    # a documented table or TARGETS changed: say so rather than read the column some other way
    raise ValueError(f"no rule to read {column} ({athena_type}) as a {kind} billing column")


def _first(exprs: list[str]) -> str:
    """The first of these values that is not NULL (the loader's coalesce over candidates)."""
    exprs = [e for e in exprs if not e.startswith("CAST(NULL")]
    if len(exprs) < 2:
        return exprs[0] if exprs else "NULL"
    return f"coalesce({', '.join(exprs)})"


def select_list(fmt: str, table: list[tuple[str, str, str]]) -> str:
    """The view's select list, the case's `billing` columns in the case's order, for a table of
    `(column, source name, Athena type)` holding an export of format `fmt`."""
    columns = {c.lower(): c for c, _, _ in table}
    types = {c.lower(): t for c, _, t in table}
    values: dict[str, str] = {}
    for target, (kind, candidates) in TARGETS.items():
        found = resolve(columns, candidates[FAMILY[fmt]])
        exprs = [_value(c, types[c.lower()], kind) for c in found]
        exprs += [
            f"view_text(view_map_value({quote_ident(col)}, {quote_literal(key)}))"
            for col, key in map_candidates(fmt, target, columns)
        ]
        values[target] = _first(exprs) if exprs else _NULL.get(kind, "CAST(NULL AS VARCHAR)")
    # what the loader derives when the export does not say it (billing_columns.projection)
    usage_type = values["usage_type"]
    values["billing_period"] = _first(
        [values["billing_period"], f"strftime({values['usage_start']}, '%Y-%m')"]
    )
    values["region"] = _first([values["region"], f"view_usage_region({usage_type})"])
    values["instance_type"] = _first([values["instance_type"], f"view_usage_instance_type({usage_type})"])
    values["provider"] = _first([values["provider"], quote_literal(DEFAULT_PROVIDER)])
    tags = tag_column(fmt, columns)
    if tags and types[tags.lower()].startswith("map<"):
        values["tags"] = f"view_json(view_map_text({quote_ident(tags)}))"
        unread = ""
    else:  # one column per tag key, which differ per report: read them from the table directly
        values["tags"] = "view_json(CAST(NULL AS VARCHAR))"
        unread = ", tags not read"
    # what a table cannot say: the file, the report version and its delivery
    values["source_format"] = quote_literal(fmt)
    values["source_file"] = "CAST(NULL AS VARCHAR)"
    values["delivery"] = quote_literal(f"{fmt} Athena table (no file, no report version{unread})")
    values["delivered_at"] = "CAST(NULL AS TIMESTAMPTZ)"
    return ",\n    ".join(f"{values[c]} AS {c}" for c in BILLING_COLUMNS)
