"""Detections on real third-party logs: the Invictus IR dataset and Stratus Red Team detonations."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

import forensics
from forensics.hunt import detections

# Novelty detections judge an address against history; in a pile of unrelated detonations every
# key is new, so they say nothing about a technique and are left out of the coverage table.
NOVELTY = {"access_key_new_address", "get_caller_identity_new_address"}

# What each Stratus technique's detonation is caught by (the report's coverage table).
STRATUS_COVERAGE = {
    "aws.credential-access.ec2-get-password-data": {"secrets_bulk_read"},
    "aws.credential-access.ec2-steal-instance-credentials": {"instance_credentials_used_elsewhere",
                                                             "privilege_escalation"},
    "aws.credential-access.secretsmanager-batch-retrieve-secrets": {"secrets_bulk_read"},
    "aws.credential-access.secretsmanager-retrieve-secrets": {"secrets_bulk_read"},
    "aws.credential-access.ssm-retrieve-securestring-parameters": {"secrets_bulk_read"},
    "aws.defense-evasion.cloudtrail-delete": {"security_logging_impaired"},
    "aws.defense-evasion.cloudtrail-event-selectors": {"security_logging_impaired"},
    "aws.defense-evasion.cloudtrail-stop": {"security_logging_impaired"},
    "aws.defense-evasion.dns-delete-logs": {"security_logging_impaired"},
    "aws.defense-evasion.organizations-leave": {"security_logging_impaired"},
    "aws.defense-evasion.vpc-remove-flow-logs": {"security_logging_impaired"},
    "aws.discovery.ec2-download-user-data": {"secrets_bulk_read"},
    "aws.execution.ec2-launch-unusual-instances": {"gpu_or_large_instances", "launch_in_unused_region"},
    "aws.execution.ec2-user-data": {"privilege_escalation"},
    "aws.execution.ssm-send-command": {"privilege_escalation"},
    "aws.execution.ssm-start-session": {"privilege_escalation"},
    "aws.exfiltration.ec2-security-group-open-port-22-ingress": {"security_group_open_to_world"},
    "aws.exfiltration.ec2-share-ami": {"resource_shared_externally"},
    "aws.exfiltration.ec2-share-ebs-snapshot": {"resource_shared_externally"},
    "aws.exfiltration.rds-share-snapshot": {"resource_shared_externally"},
    "aws.impact.bedrock-invoke-model": {"llm_model_access"},
    "aws.initial-access.console-login-without-mfa": {"console_login_without_mfa"},
    "aws.lateral-movement.ec2-instance-connect": {"privilege_escalation"},
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key": {"privilege_escalation"},
    # a trust policy opened to an outside account is a backdoor (persistence), not escalation
    "aws.persistence.iam-backdoor-role": {"external_trust_granted"},
    "aws.persistence.iam-backdoor-user": {"iam_credentials_created", "privilege_escalation"},
    "aws.persistence.iam-create-admin-user": {"iam_credentials_created", "privilege_escalation"},
    "aws.persistence.iam-create-backdoor-role": {"external_trust_granted", "privilege_escalation"},
    "aws.persistence.iam-create-user-login-profile": {"containment_actions", "iam_credentials_created",
                                                      "privilege_escalation"},
    "aws.persistence.lambda-backdoor-function": {"external_trust_granted"},
    "aws.persistence.lambda-layer-extension": {"privilege_escalation"},
    "aws.persistence.lambda-overwrite-code": {"privilege_escalation"},
    "aws.persistence.rolesanywhere-create-trust-anchor": {"iam_credentials_created"},
    "aws.persistence.sts-federation-token": {"iam_credentials_created"},
    "aws.privilege-escalation.iam-update-user-login-profile": {"iam_credentials_created",
                                                               "privilege_escalation"},
}  # fmt: skip


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


def test_stratus_detonations_coverage(corpus: Path) -> None:
    """Which techniques the catalogue catches, by detection, from one case of all detonations."""
    root = corpus / "stratus-red-team_detonation-logs"
    labelled = [json.loads(line) for line in (root / "labelled" / "stratus_detonations.jsonl").open()]
    technique_of = {r["event"]["eventID"]: r["technique_id"] for r in labelled}
    caught: dict[str, set[str]] = defaultdict(set)
    with forensics.Case(":memory:") as case:
        case.load([root / "docs" / "detonation-logs"], on_problem=pytest.fail)
        for q in detections(case):
            if q.id in NOVELTY:
                continue
            for event_id in case.query(q.id)["event_id"].to_list():
                if event_id in technique_of:
                    caught[technique_of[event_id]].add(q.id)
    assert set(technique_of.values()) == set(STRATUS_COVERAGE)
    assert dict(caught) == STRATUS_COVERAGE
