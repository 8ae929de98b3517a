"""The canned queries and the vocabulary in other engines' SQL (Spark, Athena/Trino), via sqlglot.

Queries and definitions are written once, in SQL that DuckDB runs and that means the same
elsewhere. Translation is done on the syntax tree, never on text:

- the vocabulary's scalar macros are inlined (their bodies substituted for each call, arguments
  parenthesised), because Athena and Trino have no SQL functions and Spark's SQL functions cannot
  hold the subqueries some definitions use; the vocabulary's views become the target's views
  (Spark temp views) or, for Athena/Trino, common table expressions of the one statement;
- parameters are bound the target's way: values become typed literals built by sqlglot from
  validated values (`bind="literal"`), Spark named markers `:name` (`bind="named"`), or Athena's
  positional `?` for strings in WHERE (`bind="positional"`);
- sqlglot then writes the dialect. What its output gets wrong was rewritten in the queries
  themselves as SQL both engines run the same way (proven by tests/lake's differential test);
  `DUCKDB_ONLY` names what must not be left in the output, a last guard.

sqlglot is pinned to a tested range in pyproject.toml: a new release changes the output.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from .catalog import Query, get_query
from .errors import ForensicsError

DIALECTS = ("duckdb", "spark", "athena", "trino")

# DuckDB functions that sqlglot passes through unchanged when the target has no such function.
DUCKDB_ONLY = (
    "TO_SECONDS", "TO_MINUTES", "TO_HOURS", "TO_DAYS", "TIME_BUCKET", "DATE_BIN", "EPOCH", "LIST_SORT",
    "LIST_DISTINCT", "LIST_FILTER", "LIST_CONTAINS", "LIST_CONCAT", "LIST_INTERSECT", "LIST_HAS_ANY",
    "LIST_ZIP", "LIST_TRANSFORM", "REGEXP_FULL_MATCH", "JSON_TRANSFORM", "RANGE",
)  # fmt: skip
MISSING = {"trino": ("HASH", "MODE"), "athena": ("HASH", "MODE"), "spark": ()}


# The bodies of portable.sql's primitives in the other engines (the only macros written per
# engine; parameters as in portable.sql). Trino's and Athena's are parsed, never executed here.
_TRINO_OVERRIDES = {
    "json_items": "CASE WHEN j IS NULL THEN ARRAY[] WHEN json_array_length(j) IS NOT NULL "
    "THEN transform(CAST(json_parse(j) AS ARRAY(JSON)), x -> json_format(x)) ELSE ARRAY[j] END",
    "json_strings": "CASE WHEN json_array_length(j) IS NOT NULL THEN "
    "transform(CAST(json_parse(j) AS ARRAY(JSON)), "
    "x -> coalesce(json_extract_scalar(x, '$'), json_format(x))) END",
    "json_values": "coalesce(transform(map_values(TRY(CAST(json_parse(j) AS MAP(VARCHAR, JSON)))), "
    "x -> json_format(x)), ARRAY[])",
}
OVERRIDES: dict[str, dict[str, str]] = {
    "spark": {
        "json_items": "CASE WHEN j IS NULL THEN array() WHEN substr(ltrim(j), 1, 1) = '[' "
        "THEN from_json(j, 'array<string>') ELSE array(j) END",
        "json_strings": "CASE WHEN substr(ltrim(j), 1, 1) = '[' THEN from_json(j, 'array<string>') END",
        # a nested object or array read as a string is its JSON text
        "json_values": "CASE WHEN substr(ltrim(j), 1, 1) = '{' "
        "THEN map_values(from_json(j, 'map<string,string>')) ELSE array() END",
    },
    "trino": _TRINO_OVERRIDES,
    "athena": _TRINO_OVERRIDES,
}


class TranslationError(ForensicsError):
    """A query cannot be written faithfully in the target dialect."""


@dataclass(frozen=True)
class Vocabulary:
    """The vocabulary parsed: macros to inline, views in install order, tables of data."""

    macros: dict[str, tuple[tuple[str, ...], exp.Expression]]
    views: tuple[tuple[str, exp.Expression], ...]
    tables: tuple[str, ...]


@functools.cache
def vocabulary(dialect: str = "duckdb") -> Vocabulary:
    """The vocabulary's SQL parsed once per target (its primitives in the target's words)."""
    from .vocabulary import sql_text

    macros: dict[str, tuple[tuple[str, ...], exp.Expression]] = {}
    views: list[tuple[str, exp.Expression]] = []
    tables: list[str] = []
    for stmt in sqlglot.parse(sql_text(), read="duckdb"):
        if not isinstance(stmt, exp.Create):
            continue
        kind = (stmt.args.get("kind") or "").upper()
        if kind == "MACRO":
            udf = stmt.this
            params = tuple(p.name.lower() for p in udf.expressions)
            macros[udf.this.name.lower()] = (params, stmt.expression)
        elif kind == "VIEW":
            views.append((stmt.this.name, stmt.expression))
        elif kind == "TABLE":
            tables.append(stmt.this.this.name if isinstance(stmt.this, exp.Schema) else stmt.this.name)
    for name, body in OVERRIDES.get(dialect, {}).items():
        params, _ = macros[name]
        macros[name] = (params, sqlglot.parse_one(body, read="spark" if dialect == "spark" else "trino"))
    return Vocabulary(macros, tuple(views), tuple(tables))


def _macro_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return None


def inline_macros(tree: exp.Expression, vocab: Vocabulary | None = None) -> exp.Expression:
    """`tree` with every call of a vocabulary macro replaced by the macro's body (`tree` itself
    is left as it was)."""
    return _inline_in_place(tree.copy(), vocab or vocabulary("duckdb"))


def _inline_in_place(tree: exp.Expression, vocab: Vocabulary) -> exp.Expression:
    """`inline_macros` on a tree this module owns: each body and argument is copied once where
    it is used, not again by every nested transform (deep copies were most of the time the
    translation took)."""

    def expand(node: exp.Expression) -> exp.Expression:
        name = _macro_name(node)
        if name is None or name not in vocab.macros:
            return node
        params, body = vocab.macros[name]
        args = node.expressions
        if len(args) != len(params):
            raise TranslationError(f"{name} takes {len(params)} arguments, given {len(args)}")
        given = {p: _inline_in_place(a.copy(), vocab) for p, a in zip(params, args, strict=True)}

        def substitute(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table and n.name.lower() in given:
                return exp.Paren(this=given[n.name.lower()].copy())
            return n

        expanded = _inline_in_place(body.copy().transform(substitute, copy=False), vocab)
        # a macro call is one operand wherever it stands: its body keeps its own precedence
        # (`grants_admin(..) AND x` must not become `a OR b AND x`)
        atomic = isinstance(expanded, _ATOMIC) and not isinstance(expanded, exp.Binary | exp.Unary)
        return expanded if atomic else exp.Paren(this=expanded)

    return tree.transform(expand, copy=False)


# Bodies that need no parentheses to stay one operand (sqlglot's AND and OR are functions too).
_ATOMIC = (
    exp.Paren,
    exp.Column,
    exp.Literal,
    exp.Func,
    exp.Subquery,
    exp.Case,
    exp.Cast,
    exp.Boolean,
    exp.Null,
)


@functools.cache
def vocabulary_connection():
    """An in-memory DuckDB with the case's (empty) tables and the vocabulary: what constant
    subqueries over the vocabulary's own tables are evaluated on."""
    import duckdb

    from . import vocabulary as vocab_module
    from .schema import TABLES

    con = duckdb.connect()
    for ddl in TABLES.values():
        con.execute(ddl)
    vocab_module.install(con)
    return con


