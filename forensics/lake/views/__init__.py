"""Views that map tables other tools keep (AWS's documented Athena tables, Tailpipe's) onto the
case's shape: the logic the loader applies, written once in SQL (the `.sql` files beside this
module, DuckDB's dialect) and translated by sqlglot (`forensics.dialects`) for Spark, Athena
and Trino, the vocabulary's macros and the helpers of `common.sql` inlined.

Each view reads one relation named as the source tool names its table and yields one of the
case's tables with the case's columns, in the case's order. Columns the source cannot supply are
NULL and named in `record_flags` (never invented).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import sqlglot
from sqlglot import exp

from ... import dialects
from ...dialects import TranslationError, Vocabulary

# The helpers' bodies in the other engines' words (parsed in that engine's dialect).
_TRINO = {
    # CloudTrail's eventTime ('2026-11-16T03:12:45Z'); Trino's CAST does not read the 'T'
    "view_iso_time": "try(from_iso8601_timestamp(t))",
    "view_json": "nullif(t, 'null')",
}
OVERRIDES: dict[str, dict[str, str]] = {
    "spark": {"view_json": "nullif(t, 'null')"},
    "trino": _TRINO,
    "athena": _TRINO,
}


@dataclass(frozen=True)
class View:
    """One shipped view: the source table it reads, the case table it yields, where it runs."""

    source: str  # the relation the view reads, named as its tool names it
    target: str  # the case's table it yields
    file: str
    dialects: tuple[str, ...]
    about: str


VIEWS: dict[str, View] = {
    v.source: v
    for v in (
        View(
            "cloudtrail_logs",
            "cloudtrail",
            "cloudtrail_logs.sql",
            dialects.DIALECTS,
            "AWS's Athena table for CloudTrail (CloudTrail SerDe)",
        ),
        View(
            "aws_cloudtrail_log",
            "cloudtrail",
            "aws_cloudtrail_log.sql",
            ("duckdb",),
            "Tailpipe's CloudTrail table (a DuckDB table)",
        ),
    )
}


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _local_macros(dialect: str) -> dict[str, tuple[tuple[str, ...], exp.Expression]]:
    macros = {}
    for stmt in sqlglot.parse(_read("common.sql"), read="duckdb"):
        if isinstance(stmt, exp.Create) and (stmt.args.get("kind") or "").upper() == "MACRO":
            udf = stmt.this
            macros[udf.this.name.lower()] = (tuple(p.name.lower() for p in udf.expressions), stmt.expression)
    for name, body in OVERRIDES.get(dialect, {}).items():
        params, _ = macros[name]
        macros[name] = (params, sqlglot.parse_one(body, read="spark" if dialect == "spark" else "trino"))
    return macros


@functools.cache
def _vocabulary(dialect: str) -> Vocabulary:
    base = dialects.vocabulary(dialect)
    return Vocabulary({**base.macros, **_local_macros(dialect)}, base.views, base.tables)


def get_view(source: str) -> View:
    try:
        return VIEWS[source]
    except KeyError:
        raise TranslationError(f"no view onto {source!r}; choose one of {', '.join(sorted(VIEWS))}") from None


def _select_tree(view: View) -> exp.Expression:
    [stmt] = [s for s in sqlglot.parse(_read(view.file), read="duckdb") if isinstance(s, exp.Create)]
    return stmt.expression


def view_select(source: str, dialect: str = "duckdb") -> str:
    """The view's SELECT in `dialect`, every macro inlined: runs where `source` is a relation
    (a table, a Spark temp view of a DataFrame)."""
    view = get_view(source)
    if dialect not in view.dialects:
        raise TranslationError(f"the view onto {source!r} runs on {', '.join(view.dialects)}, not {dialect}")
    vocab = _vocabulary(dialect)
    tree = dialects.fold_vocabulary_subqueries(dialects.inline_macros(_select_tree(view), vocab), vocab)
    return dialects.translate_tree(tree, dialect, f"view onto {source}")


def view_sql(source: str, dialect: str = "duckdb", name: str | None = None) -> str:
    """`CREATE VIEW <target> AS <select>` for `dialect`, with a header saying what it reads."""
    view = get_view(source)
    body = view_select(source, dialect)
    target = name or view.target
    create = {
        "duckdb": f"CREATE OR REPLACE TEMP VIEW {target} AS",
        "spark": f"CREATE OR REPLACE TEMPORARY VIEW {target} AS",
    }.get(dialect, f"CREATE OR REPLACE VIEW {target} AS")
    head = [f"-- {target} from {source}: {view.about}; {dialect}"]
    if dialect in ("athena", "trino"):
        head.append("-- not executed here: parsed in the target dialect by the tests")
    return "\n".join(head) + "\n" + create + "\n" + body + ";\n"


def install_view(con, source: str, name: str | None = None) -> None:
    """The view (DuckDB) on `con`, which must hold `source` and the vocabulary."""
    con.execute(view_sql(source, "duckdb", name))
