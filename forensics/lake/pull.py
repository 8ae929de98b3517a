"""`forensics pull`: the part of a lake an indicator touches, as a local case.

The definitions judge an identity against its own account's history (novelty, first use, region
use, billing baselines are all scoped by account: DESIGN.md), so the slice that keeps
`investigate` and `report` exact is every account the indicator appears in, whole: its trail,
flows, bill and findings, with the addresses and source records those rows name. At org scale
the lake is split by account (`p_account`), so this reads those partitions and nothing else.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..errors import IndicatorNotFoundError, ParameterError
from .export import LakeError, _quote, read_manifest, table_files

_ACCOUNT = {
    "cloudtrail": "coalesce(nullif(recipient_account_id, ''), account_id)",
    "vpc_flows": "account_id",
    "billing": "account_id",
    "findings": "account_id",
}


@dataclass
class PullReport:
    case: str
    accounts: list[str]
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "accounts": self.accounts,
            "tables": self.tables,
            "seconds": round(self.seconds, 3),
        }


def _typed(spec: dict[str, Any]) -> str:
    return ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in spec["columns"])


def _source(lake: Path, table: str, spec: dict[str, Any], accounts: list[str] | None) -> str:
    hive = "true" if spec.get("partitioned") else "false"
    read = (
        f"read_parquet('{_quote(Path(table_files(lake, table)))}', hive_partitioning = {hive}, "
        "hive_types_autocast = false, union_by_name = true)"
    )
    where = ""
    if accounts is not None and spec.get("partitioned"):
        # the partition column prunes folders; the original column decides
        listed = ", ".join("'" + a.replace("'", "''") + "'" for a in accounts)
        where = f" WHERE p_account IN ({listed}) AND {_ACCOUNT[table]} IN ({listed})"
    return f"SELECT {_typed(spec)} FROM {read}{where}"


def pull(
    lake: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
) -> PullReport:
    """Write the accounts an indicator touches from `lake` into a new case at `case_path`."""
    from ..case import Case

    given = {k: v for k, v in (("access_key_id", access_key), ("principal_arn", principal),
                               ("source_ip", ip), ("instance", instance)) if v}  # fmt: skip
    if not given:
        raise ParameterError("give an indicator: --access-key, --principal, --ip or --instance")
    target = Path(case_path)
    if target.exists():
        raise LakeError("the case file exists already (pull into a new case)", path=str(target))
    started = time.perf_counter()
    root = Path(lake)
    manifest = read_manifest(root)
    tables = manifest["tables"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TEMP VIEW ct AS {_source(root, 'cloudtrail', tables['cloudtrail'], None)}")
    conditions, params = [], []
    for column, value in given.items():
        if column == "instance":
            conditions.append(
                "(list_contains(instance_ids, ?) OR contains(CAST(response_elements AS VARCHAR), ?))"
            )
            params += [value, f'"{value}"']
        else:
            conditions.append(f"{column} = ?")
            params.append(value)
    accounts = sorted(
        {
            a
            for row in con.execute(
                "SELECT DISTINCT coalesce(nullif(recipient_account_id, ''), account_id), account_id "
                f"FROM ct WHERE {' OR '.join(conditions)}",
                params,
            ).fetchall()
            for a in row
            if a
        }
    )
    if not accounts:
        shown = ", ".join(f"{k} {v}" for k, v in given.items())
        raise IndicatorNotFoundError(f"{shown} is not in the lake")
    with Case(target):
        pass  # the schema and the vocabulary, as every case has them
    con.execute(f"ATTACH '{_quote(target)}' AS pulled")
    report = PullReport(case=str(target), accounts=accounts)
    try:
        for table in ("cloudtrail", "vpc_flows", "billing", "findings"):
            if table not in tables:
                continue
            con.execute(f"INSERT INTO pulled.{table} {_source(root, table, tables[table], accounts)}")
            report.tables[table] = con.execute(f"SELECT count(*) FROM pulled.{table}").fetchone()[0]
        if "addresses" in tables:
            con.execute(
                "INSERT INTO pulled.addresses SELECT * FROM "
                f"({_source(root, 'addresses', tables['addresses'], None)}) "
                "WHERE address IN (SELECT source_ip FROM pulled.cloudtrail "
                "UNION SELECT src_addr FROM pulled.vpc_flows UNION SELECT dst_addr FROM pulled.vpc_flows)"
            )
            report.tables["addresses"] = con.execute("SELECT count(*) FROM pulled.addresses").fetchone()[0]
        if "sources" in tables:
            con.execute(
                "INSERT INTO pulled.sources SELECT * FROM "
                f"({_source(root, 'sources', tables['sources'], None)}) "
                "WHERE path IN (SELECT source_file FROM pulled.cloudtrail UNION SELECT source_file FROM "
                "pulled.vpc_flows UNION SELECT source_file FROM pulled.billing UNION SELECT source_file FROM "
                "pulled.findings)"
            )
        con.execute("DETACH pulled")
    finally:
        con.close()
    report.seconds = time.perf_counter() - started
    return report
