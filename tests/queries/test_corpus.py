"""Detections on real third-party logs: the Invictus IR dataset and Stratus Red Team detonations."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import forensics
from forensics.catalog import catalog
from forensics.hunt import detections, fold

# Novelty detections judge an address against history; in a pile of unrelated detonations every
# key is new, so they say nothing about a technique: left out of the coverage and tactic checks.
NOVELTY = {"access_key_new_address", "get_caller_identity_new_address"}

# Stratus tactic names as DESIGN.md's phase names.
PHASE_OF_STRATUS_TACTIC = {
    "credential-access": "credential_access", "defense-evasion": "defense_evasion",
    "discovery": "discovery", "execution": "execution", "exfiltration": "exfiltration",
    "impact": "impact", "initial-access": "initial_access", "lateral-movement": "lateral_movement",
    "persistence": "persistence", "privilege-escalation": "privilege_escalation",
}  # fmt: skip

# Detonations whose Stratus tactic the hunt is not expected to report, each with the reason. Every
# detonation is still caught (some detection declares it); only its tactic check is left out.
TACTIC_NOT_EXPECTED = {
    "aws.execution.ec2-launch-unusual-instances": (
        "Stratus files a refused RunInstances of p2.xlarge under execution; the call carries no "
        "user data or command, and DESIGN.md phases launched compute as impact (ATT&CK T1496, "
        "resource hijacking), which gpu_or_large_instances reports"
    ),
    "aws.exfiltration.ec2-security-group-open-port-22-ingress": (
        "an inbound rule lets nothing out by itself: ATT&CK maps opening a cloud firewall to "
        "defense evasion (T1562.007) and the rule is a way back in (persistence); Stratus files it "
        "under exfiltration because the opened port could later carry data out"
    ),
}

# Benign console sessions: high or critical rows that are real and stay high, each with its reason.
BENIGN_HIGH = Path(__file__).with_name("benign_high_findings.yaml")


@pytest.fixture(scope="module")
def invictus(corpus: Path):
    with forensics.Case(":memory:") as case:
        case.load([corpus / "invictus-ir_aws_dataset" / "CloudTrail"], on_problem=pytest.fail)
        yield case


def test_invictus_trail_tampering_is_found_failed_attempts_at_lower_severity(invictus) -> None:
    df = invictus.query("security_logging_impaired")
    by = lambda name: df.filter(df["event_name"] == name).to_dicts()  # noqa: E731
    stops = by("StopLogging")
    assert len(stops) == 3
    assert {(r["outcome"], r["error_code"], r["severity"]) for r in stops} == {
        ("failed", "TrailNotFoundException", "low")
    }
    deletes = by("DeleteTrail")
    assert sorted((r["outcome"], r["severity"]) for r in deletes) == [
        ("failed", "low"),
        ("success", "high"),
        ("success", "high"),
    ]
    selectors = by("PutEventSelectors")
    assert len(selectors) == 2
    # one keeps management events (a reconfiguration), the other drops them (logging disabled)
    assert sorted((r["disables"], r["severity"]) for r in selectors) == [(False, "medium"), (True, "high")]
    [flow] = by("DeleteFlowLogs")
    assert flow["resource"] == "fl-064ed3a785e4a37ef" and flow["severity"] == "high"
    [leave] = by("LeaveOrganization")  # the organizations-leave detonation, refused
    assert (leave["outcome"], leave["severity"]) == ("denied", "low")
    assert len(df) == 10


def test_invictus_new_users_keys_and_passwords_are_found(invictus) -> None:
    df = invictus.query("iam_credentials_created")
    counts = {
        n: df.filter(df["event_name"] == n).height
        for n in ("CreateUser", "CreateAccessKey", "CreateLoginProfile")
    }
    assert counts == {"CreateUser": 4, "CreateAccessKey": 2, "CreateLoginProfile": 2}
    keys = df.filter(df["event_name"] == "CreateAccessKey")
    assert keys["created_access_key_id"].null_count() == 0
    assert set(keys["target_user"]) == {"stratus-red-team-backdoor-u-user", "malicious-iam-user"}


@dataclass
class Detonations:
    technique_of: dict[str, str]  # event id -> technique
    tactic_of: dict[str, str]  # technique -> DESIGN.md phase
    caught: dict[str, set[str]]  # detection -> techniques whose events its rows name
    findings: list[dict]


@pytest.fixture(scope="module")
def stratus(corpus: Path) -> Detonations:
    """All 35 detonations in one case (one load per session), told apart by their event ids."""
    root = corpus / "stratus-red-team_detonation-logs"
    labelled = [json.loads(line) for line in (root / "labelled" / "stratus_detonations.jsonl").open()]
    technique_of = {r["event"]["eventID"]: r["technique_id"] for r in labelled}
    assert len(technique_of) == len(labelled), "event ids must tell the detonations apart"
    tactic_of = {r["technique_id"]: PHASE_OF_STRATUS_TACTIC[r["tactic"]] for r in labelled}
    caught: dict[str, set[str]] = defaultdict(set)
    findings = []
    with forensics.Case(":memory:") as case:
        case.load([root / "docs" / "detonation-logs"], on_problem=pytest.fail)
        for q in detections(case):  # what run_hunt does, keeping each detection's rows
            rows = case.query(q.id).to_dicts()
            caught[q.id].update(technique_of[r["event_id"]] for r in rows if r["event_id"] in technique_of)
            findings.extend(fold(q, rows))
    return Detonations(technique_of, tactic_of, dict(caught), findings)


def _declared() -> dict[str, set[str]]:
    return {qid: set(q.meta.get("stratus") or ()) for qid, q in catalog().items() if q.kind == "detection"}


def test_stratus_corpus_has_35_techniques(stratus: Detonations) -> None:
    assert len(stratus.tactic_of) == 35


def test_every_stratus_technique_is_declared_by_a_detection(stratus: Detonations) -> None:
    declared = set().union(*_declared().values())
    assert declared - set(stratus.tactic_of) == set(), "declared ids that are no Stratus technique"
    assert set(stratus.tactic_of) - declared == set(), "techniques no detection declares"
    assert not {qid for qid, techs in _declared().items() if techs and qid in NOVELTY}


@pytest.mark.parametrize("query_id", sorted(q for q, techs in _declared().items() if techs))
def test_detection_catches_the_techniques_it_declares(stratus: Detonations, query_id: str) -> None:
    missed = _declared()[query_id] - stratus.caught.get(query_id, set())
    assert not missed, f"{query_id} declares but does not catch: {sorted(missed)}"


def test_declared_tactic_of_every_detonation_fires(stratus: Detonations) -> None:
    """A finding whose `tactics` holds the detonation's own tactic names one of its events."""
    fired: dict[str, set[str]] = defaultdict(set)
    for f in stratus.findings:
        if f["detection"] in NOVELTY:
            continue
        assert f["tactics"][0] == f["tactic"], "the primary tactic comes first"
        for event_id in f.get("event_ids") or ():
            if event_id in stratus.technique_of:
                fired[stratus.technique_of[event_id]].update(f["tactics"])
    missing = {
        t: tactic
        for t, tactic in stratus.tactic_of.items()
        if tactic not in fired[t] and t not in TACTIC_NOT_EXPECTED
    }
    assert missing == {}
    now_reported = {t for t in TACTIC_NOT_EXPECTED if stratus.tactic_of[t] in fired[t]}
    assert now_reported == set(), "reported now: take them off TACTIC_NOT_EXPECTED"


