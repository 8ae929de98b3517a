"""A case as a Hive-partitioned Parquet lake, and the lake read back with the case's types.

Each table becomes a folder `<lake>/<table>/` of Parquet files. The evidence tables are split by
extra columns (`p_account`, `p_region`, `p_date`, all text) computed from the originals, which
stay in the files untouched: a reader that infers partition types would turn
`p_account=012345678901` into a number and lose the zero, and the partition columns are dropped
from the files by both DuckDB and Spark, so no column of the case lives only in a folder name.
`_lake.json` records every table's columns and types (the case's own), row counts and where the
lake came from; reading back selects exactly those columns, so the case's queries see the same
names and types.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import ForensicsError
from ..schema import SCHEMA_VERSION

MANIFEST = "_lake.json"
LAKE_VERSION = 1
PARTITION_COLUMNS = ("p_account", "p_region", "p_date")

# Per evidence table: the account, region and day each row belongs to (the account the event was
# delivered for: the lake is split the way an organisation's trail bucket is).
PARTITIONS: dict[str, tuple[str, str, str]] = {
    "cloudtrail": (
        "coalesce(nullif(recipient_account_id, ''), account_id)",
        "aws_region",
        "CAST(CAST(event_time AS DATE) AS VARCHAR)",
    ),
    "vpc_flows": ("account_id", "region", "CAST(CAST(start_time AS DATE) AS VARCHAR)"),
    "billing": ("account_id", "region", "CAST(CAST(usage_start AS DATE) AS VARCHAR)"),
    "findings": ("account_id", "region", "CAST(CAST(first_seen AS DATE) AS VARCHAR)"),
}
# Tables a lake carries (the case's evidence and what the definitions read beside it).
TABLES = (
    "cloudtrail",
    "cloudtrail_copies",
    "vpc_flows",
    "billing",
    "findings",
    "addresses",
    "sources",
    "rejects",
    "case_meta",
)


class LakeError(ForensicsError):
    """A lake cannot be written or read."""


@dataclass
class ExportReport:
    lake: str
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"lake": self.lake, "tables": self.tables, "seconds": round(self.seconds, 3)}


def export_case(case_path: str | os.PathLike[str], to: str | os.PathLike[str]) -> ExportReport:
    """Write the case's tables under `to` (a new or empty folder) as a Parquet lake."""
    from ..case import Case

    target = Path(to)
    if target.exists() and any(target.iterdir()):
        raise LakeError("the lake folder is not empty (export into a new folder)", path=str(target))
    target.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = ExportReport(lake=str(target))
    manifest: dict[str, Any] = {
        "lake_version": LAKE_VERSION,
        "schema_version": SCHEMA_VERSION,
        "exported_from": str(Path(case_path).resolve()),
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "partitioned_by": list(PARTITION_COLUMNS),
        "tables": {},
    }
    try:
        with Case(case_path, read_only=True) as case:
            con = case.con
            present = {
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() "
                    "WHERE NOT temporary AND database_name = current_database()"
                ).fetchall()
            }
            for table in TABLES:
                if table not in present:
                    continue
                columns = con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() "
                    "WHERE table_name = $t AND database_name = current_database() ORDER BY column_index",
                    {"t": table},
                ).fetchall()
                rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                folder = target / table
                _copy(con, table, folder, rows)
                manifest["tables"][table] = {
                    "columns": [[c, t] for c, t in columns],
                    "rows": rows,
                    "partitioned": table in PARTITIONS,
                }
                report.tables[table] = rows
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    report.seconds = time.perf_counter() - started
    return report


def _copy(con: duckdb.DuckDBPyConnection, table: str, folder: Path, rows: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if table in PARTITIONS and rows:
        account, region, day = PARTITIONS[table]
        select = (
            f"SELECT *, CAST({account} AS VARCHAR) AS p_account, CAST({region} AS VARCHAR) AS p_region, "
            f'{day} AS p_date FROM "{table}"'
        )
        con.execute(
            f"COPY ({select}) TO '{_quote(folder)}' "
            "(FORMAT parquet, COMPRESSION zstd, "
            "PARTITION_BY (p_account, p_region, p_date), OVERWRITE_OR_IGNORE)"
        )
    else:
        # One file even when empty: the lake then still says the table's columns and types.
        con.execute(
            f"COPY (SELECT * FROM \"{table}\") TO '{_quote(folder / 'data_0.parquet')}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def read_manifest(lake: str | os.PathLike[str]) -> dict[str, Any]:
    """The lake's manifest (LakeError when the folder is not a lake this version reads)."""
    path = Path(lake) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LakeError(
            "not a forensics lake (no _lake.json; write one with `forensics export`)", path=str(lake)
        ) from None
    except (OSError, ValueError) as exc:
        raise LakeError(f"cannot read the lake's manifest: {exc}", path=str(path)) from None
    if manifest.get("lake_version") != LAKE_VERSION:
        raise LakeError(
            f"lake version {manifest.get('lake_version')!r} is not one this version reads", path=str(lake)
        )
    return manifest


def table_files(lake: str | os.PathLike[str], table: str) -> str:
    """The glob of a table's Parquet files."""
    return str(Path(lake) / table / "**" / "*.parquet")


def lake_select(lake: str | os.PathLike[str], table: str, manifest: dict[str, Any] | None = None) -> str:
    """DuckDB SQL reading one table of the lake with the case's columns and types (partition
    folders read as text and left out)."""
    manifest = manifest or read_manifest(lake)
    spec = manifest["tables"][table]
    cols = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in spec["columns"])
    hive = "true" if spec.get("partitioned") else "false"
    return (
        f"SELECT {cols} FROM read_parquet('{_quote(Path(table_files(lake, table)))}', "
        f"hive_partitioning = {hive}, hive_types_autocast = false, union_by_name = true)"
    )


def attach_lake(
    con: duckdb.DuckDBPyConnection, lake: str | os.PathLike[str], schema: str = "lake"
) -> list[str]:
    """Views `<schema>.<table>` over the lake on a DuckDB connection; returns the tables."""
    manifest = read_manifest(lake)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    names = []
    for table in manifest["tables"]:
        con.execute(f'CREATE OR REPLACE VIEW {schema}."{table}" AS {lake_select(lake, table, manifest)}')
        names.append(table)
    return names
