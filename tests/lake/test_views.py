"""The views onto AWS's `cloudtrail_logs` Athena table (forensics/lake/views): a table with AWS's
documented column names and types, built from the same evidence the loader read (the sample
incident and every query fixture), through the view gives the loader's rows; and catalogue
queries over the view give the rows they give over the case. DuckDB builds the table from each
record; Spark reads the trail files themselves with AWS's schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlglot

import forensics
from forensics.dialects import TranslationError
from forensics.engines.compare import differences
from forensics.lake.views import view_select, view_sql
from forensics.lake.views.tables import (
    CLOUDTRAIL_LOGS,
    TAILPIPE_CLOUDTRAIL_LOG,
    TAILPIPE_COMMON,
    duckdb_ddl,
    duckdb_select,
    spark_ddl,
)

from .test_spark import RULES_NOT_YET

pytestmark = pytest.mark.xdist_group("spark")

# What AWS's table cannot supply: NULL in the view, and named in record_flags.
NOT_SUPPLIED = {"raw", "source_file", "source_position", "load_id", "management_event", "envelope"}
FLAGS = ["no raw record", "no source file", "management_event not in source"]


def _trail_files(lake_case: Path) -> list[str]:
    """The evidence files in the trail's own shape ({"Records": [...]}): the sample's S3
    delivery and each fixture's cloudtrail.json."""
    evidence = lake_case.parent / "evidence"
    files = sorted(evidence.glob("sample/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"))
    files += sorted(evidence.glob("fixtures/*/*/cloudtrail.json"))
    return [str(f) for f in files]


def _compared(columns: list[str], flags: str = "record_flags") -> list[str]:
    """The columns compared: all but what the table cannot supply; the view's flags without
    those that say so (`flags`, an expression in the engine's SQL)."""
    return [flags if c == "record_flags" else c for c in columns if c not in NOT_SUPPLIED]


_QUOTED = ", ".join(f"'{f}'" for f in FLAGS)
OWN_FLAGS = f"filter(record_flags, lambda f: NOT list_contains([{_QUOTED}], f)) AS record_flags"
TAILPIPE_OWN_FLAGS = OWN_FLAGS.replace(", 'management_event not in source'", "")
SPARK_OWN_FLAGS = f"filter(record_flags, f -> NOT array_contains(array({_QUOTED}), f)) AS record_flags"


@pytest.fixture(scope="module")
def trail_case(lake_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The loader's case with only the events that came from trail files (what a table over
    those files holds); its other tables whole."""
    path = tmp_path_factory.mktemp("trail_case") / "case.duckdb"
    files = _trail_files(lake_case)
    with forensics.Case(path) as case:
        case.con.execute("ATTACH $p AS src (READ_ONLY)", {"p": str(lake_case)})
        tables = [
            r[0]
            for r in case.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = 'main'"
            ).fetchall()
        ]
        for table in tables:
            if case.con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]:
                continue  # the case's own bookkeeping (schema version), written on create
            where = "WHERE source_file IN (SELECT unnest($f))" if table == "cloudtrail" else ""
            case.con.execute(
                f"INSERT INTO main.{table} BY NAME SELECT * FROM src.{table} {where}",
                {"f": files} if where else {},
            )
        case.con.execute("DETACH src")
    return path


@pytest.fixture(scope="module")
def loader_rows(trail_case: Path) -> tuple[list[str], list[dict[str, Any]]]:
    with forensics.Case(trail_case, read_only=True) as case:
        columns = [r[0] for r in case.con.execute("SELECT column_name FROM (DESCRIBE cloudtrail)").fetchall()]
        rows = case.sql(f"SELECT {', '.join(_compared(columns))} FROM cloudtrail").to_dicts()
    assert len(rows) > 9000  # the sample's 8907 events and the fixtures'
    return columns, rows


def test_duckdb_table_with_aws_columns_through_the_view_gives_the_loaders_rows(
    trail_case: Path, loader_rows
) -> None:
    columns, expected = loader_rows
    with forensics.Case(trail_case, read_only=True) as case:
        con = case.con
        con.execute(f"CREATE TEMP TABLE cloudtrail_logs ({duckdb_ddl(CLOUDTRAIL_LOGS)})")
        con.execute(f"INSERT INTO cloudtrail_logs SELECT {duckdb_select(CLOUDTRAIL_LOGS)} FROM cloudtrail")
        con.execute(view_sql("cloudtrail_logs", "duckdb", name="cloudtrail_view"))
        # the case's columns, names and types, in the case's order
        shape = "SELECT column_name, column_type FROM (DESCRIBE {})"
        assert (
            con.execute(shape.format("cloudtrail_view")).fetchall()
            == con.execute(shape.format("cloudtrail")).fetchall()
        )
        got = (
            con.sql(f"SELECT {', '.join(_compared(columns, OWN_FLAGS))} FROM cloudtrail_view").pl().to_dicts()
        )
        assert differences(expected, got) == []
        # what the table cannot hold is NULL and said so, on every row
        nulls = " AND ".join(f"{c} IS NULL" for c in sorted(NOT_SUPPLIED))
        assert con.execute(
            f"SELECT count(*) FROM cloudtrail_view WHERE NOT ({nulls}) "
            "OR NOT list_has_all(record_flags, $f) OR delivery <> 'trail'",
            {"f": FLAGS},
        ).fetchone() == (0,)


def _aws_type():
    """AWS's documented columns as one Spark struct type."""
    from pyspark.sql.types import _parse_datatype_string

    return _parse_datatype_string(f"STRUCT<{spark_ddl(CLOUDTRAIL_LOGS).replace('` ', '`: ')}>")


