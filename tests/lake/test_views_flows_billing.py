"""The views onto AWS's Athena tables for VPC flow logs (`vpc_flow_logs`) and a legacy CUR in
Parquet (`cur`): a table with AWS's documented column names and types, built from the evidence
files the loader read (the sample incident and every query fixture), through the view gives the
loader's rows, column by column; the same on Spark (the table as AWS's Parquet form); and each
view parses under Athena, Trino and Spark, self-contained (the views onto the Data Exports'
tables, `cur2` and `focus`, too: their rows are tested in test_views_data_exports.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

import forensics
from forensics.engines.compare import differences
from forensics.ingest.tabular import quote_ident, quote_literal
from forensics.lake.views import view_select, view_sql
from forensics.lake.views.tables import ATHENA_TO_DUCKDB, ATHENA_TO_SPARK, CUR_LEGACY, VPC_FLOW_LOGS

from .view_checks import duckdb_view_rows, spark_view_rows

pytestmark = pytest.mark.xdist_group("spark")

# What AWS's flow-log table cannot supply: NULL in the view and named in record_flags.
FLOW_NOT_SUPPLIED = {
    "ecs_cluster_arn", "ecs_cluster_name", "ecs_container_instance_arn", "ecs_container_instance_id",
    "ecs_container_id", "ecs_second_container_id", "ecs_service_name", "ecs_task_definition_arn",
    "ecs_task_arn", "ecs_task_id", "reject_reason", "extra", "source_file", "source_position",
}  # fmt: skip
FLOW_FLAGS = ["no source file", "ecs fields and reject_reason not in source"]
# What AWS's CUR table cannot supply (or says differently: the format it is in)
BILLING_NOT_SUPPLIED = {"source_format", "source_file", "tags", "delivery", "delivered_at"}


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]


def _files(lake_case: Path, formats: tuple[str, ...], table: str) -> list[str]:
    """Evidence files of these formats the loader took whole: every record read is a row of
    `table` (none rejected, none superseded by a later delivery of the same bill)."""
    with forensics.Case(lake_case, read_only=True) as case:
        rows = case.con.execute(
            f"SELECT path FROM sources JOIN (SELECT source_file AS path, count(*) AS n FROM {table} "
            "GROUP BY ALL) USING (path) WHERE format IN (SELECT unnest($f)) AND status = 'loaded' "
            "AND n = records_read ORDER BY path",
            {"f": list(formats)},
        ).fetchall()
    return [r[0] for r in rows]


# --- VPC flow logs ------------------------------------------------------------------------------


def _flow_table_sql(files: list[str]) -> str:
    """SELECT building AWS's `vpc_flow_logs` rows from flow-log files with a header line, as
    Athena's delimited SerDe reads them: a string column keeps '-', a number column is NULL
    where the text is not a number; fields outside AWS's DDL are not in the table."""
    parts = []
    con = duckdb.connect()
    for path in files:
        header = con.execute(
            f"SELECT line FROM read_csv({quote_literal(path)}, columns = {{'line': 'VARCHAR'}}, "
            "delim = '\x1f', quote = '', header = false, auto_detect = false) LIMIT 1"
        ).fetchone()[0]
        fields = [f.strip("${}") for f in header.split()]
        spec = ", ".join(f"{quote_literal(f)}: 'VARCHAR'" for f in fields)
        cols = []
        for column, field, typ in VPC_FLOW_LOGS:
            value = quote_ident(field) if field in fields else "NULL"
            if column == "region" and field not in fields:
                # a record without its region: the table's `region` partition (partition
                # projection over AWSLogs/<account>/vpcflowlogs/<region>/...) gives it
                value = (
                    quote_literal(m.group(1))
                    if (m := re.search(r"/vpcflowlogs/([a-z0-9-]+)/", path))
                    else "NULL"
                )
            cols.append(f"TRY_CAST({value} AS {ATHENA_TO_DUCKDB[typ]}) AS {quote_ident(column)}")
        parts.append(
            f"SELECT {', '.join(cols)} FROM read_csv({quote_literal(path)}, columns = {{{spec}}}, "
            "delim = ' ', quote = '', escape = '', header = true, auto_detect = false)"
        )
    return "\nUNION ALL\n".join(parts)


@pytest.fixture(scope="module")
def flow_files(lake_case: Path) -> list[str]:
    files = _files(lake_case, ("vpcflow-text",), "vpc_flows")
    assert any("vpcflowlogs" in f for f in files) and any(f.endswith("flows.log") for f in files)
    return files


