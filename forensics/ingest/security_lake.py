"""What the two Amazon Security Lake loaders share: recognising OCSF Parquet, its source version,
and Iceberg-managed tables (shapes-and-lakes.md §4; engineering-notes.md §9).

Security Lake writes Parquet in a Hive layout (`.../region=<r>/accountId=<a>/eventDay=<YYYYMMDD>/`);
source version 1 holds OCSF 1.0.0-rc.2 and version 2 OCSF 1.1.0, which swap `actor.user.uid` and
`actor.user.uuid`: each row is read by its own `metadata.version` (the path's `/1.0/` or `/2.0/`
when a row lacks it). Version 2 tables may be Apache Iceberg tables, whose folders keep data files
that no current snapshot references: reading them all would count flows and events twice, so a
file under an Iceberg table is refused with the reason.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .evidence import EvidenceFile
from .tabular import parquet_columns

# OCSF class_uid of what the CloudTrail sources emit: API Activity (1.1.0; 3005 in rc.2),
# Authentication, Account Change (shapes-and-lakes.md §4.3); and Network Activity (flows).
CLOUDTRAIL_CLASSES = ("6003", "3005", "3001", "3002")
NETWORK_ACTIVITY = "4001"
ICEBERG_LEVELS = 8  # folders above a data file searched for the table's metadata/


def ocsf_columns(f: EvidenceFile) -> dict[str, str] | None:
    """{lower-cased name: type} of an OCSF Parquet file (it has class_uid and metadata), else None."""
    if f.compression != "parquet":
        return None
    cols = parquet_columns(f.path, f.sha256)
    types = {name.lower(): typ for name, typ in cols or ()}
    if "class_uid" not in types or "metadata" not in types:
        return None
    return types


def is_cloudtrail(types: dict[str, str]) -> bool:
    return "api" in types


def is_network_activity(types: dict[str, str]) -> bool:
    return (
        "api" not in types and "src_endpoint" in types and ("traffic" in types or "connection_info" in types)
    )


def iceberg_refusal(path: str) -> str | None:
    """The reason to refuse a data file of an Apache Iceberg table, or None."""
    root = _iceberg_root(str(Path(path).parent))
    if root is None:
        return None
    return (
        f"data file of an Apache Iceberg table ({root}/metadata): which files are current is "
        "recorded only in the table's snapshot manifests, and reading every file would count "
        "superseded rows twice; not loaded (query the table's current snapshot, e.g. with Athena "
        "UNLOAD, and load that export)"
    )


@functools.lru_cache(maxsize=1024)
def _iceberg_root(folder: str) -> str | None:
    here = Path(folder)
    for _ in range(ICEBERG_LEVELS):
        meta = here / "metadata"
        try:
            if meta.is_dir() and any(n.endswith(".metadata.json") for n in os.listdir(meta)):
                return str(here)
        except OSError:
            return None
        if here.parent == here:
            return None
        here = here.parent
    return None


def version_sql(doc: str, path: str) -> str:
    """True when a row is OCSF 1.0.0-rc.2 (Security Lake source version 1)."""
    return (
        f"coalesce(starts_with({doc} ->> '$.metadata.version', '1.0.0-rc'), "
        f"regexp_matches({path}, '/1\\.0/'), false)"
    )


def reader_sql(unmapped: bool) -> str:
    """Rows of the batch's Parquet files as (source_file, source_position, doc JSON, v1, unmapped
    entries). Partition keys (region, accountId, eventDay) stay text; the OCSF record is kept whole."""
    entries = "map_entries(t.unmapped)" if unmapped else "NULL"
    return f"""
        SELECT source_file, source_position, doc, {version_sql("doc", "source_file")} AS v1, entries
        FROM (
            SELECT t.filename AS source_file, 'record ' || (t.file_row_number + 1) AS source_position,
                   json_merge_patch(to_json(t), '{{"filename": null, "file_row_number": null}}') AS doc,
                   {entries} AS entries
            FROM read_parquet($files, hive_partitioning = true, hive_types_autocast = false,
                              filename = true, file_row_number = true) t
        )"""


def pick(v2: str, v1: str) -> str:
    """A field whose OCSF path differs between source versions (v1 = rc.2, v2 = 1.1.0)."""
    return f"CASE WHEN v1 THEN doc ->> '{v1}' ELSE doc ->> '{v2}' END"
