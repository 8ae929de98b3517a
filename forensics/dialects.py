"""The canned queries in other engines' SQL (Athena/Trino, Spark), through sqlglot.

Queries are written once, in DuckDB SQL, against the case's flattened tables. sqlglot rewrites
what has a faithful counterpart (arg_min to min_by, list functions to array functions, lambdas);
anything it would pass through unchanged because the target has no such function (DuckDB's
interval constructors, time_bucket, list helpers, its hash) makes the translation fail with the
query and the construct named, rather than hand over SQL that breaks, or worse, means something
else. Parameters stay named (`:name`); bind them the target's way. The tables must be shaped like
the case's (`cloudtrail`, `vpc_flows`, `billing`, `findings`), e.g. a CTAS over Athena's own.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot.errors import ErrorLevel, SqlglotError

from .catalog import Query, get_query
from .errors import ForensicsError

DIALECTS = ("trino", "athena", "spark", "duckdb")

# DuckDB functions that sqlglot leaves as they are when the target lacks them.
DUCKDB_ONLY = (
    "TO_SECONDS", "TO_MINUTES", "TO_HOURS", "TO_DAYS", "TIME_BUCKET", "EPOCH", "LIST_SORT",
    "LIST_DISTINCT", "LIST_FILTER", "LIST_CONTAINS", "LIST_CONCAT", "LIST_INTERSECT", "LIST_HAS_ANY",
    "LIST_ZIP", "LIST_TRANSFORM", "REGEXP_FULL_MATCH", "JSON_TRANSFORM", "ARRAY_TO_STRING", "RANGE",
)  # fmt: skip
MISSING = {"trino": ("HASH", "MODE"), "athena": ("HASH", "MODE"), "spark": ()}


class TranslationError(ForensicsError):
    """A query cannot be written faithfully in the target dialect."""


def translate(query: str | Query, dialect: str = "trino") -> str:
    """The query's SQL in `dialect`, or TranslationError naming what does not translate."""
    q = get_query(query) if isinstance(query, str) else query
    if dialect not in DIALECTS:
        raise TranslationError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    try:
        [text] = sqlglot.transpile(
            q.sql, read="duckdb", write=dialect, unsupported_level=ErrorLevel.RAISE, pretty=True
        )
    except SqlglotError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TranslationError(f"query {q.id!r} does not translate to {dialect}: {first}") from None
    if dialect != "duckdb":
        names = DUCKDB_ONLY + MISSING.get(dialect, ())
        leftover = re.compile(r"\b(" + "|".join(names) + r")\s*\(", re.I)
        leftovers = sorted({m.group(1).upper() for m in leftover.finditer(text)})
        if leftovers:
            raise TranslationError(
                f"query {q.id!r} uses DuckDB-only {', '.join(leftovers)}, which {dialect} does not have"
            )
    return text
