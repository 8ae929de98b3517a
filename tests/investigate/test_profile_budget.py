"""Entity profiles and budget replay agree with facts computed here by other means (Polars
over the case's rows, Python over the CUR file itself)."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import forensics
from forensics.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
DAY_START = datetime(2026, 11, 16, tzinfo=UTC)
DAY_END = datetime(2026, 11, 16, 12, tzinfo=UTC)


def z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def key_rows(sample_case: Path, ground_truth: dict) -> pl.DataFrame:
    with forensics.Case(sample_case, read_only=True) as case:
        return case.sql(
            "SELECT event_time, event_source, event_name, source_ip, source_is_ip, user_agent, "
            "aws_region, outcome FROM cloudtrail WHERE access_key_id = $k",
            k=ground_truth["leaked_access_key"],
        ).with_columns(pl.col("event_time").dt.convert_time_zone("UTC"))


@pytest.fixture(scope="module")
def key_profile(sample_case: Path, ground_truth: dict) -> dict:
    with forensics.Case(sample_case, read_only=True) as case:
        return case.profile(ground_truth["leaked_access_key"], from_time=z(DAY_START), to_time=z(DAY_END))


def test_key_profile_seen_and_activity(key_profile: dict, key_rows: pl.DataFrame) -> None:
    assert key_profile["kind"] == "access_key"
    assert key_profile["first_seen"] == z(key_rows["event_time"].min())
    assert key_profile["last_seen"] == z(key_rows["event_time"].max())
    scoped = key_rows.filter(pl.col("event_time").is_between(DAY_START, DAY_END))
    activity = key_profile["activity"]
    assert sum(a["calls"] for a in activity) == scoped.height
    assert sum(a["succeeded"] for a in activity) == scoped.filter(pl.col("outcome") == "success").height
    assert sum(a["failed"] for a in activity) == scoped.filter(pl.col("outcome") != "success").height
    hours = scoped.group_by(pl.col("event_time").dt.truncate("1h")).len()
    assert len(activity) == hours.height


def test_key_profile_newly_observed(key_profile: dict, key_rows: pl.DataFrame, ground_truth: dict) -> None:
    before = key_rows.filter(pl.col("event_time") < DAY_START)
    scoped = key_rows.filter(pl.col("event_time").is_between(DAY_START, DAY_END))
    new = key_profile["newly_observed"]
    ips = set(scoped.filter(pl.col("source_is_ip"))["source_ip"]) - set(before["source_ip"])
    assert {i["value"] for i in new["source_ips"]} == ips == set(ground_truth["attacker_ips"])
    regions = set(scoped["aws_region"]) - set(before["aws_region"])
    assert {i["value"] for i in new["regions"]} == regions
    agents = set(scoped["user_agent"]) - set(before["user_agent"])
    assert {i["value"] for i in new["user_agents"]} == agents
    calls = {f"{s}:{n}" for s, n in scoped.select("event_source", "event_name").iter_rows()}
    calls -= {f"{s}:{n}" for s, n in before.select("event_source", "event_name").iter_rows()}
    assert {i["value"] for i in new["api_calls"]} == calls
    base = key_profile["baseline"]
    # Less than 45 days of evidence exist: the baseline starts where the evidence does.
    assert base["from"][:10] == ground_truth["evidence_window"]["start"][:10]
    assert base["to"] == z(DAY_START) and base["days"] < 45


def test_instance_profile_flows(sample_case: Path, ground_truth: dict) -> None:
    instance = ground_truth["still_running"][0]
    with forensics.Case(sample_case, read_only=True) as case:
        prof = case.profile(instance, to_time=ground_truth["evidence_window"]["end"], from_time=z(DAY_START))
        flows = case.sql(
            "SELECT src_addr, dst_addr, src_port, dst_port, bytes FROM vpc_flows WHERE instance_id = $i",
            i=instance,
        )
    assert prof["kind"] == "instance"
    private = ("10.", "172.", "192.168.")
    expected: dict[tuple[str, int], int] = defaultdict(int)
    for src, dst, sport, dport, nbytes in flows.iter_rows():
        remote = dst if src.startswith(private) else src
        expected[(remote, min(sport, dport))] += nbytes
    got = {(f["remote_addr"], f["port"]): f["bytes"] for f in prof["flows"]}
    assert got == dict(expected)
    assert any(port == 14444 or port == 3333 or port == 4444 for _, port in got)


def _cur_hourly() -> dict[datetime, float]:
    hourly: dict[datetime, float] = defaultdict(float)
    for path in (SAMPLE / "evidence" / "billing").rglob("*.csv.gz"):
        with gzip.open(path, "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                start = datetime.fromisoformat(row["lineItem/UsageStartDate"].replace("Z", "+00:00"))
                hourly[start.replace(minute=0, second=0, microsecond=0)] += float(
                    row["lineItem/UnblendedCost"]
                )
    return hourly


def test_budget_replay_fires_at_the_hours_computed_from_the_cur(
    sample_case: Path, ground_truth: dict
) -> None:
    with forensics.Case(sample_case, read_only=True) as case:
        assert case.tables()["billing"], "the sample's CUR did not load"
        replay = case.budget_replay(1000.0, access_key=ground_truth["leaked_access_key"])
    hourly = _cur_hourly()
    crossed: dict[float, datetime] = {}
    total = 0.0
    for hour in sorted(hourly):
        total += hourly[hour]
        for pct in (20, 50, 70):
            if pct not in crossed and total > 1000.0 * pct / 100:
                crossed[pct] = hour
    assert replay["month"] == "2026-11"
    assert replay["first_use"] == ground_truth["first_use"]["time"]
    first_use = datetime.fromisoformat(ground_truth["first_use"]["time"].replace("Z", "+00:00"))
    for alert in replay["alerts"]:
        fires = crossed[alert["threshold_pct"]] + timedelta(hours=1)
        assert alert["fires_at"] == z(fires)
        assert alert["fires_at_with_lag"] == z(fires + timedelta(hours=8))
        assert alert["after_first_use_s"] == int((fires - first_use).total_seconds())
    # 20% is crossed on the runaway-Lambda day, long before the leak: a non-malicious spike.
    assert replay["alerts"][0]["crossed_hour"].startswith("2026-11-06")
    assert replay["alerts"][0]["after_first_use_s"] < 0
    assert replay["month_to_date"] == pytest.approx(sum(hourly.values()), abs=0.01)


def test_cli_profile_and_budget(sample_case: Path, ground_truth: dict) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["profile", "--access-key", ground_truth["leaked_access_key"], "--case", str(sample_case)]
        + ["--format", "json"],
    )
    assert result.exit_code == 0, result.output
    md = runner.invoke(app, ["profile", "--region", "ap-south-1", "--case", str(sample_case)])
    assert md.exit_code == 0 and "# Profile: region `ap-south-1`" in md.stdout
    missing = runner.invoke(app, ["profile", "--ip", "203.0.113.250", "--case", str(sample_case)])
    assert missing.exit_code == 1


def test_cli_budget_without_an_indicator(sample_case: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["budget", "--case", str(sample_case), "--amount", "1000", "--threshold", "20", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["first_use"] is None and [a["threshold_pct"] for a in doc["alerts"]] == [20.0]
    bad = runner.invoke(app, ["budget", "--case", str(sample_case), "--amount", "1000", "--month", "2026-13"])
    assert bad.exit_code == 2
