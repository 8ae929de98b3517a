"""The attacker's phase of a call (`attacker_phase`) against labels nobody here wrote: the tactic
Stratus Red Team files each detonation under (../shared/corpus, read in place).

Every detonation is loaded through the real loader; for each event that is the technique's own
action (not the setup or clean-up Stratus does around it), the vocabulary's phase must be the
Stratus tactic, or one of the alternatives below, each with its reason. ATT&CK files many
behaviours under several tactics; DESIGN.md picks one phase per call, judged by effect.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import forensics
from tests.queries.test_corpus import PHASE_OF_STRATUS_TACTIC

# Calls Stratus makes around a technique rather than as it: assuming its detonation role, checking
# who it is, enumerating targets (Describe*, List*, unless discovery is the technique), polling a
# command's result or a model's availability, restarting an instance so its new user data runs,
# and cleaning up afterwards.
SETUP_PREFIXES = ("Describe", "List")
SETUP_OR_CLEANUP = {
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "ssm:GetCommandInvocation",  # polls the output of the SendCommand that is the technique
    "bedrock:GetFoundationModelAvailability",
    "ec2:StopInstances",  # ec2-user-data: the stop and start around ModifyInstanceAttribute
    "ec2:StartInstances",
    "ssm:TerminateSession",  # ssm-start-session: closing the sessions it opened
    "iam:DeleteLoginProfile",  # iam-create-user-login-profile: Stratus's clean-up (refused)
}

# Phases other than Stratus's tactic that are right for a technique, with the reason.
ALTERNATIVES: dict[str, dict[str, str]] = {
    "aws.persistence.iam-backdoor-user": {
        "privilege_escalation": "DESIGN.md: a key for another principal is escalation; ATT&CK files "
        "T1098.001 (Additional Cloud Credentials) under persistence and privilege escalation",
    },
    "aws.persistence.iam-create-admin-user": {
        "privilege_escalation": "an admin policy and a key given to another principal (T1098.001, "
        "T1098.003: persistence and privilege escalation)",
    },
    "aws.persistence.iam-create-backdoor-role": {
        "privilege_escalation": "an admin policy on a role the outside account can assume "
        "(T1098.003: persistence and privilege escalation)",
    },
    "aws.persistence.iam-create-user-login-profile": {
        "privilege_escalation": "DESIGN.md: a login for another principal is escalation (T1098)",
    },
    "aws.persistence.lambda-overwrite-code": {
        "privilege_escalation": "DESIGN.md: new code in a function runs with its role, a gain for "
        "whoever writes it",
    },
    "aws.persistence.lambda-layer-extension": {
        "privilege_escalation": "DESIGN.md: a layer is code the function runs with its role",
    },
    "aws.credential-access.ec2-steal-instance-credentials": {
        "execution": "the credentials are read by a command run on the instance (SSM SendCommand, "
        "ATT&CK T1651 Cloud Administration Command, execution)",
    },
    "aws.execution.ec2-launch-unusual-instances": {
        "impact": "a refused RunInstances of a GPU type with no user data or command: DESIGN.md "
        "phases launched compute as impact (T1496, resource hijacking)",
    },
}

# Techniques whose phase the vocabulary does not give yet, with the reason (left to fix).
NOT_YET = {
    "aws.exfiltration.ec2-security-group-open-port-22-ingress": (
        "ec2:AuthorizeSecurityGroupIngress is phased impact in events.sql; ATT&CK maps opening a "
        "cloud firewall to defense evasion (T1562.007) and Stratus to exfiltration: neither is impact"
    ),
}

EFFECT = (
    "escalation_effect(event_source, event_name, principal_type, user_name, account_id, policy_arn, "
    "request_parameters)"
)


@pytest.fixture(scope="module")
def tactic_of(corpus: Path) -> dict[str, str]:
    """technique -> Stratus's tactic, as DESIGN.md names phases."""
    labels = corpus / "stratus-red-team_detonation-logs" / "labelled" / "stratus_detonations.jsonl"
    return {r["technique_id"]: PHASE_OF_STRATUS_TACTIC[r["tactic"]] for r in map(json.loads, labels.open())}


@pytest.fixture(scope="module")
def phases(corpus: Path, tactic_of: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """technique -> [(api, attacker phase)] for each of its own calls."""
    root = corpus / "stratus-red-team_detonation-logs"
    labelled = [json.loads(line) for line in (root / "labelled" / "stratus_detonations.jsonl").open()]
    technique_of = {r["event"]["eventID"]: r["technique_id"] for r in labelled}
    with forensics.Case(":memory:") as case:
        case.load([root / "docs" / "detonation-logs"], on_problem=pytest.fail)
        rows = case.con.execute(
            f"SELECT event_id, api_of(event_source, event_name), event_name, "
            f"attacker_phase(event_source, event_name, read_only, {EFFECT}) FROM cloudtrail"
        ).fetchall()
    got: dict[str, list[tuple[str, str]]] = {}
    for event_id, api, name, phase in rows:
        if event_id not in technique_of:
            continue
        technique = technique_of[event_id]
        got.setdefault(technique, [])
        enumerates = name.startswith(SETUP_PREFIXES) and tactic_of[technique] != "discovery"
        if api in SETUP_OR_CLEANUP or enumerates:
            continue
        got[technique].append((api, phase))
    return got


def test_every_technique_has_an_own_call(phases) -> None:
    assert len(phases) == 35
    assert {t for t, calls in phases.items() if not calls} == set()


def test_the_phase_of_a_techniques_own_call_is_its_stratus_tactic(tactic_of, phases) -> None:
    wrong = {
        (technique, api, phase)
        for technique, calls in phases.items()
        if technique not in NOT_YET
        for api, phase in calls
        if phase != tactic_of[technique] and phase not in ALTERNATIVES.get(technique, {})
    }
    assert wrong == set()
    # every alternative is used (a stale one hides nothing), and every NOT_YET still disagrees
    used = {(t, p) for t, calls in phases.items() for _, p in calls if p != tactic_of[t]}
    assert {(t, p) for t, alts in ALTERNATIVES.items() for p in alts} <= used
    assert all(any(p != tactic_of[t] for _, p in phases[t]) for t in NOT_YET)