@pytest.fixture(scope="module")
def spark_logs(spark, lake_case: Path):
    """A Spark session of its own (its temp views apart from the differential test's) holding
    `cloudtrail_logs` read from the trail files with AWS's documented schema."""
    from pyspark.sql import functions as F

    session = spark.newSession()
    records = f"Records ARRAY<STRUCT<{spark_ddl(CLOUDTRAIL_LOGS, keys=True).replace('` ', '`: ')}>>"
    aws = _aws_type()
    df = session.read.schema(records).option("multiLine", True).json(_trail_files(lake_case))
    # the record's keys, then AWS's lower-case names (a struct cast goes by position)
    table = df.select(F.explode("Records").alias("r")).select(F.col("r").cast(aws).alias("r")).select("r.*")
    table.createOrReplaceTempView("cloudtrail_logs")
    return session


def test_spark_table_with_aws_schema_through_the_view_gives_the_loaders_rows(spark_logs, loader_rows) -> None:
    from forensics.engines.spark import _python

    columns, expected = loader_rows
    logs = spark_logs.table("cloudtrail_logs")
    assert [f.name for f in logs.schema.fields] == [c for c, _, _ in CLOUDTRAIL_LOGS]
    assert logs.schema.simpleString() == _aws_type().simpleString()
    view = spark_logs.sql(view_select("cloudtrail_logs", "spark"))
    assert view.columns == columns
    got = [
        _python(r.asDict(recursive=True))
        for r in view.selectExpr(*_compared(columns, SPARK_OWN_FLAGS)).collect()
    ]
    assert differences(expected, got) == []


# Catalogue queries over the view on Spark give the rows they give over the loader's case. Not
# those that read the whole record (`raw`, which AWS's table does not hold): console_login_without_mfa.
OVER_THE_VIEW = (
    "access_key_new_address",
    "iam_credentials_created",
    "instance_credentials_used_elsewhere",
    "multi_region_compute_launch",
    "recon_burst",
)


@pytest.fixture(scope="module")
def view_lake(spark_logs, trail_case: Path, tmp_path_factory: pytest.TempPathFactory):
    """The trail case's other tables as a lake on Spark, and `cloudtrail` the view over
    `cloudtrail_logs` (the vocabulary installed again over it)."""
    from forensics.engines.spark import SparkLake
    from forensics.lake import export_case

    lake = tmp_path_factory.mktemp("view_lake") / "lake"
    export_case(trail_case, lake)
    spark_lake = SparkLake(spark_logs, lake, cache=False, vocabulary=False)
    spark_logs.sql(view_sql("cloudtrail_logs", "spark", name="cloudtrail"))
    spark_lake._install_vocabulary(cache=False)
    return spark_lake


