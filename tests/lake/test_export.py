"""`forensics export`: the case as a Hive-partitioned Parquet lake with the case's columns and types."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.lake import LakeError, attach_lake, export_case, read_manifest

EVIDENCE_TABLES = ("cloudtrail", "vpc_flows", "billing", "findings")


@pytest.fixture(scope="module")
def sample_lake(sample_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("sample_lake") / "lake"
    result = CliRunner().invoke(
        app, ["export", "--case", str(sample_case), "--to", str(lake), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["tables"]["cloudtrail"] > 8000
    return lake


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def test_every_table_reads_back_with_the_case_names_types_and_rows(
    sample_case: Path, sample_lake: Path
) -> None:
    case = duckdb.connect(str(sample_case), read_only=True)
    lake = duckdb.connect()
    attach_lake(lake, sample_lake)
    for table in (*EVIDENCE_TABLES, "addresses", "sources"):
        assert _columns(lake, f"lake.{table}") == _columns(case, table), table
        cols = ", ".join(f'"{c}"' for c, _ in _columns(case, table))
        a = case.execute(f"SELECT {cols} FROM {table}").fetchall()
        b = lake.execute(f"SELECT {cols} FROM lake.{table}").fetchall()
        assert sorted(map(repr, a)) == sorted(map(repr, b)), table


def test_partitions_are_text_folders_beside_the_original_columns(sample_lake: Path) -> None:
    folders = {p.name for p in (sample_lake / "cloudtrail").iterdir()}
    # the sample's account begins with a zero: an inferred integer would lose it
    assert "p_account=047391826504" in folders
    day = next(
        (sample_lake / "cloudtrail" / "p_account=047391826504").glob("p_region=us-east-1/p_date=2026-11-16")
    )
    con = duckdb.connect()
    names = [c for c, _ in _columns(con, f"read_parquet('{day}/*.parquet', hive_partitioning = false)")]
    assert {"recipient_account_id", "aws_region", "event_time"} <= set(names)
    assert not {"p_account", "p_region", "p_date"} & set(names)  # only in folder names
    manifest = read_manifest(sample_lake)
    assert manifest["partitioned_by"] == ["p_account", "p_region", "p_date"]
    assert dict(manifest["tables"]["cloudtrail"]["columns"])["request_parameters"] == "JSON"


def test_export_refuses_a_folder_with_something_in_it(sample_case: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(LakeError, match="not empty"):
        export_case(sample_case, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    result = CliRunner().invoke(app, ["export", "--case", str(sample_case), "--to", str(tmp_path)])
    assert result.exit_code == 2 and "not empty" in result.output


def test_a_folder_without_a_manifest_is_not_a_lake(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="not a forensics lake"):
        read_manifest(tmp_path)
