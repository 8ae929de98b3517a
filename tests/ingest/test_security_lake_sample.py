"""The sample incident as an organisation with Amazon Security Lake holds it: two hours of CloudTrail
around the intrusion as OCSF 1.1.0 Parquet (source version 2, Hive layout by region, account and
day) beside the month's bill. The story must tell the same facts as from the trail: the leaked
key's first use, the launches and their regions, the denied escalation attempts, quarantine and
containment; and every row must equal the trail's own row for the same event."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

import forensics

from ..conftest import SAMPLE
from .ocsf_fixtures import lake_path, ocsf_cloudtrail_row, write_parquet

WINDOW = ("2026-11-16T02:30:00Z", "2026-11-16T04:30:00Z")
SAME = (
    "event_id, event_time, event_name, event_source, aws_region, source_ip, user_agent, principal_type, "
    "principal_arn, principal_id, account_id, access_key_id, session_issuer_arn, invoked_by, error_code, "
    "outcome, read_only, recipient_account_id, instance_ids, instance_type, target_user_name, policy_arn, "
    "created_access_key_id"
)


@pytest.fixture(scope="module")
def lake_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("security_lake")
    evidence = root / "evidence"
    records = [
        r
        for f in sorted((SAMPLE / "evidence" / "AWSLogs").glob("*/CloudTrail/**/*.json.gz"))
        for r in json.loads(gzip.decompress(f.read_bytes()))["Records"]
        if WINDOW[0] <= r["eventTime"] <= WINDOW[1]
    ]
    parts: dict[tuple[str, str, str], list[dict]] = {}
    for r in records:
        key = (r["awsRegion"], r["recipientAccountId"], r["eventTime"][:10].replace("-", ""))
        parts.setdefault(key, []).append(ocsf_cloudtrail_row(r, 2))
    for (region, account, day), rows in parts.items():
        path = lake_path(evidence, "CLOUD_TRAIL_MGMT", 2, region, account, day, "part-0.gz.parquet")
        write_parquet(path, rows)
    shutil.copytree(SAMPLE / "evidence" / "billing", evidence / "billing")
    case = root / "case.duckdb"
    with forensics.Case(case) as c:
        report = c.load([evidence], on_problem=lambda line: None)
        assert report.reconciles() and report.rejected == 0
    return case, len(records)


@pytest.fixture(scope="module")
def story(lake_case: tuple[Path, int], ground_truth: dict) -> dict:
    with forensics.Case(lake_case[0], read_only=True) as c:
        n = c.sql("SELECT count(*) AS n FROM cloudtrail WHERE delivery = 'security-lake'")["n"][0]
        assert n == lake_case[1]
        return c.investigate(access_key=ground_truth["leaked_access_key"])


def test_first_use_and_escalation_outcomes_as_from_the_trail(story: dict, ground_truth: dict) -> None:
    first = story["first_use"]
    assert (first["time"], first["source_ip"]) == (
        ground_truth["first_use"]["time"],
        ground_truth["first_use"]["source_ip"],
    )
    assert first["separable"] is True
    esc = story["escalation_attempts"]
    assert esc["denied"] == ground_truth["escalation_attempts"]["denied"] == 4


def test_launches_regions_quarantine_and_containment(story: dict, ground_truth: dict) -> None:
    run = story["run_instances"]
    assert sorted(run["instances"]) == sorted(i for ids in ground_truth["instances"].values() for i in ids)
    assert sorted(run["regions"]) == ground_truth["regions_succeeded"]
    assert sorted(run["new_regions"]) == ground_truth["regions_new"]
    assert story["aws_quarantine"]["time"] == ground_truth["quarantine"]["time"]
    assert story["containment"]["time"] == ground_truth["containment"]["start"]


def test_every_row_equals_the_trails_row(lake_case: tuple[Path, int], sample_case: Path) -> None:
    """Column for column, the OCSF copy of each event is the trail's copy (DESIGN.md columns)."""
    with duckdb.connect(str(lake_case[0]), read_only=True) as con:
        con.execute(f"ATTACH '{sample_case}' AS trail (READ_ONLY)")
        differ = con.execute(
            f"""SELECT count(*) FROM (
                    SELECT {SAME} FROM cloudtrail
                    EXCEPT
                    SELECT {SAME} FROM trail.cloudtrail
                    WHERE event_time BETWEEN TIMESTAMPTZ '{WINDOW[0]}' AND TIMESTAMPTZ '{WINDOW[1]}')"""
        ).fetchone()[0]
        flags = con.execute("SELECT DISTINCT record_flags FROM cloudtrail").fetchall()
    assert differ == 0
    assert flags == [(["lossy from OCSF"],)]