def fold_vocabulary_subqueries(tree: exp.Expression, vocab: Vocabulary | None = None) -> exp.Expression:
    """`x IN (SELECT .. FROM vocab_table ..)` with no reference outside the subquery becomes
    `x IN (<its values>)`: the vocabulary's tables are data shipped with the code, so the list is
    the same on every engine, and Athena/Trino, which have no such tables, can run the query. A
    subquery naming anything else (the case's tables, an outer column) is left as it is."""
    vocab = vocab or vocabulary("duckdb")
    tables = {t.lower() for t in vocab.tables}
    con = vocabulary_connection()

    def fold(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.In) or node.args.get("query") is None:
            return node
        sub = node.args["query"]
        select = sub.this if isinstance(sub, exp.Subquery) else sub
        if not isinstance(select, exp.Select):
            return node
        named = {t.name.lower() for t in select.find_all(exp.Table)}
        if not named or not named <= tables or len(select.selects) != 1:
            return node
        try:
            values = [r[0] for r in con.execute(select.sql(dialect="duckdb")).fetchall()]
        except Exception:  # noqa: BLE001 - refers to an outer column: not a constant
            return node
        if not values:
            return exp.false()
        literals = [exp.Literal.string(v) if isinstance(v, str) else exp.Literal.number(v) for v in values]
        return exp.In(this=node.this, expressions=literals)

    return tree.transform(fold)