def test_catalogue_queries_over_the_view_give_the_cases_rows(view_lake, trail_case: Path) -> None:
    from forensics import catalog
    from forensics.engines.spark import rules_query

    rules = rules_query([q for q in catalog.catalog().values() if q.meta.get("rule")])
    with forensics.Case(trail_case, read_only=True) as case:
        expected = {qid: case.query(qid).to_dicts() for qid in OVER_THE_VIEW}
        expected["rules"] = case.sql(rules.sql, from_time=None, to_time=None).to_dicts()
    assert view_lake.spark.table("cloudtrail").count() > 9000
    assert sum(map(len, expected.values())) > 50 and all(expected.values())
    for qid in OVER_THE_VIEW:
        assert differences(expected[qid], view_lake.rows(catalog.get_query(qid))) == [], qid
    # rules Spark does not yet run like DuckDB on the lake either (test_spark.RULES_NOT_YET)
    known = set(RULES_NOT_YET)
    got = [r for r in view_lake.rows(rules) if r["detection"] not in known]
    assert differences([r for r in expected["rules"] if r["detection"] not in known], got) == []


@pytest.mark.parametrize("dialect", ["athena", "trino", "spark"])
def test_the_view_parses_in_each_target(dialect: str) -> None:
    text = view_sql("cloudtrail_logs", dialect)
    [stmt] = sqlglot.parse(text, read=dialect)
    assert isinstance(stmt, sqlglot.exp.Create)
    tables = {t.name for t in stmt.expression.find_all(sqlglot.exp.Table)}
    assert tables == {"cloudtrail_logs"}  # self-contained: every macro and vocabulary table inlined
    if dialect in ("athena", "trino"):
        assert "from_iso8601_timestamp" in text.lower() and "json_extract_scalar" in text.lower()


def test_tailpipe_table_through_the_view_gives_the_loaders_rows(trail_case: Path, loader_rows) -> None:
    columns, expected = loader_rows
    common = ", ".join(f"{c} {t}" for c, t in TAILPIPE_COMMON.items())
    with forensics.Case(trail_case, read_only=True) as case:
        con = case.con
        con.execute(f"CREATE TEMP TABLE aws_cloudtrail_log ({duckdb_ddl(TAILPIPE_CLOUDTRAIL_LOG)}, {common})")
        con.execute(
            f"INSERT INTO aws_cloudtrail_log BY NAME SELECT {duckdb_select(TAILPIPE_CLOUDTRAIL_LOG)}, "
            "timezone('UTC', event_time) AS tp_timestamp, "
            "CAST(timezone('UTC', event_time) AS DATE) AS tp_date, "
            "'aws_cloudtrail_log' AS tp_table, recipient_account_id AS tp_index, [source_ip] AS tp_ips "
            "FROM cloudtrail"
        )
        assert con.execute("SELECT count(*) FROM aws_cloudtrail_log WHERE read_only IS NULL").fetchone() == (
            0,
        )
        con.execute(view_sql("aws_cloudtrail_log", "duckdb", name="cloudtrail_view"))
        shape = "SELECT column_name, column_type FROM (DESCRIBE {})"
        assert (
            con.execute(shape.format("cloudtrail_view")).fetchall()
            == con.execute(shape.format("cloudtrail")).fetchall()
        )
        # Tailpipe keeps managementEvent: compared too
        mine = [c for c in _compared(columns, TAILPIPE_OWN_FLAGS)] + ["management_event"]
        got = con.sql(f"SELECT {', '.join(mine)} FROM cloudtrail_view").pl().to_dicts()
        theirs = case.sql(f"SELECT {', '.join(_compared(columns) + ['management_event'])} FROM cloudtrail")
        assert differences(theirs.to_dicts(), got) == []
        assert len(got) == len(expected)
    with pytest.raises(TranslationError, match="runs on duckdb"):
        view_sql("aws_cloudtrail_log", "athena")
