"""Running a shipped view over a documented table on DuckDB and on Spark, for the tests that
compare its rows with the loader's (test_views_flows_billing.py, test_views_data_exports.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forensics.ingest.tabular import quote_literal
from forensics.lake.views import get_view, view_select, view_sql
from forensics.lake.views.tables import ATHENA_TO_DUCKDB, ATHENA_TO_SPARK


def duckdb_view_rows(
    con, source: str, table: Path, fields: list[tuple[str, str, str]], compared: list[str]
) -> list[dict[str, Any]]:
    """The table (`source`, AWS's names and types as `fields` declare them, read from the Parquet
    file `table`) on the case's connection, the view over it as `<case table>_view`, which must
    have the case table's columns and types; the rows of `compared` (expressions) through it."""
    con.execute(f"CREATE TEMP TABLE {source} AS SELECT * FROM read_parquet({quote_literal(str(table))})")
    assert [(r[0], r[1]) for r in con.execute(f"DESCRIBE {source}").fetchall()] == [
        (c, ATHENA_TO_DUCKDB[t]) for c, _, t in fields
    ]
    target = get_view(source).target
    con.execute(view_sql(source, "duckdb", name=f"{target}_view"))
    shape = "SELECT column_name, column_type FROM (DESCRIBE {})"
    assert (
        con.execute(shape.format(f"{target}_view")).fetchall() == con.execute(shape.format(target)).fetchall()
    )
    return con.sql(f"SELECT {', '.join(compared)} FROM {target}_view").pl().to_dicts()


def spark_view_rows(
    spark,
    source: str,
    table: Path,
    fields: list[tuple[str, str, str]],
    columns: list[str] | tuple[str, ...],
    compared: list[str],
) -> list[dict[str, Any]]:
    """The same on Spark: the Parquet file read with AWS's types as the temp view `source`, the
    view's SELECT over it, which must give the case table's `columns` in order."""
    from pyspark.sql import functions as F

    from forensics.engines.spark import _python

    session = spark.newSession()
    typed = session.read.parquet(str(table)).select(
        *[F.col(c).cast(ATHENA_TO_SPARK[t]).alias(c) for c, _, t in fields]
    )
    typed.createOrReplaceTempView(source)
    view = session.sql(view_select(source, "spark"))
    assert view.columns == list(columns)
    return [_python(r.asDict(recursive=True)) for r in view.selectExpr(*compared).collect()]