def parse(sql: str) -> exp.Expression:
    try:
        [tree] = sqlglot.parse(sql, read="duckdb")
    except SqlglotError as exc:
        raise TranslationError(f"cannot parse: {_first_line(exc)}") from None
    return tree


def bind_literals(tree: exp.Expression, params: dict[str, Any], types: dict[str, str]) -> exp.Expression:
    """Parameters (`$name`) replaced by typed literals built from validated values."""

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder | exp.Parameter):
            name = node.name
            if name not in types:
                raise TranslationError(f"parameter {name!r} is not declared")
            return typed_literal(params.get(name), types[name])
        return node

    return tree.transform(replace)


def typed_literal(value: Any, sql_type: str) -> exp.Expression:
    """A literal of the parameter's declared type, built by sqlglot (never by text)."""
    target = exp.DataType.build(sql_type, dialect="duckdb")
    if value is None:
        return exp.Cast(this=exp.null(), to=target)
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, list | tuple):
        return exp.Cast(
            this=exp.Array(
                expressions=[
                    typed_literal(v, "VARCHAR").this if isinstance(v, str) else exp.Literal.number(v)
                    for v in value
                ]
            ),
            to=target,
        )
    if isinstance(value, int | float):
        return exp.Cast(this=exp.Literal.number(value), to=target)
    if isinstance(value, datetime):
        value = value.isoformat(sep=" ")
    return exp.Cast(this=exp.Literal.string(str(value)), to=target)


def duckdb_semantics_on_spark(tree: exp.Expression) -> exp.Expression:
    """What DuckDB means where Spark's function of the same name means something else (each
    found by the differential test in tests/lake):

    - `list_concat` skips NULL lists (Spark's `concat` is NULL when any argument is);
    - `list(x) FILTER (c)` over no matching row is NULL (Spark's `collect_list` is empty);
    - `arg_min(x, y)` / `arg_max(x, y)` skip rows whose `x` is NULL (Spark's `min_by` returns
      the NULL of the first row);
    - `list(x ORDER BY k, ..)` is in that order (sqlglot writes Spark's `collect_list(x)`, in
      whatever order the rows come): the values are collected with their keys, sorted, and
      taken back out, NULL keys last as in DuckDB.
    """

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) and _ordered(node.this):
            keyed, unwrap = _keyed_list(node.this)
            cond = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
            filtered = fix(exp.Filter(this=keyed, expression=exp.Where(this=cond.copy())))
            return unwrap(filtered)
        if isinstance(node, exp.ArrayAgg) and _ordered(node):
            keyed, unwrap = _keyed_list(node)
            return unwrap(keyed)
        if isinstance(node, exp.ArrayConcat) and not node.args.get("null_propagation"):
            args = [node.this, *node.expressions]
            empty = exp.Array(expressions=[])
            return exp.ArrayConcat(
                this=exp.Coalesce(this=args[0], expressions=[empty.copy()]),
                expressions=[exp.Coalesce(this=a, expressions=[empty.copy()]) for a in args[1:]],
                null_propagation=True,
            )
        if isinstance(node, exp.ArgMin | exp.ArgMax) and not isinstance(node.this, exp.Literal):
            by = exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.Null())),
                        true=node.expression,
                    )
                ]
            )
            return node.__class__(this=node.this, expression=by)
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
            cond = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
            matched = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=cond.copy()))
            return exp.Case(
                ifs=[exp.If(this=exp.GT(this=matched, expression=exp.Literal.number(0)), true=node.copy())]
            )
        return node

    return tree.transform(fix)


def _ordered(agg: exp.ArrayAgg) -> bool:
    return isinstance(agg.this, exp.Order)


