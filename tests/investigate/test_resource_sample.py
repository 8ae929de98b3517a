"""`--resource ARN` on the sample incident: the runaway remediation Lambda of 2026-11-06 told as an
automation incident. Facts come from sample_data/ground_truth.json, from the generator's own inputs
(forensics.sample.side_cases: when and how the loop was stopped, by whom) and from the CUR file read
here with Python, never from what the story computed."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import forensics
from forensics.cli import app
from forensics.report import write_report
from forensics.sample import side_cases
from forensics.sample.baseline_people import ADMIN
from forensics.sample.world import EMAIL_DOMAIN
from forensics.schemas import schema

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
NIGHTLY = "arn:aws:lambda:ap-northeast-1:047391826504:function:nightly-sales-report"


def z(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cur_lines(resource_id: str) -> list[dict[str, str]]:
    rows = []
    for path in (SAMPLE / "evidence" / "billing").rglob("*.csv.gz"):
        with gzip.open(path, "rt", newline="") as fh:
            rows += [r for r in csv.DictReader(fh) if r["lineItem/ResourceId"] == resource_id]
    return rows


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def loop(ground_truth: dict) -> dict:
    return ground_truth["lambda_loop"]


@pytest.fixture(scope="module")
def story(sample_case: Path, loop: dict) -> dict:
    return cli_json("investigate", "--case", str(sample_case), "--resource", loop["function_arn"])


def test_the_story_is_an_automation_incident_with_the_loop_of_the_ground_truth(
    story: dict, loop: dict
) -> None:
    jsonschema.validate(story, schema("investigate"))
    assert story["kind"] == "automation"
    a = story["automation"]
    assert a["function"] == loop["function"] and a["function_arn"] == loop["function_arn"]
    assert a["runaway"] is True
    assert a["roles"] == [f"arn:aws:iam::047391826504:role/{loop['role']}"]
    assert story["principals"] == [loop["session_arn"]]
    assert a["loop"]["event_name"] == loop["event_name"]
    assert a["loop"]["calls"] == loop["event_count"]
    assert a["loop"]["first_call"] == loop["start"] and a["start"]["time"] == loop["start"]
    assert a["loop"]["last_call"] == loop["end"] and a["last_call"] == loop["end"]
    # the generator retries four times per invocation, each invocation a minute or two apart
    assert a["loop"]["calls_per_minute"] == pytest.approx(
        loop["event_count"] / ((side_cases.LOOP_STOP - side_cases.LOOP_START) / 60), rel=0.05
    )
    # no intruder: nothing of an intrusion's story is claimed
    assert story["first_use"] is None and story["phases"] == [] and story["run_instances"]["instances"] == []


def test_the_stopping_change_and_who_made_it(story: dict, loop: dict) -> None:
    stop = story["automation"]["stop"]
    assert stop["time"] == z(side_cases.LOOP_STOP)
    assert stop["event_name"] == "PutFunctionConcurrency20171031"
    assert json.loads(stop["request"])["reservedConcurrentExecutions"] == 0
    assert stop["principal_arn"].endswith(f"/{ADMIN}@{EMAIL_DOMAIN}")
    assert stop["by"] == stop["principal_arn"]
    assert story["containment"]["time"] == z(side_cases.LOOP_STOP)
    assert story["still_running"] == []
    d = story["durations_s"]
    start = datetime.fromisoformat(loop["start"].replace("Z", "+00:00")).timestamp()
    end = datetime.fromisoformat(loop["end"].replace("Z", "+00:00")).timestamp()
    assert d["first_call_to_stop"] == side_cases.LOOP_STOP - start
    assert d["last_call_to_stop"] == side_cases.LOOP_STOP - end
    assert d["loop"] == end - start


def test_the_start_is_honest_when_no_change_set_it_going(story: dict) -> None:
    """The sample's rule was deployed before the evidence (side_cases: "right after the rule was
    deployed"), so no change can be named: the story says so instead of picking one."""
    start = story["automation"]["start"]
    assert start["change"] is None and start["note"]
    assert story["durations_s"]["start_change_to_first_call"] is None


def test_cost_and_invocations_are_the_cur_lines_of_the_function(story: dict, loop: dict) -> None:
    lines = cur_lines(loop["function_arn"])
    assert lines
    cost = story["cost"]
    assert round(cost["total"], 2) == loop["cost"]
    by_hour: dict[str, float] = defaultdict(float)
    invocations: dict[str, int] = defaultdict(int)
    for r in lines:
        hour = r["lineItem/UsageStartDate"][:13] + ":00:00Z"
        by_hour[hour] += float(r["lineItem/UnblendedCost"])
        if r["lineItem/UsageType"].endswith("-Request"):
            invocations[hour] += int(float(r["lineItem/UsageAmount"]))
    assert cost["by_hour"] == pytest.approx(dict(by_hour), abs=1e-6)
    assert story["automation"]["invocations"]["by_hour"] == dict(invocations)
    assert story["automation"]["invocations"]["total"] == sum(invocations.values())
    last = max(r["lineItem/UsageEndDate"] for r in lines)
    assert cost["billed_until"] == last.replace(".000", "")[:19] + "Z"
    assert cost["projected"] is None


