"""The views onto the Athena tables over AWS Data Exports, CUR 2.0 (`cur2`) and FOCUS with AWS
columns (`focus`): a table with the documented names and types (maps as maps), built from the
evidence the loader read, through the view gives the loader's `billing` rows column by column,
on DuckDB and on Spark. The evidence: a CUR 2.0 export made of the sample incident's and every
query fixture's CUR rows plus the billing tests' CUR 2.0 rows; the FOCUS corpus file (real,
anonymised) plus the billing tests' FOCUS rows. Also: the precedence of the region and instance
type candidates, written by hand, is what the loader and every billing view give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from typer.testing import CliRunner

import forensics
from forensics.cli import app
from forensics.engines.compare import differences
from forensics.ingest.billing_columns import BILLING_COLUMNS
from forensics.ingest.tabular import quote_ident, quote_literal
from forensics.lake.views import view_select
from forensics.lake.views.tables import (
    ATHENA_TO_DUCKDB,
    CUR2,
    CUR_LEGACY,
    FOCUS_AWS,
    cur_parquet_name,
)

from ..ingest.fixtures_evidence import ACCT, FOCUS_COLUMNS, csv_text, focus_row, write, write_cur2_parquet
from .view_checks import duckdb_view_rows, spark_view_rows

pytestmark = pytest.mark.xdist_group("spark")

# What an Athena table over an export cannot supply: the file, the execution, its time.
NOT_SUPPLIED = {"source_file", "delivery", "delivered_at"}
TABLES = {"cur2": CUR2, "focus": FOCUS_AWS}
FOCUS_SAMPLE = "focus_sample_data/FOCUS-1.0/focus_sample.csv"
OTHER = "098765432109"  # the billing tests' rows under an account of their own


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]


def _load_whole(evidence: list[Path], path: Path) -> Path:
    """A case holding the evidence, every line item of every file loaded (none rejected or
    superseded), so the table built from the same files has the same rows."""
    with forensics.Case(path) as case:
        case.load(evidence, on_problem=lambda line: None)
        bad = case.con.execute(
            "SELECT path, status, records_read, records_loaded FROM sources "
            "WHERE status <> 'loaded' OR records_read <> records_loaded"
        ).fetchall()
        assert bad == []
    return path


# --- CUR 2.0 ------------------------------------------------------------------------------------


def _legacy_cur_files(lake_case: Path) -> list[str]:
    with forensics.Case(lake_case, read_only=True) as case:
        rows = case.con.execute(
            "SELECT path FROM sources WHERE format = 'cur_legacy_csv' AND status = 'loaded' ORDER BY path"
        ).fetchall()
    return [r[0] for r in rows]


def _as_cur2_export(files: list[str], folder: Path) -> None:
    """The legacy CUR rows as a CUR 2.0 Data Export in Parquet: the same line items under the
    fixed snake_case names, product attributes in the `product` map (the region code also
    flattened, as CUR 2.0 does; the instance type only in the map), tags in `resource_tags`,
    one `BILLING_PERIOD=YYYY-MM` folder per period."""
    listed = "[" + ", ".join(quote_literal(f) for f in files) + "]"
    reader = (
        f"read_csv({listed}, header = true, all_varchar = true, union_by_name = true, delim = ',', "
        "quote = '\"', escape = '\"')"
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    headers = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    by_name = {cur_parquet_name(h): h for h in headers}
    by_name.setdefault("product_region_code", by_name.get("product_region"))

    def entries(prefix: str, key_prefix: str) -> str:
        keys = {h: cur_parquet_name(h)[len(key_prefix) :] for h in headers if h.startswith(prefix)}
        pairs = [f"{{'k': {quote_literal(k)}, 'v': nullif({quote_ident(h)}, '')}}" for h, k in keys.items()]
        return f"map_from_entries(list_filter([{', '.join(pairs)}], lambda e: e.v IS NOT NULL))"

    cols = []
    for column, _, typ in CUR2:
        header = by_name.get(column)
        if column == "product":
            value = entries("product/", "product_")
        elif column == "resource_tags":
            value = entries("resourceTags/", "resource_tags_")
        elif column == "product_instance_type" or header is None:
            value = "NULL"
        elif typ == "timestamp":
            value = f"timezone('UTC', TRY_CAST(nullif({quote_ident(header)}, '') AS TIMESTAMPTZ))"
        else:
            value = quote_ident(header)
        if column == "billing_period":
            start = quote_ident(by_name["bill_billing_period_start_date"])
            usage = quote_ident(by_name["line_item_usage_start_date"])
            value = f"strftime(TRY_CAST(coalesce({start}, {usage}) AS TIMESTAMPTZ), '%Y-%m')"
            cols.append(f"{value} AS BILLING_PERIOD")
            continue
        cols.append(f"CAST({value} AS {ATHENA_TO_DUCKDB[typ]}) AS {quote_ident(column)}")
    folder.mkdir(parents=True)
    con.execute(
        f"COPY (SELECT {', '.join(cols)} FROM {reader}) TO {quote_literal(str(folder))} "
        "(FORMAT parquet, PARTITION_BY (BILLING_PERIOD))"
    )


# The billing tests' CUR 2.0 rows (test_billing.test_cur2_parquet_with_map_columns...): the region
# from the flattened code, from the product map, from the usage type's prefix, and none.
BILLING_TEST_CUR2 = [
    ("2026-11-16 03:00:00", OTHER, "APS3-BoxUsage:g4dn.12xlarge", "ap-south-1", None,
     "i-004aa4b392dd23179", 3.912, {"user:Name": "miner"}),
    ("2026-11-16 03:00:00", OTHER, "EUN1-BoxUsage:p3.2xlarge", None, "eu-north-1", "i-0aaa", 3.06, {}),
    ("2026-11-16 04:00:00", OTHER, "EU-BoxUsage:m5.large", None, None, "i-0bbb", 0.107, {}),
    ("2026-11-16 05:00:00", OTHER, "BoxUsage:t3.micro", None, None, "i-0ccc", 0.0104, {}),
]  # fmt: skip


@pytest.fixture(scope="module")
def cur2_export(lake_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cur2") / "exports"
    _as_cur2_export(_legacy_cur_files(lake_case), root / "incident-cur2" / "data")
    part = root / "sakura-cur2" / "data" / "BILLING_PERIOD=2026-11" / "sakura-cur2-00001.snappy.parquet"
    write_cur2_parquet(part, BILLING_TEST_CUR2)
    return root


# --- FOCUS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def focus_files(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The FOCUS corpus file, read in place, and the billing tests' FOCUS rows (a region only in
    the usage type's prefix: RegionId is a literal NULL there)."""
    ours = tmp_path_factory.mktemp("focus") / "focus-00001.csv"
    write(ours, csv_text([focus_row(n, f"{n}.25", account=OTHER) for n in range(30)], FOCUS_COLUMNS))
    return [corpus / FOCUS_SAMPLE, ours]