def _keyed_list(agg: exp.ArrayAgg):
    """`list(x ORDER BY k1, k2)` as Spark's `collect_list(struct(k1 IS NULL, k1, k2 IS NULL, k2,
    x))`, and how to take the values back out in order (`transform(array_sort(..), o -> o.v)`:
    structs sort field by field, so the keys decide and ties are broken by the value)."""
    order: exp.Order = agg.this
    fields = []
    for i, key in enumerate(order.expressions):
        if key.args.get("desc"):
            raise TranslationError("list(.. ORDER BY .. DESC) is not translated to Spark")
        nulls_last = not key.args.get("nulls_first")
        null_flag = exp.Is(this=key.this.copy(), expression=exp.Null())
        fields.append((f"_n{i}", null_flag if nulls_last else exp.Not(this=exp.Paren(this=null_flag))))
        fields.append((f"_k{i}", key.this.copy()))
    fields.append(("_v", order.this.copy()))
    struct = exp.Struct(
        expressions=[exp.PropertyEQ(this=exp.to_identifier(n), expression=e) for n, e in fields]
    )
    keyed = exp.ArrayAgg(this=struct)

    def unwrap(collected: exp.Expression) -> exp.Expression:
        template = sqlglot.parse_one("TRANSFORM(ARRAY_SORT(_collected), _o -> _o._v)", read="spark")
        return template.transform(
            lambda n: collected if isinstance(n, exp.Column) and n.name == "_collected" else n
        )

    return keyed, unwrap


def _struct_as_row(node: exp.Expression) -> exp.Expression:
    """A struct literal `{'t': a, 'e': b}` (the queries' tie-break keys: `arg_min(x, {time, id})`)
    as Trino's `ROW(a, b)`: rows compare field by field in order, as DuckDB's structs do, and
    Trino cannot type a named struct literal without a schema."""
    if (
        isinstance(node, exp.Struct)
        and node.expressions
        and all(isinstance(e, exp.PropertyEQ) for e in node.expressions)
    ):
        return exp.Anonymous(this="ROW", expressions=[e.expression for e in node.expressions])
    return node


def translate_tree(tree: exp.Expression, dialect: str, name: str = "query") -> str:
    """SQL text for `dialect` from a tree (macros already inlined), with the last guard."""
    if dialect not in DIALECTS:
        raise TranslationError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "spark":
        tree = duckdb_semantics_on_spark(tree)
    elif dialect in ("athena", "trino"):
        tree = tree.transform(_struct_as_row)
    try:
        text = tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, pretty=True)
    except SqlglotError as exc:
        raise TranslationError(f"{name!r} does not translate to {dialect}: {_first_line(exc)}") from None
    if dialect != "duckdb":
        names = DUCKDB_ONLY + MISSING.get(dialect, ())
        leftover = re.compile(r"\b(" + "|".join(names) + r")\s*\(", re.I)
        leftovers = sorted({m.group(1).upper() for m in leftover.finditer(text)})
        if leftovers:
            raise TranslationError(
                f"{name!r} uses DuckDB-only {', '.join(leftovers)}, which {dialect} does not have"
            )
    return text


def translate(query: str | Query, dialect: str = "trino") -> str:
    """The query's SQL in `dialect` with the vocabulary inlined (its views left as names the
    target must provide), or TranslationError naming what does not translate."""
    q = get_query(query) if isinstance(query, str) else query
    if dialect not in DIALECTS:
        raise TranslationError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "duckdb":
        return q.sql
    return _translated(q.id, q.sql, dialect)


@functools.lru_cache(maxsize=512)
def _translated(qid: str, sql: str, dialect: str) -> str:
    """One translation per query text and dialect (sqlglot takes a second or more on the longest
    queries; the hunt on Spark, `sql` and the tests ask for the same ones again)."""
    try:
        tree = fold_vocabulary_subqueries(inline_macros(parse(sql), vocabulary(dialect)))
    except TranslationError as exc:
        raise TranslationError(f"query {qid!r}: {exc}") from None
    return translate_tree(tree, dialect, f"query {qid}")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def self_contained(tree: exp.Expression, dialect: str) -> exp.Expression:
    """The query with the vocabulary's views it reads (and theirs) as leading common table
    expressions, and the vocabulary's tables still read after folding as VALUES: one statement
    that runs where no vocabulary is installed (Athena, Trino, a Spark shell)."""
    vocab = vocabulary(dialect)
    views = dict(vocab.views)
    tables = {t.lower() for t in vocab.tables}
    order: list[str] = []

    def visit(node: exp.Expression) -> None:
        for t in node.find_all(exp.Table):
            name = t.name
            if name in views and name not in order:
                visit(views[name])
                order.append(name)

    visit(tree)
    ctes = [(name, _view_body(dialect, name).copy()) for name in order]
    used = {t.name.lower() for node in [tree, *(body for _, body in ctes)] for t in node.find_all(exp.Table)}
    data = []
    for table in sorted(used & tables):
        rel = vocabulary_connection().sql(f"SELECT * FROM {table}")
        rows = [exp.Tuple(expressions=[_value(v) for v in row]) for row in rel.fetchall()]
        alias = exp.TableAlias(
            this=exp.to_identifier("t"), columns=[exp.to_identifier(c) for c in rel.columns]
        )
        values = exp.Values(expressions=rows, alias=alias)
        data.append((table, exp.select("*").from_(values)))
    if not isinstance(tree, exp.Query) or not (data or ctes):
        return tree
    existing = tree.args.get("with_") or tree.args.get("with")
    own = list(existing.expressions) if existing else []
    new = [
        exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name))) for name, body in data + ctes
    ]
    tree = tree.copy()
    tree.set("with_" if "with_" in tree.arg_types else "with", exp.With(expressions=new + own))
    return tree