@pytest.fixture(scope="module")
def flow_rows(lake_case: Path, flow_files: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    with forensics.Case(lake_case, read_only=True) as case:
        columns = _columns(case.con, "vpc_flows")
        compared = [c for c in columns if c not in FLOW_NOT_SUPPLIED]
        rows = case.sql(
            f"SELECT {', '.join(compared)} FROM vpc_flows WHERE source_file IN (SELECT unnest($f))",
            f=flow_files,
        ).to_dicts()
    assert len(rows) > 1000  # the sample's flows and the fixtures'
    return columns, rows


_OWN_FLOW_FLAGS = ", ".join(f"'{f}'" for f in FLOW_FLAGS)


def _flow_compared(columns: list[str], spark: bool = False) -> list[str]:
    own = (
        f"filter(record_flags, f -> NOT array_contains(array({_OWN_FLOW_FLAGS}), f)) AS record_flags"
        if spark
        else f"list_filter(record_flags, lambda f: NOT list_contains([{_OWN_FLOW_FLAGS}], f)) AS record_flags"
    )
    return [own if c == "record_flags" else c for c in columns if c not in FLOW_NOT_SUPPLIED]


@pytest.fixture(scope="module")
def flow_logs_parquet(flow_files: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AWS's flow-log table from the evidence, written as its Parquet form (the same columns)."""
    path = tmp_path_factory.mktemp("vpc_flow_logs") / "vpc_flow_logs.parquet"
    con = duckdb.connect()
    ddl = ", ".join(f"{quote_ident(c)} {ATHENA_TO_DUCKDB[t]}" for c, _, t in VPC_FLOW_LOGS)
    con.execute(f"CREATE TABLE vpc_flow_logs ({ddl})")
    con.execute(f"INSERT INTO vpc_flow_logs {_flow_table_sql(flow_files)}")
    con.execute(f"COPY vpc_flow_logs TO {quote_literal(str(path))} (FORMAT parquet)")
    return path


def test_duckdb_flow_table_through_the_view_gives_the_loaders_rows(
    lake_case: Path, flow_rows, flow_logs_parquet
):
    columns, expected = flow_rows
    with forensics.Case(lake_case, read_only=True) as case:
        con = case.con
        compared = _flow_compared(columns)
        got = duckdb_view_rows(con, "vpc_flow_logs", flow_logs_parquet, VPC_FLOW_LOGS, compared)
        assert differences(expected, got) == []
        # some rows carry what the view must derive: '-' as NULL, a start time, a flag
        assert any(r["tcp_flags"] is None for r in got) and all(r["start_time"] for r in got)
        nulls = " AND ".join(f"{c} IS NULL" for c in sorted(FLOW_NOT_SUPPLIED))
        assert con.execute(
            f"SELECT count(*) FROM vpc_flows_view WHERE NOT ({nulls}) OR NOT list_has_all(record_flags, $f)",
            {"f": FLOW_FLAGS},
        ).fetchone() == (0,)


def test_spark_flow_table_through_the_view_gives_the_loaders_rows(spark, flow_rows, flow_logs_parquet):
    columns, expected = flow_rows
    compared = _flow_compared(columns, True)
    got = spark_view_rows(spark, "vpc_flow_logs", flow_logs_parquet, VPC_FLOW_LOGS, columns, compared)
    assert differences(expected, got) == []


# --- Legacy CUR in Parquet (the CUR Athena integration) ----------------------------------------------


@pytest.fixture(scope="module")
def cur_files(lake_case: Path) -> list[str]:
    files = _files(lake_case, ("cur_legacy_csv",), "billing")
    assert any("sakura-hourly-cur" in f for f in files)
    return files


def _cur_table_sql(files: list[str]) -> str:
    """SELECT building AWS's CUR table rows from the report's CSV files: the Parquet column names,
    times as UTC timestamps, amounts as doubles; a column no file has is NULL (the view is
    pointed at a table that has it: the header of cur.sql)."""
    listed = "[" + ", ".join(quote_literal(f) for f in files) + "]"
    reader = (
        f"read_csv({listed}, header = true, all_varchar = true, union_by_name = true, delim = ',', "
        "quote = '\"', escape = '\"')"
    )
    present = {r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    cols = []
    for column, header, typ in CUR_LEGACY:
        value = f"nullif({quote_ident(header)}, '')" if header in present else "NULL"
        if typ == "timestamp":
            value = f"timezone('UTC', TRY_CAST({value} AS TIMESTAMPTZ))"
        cols.append(f"CAST({value} AS {ATHENA_TO_DUCKDB[typ]}) AS {quote_ident(column)}")
    return f"SELECT {', '.join(cols)} FROM {reader}"


@pytest.fixture(scope="module")
def cur_parquet(cur_files: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cur") / "cur.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ddl = ", ".join(f"{quote_ident(c)} {ATHENA_TO_DUCKDB[t]}" for c, _, t in CUR_LEGACY)
    con.execute(f"CREATE TABLE cur ({ddl})")
    con.execute(f"INSERT INTO cur {_cur_table_sql(cur_files)}")
    con.execute(f"COPY cur TO {quote_literal(str(path))} (FORMAT parquet)")
    return path


@pytest.fixture(scope="module")
def billing_rows(lake_case: Path, cur_files: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    with forensics.Case(lake_case, read_only=True) as case:
        columns = _columns(case.con, "billing")
        compared = [c for c in columns if c not in BILLING_NOT_SUPPLIED]
        rows = case.sql(
            f"SELECT {', '.join(compared)} FROM billing WHERE source_file IN (SELECT unnest($f))", f=cur_files
        ).to_dicts()
    assert len(rows) > 2000  # the sample's hourly CUR and the fixtures'
    return columns, rows


def test_duckdb_cur_table_through_the_view_gives_the_loaders_rows(lake_case: Path, billing_rows, cur_parquet):
    columns, expected = billing_rows
    compared = [c for c in columns if c not in BILLING_NOT_SUPPLIED]
    with forensics.Case(lake_case, read_only=True) as case:
        con = case.con
        got = duckdb_view_rows(con, "cur", cur_parquet, CUR_LEGACY, compared)
        assert differences(expected, got) == []
        # the derivations were exercised: a region from a usage-type prefix, an instance type
        assert {r["region"] for r in got} >= {"ap-northeast-1"} and any(r["instance_type"] for r in got)
        assert con.execute(
            "SELECT count(*) FROM billing_view WHERE source_file IS NOT NULL OR tags IS NOT NULL "
            "OR delivered_at IS NOT NULL OR source_format <> 'cur_legacy_parquet' "
            "OR delivery NOT LIKE '%Athena%'"
        ).fetchone() == (0,)


def test_spark_cur_table_through_the_view_gives_the_loaders_rows(spark, billing_rows, cur_parquet):
    columns, expected = billing_rows
    compared = [c for c in columns if c not in BILLING_NOT_SUPPLIED]
    got = spark_view_rows(spark, "cur", cur_parquet, CUR_LEGACY, columns, compared)
    assert differences(expected, got) == []


@pytest.mark.parametrize("source", ["vpc_flow_logs", "cur", "cur2", "focus"])
@pytest.mark.parametrize("dialect", ["athena", "trino", "spark"])
def test_the_views_parse_in_each_target(source: str, dialect: str) -> None:
    text = view_sql(source, dialect)
    [stmt] = sqlglot.parse(text, read=dialect)
    assert isinstance(stmt, sqlglot.exp.Create)
    assert {t.name for t in stmt.expression.find_all(sqlglot.exp.Table)} == {source}
    assert "view_" not in text.lower()  # every helper inlined
    if dialect in ("athena", "trino") and source in ("cur", "cur2", "focus"):
        # Trino's regexp_extract gives NULL where DuckDB's gives '': no comparison with ''
        assert "map" not in text.lower().replace("map_", "") and "<> ''" not in text


# A report row without product_region takes its region from the usage type's prefix, and Trino's
# and Spark's regexp_extract differ from DuckDB's where nothing matches: written by hand, per engine.
USAGE_REGIONS = [
    ("APN1-BoxUsage:m6i.large", "ap-northeast-1", "m6i.large"),
    ("EU-DataTransfer-Out-Bytes", "eu-west-1", None),
    ("BoxUsage:t3.micro", "us-east-1", "t3.micro"),
    ("ca-central-1-KMS-Requests", "ca-central-1", None),
    ("USW2-SpotUsage:p3.16xlarge", "us-west-2", "p3.16xlarge"),
    ("Global-SoftwareUsage", None, None),
    ("ZZZ9-Unknown", None, None),
]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_the_cur_view_takes_the_region_and_instance_type_from_the_usage_type(engine: str, request) -> None:
    select = ", ".join(
        "u AS line_item_usage_type"
        if c == "line_item_usage_type"
        else f"CAST(NULL AS {ATHENA_TO_SPARK[t]}) AS {c}"
        for c, _, t in CUR_LEGACY
    )
    values = ", ".join(f"('{u}')" for u, _, _ in USAGE_REGIONS)
    table = f"SELECT {select} FROM (VALUES {values}) AS v(u)"
    expected = {u: (region, itype) for u, region, itype in USAGE_REGIONS}
    if engine == "duckdb":
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TABLE cur AS {table.replace('STRING', 'VARCHAR')}")
        got = con.execute(f"SELECT usage_type, region, instance_type FROM ({view_select('cur')})").fetchall()
    else:
        session = request.getfixturevalue("spark").newSession()
        session.sql(table).createOrReplaceTempView("cur")
        got = [
            tuple(r)
            for r in session.sql(view_select("cur", "spark"))
            .select("usage_type", "region", "instance_type")
            .collect()
        ]
    assert {u: (r, i) for u, r, i in got} == expected
