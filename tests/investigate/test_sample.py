"""`investigate --access-key <leaked key>` on the bundled sample recovers every fact of
ground_truth.json; the stolen instance-role session is found from the instance and from the
address that replayed it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import forensics
from forensics.investigate import api


@pytest.fixture(scope="module")
def story(sample_case: Path, ground_truth: dict) -> dict:
    with forensics.Case(sample_case, read_only=True) as case:
        return case.investigate(access_key=ground_truth["leaked_access_key"])


@pytest.fixture(scope="module")
def loaded(sample_case: Path) -> dict[str, int]:
    with forensics.Case(sample_case, read_only=True) as case:
        return case.tables()


def test_first_use_and_key_first_seen(story: dict, ground_truth: dict) -> None:
    truth = ground_truth["first_use"]
    first = story["first_use"]
    assert first["time"] == truth["time"]
    assert first["source_ip"] == truth["source_ip"]
    assert first["user_agent"] == truth["user_agent"]
    assert first["region"] == truth["region"]
    assert first["event_name"] == truth["event_name"]
    assert story["key_first_seen"] == ground_truth["key_first_seen"]
    assert story["principal_arn"] == ground_truth["leaked_user"]["arn"]


def test_hunt_and_story_agree_on_first_use(story: dict, sample_case: Path, ground_truth: dict) -> None:
    """One definition (DESIGN.md, First use): the catalogue's answer for the key and the story's
    are the same event, address, network and history."""
    with forensics.Case(sample_case, read_only=True) as case:
        row = case.query("access_key_first_seen", access_key_id=ground_truth["leaked_access_key"]).row(
            0, named=True
        )
    first = story["first_use"]
    assert (
        row["first_use_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
        == first["time"]
        == ground_truth["first_use"]["time"]
    )
    assert row["first_use_source_ip"] == first["source_ip"] == ground_truth["first_use"]["source_ip"]
    assert row["first_use_network"] == first["network"]
    assert row["first_use_baseline_hours"] == pytest.approx(first["baseline_hours"], abs=0.01)
    assert row["separable"] is first["separable"] is True


def test_attacker_addresses_and_events(story: dict, ground_truth: dict) -> None:
    assert sorted(story["source_ips"]) == ground_truth["attacker_ips"]
    assert not set(story["source_ips"]) & set(ground_truth["owner_ips"])
    assert story["attribution"]["events"] == ground_truth["intrusion_events"]
    attacker = [p for p in story["phases"] if p["phase"] not in ("aws_response", "containment")]
    assert sum(p["events"] for p in attacker) == ground_truth["intrusion_events"]
    assert sum(p["denied"] for p in attacker) == ground_truth["intrusion_denied"]


def test_regions_attempted_succeeded_failed_and_new(story: dict, ground_truth: dict) -> None:
    run = story["run_instances"]
    assert run["attempted_regions"] == ground_truth["regions_attempted"]
    assert run["regions"] == ground_truth["regions_succeeded"]
    assert run["failed_regions"] == sorted(ground_truth["regions_failed"])
    assert run["new_regions"] == ground_truth["regions_new"]
    assert run["failed_calls"] == ground_truth["failed_calls"]
    assert run["error_codes"] == ground_truth["error_codes"]
    assert run["dry_runs"] == len(ground_truth["dry_run"])


def test_instances_and_types(story: dict, ground_truth: dict) -> None:
    run = story["run_instances"]
    expected = sorted(i for ids in ground_truth["instances"].values() for i in ids)
    assert sorted(run["instances"]) == expected
    assert run["instance_types"] == ground_truth["instance_type_counts"]


def test_escalation_attempts(story: dict, ground_truth: dict, sample_case: Path) -> None:
    # DESIGN.md judges escalation by effect; the generator records what it meant each attempt to
    # be: admin on itself, a key for the CI user, an inline admin policy and a new default policy
    # version are escalation; the key and login the user tried to make for itself, and CreateUser,
    # are persistence, denied, and stay in the story in that phase.
    esc, truth = story["escalation_attempts"], ground_truth["escalation_attempts"]
    assert (
        esc["event_names"]
        == truth["event_names"]
        == [
            "AttachUserPolicy",
            "CreateAccessKey",
            "CreatePolicyVersion",
            "PutUserPolicy",
        ]
    )
    assert (
        (esc["total"], esc["denied"], esc["succeeded"], esc["failed"])
        == (
            truth["total"],
            truth["denied"],
            truth["succeeded"],
            truth["failed"],
        )
        == (4, 4, 0, 0)
    )
    with forensics.Case(sample_case, read_only=True) as case:
        _, events = api.timeline(case.con, access_key=ground_truth["leaked_access_key"])
    kept = events.filter((pl.col("phase") == "persistence") & (pl.col("outcome") == "denied"))
    assert sorted(kept["action"]) == ["CreateAccessKey", "CreateLoginProfile", "CreateUser"]
    phases = {p["phase"] for p in story["phases"]}
    assert {
        "initial_access",
        "discovery",
        "privilege_escalation",
        "impact",
        "aws_response",
        "containment",
    } <= phases


def test_quarantine_and_containment(story: dict, ground_truth: dict) -> None:
    quarantine = story["aws_quarantine"]
    assert quarantine["time"] == ground_truth["quarantine"]["time"]
    assert quarantine["policy"] == ground_truth["quarantine"]["policy"]
    contained, truth = story["containment"], ground_truth["containment"]
    assert contained["time"] == truth["start"]
    assert contained["by"] == [truth["responder_principal_arn"]]
    assert contained["events"][-1]["time"] == truth["end"]
    assert {e["event_name"] for e in contained["events"]} >= set(truth["event_names"])
    aws = next(p for p in story["phases"] if p["phase"] == "aws_response")
    assert aws["events"] == 1 and aws["notable"] == ["AttachUserPolicy"]


def test_still_running_and_durations(story: dict, ground_truth: dict) -> None:
    assert sorted(story["still_running"]) == ground_truth["still_running"]
    for name in ("first_use_to_run_instances", "first_use_to_quarantine", "first_use_to_containment"):
        assert story["durations_s"][name] == ground_truth["durations_s"][name], name


def test_incident_cost(story: dict, ground_truth: dict, loaded: dict) -> None:
    assert loaded["billing"], "the sample's CUR did not load: the incident cost cannot be checked"
    cost, truth = story["cost"], ground_truth["incident_cost"]
    assert cost["currency"] == truth["currency"]
    assert cost["total"] == pytest.approx(truth["total"], abs=0.01)
    assert {r: round(v, 2) for r, v in cost["by_region"].items()} == truth["by_region"]
    assert sum(cost["by_hour"].values()) == pytest.approx(cost["total"], abs=1e-3)
    assert all(h.endswith(":00:00Z") for h in cost["by_hour"])


def test_health_event(story: dict, ground_truth: dict, loaded: dict) -> None:
    assert loaded["findings"], "the sample's Health event and GuardDuty findings did not load"
    health = [h for h in story["health_events"] if h["source"] == "health"]
    assert health and health[0]["type"] == ground_truth["health_event"]["type"]
    assert health[0]["first_seen"] == ground_truth["health_event"]["time"]


def test_flows_from_the_miners(story: dict) -> None:
    remote = {(f["remote_addr"], f["port"]) for f in story["flows"]}
    # The three pools and the miner download (sample/world.py), seen from the launched hosts.
    assert {
        ("141.94.96.144", 3333),
        ("51.15.58.224", 14444),
        ("94.130.12.30", 4444),
        ("140.82.121.4", 443),
    } <= remote


def test_coverage_names_the_sources_and_the_flowless_regions(story: dict, loaded) -> None:
    cov = story["coverage"]
    assert cov["sources"]["cloudtrail"]["records"] == loaded["cloudtrail"]
    assert len(cov["regions"]) == 17
    flowless = {g["region"] for g in cov["gaps"] if g["kind"] == "no_flow_logs"}
    # Flow logs exist only in us-east-1, us-west-2, ap-south-1 default VPCs (sample README).
    assert "us-east-1" not in flowless and "ap-south-1" not in flowless
    assert "eu-west-1" in flowless
    # ap-northeast-1's flow log is version 2 (no instance ids): the miners' flows still belong
    # to their instances through the interfaces their launch named.
    assert "ap-northeast-1" not in flowless


def test_version_2_flows_name_their_instances(story: dict, ground_truth: dict) -> None:
    tokyo = set(ground_truth["instances"]["ap-northeast-1"])
    seen = {i for f in story["flows"] for i in f["instances"]}
    assert tokyo <= seen


@pytest.mark.parametrize("by", ["instance", "ip"])
def test_stolen_instance_session_found(sample_case: Path, ground_truth: dict, by: str) -> None:
    truth = ground_truth["exfiltration"]
    indicator = {"instance": truth["instance_id"]} if by == "instance" else {"ip": truth["outside_ip"]}
    with forensics.Case(sample_case, read_only=True) as case:
        story = case.investigate(**indicator)
    assert story["principal_arn"] == truth["session_arn"]
    assert story["access_keys"] == [truth["access_key"]]
    assert story["source_ips"] == [truth["outside_ip"]]
    assert story["first_use"]["time"] == truth["time"]
    assert story["first_use"]["user_agent"] == truth["user_agent"]
    assert story["attribution"]["events"] == truth["event_count"]
    names = sorted({n for p in story["phases"] for n in p["notable"]})
    assert names == truth["event_names"]
    assert truth["home_ip"] not in story["source_ips"]