# --- the tables, the loader's rows ---------------------------------------------------------------


def _cur2_table_sql(export: Path) -> str:
    """AWS's CUR 2.0 table over the export's Parquet files: the documented columns and types
    (a column the files lack is NULL, as Athena reads it), the period folder the partition."""
    files = quote_literal(str(export / "**" / "*.parquet"))
    reader = (
        f"read_parquet({files}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
    )
    present = {r[0].lower() for r in duckdb.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    cols = [
        f"CAST({quote_ident(c) if c in present else 'NULL'} AS {ATHENA_TO_DUCKDB[t]}) AS {quote_ident(c)}"
        for c, _, t in CUR2
    ]
    return f"SELECT {', '.join(cols)} FROM {reader}"


def _focus_table_sql(files: list[Path]) -> str:
    """AWS's FOCUS table from the export's CSV text: Glue's lower-case names, costs doubles,
    periods timestamps (the file writes UTC without a zone), Tags a map; 'NULL' is no value."""
    listed = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    reader = (
        f"read_csv({listed}, header = true, all_varchar = true, union_by_name = true, delim = ',', "
        "quote = '\"', escape = '\"', nullstr = ['', 'NULL'])"
    )
    present = {r[0].lower() for r in duckdb.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    cols = []
    for column, name, typ in FOCUS_AWS:
        value = quote_ident(name) if column in present else "NULL"
        if typ.startswith("map") and column in present:
            as_map = f"TRY_CAST(CAST({value} AS JSON) AS {ATHENA_TO_DUCKDB[typ]})"
            value = f"CASE WHEN json_valid({value}) THEN {as_map} END"
        cols.append(f"TRY_CAST({value} AS {ATHENA_TO_DUCKDB[typ]}) AS {quote_ident(column)}")
    return f"SELECT {', '.join(cols)} FROM {reader}"


@pytest.fixture(scope="module")
def tables(
    cur2_export: Path, focus_files: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Path]]:
    """Per view: (the loader's case of the evidence, the documented table as one Parquet file)."""
    root = tmp_path_factory.mktemp("data_exports")
    built = {"cur2": _cur2_table_sql(cur2_export), "focus": _focus_table_sql(focus_files)}
    evidence = {"cur2": [cur2_export], "focus": focus_files}
    out = {}
    for source, select in built.items():
        table = root / f"{source}.parquet"
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        ddl = ", ".join(f"{quote_ident(c)} {ATHENA_TO_DUCKDB[t]}" for c, _, t in TABLES[source])
        con.execute(f"CREATE TABLE {source} ({ddl})")
        con.execute(f"INSERT INTO {source} {select}")
        con.execute(f"COPY {source} TO {quote_literal(str(table))} (FORMAT parquet)")
        out[source] = (_load_whole(evidence[source], root / f"{source}.duckdb"), table)
    return out


def _expected(case_path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    with forensics.Case(case_path, read_only=True) as case:
        columns = _columns(case.con, "billing")
        compared = [c for c in columns if c not in NOT_SUPPLIED]
        rows = case.sql(f"SELECT {', '.join(compared)} FROM billing").to_dicts()
    return columns, rows


@pytest.mark.parametrize("source", ["cur2", "focus"])
def test_duckdb_export_table_through_the_view_gives_the_loaders_rows(source: str, tables) -> None:
    case_path, table = tables[source]
    columns, expected = _expected(case_path)
    compared = [c for c in columns if c not in NOT_SUPPLIED]
    with forensics.Case(case_path, read_only=True) as case:
        con = case.con
        got = duckdb_view_rows(con, source, table, TABLES[source], compared)
        assert differences(expected, got) == []
        assert con.execute(
            "SELECT count(*) FROM billing_view WHERE source_file IS NOT NULL OR delivered_at IS NOT NULL "
            "OR delivery NOT LIKE '%Athena table%' OR source_format <> $f",
            {"f": source},
        ).fetchone() == (0,)
    if source == "cur2":
        assert len(got) > 2000  # the sample's hourly CUR, the fixtures', the billing tests'
        # the billing tests' facts (test_billing.py): map, prefix, none; tags from the map
        facts = {
            r["resource_id"]: (r["region"], r["instance_type"], json.loads(r["tags"]))
            for r in got
            if r["account_id"] == OTHER
        }
        assert facts == {
            "i-004aa4b392dd23179": ("ap-south-1", "g4dn.12xlarge", {"user:Name": "miner"}),
            "i-0aaa": ("eu-north-1", "p3.2xlarge", {}),
            "i-0bbb": ("eu-west-1", "m5.large", {}),
            "i-0ccc": ("us-east-1", "t3.micro", {}),
        }
        assert all(r["billing_period"] == "2026-11" for r in got if r["account_id"] == OTHER)
        # the incident's GPU instance type came from the product map alone
        assert {r["instance_type"] for r in got if r["account_id"] != OTHER} >= {"g4dn.12xlarge"}
    else:
        assert len(got) == 1030 and sum(r["provider"] == "AWS" for r in got) == 942 + 30
        # the corpus file's first line (test_billing.test_focus_sample)
        by_resource = {(r["resource_id"], r["usage_start"].isoformat()): r for r in got}
        first = by_resource[
            ("arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12", "2024-09-18T22:00:00+00:00")
        ]
        assert (first["account_id"], first["service"], first["region"], first["cost"]) == (
            "51738928782",
            "Amazon Simple Queue Service",
            "us-west-2",
            8e-07,
        )
        ours = [r for r in got if r["account_id"] == OTHER]
        assert {(r["region"], r["instance_type"], r["service"]) for r in ours} == {
            ("us-west-2", "p3.2xlarge", "AmazonEC2")  # RegionId NULL: the usage type's prefix
        }
        assert sum(r["tags"] is not None for r in got) == 711 + 30


@pytest.mark.parametrize("source", ["cur2", "focus"])
def test_spark_export_table_through_the_view_gives_the_loaders_rows(source: str, spark, tables) -> None:
    case_path, table = tables[source]
    columns, expected = _expected(case_path)
    compared = [c for c in columns if c not in NOT_SUPPLIED]
    got = spark_view_rows(spark, source, table, TABLES[source], columns, compared)
    assert len(got) == len(expected) and differences(expected, got) == []


# --- which candidate wins, written by hand -----------------------------------------------------------

# (product_region_code, product map, product_instance_type, usage type) -> (region, instance type):
# the flattened column, then the map's region_code, then its region, then the usage type; a blank
# value is no value (billing_columns.TARGETS and MAP_CANDIDATES).
CUR2_PRECEDENCE = [
    ("eu-north-1", {"region_code": "ap-south-1", "region": "us-west-2", "instance_type": "m5.large"},
     "p3.2xlarge", "APN1-BoxUsage:g4dn.xlarge", ("eu-north-1", "p3.2xlarge")),
    (None, {"region_code": "ap-south-1", "region": "us-west-2", "instance_type": "m5.large"},
     None, "APN1-BoxUsage:g4dn.xlarge", ("ap-south-1", "m5.large")),
    (None, {"region": "us-west-2"}, None, "APN1-BoxUsage:g4dn.xlarge", ("us-west-2", "g4dn.xlarge")),
    (" ", {"region_code": ""}, "", "APN1-BoxUsage:g4dn.xlarge", ("ap-northeast-1", "g4dn.xlarge")),
    (None, {}, None, "BoxUsage:t3.micro", ("us-east-1", "t3.micro")),
]  # fmt: skip
# (product_region_code, product_region, usage type) -> region, for a legacy CUR
LEGACY_PRECEDENCE = [
    ("eu-north-1", "ap-northeast-1", "APN1-BoxUsage:g4dn.xlarge", "eu-north-1"),
    (None, "us-west-2", "APN1-BoxUsage:g4dn.xlarge", "us-west-2"),
    (None, None, "EU-BoxUsage:m5.large", "eu-west-1"),
]


def _cur2_precedence_table(con) -> None:
    ddl = ", ".join(f"{quote_ident(c)} {ATHENA_TO_DUCKDB[t]}" for c, _, t in CUR2)
    con.execute(f"CREATE TABLE cur2 ({ddl})")
    for n, (code, product, itype, usage, _) in enumerate(CUR2_PRECEDENCE):
        con.execute(
            "INSERT INTO cur2 (identity_line_item_id, line_item_usage_start_date, "
            "line_item_usage_account_id, line_item_unblended_cost, line_item_usage_type, "
            "product_region_code, product, product_instance_type, billing_period) VALUES (?, "
            "TIMESTAMP '2026-11-16 03:00:00', ?, 1.0, ?, ?, map(?::VARCHAR[], ?::VARCHAR[]), ?, '2026-11')",
            [f"p{n}", ACCT, usage, code, list(product), list(product.values()), itype],
        )


def _legacy_precedence_table(con) -> None:
    ddl = ", ".join(f"{quote_ident(c)} {ATHENA_TO_DUCKDB[t]}" for c, _, t in CUR_LEGACY)
    con.execute(f"CREATE TABLE cur ({ddl})")
    for n, (code, region, usage, _) in enumerate(LEGACY_PRECEDENCE):
        con.execute(
            "INSERT INTO cur (identity_line_item_id, line_item_usage_start_date, line_item_usage_account_id, "
            "line_item_unblended_cost, line_item_usage_type, product_region_code, product_region) "
            "VALUES (?, TIMESTAMP '2026-11-16 03:00:00', ?, 1.0, ?, ?, ?)",
            [f"p{n}", ACCT, usage, code, region],
        )


def _precedence_rows(source: str, engine: str, request, tmp_path: Path) -> dict[str, tuple]:
    """line item id -> (region, instance type) through the view on `engine`, or the loader."""
    tmp_path.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    (_cur2_precedence_table if source == "cur2" else _legacy_precedence_table)(con)
    query = "SELECT line_item_id, region, instance_type FROM {}"
    if engine == "duckdb":
        return {r[0]: r[1:] for r in con.execute(query.format(f"({view_select(source)})")).fetchall()}
    if engine == "spark":
        path = tmp_path / f"{source}.parquet"
        con.execute(f"COPY {source} TO {quote_literal(str(path))} (FORMAT parquet)")
        fields = TABLES.get(source, CUR_LEGACY)
        picked = ["line_item_id", "region", "instance_type"]
        spark = request.getfixturevalue("spark")
        rows = spark_view_rows(spark, source, path, fields, BILLING_COLUMNS, picked)
        return {r["line_item_id"]: (r["region"], r["instance_type"]) for r in rows}
    # the loader, reading the same rows as the export's own file
    if source == "cur2":
        evidence = tmp_path / "x" / "data" / "BILLING_PERIOD=2026-11" / "x-00001.parquet"
        evidence.parent.mkdir(parents=True)
        con.execute(
            "COPY (SELECT * EXCLUDE (billing_period) FROM cur2) "
            f"TO {quote_literal(str(evidence))} (FORMAT parquet)"
        )
    else:  # a legacy CUR's CSV, with its header names
        evidence = tmp_path / "report-1.csv"
        names = {c: h for c, h, _ in CUR_LEGACY}
        select = ", ".join(f"{quote_ident(c)} AS {quote_ident(names[c])}" for c in names)
        con.execute(f"COPY (SELECT {select} FROM cur) TO {quote_literal(str(evidence))} (FORMAT csv, HEADER)")
    with forensics.Case(tmp_path / "case.duckdb") as case:
        case.load([evidence], on_problem=lambda line: None)
        return {r[0]: r[1:] for r in case.con.execute(query.format("billing")).fetchall()}


@pytest.mark.parametrize("engine", ["loader", "duckdb", "spark"])
def test_the_region_and_instance_type_candidates_win_in_the_loaders_order(
    engine: str, request, tmp_path
) -> None:
    cur2 = _precedence_rows("cur2", engine, request, tmp_path / "cur2")
    assert cur2 == {f"p{n}": want for n, (*_, want) in enumerate(CUR2_PRECEDENCE)}
    legacy = _precedence_rows("cur", engine, request, tmp_path / "cur")
    assert {k: v[0] for k, v in legacy.items()} == {
        f"p{n}": row[-1] for n, row in enumerate(LEGACY_PRECEDENCE)
    }


# --- the text of the views ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["cur2", "focus"])
def test_the_cli_prints_the_view_for_athena(source: str) -> None:
    out = CliRunner().invoke(app, ["sql", "--view", source, "--dialect", "athena"])
    assert out.exit_code == 0, out.output
    [stmt] = sqlglot.parse(out.output, read="athena")
    assert isinstance(stmt, sqlglot.exp.Create)
    assert {t.name for t in stmt.expression.find_all(sqlglot.exp.Table)} == {source}
    # a map read without a failure on a missing key, and written as JSON the Trino way
    if source == "cur2":
        assert "ELEMENT_AT(" in out.output and "product[" not in out.output
    assert "JSON_FORMAT(CAST(" in out.output and "TO_JSON" not in out.output