def _benign_high_listed() -> list[dict]:
    return yaml.safe_load(BENIGN_HIGH.read_text(encoding="utf-8"))["benign_high_findings"]


@pytest.fixture(scope="module")
def permiso_high(corpus: Path) -> set[tuple[str, str]]:
    """(detection, event id) of every high or critical row the hunt folds into findings, over
    Permiso's benign console sessions (their InputEvents files; ExpectedSignals are labels)."""
    root = corpus / "permiso_cloudconsolecartographer"
    with forensics.Case(":memory:") as case:
        case.load(sorted(root.rglob("InputEvents.json")), on_problem=pytest.fail)
        high = set()
        for q in detections(case):  # what run_hunt does: a finding is as severe as its worst row
            rows = case.query(q.id).to_dicts()
            high.update((q.id, str(r["event_id"])) for r in rows if r["severity"] in ("high", "critical"))
            for f in fold(q, rows):
                if f["severity"] in ("high", "critical"):
                    assert {(q.id, e) for e in f["event_ids"]} & high, f
    return high


def test_benign_high_list_entries_are_reasoned_and_still_high(permiso_high) -> None:
    for entry in _benign_high_listed():
        assert len(str(entry.get("reason", ""))) > 40, entry
        for event_id in entry["event_ids"]:
            assert (entry["detection"], event_id) in permiso_high, f"no longer high, drop it: {entry}"


def test_benign_console_sessions_have_no_unexplained_high_finding(permiso_high) -> None:
    listed = {(e["detection"], i) for e in _benign_high_listed() for i in e["event_ids"]}
    assert sorted(permiso_high - listed) == []


def test_invictus_launch_in_its_only_region_is_not_high(invictus) -> None:
    """Under an hour of evidence: region use is unknown, so the launches are reported (they are
    evidence) but never as launches into an unused region at high severity."""
    df = invictus.query("launch_in_unused_region")
    assert df.height > 0 and set(df["region_use"].to_list()) == {"unknown"}
    high = df.filter(df["severity"].is_in(["high", "critical"]) & (df["region"] == "us-east-1"))
    assert high.height == 0