@functools.cache
def _view_body(dialect: str, name: str) -> exp.Expression:
    """A vocabulary view's body as `self_contained` writes it into a query (macros inlined,
    constant subqueries folded): worked out once per target, not once per query reading it
    (copy it before putting it into a tree)."""
    vocab = vocabulary(dialect)
    return fold_vocabulary_subqueries(inline_macros(dict(vocab.views)[name], vocab), vocab)


def _value(v: Any) -> exp.Expression:
    if v is None:
        return exp.null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, int | float):
        return exp.Literal.number(v)
    if isinstance(v, list):
        return exp.Array(expressions=[_value(x) for x in v])
    return exp.Literal.string(str(v))


def bind_for(
    tree: exp.Expression, q: Query, given: dict[str, Any], dialect: str
) -> tuple[exp.Expression, list[str]]:
    """Parameters bound the target's way (DESIGN.md, `sql ID`): strings stay placeholders
    (`:name` on Spark, `$name` on DuckDB; on Athena/Trino positional `?`, in WHERE only, their
    order returned); numbers, times and strings outside WHERE on Athena/Trino become typed
    literals built by sqlglot from the validated values."""
    bound = q.bind(given)
    types = {p.name: p.type for p in q.params}
    order: list[str] = []

    def is_string(name: str) -> bool:
        return types[name].upper() in ("VARCHAR", "TEXT", "STRING")

    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Placeholder | exp.Parameter):
            return node
        name = node.name
        if name not in types:
            raise TranslationError(f"parameter {name!r} is not declared")
        if is_string(name):
            if dialect in ("spark", "duckdb"):
                return exp.Placeholder(this=name)
            if node.find_ancestor(exp.Where) is not None:
                order.append(name)
                return exp.Placeholder()
        return typed_literal(bound.get(name), types[name])

    return tree.transform(replace), order


def sql_for(query: str | Query, dialect: str, given: dict[str, Any] | None = None) -> str:
    """`forensics sql ID --dialect`: the query as one statement for `dialect`, vocabulary inlined
    (macros, folded vocabulary tables, views as CTEs), parameters bound the target's way."""
    q = get_query(query) if isinstance(query, str) else query
    text, order = statement_for(q, dialect, given)
    if dialect == "duckdb":
        return (
            f"-- {q.id}: DuckDB, on a case (the vocabulary is installed on every case connection)\n{text}\n"
        )
    head = [f"-- {q.id}: {dialect}, over tables shaped like the case's (cloudtrail, vpc_flows, billing, ...)"]
    if dialect in ("athena", "trino"):
        head.append("-- not executed here: parsed in the target dialect and run back on DuckDB by the tests")
        head.append("-- parameters, in order: " + (", ".join(order) if order else "none"))
    return "\n".join(head) + "\n" + text + "\n"


def statement_for(
    query: str | Query, dialect: str, given: dict[str, Any] | None = None
) -> tuple[str, list[str]]:
    """The statement `sql_for` prints, without its header, and the names of its positional
    parameters in order (Athena/Trino; empty elsewhere): what a client runs."""
    q = get_query(query) if isinstance(query, str) else query
    if dialect not in DIALECTS:
        raise TranslationError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    tree, order = bind_for(parse(q.sql), q, given or {}, dialect)
    if dialect == "duckdb":
        return tree.sql(dialect="duckdb", pretty=True), order
    vocab = vocabulary(dialect)
    tree = self_contained(fold_vocabulary_subqueries(inline_macros(tree, vocab), vocab), dialect)
    return translate_tree(tree, dialect, f"query {q.id}"), order
