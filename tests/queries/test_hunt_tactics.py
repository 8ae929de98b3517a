"""A finding's `tactics`: every tactic its behaviour serves, the primary first (DESIGN.md, hunt)."""

from __future__ import annotations

import forensics
from forensics.fixtures import run_case
from forensics.hunt import fold

THIEF = {"user": "dev-tanaka", "key": "AKIAEXAMPLEOWNER0001", "ip": "45.155.205.107"}
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _findings(records: list[dict]) -> list[dict]:
    df, problems = run_case("privilege_escalation", {"cloudtrail": records}, {"actors": {"thief": THIEF}})
    assert not problems
    with forensics.Case(":memory:") as case:
        q = case.queries()["privilege_escalation"]
    return fold(q, df.to_dicts())


def test_a_command_run_on_an_instance_is_execution_that_serves_privilege_escalation() -> None:
    [finding] = _findings(
        [
            {"at": "13:00:00", "actor": "thief", "api": "ssm:SendCommand",
             "params": {"documentName": "AWS-RunShellScript", "instanceIds": ["i-0a1b2c3d4e5f60718"]}},
        ]
    )  # fmt: skip
    assert finding["tactic"] == "execution"
    assert finding["tactics"] == ["execution", "privilege_escalation"]


def test_a_finding_folds_the_tactics_of_all_its_rows_primary_first() -> None:
    [finding] = _findings(
        [
            {"at": "13:00:00", "actor": "thief", "api": "iam:AttachUserPolicy",
             "params": {"userName": "dev-tanaka", "policyArn": ADMIN}},
            {"at": "13:00:10", "actor": "thief", "api": "ec2-instance-connect:SendSSHPublicKey",
             "params": {"instanceId": "i-0a1b2c3d4e5f60718", "instanceOSUser": "ec2-user"}},
        ]
    )  # fmt: skip
    assert finding["severity"] == "critical"
    # an admin policy attached to itself keeps access too (ATT&CK account manipulation)
    assert finding["tactics"] == ["privilege_escalation", "persistence", "lateral_movement"]


def test_user_data_read_in_bulk_is_credential_access_that_serves_discovery() -> None:
    records = [
        {"at": f"13:00:{i:02d}", "actor": "thief", "api": "ec2:DescribeInstanceAttribute",
         "params": {"instanceId": f"i-0a1b2c3d4e5f6071{i}", "attribute": "userData"}}
        for i in range(6)
    ]  # fmt: skip
    df, problems = run_case("secrets_bulk_read", {"cloudtrail": records}, {"actors": {"thief": THIEF}})
    assert not problems
    with forensics.Case(":memory:") as case:
        q = case.queries()["secrets_bulk_read"]
    [finding] = fold(q, df.to_dicts())
    assert finding["tactics"] == ["credential_access", "discovery"]
