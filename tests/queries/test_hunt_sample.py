"""The hunt on the bundled sample incident recovers what ground_truth.json says happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import forensics
from forensics.catalog import Query, catalog
from forensics.hunt import fold, run_hunt


@pytest.fixture(scope="module")
def findings(sample_case: Path) -> list[dict[str, Any]]:
    with forensics.Case(sample_case, read_only=True) as case:
        return run_hunt(case, on_problem=pytest.fail)


def _of(findings: list[dict[str, Any]], detection: str, **match: Any) -> list[dict[str, Any]]:
    return [
        f for f in findings if f["detection"] == detection and all(f.get(k) == v for k, v in match.items())
    ]


def test_findings_follow_the_hunt_json_contract(findings) -> None:
    keys = {"detection", "source", "title", "severity", "tactic", "tactics", "attack", "principal_arn",
            "access_key_id", "source_ip", "entities", "first_seen", "last_seen", "count",
            "regions"}  # fmt: skip
    for f in findings:
        assert keys <= set(f), f["detection"]
        assert set(f["entities"]) == {"principals", "access_keys", "source_ips", "instances", "resources"}
        assert f["source"] in {"query", "guardduty", "health"}
        assert f["tactics"][0] == f["tactic"] and len(set(f["tactics"])) == len(f["tactics"])
        assert f["first_seen"].endswith("Z") and f["last_seen"].endswith("Z")
    assert [f["first_seen"] for f in findings] == sorted(f["first_seen"] for f in findings)
    json.dumps(findings)  # one JSON document, nothing exotic inside


def test_first_use_is_the_attacker_address_at_the_right_second(findings, ground_truth) -> None:
    first = ground_truth["first_use"]
    key = ground_truth["leaked_access_key"]
    hits = _of(findings, "access_key_new_address", access_key_id=key)
    earliest = min(hits, key=lambda f: f["first_seen"])
    assert earliest["first_seen"] == first["time"]
    assert earliest["source_ip"] == first["source_ip"]
    assert earliest["severity"] == "high"


def test_the_attacker_addresses_are_the_new_addresses_of_the_key(findings, ground_truth) -> None:
    hits = _of(findings, "access_key_new_address", access_key_id=ground_truth["leaked_access_key"])
    assert {f["source_ip"] for f in hits} == set(ground_truth["attacker_ips"])
    tools = _of(findings, "attack_tool_user_agent", access_key_id=ground_truth["leaked_access_key"])
    assert [f["source_ip"] for f in tools] == [ground_truth["first_use"]["source_ip"]]


def test_every_escalation_attempt_is_reported_as_denied(findings, ground_truth) -> None:
    """The generator's attempts are the classic paths by name; the hunt judges them by effect
    (DESIGN.md, Privilege escalation): admin policies for itself, a key for another user and a new
    policy version are escalation; a new user, and a password or key for itself, are persistence
    (iam_credentials_created). Together they report every attempt, each once, as denied."""
    truth = ground_truth["escalation_attempts"]
    key = ground_truth["leaked_access_key"]
    escalation = _of(findings, "privilege_escalation", access_key_id=key)
    persistence = [
        f
        for f in _of(findings, "iam_credentials_created", access_key_id=key)
        if f["outcomes"] == {"denied": f["count"]}
    ]
    assert set().union(*(f["event_names"] for f in escalation)) == {
        "AttachUserPolicy", "CreateAccessKey", "PutUserPolicy", "CreatePolicyVersion"
    }  # fmt: skip
    assert all(set(f["outcomes"]) == {"denied"} for f in escalation)
    escalation_ids = {i for f in escalation for i in f["event_ids"]}
    assert len(escalation_ids) == truth["total"] == truth["denied"] == 4
    assert set().union(*(f["event_names"] for f in escalation)) == set(truth["event_names"])
    # the user's own key and login, and a new user: persistence (iam_credentials_created also
    # lists the key made for the CI user, which is escalation: it is counted there once)
    own = {i for f in persistence for i in f["event_ids"]} - escalation_ids
    assert len(own) == 3
    assert set().union(*(f["event_names"] for f in persistence)) == {
        "CreateAccessKey", "CreateLoginProfile", "CreateUser"
    }  # fmt: skip


def test_regions_attempted_and_succeeded(findings, ground_truth) -> None:
    waves = _of(findings, "multi_region_compute_launch", source_ip="193.233.139.52")
    attempted = set().union(*(f["regions"] for f in waves))
    succeeded = set().union(*(f["regions_succeeded"] for f in waves))
    assert attempted == set(ground_truth["regions_attempted"])
    assert succeeded == set(ground_truth["regions_succeeded"])
    launched = set().union(*(f["entities"]["instances"] for f in waves))
    assert launched == {i for ids in ground_truth["instances"].values() for i in ids}
    new = set().union(*(f["regions"] for f in _of(findings, "launch_in_unused_region")))
    assert new == set(ground_truth["regions_new"])


def test_quarantine_and_health_event(findings, ground_truth) -> None:
    q = ground_truth["quarantine"]
    [quarantine] = _of(findings, "aws_quarantine_policy")
    assert quarantine["first_seen"] == q["time"]
    assert quarantine["entities"]["resources"] == [q["policy"]]
    assert quarantine["access_key_id"] == ground_truth["leaked_access_key"]
    [health] = [f for f in findings if f["source"] == "health"]
    assert health["first_seen"] == ground_truth["health_event"]["time"]
    assert health["access_key_id"] == ground_truth["health_event"]["access_key"]
    assert health["tactic"] == "aws_response"
    denied = _of(findings, "explicit_deny_after_quarantine", source_ip="193.233.139.52")
    assert sum(f["count"] for f in denied) == ground_truth["after_quarantine"]["explicit_deny"]


def test_containment_actions_by_the_responder(findings, ground_truth) -> None:
    truth = ground_truth["containment"]
    hits = _of(findings, "containment_actions", principal_arn=truth["responder_principal_arn"],
               source_ip=truth["responder_ip"])  # fmt: skip
    incident = [f for f in hits if f["first_seen"] >= truth["start"]]
    assert len(incident) == 1
    [c] = incident
    assert c["first_seen"] == truth["start"]
    assert c["last_seen"] <= truth["end"]
    assert {"UpdateAccessKey", "DeleteAccessKey", "TerminateInstances", "DeleteUser"} <= set(c["event_names"])
    terminated = {i for ids in truth["terminated"].values() for i in ids}
    assert terminated <= set(c["entities"]["instances"])


def test_the_instances_still_running(findings, ground_truth) -> None:
    [left] = _of(findings, "attacker_resources_not_removed")
    assert left["entities"]["instances"] == sorted(ground_truth["still_running"])
    assert left["access_key_id"] == ground_truth["leaked_access_key"]


def test_the_instance_credential_theft(findings, ground_truth) -> None:
    ex = ground_truth["exfiltration"]
    [theft] = _of(findings, "instance_credentials_used_elsewhere")
    assert (theft["principal_arn"], theft["source_ip"], theft["first_seen"]) == (
        ex["session_arn"],
        ex["outside_ip"],
        ex["time"],
    )
    assert theft["last_seen"] == ex["last"]
    assert theft["count"] == ex["event_count"]
    assert theft["severity"] == "critical"  # IMDSv1 delivery
    assert theft["entities"]["instances"] == [ex["instance_id"]]


def test_the_lambda_loop_and_its_cost(findings, ground_truth) -> None:
    loop = ground_truth["lambda_loop"]
    [found] = _of(findings, "runaway_write_loop")
    assert found["principal_arn"] == loop["session_arn"]
    assert (found["first_seen"], found["last_seen"], found["count"]) == (
        loop["start"],
        loop["end"],
        loop["event_count"],
    )
    assert found["cost"] == pytest.approx(loop["cost"], abs=0.01)
    assert found["event_names"] == [loop["event_name"]]


def test_mining_flows_and_first_spend_name_the_leaked_key(findings, ground_truth) -> None:
    key = ground_truth["leaked_access_key"]
    flows = _of(findings, "mining_pool_flows")
    assert flows and all(f["access_key_id"] == key for f in flows)
    spend = _of(findings, "first_spend_in_region")
    assert {f["access_key_id"] for f in spend} == {key}
    assert set().union(*(f["regions"] for f in spend)) <= set(ground_truth["regions_new"])


def test_from_and_to_scope_the_hunt(sample_case, ground_truth) -> None:
    with forensics.Case(sample_case, read_only=True) as case:
        scoped = run_hunt(case, from_time="2026-11-10T16:00:00Z", to_time="2026-11-10T18:00:00Z")
    assert {f["detection"] for f in scoped} == {"instance_credentials_used_elsewhere", "guardduty_findings"}
    assert all("2026-11-10T16" <= f["first_seen"] < "2026-11-10T18" for f in scoped)


def test_finding_tactics_come_from_the_header_or_from_each_row() -> None:
    """DESIGN.md: every tactic that applies, the primary first; a row's own `tactics` overrides
    the header's (one detection can report execution for one call, lateral movement for another)."""
    header = Query(id="d", title="d", kind="detection", sources=("cloudtrail",), sql="", path="",
                   tactic="discovery", tactics=("discovery", "credential_access"))  # fmt: skip
    row = {"event_time": None, "principal_arn": "p", "severity": "low", "event_id": "e1"}
    [plain] = fold(header, [{**row, "tactic": "discovery"}])
    assert plain["tactic"] == "discovery" and plain["tactics"] == ["discovery", "credential_access"]
    per_row = [
        {**row, "event_id": "e1", "tactic": "execution", "tactics": ["execution"], "severity": "medium"},
        {**row, "event_id": "e2", "tactic": "lateral_movement", "tactics": ["lateral_movement"]},
    ]
    [mixed] = fold(header, per_row)
    assert mixed["tactic"] == "execution" and mixed["tactics"] == ["execution", "lateral_movement"]


def test_query_header_declares_tactics_primary_first() -> None:
    q = catalog()["user_data_read"]
    assert q.tactics == ("discovery", "credential_access")
    assert catalog()["root_account_activity"].tactics == ("initial_access",)
