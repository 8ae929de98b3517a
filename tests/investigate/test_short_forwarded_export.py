"""The sample incident as a SIEM team often holds it: two hours of CloudTrail around the
intrusion, forwarded by EventBridge through Firehose (gzip objects of envelopes concatenated with
no newline), beside the month's bill. The story must not change with the export's shape or
length (DESIGN.md: short evidence is no reason for silence; a month of billing makes region use
known)."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

import forensics

from ..conftest import SAMPLE

WINDOW = ("2026-11-16T02:30:00Z", "2026-11-16T04:30:00Z")


def _envelope(record: dict) -> dict:
    return {
        "version": "0",
        "id": "e-" + record["eventID"],
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws." + record["eventSource"].split(".")[0],
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": record,
    }


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, ground_truth: dict) -> dict:
    root = tmp_path_factory.mktemp("forwarded")
    evidence = root / "evidence"
    records = [
        r
        for f in sorted((SAMPLE / "evidence" / "AWSLogs").glob("*/CloudTrail/**/*.json.gz"))
        for r in json.loads(gzip.decompress(f.read_bytes()))["Records"]
        if WINDOW[0] <= r["eventTime"] <= WINDOW[1]
    ]
    records.sort(key=lambda r: r["eventTime"])
    firehose = evidence / "firehose" / "2026" / "11" / "16"
    firehose.mkdir(parents=True)
    for n in range(0, len(records), 100):
        text = "".join(json.dumps(_envelope(r)) for r in records[n : n + 100])
        (firehose / f"ct-{n // 100}.gz").write_bytes(gzip.compress(text.encode()))
    shutil.copytree(SAMPLE / "evidence" / "billing", evidence / "billing")
    with forensics.Case(root / "case.duckdb") as case:
        report = case.load([evidence], on_problem=lambda line: None)
        assert report.reconciles() and report.rejected == 0
        assert case.sql("SELECT count(*) AS n FROM cloudtrail WHERE delivery = 'eventbridge'")["n"][0] == len(
            records
        )
        return case.investigate(access_key=ground_truth["leaked_access_key"])


def test_first_use_is_the_same_with_two_hours_of_history(story: dict, ground_truth: dict) -> None:
    first = story["first_use"]
    assert (first["time"], first["source_ip"]) == (
        ground_truth["first_use"]["time"],
        ground_truth["first_use"]["source_ip"],
    )
    assert first["separable"] is True
    assert 0 < first["baseline_hours"] < 1  # judged on the little history there is, and says so


def test_launches_new_regions_quarantine_and_containment_hold(story: dict, ground_truth: dict) -> None:
    run = story["run_instances"]
    assert sorted(run["instances"]) == sorted(i for ids in ground_truth["instances"].values() for i in ids)
    assert sorted(run["regions"]) == ground_truth["regions_succeeded"]
    # the month's bill makes region use known though the trail export is two hours long
    assert sorted(run["new_regions"]) == ground_truth["regions_new"]
    assert story["escalation_attempts"]["denied"] == ground_truth["escalation_attempts"]["denied"]
    assert story["aws_quarantine"]["time"] == ground_truth["quarantine"]["time"]
    assert story["containment"]["time"] == ground_truth["containment"]["start"]
    assert sorted(story["still_running"]) == ground_truth["still_running"]
    assert story["cost"]["total"] == pytest.approx(ground_truth["incident_cost"]["total"], abs=0.01)