def test_the_role_reaches_the_same_story(sample_case: Path, story: dict, loop: dict) -> None:
    for principal in (f"arn:aws:iam::047391826504:role/{loop['role']}", loop["session_arn"]):
        other = cli_json("investigate", "--case", str(sample_case), "--principal", principal)
        assert other["indicator"] == {"type": "principal", "value": principal}
        assert other["automation"] == story["automation"]
        assert other["cost"] == story["cost"]


def test_a_busy_function_that_never_looped_is_no_incident(sample_case: Path) -> None:
    """Near miss: the nightly report Lambda runs every day and bills, but repeats nothing."""
    nightly = cli_json("investigate", "--case", str(sample_case), "--resource", NIGHTLY)
    jsonschema.validate(nightly, schema("investigate"))
    a = nightly["automation"]
    assert a["runaway"] is False and a["loop"] is None
    assert a["stop"] is None and nightly["still_running"] == []
    assert a["own_calls"]["events"] > 100
    assert nightly["cost"]["total"] == pytest.approx(
        sum(float(r["lineItem/UnblendedCost"]) for r in cur_lines(NIGHTLY)), abs=1e-6
    )


def test_markdown_tells_start_loop_cost_and_stop(sample_case: Path, loop: dict) -> None:
    result = CliRunner().invoke(
        app, ["investigate", "--case", str(sample_case), "--resource", loop["function_arn"]]
    )
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert "automation incident" in md
    assert f"{loop['event_count']:,} identical `{loop['event_name']}`" in md
    assert f"{loop['cost']:.2f} USD" in md
    assert "PutFunctionConcurrency20171031" in md and f"{ADMIN}@" in md


def test_other_resources_are_refused_with_what_is_supported(sample_case: Path) -> None:
    result = CliRunner().invoke(
        app, ["investigate", "--case", str(sample_case), "--resource", "arn:aws:s3:::sakura-shop-assets-prod"]
    )
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("forensics: ") and "\n" not in line
    assert "arn:aws:lambda:REGION:ACCOUNT:function:NAME" in line and "profile --resource" in line
    absent = CliRunner().invoke(
        app,
        [
            "investigate",
            "--case",
            str(sample_case),
            "--resource",
            "arn:aws:lambda:ap-northeast-1:047391826504:function:never-deployed",
        ],
    )
    assert absent.exit_code == 1


def test_profile_of_a_bucket_shows_who_touched_it(sample_case: Path, loop: dict) -> None:
    prof = cli_json(
        "profile",
        "--case",
        str(sample_case),
        "--resource",
        "arn:aws:s3:::sakura-shop-assets-prod",
        "--from",
        "2026-11-06T00:00:00Z",
        "--to",
        "2026-11-07T00:00:00Z",
    )
    jsonschema.validate(prof, schema("profile"))
    assert prof["kind"] == "resource"
    principals = {r["value"]: r["events"] for r in prof["related"]["principal_arn"]}
    assert principals[loop["session_arn"]] == loop["event_count"]
    assert sum(a["failed"] for a in prof["activity"]) >= loop["event_count"]


def test_budget_replay_on_the_function_alone(sample_case: Path, loop: dict) -> None:
    rep = cli_json("budget", "--case", str(sample_case), "--amount", "50", "--resource", loop["function_arn"])
    jsonschema.validate(rep, schema("budget"))
    assert rep["month_to_date"] == loop["cost"]
    assert rep["run_start"] == loop["start"] and rep["stopped"] == z(side_cases.LOOP_STOP)
    hourly: dict[datetime, float] = defaultdict(float)
    for r in cur_lines(loop["function_arn"]):
        hourly[datetime.fromisoformat(r["lineItem/UsageStartDate"].replace("Z", "+00:00"))] += float(
            r["lineItem/UnblendedCost"]
        )
    spend, crossed = 0.0, {}
    for hour in sorted(hourly):
        spend += hourly[hour]
        for pct in (20.0, 50.0, 70.0):
            if pct not in crossed and spend > 50 * pct / 100:
                crossed[pct] = hour
    for alert in rep["alerts"]:
        hour = crossed[alert["threshold_pct"]]
        assert alert["crossed_hour"] == hour.strftime("%Y-%m-%dT%H:%M:%SZ")
        fired = hour.timestamp() + 3600 + 8 * 3600
        assert alert["after_stop_with_lag_s"] == fired - side_cases.LOOP_STOP


def test_report_page_of_the_function(sample_case: Path, loop: dict, tmp_path: Path) -> None:
    with forensics.Case(sample_case, read_only=True) as case:
        page = write_report(case, tmp_path / "r.html", resource=loop["function_arn"], findings=[]).read_text()
    assert f"Lambda function {loop['function']} ran away" in page
    assert "PutFunctionConcurrency20171031" in page and f"{ADMIN}@" in page
    assert f"{loop['cost']:.2f} USD" in page
