"""A key-chaining intrusion, written as raw CloudTrail: an attacker with alice's leaked
admin-capable key mints a key for bob and assumes a role; bob's new key acts from a second
address; the role session acts too. Alice keeps working from the office throughout, bob keeps
using his own old key, CI and CloudFormation (invokedBy) use alice's key as always, and a
responder contains it all. The module's constants are the facts the tests expect."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from .trail import ACCOUNT, Trail, every, session, t, user

ALICE_KEY = "AKIAALICE0000000LEAK"
BOB_OLD_KEY = "AKIABOB000000000OLD1"
BOB_NEW_KEY = "AKIABOB00000MINTED01"
SVC_KEY = "AKIASVC00000MINTED02"
ROLE_KEY = "ASIAOPS00000SESSION1"
DAVE_KEY = "AKIADAVE0000UNUSED03"  # minted, never used
ALICE_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB_ARN = f"arn:aws:iam::{ACCOUNT}:user/bob"
SVC_ARN = f"arn:aws:iam::{ACCOUNT}:user/backup-svc"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ops-admin"
ROLE_SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-admin/x"
RESPONDER_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/AdminAccess/carol@example.com"

OFFICE = "198.51.100.10"
OFFICE_2 = "198.51.100.11"
BOB_HOME = "198.51.100.77"
CI = "203.0.113.5"
ATTACKER = "45.9.148.21"
ATTACKER_2 = "185.220.101.9"
CLI = "aws-cli/2.31.18 md/awscrt#0.28.1 ua/2.1 os/macos#25.0.0 md/command#{}"
CI_UA = "aws-cli/2.31.18 ua/2.1 os/linux#6.8 md/command#deploy"
EVIL_CLI = "aws-cli/1.16.312 Python/3.9.2 Linux/5.10.0-kali7-amd64 botocore/1.13.48"
EVIL_BOTO = "Boto3/1.26.137 Python/3.10.12 Linux/5.15.0-86-generic Botocore/1.29.137"
CHROME = "Mozilla/5.0 (Macintosh) Chrome/141.0.0.0 Safari/537.36"

FIRST_USE = t("2026-10-20T03:10:05Z")
BOB_KEY_FIRST_USE = t("2026-10-20T03:25:00Z")
INSTANCE = "i-0abc1234def567890"
INSTANCE_2 = "i-0fed9876cba543210"
CONTAINMENT = t("2026-10-20T04:30:00Z")
DENIED = ("AccessDenied", "User is not authorized to perform this action")


def build(root: Path) -> Path:
    trail = Trail()
    alice = user("alice", ALICE_KEY)
    bob_old = user("bob", BOB_OLD_KEY)
    # Three weeks of history: alice from the office (writes in us-east-1 and eu-west-1),
    # CI with alice's key, bob with his own, CloudFormation acting for alice.
    for day in every(t("2026-09-29T00:00:00Z"), t("2026-10-21T00:00:00Z"), timedelta(days=1)):
        for hour in (1, 4, 7):
            when = day + timedelta(hours=hour, minutes=13)
            trail.add(
                when,
                "ec2",
                "DescribeInstances",
                alice,
                OFFICE,
                CLI.format("ec2.describe-instances"),
                region="us-east-1",
            )
            trail.add(
                when + timedelta(minutes=2),
                "s3",
                "PutObject",
                alice,
                OFFICE,
                CLI.format("s3.cp"),
                params={"bucketName": "alice-data", "key": "x"},
                read_only=False,
            )
        trail.add(
            day + timedelta(hours=2),
            "ec2",
            "CreateTags",
            alice,
            OFFICE,
            CLI.format("ec2.create-tags"),
            region="eu-west-1",
            read_only=False,
        )
        trail.add(
            day + timedelta(hours=5), "cloudformation", "DescribeStacks", alice, CI, CI_UA, region="us-east-1"
        )
        trail.add(
            day + timedelta(hours=6),
            "ec2",
            "DescribeInstances",
            {**alice, "invokedBy": "cloudformation.amazonaws.com"},
            "cloudformation.amazonaws.com",
            "cloudformation.amazonaws.com",
        )
        trail.add(day + timedelta(hours=3), "s3", "ListBuckets", bob_old, BOB_HOME, CLI.format("s3.ls"))
    _attack(trail, alice)
    _response(trail)
    return trail.write(root)


def _attack(trail: Trail, alice: dict) -> None:
    at = FIRST_USE
    trail.add(at, "sts", "GetCallerIdentity", alice, ATTACKER, EVIL_CLI)
    trail.add(at + timedelta(seconds=9), "iam", "ListUsers", alice, ATTACKER, EVIL_CLI)
    trail.add(
        at + timedelta(seconds=30),
        "iam",
        "CreateAccessKey",
        alice,
        ATTACKER,
        EVIL_CLI,
        params={"userName": "bob"},
        response={
            "accessKey": {
                "userName": "bob",
                "accessKeyId": BOB_NEW_KEY,
                "status": "Active",
                "createDate": "Oct 20, 2026",
            }
        },
    )
    trail.add(
        at + timedelta(seconds=50),
        "sts",
        "AssumeRole",
        alice,
        ATTACKER,
        EVIL_CLI,
        params={"roleArn": ROLE_ARN, "roleSessionName": "x"},
        response={
            "credentials": {
                "accessKeyId": ROLE_KEY,
                "sessionToken": "...",
                "expiration": "Oct 20, 2026, 4:10:55 AM",
            },
            "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLEOPSADM:x", "arn": ROLE_SESSION_ARN},
        },
    )
    trail.add(
        at + timedelta(seconds=70),
        "iam",
        "CreateUser",
        alice,
        ATTACKER,
        EVIL_CLI,
        params={"userName": "backup-svc"},
        response={"user": {"userName": "backup-svc", "arn": SVC_ARN, "userId": "AIDASVC", "path": "/"}},
    )
    trail.add(
        at + timedelta(seconds=80),
        "iam",
        "CreateAccessKey",
        alice,
        ATTACKER,
        EVIL_CLI,
        params={"userName": "backup-svc"},
        response={"accessKey": {"userName": "backup-svc", "accessKeyId": SVC_KEY, "status": "Active"}},
    )
    trail.add(
        at + timedelta(seconds=95),
        "iam",
        "AttachUserPolicy",
        alice,
        ATTACKER,
        EVIL_CLI,
        params={"userName": "backup-svc", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    trail.add(
        at + timedelta(seconds=100),
        "iam",
        "CreateAccessKey",
        alice,
        ATTACKER,
        EVIL_CLI,
        params={"userName": "dave"},
        response={"accessKey": {"userName": "dave", "accessKeyId": DAVE_KEY, "status": "Active"}},
    )
    # The ops-admin role session reads secrets from the first address.
    role = session("ops-admin", "x", ROLE_KEY)
    trail.add(at + timedelta(minutes=2), "iam", "ListRoles", role, ATTACKER, EVIL_CLI)
    trail.add(
        at + timedelta(minutes=3),
        "secretsmanager",
        "GetSecretValue",
        role,
        ATTACKER,
        EVIL_CLI,
        params={"secretId": "prod/db"},
    )
    trail.add(
        at + timedelta(minutes=4),
        "secretsmanager",
        "GetSecretValue",
        role,
        ATTACKER,
        EVIL_CLI,
        params={"secretId": "prod/api"},
        error=DENIED,
    )
    # Bob's minted key acts from a second address with another tool.
    bob_new = user("bob", BOB_NEW_KEY)
    b = BOB_KEY_FIRST_USE
    trail.add(b, "s3", "ListBuckets", bob_new, ATTACKER_2, EVIL_BOTO)
    trail.add(
        b + timedelta(seconds=20),
        "ec2",
        "RunInstances",
        bob_new,
        ATTACKER_2,
        EVIL_BOTO,
        region="ap-south-1",
        params={"instanceType": "c5.24xlarge"},
        response={
            "instancesSet": {
                "items": [
                    {"instanceId": INSTANCE, "instanceType": "c5.24xlarge"},
                    {"instanceId": INSTANCE_2, "instanceType": "c5.24xlarge"},
                ]
            }
        },
        read_only=False,
    )
    trail.add(
        b + timedelta(seconds=25),
        "ec2",
        "RunInstances",
        bob_new,
        ATTACKER_2,
        EVIL_BOTO,
        region="sa-east-1",
        params={"instanceType": "c5.24xlarge"},
        error=("Client.VcpuLimitExceeded", "You have requested more vCPU capacity"),
        read_only=False,
    )
    # The backup-svc key is used once too.
    svc = user("backup-svc", SVC_KEY)
    trail.add(
        b + timedelta(minutes=5),
        "iam",
        "ListAttachedUserPolicies",
        svc,
        ATTACKER_2,
        EVIL_BOTO,
        params={"userName": "backup-svc"},
    )
    # Meanwhile alice works from the office as usual, one call denied by a typo'd bucket.
    trail.add(at + timedelta(minutes=7), "s3", "ListBuckets", alice, OFFICE, CLI.format("s3.ls"))
    trail.add(
        at + timedelta(minutes=9),
        "s3",
        "GetObject",
        alice,
        OFFICE,
        CLI.format("s3.cp"),
        params={"bucketName": "alice-data", "key": "y"},
        error=DENIED,
    )
    # Bob, unaware, keeps using his old key from home.
    trail.add(
        b + timedelta(minutes=1), "s3", "ListBuckets", user("bob", BOB_OLD_KEY), BOB_HOME, CLI.format("s3.ls")
    )


def _response(trail: Trail) -> None:
    carol = session("AdminAccess", "carol@example.com", "ASIACAROL00000000001")
    c = CONTAINMENT
    trail.add(c - timedelta(minutes=3), "signin", "ConsoleLogin", carol, OFFICE_2, CHROME, read_only=False)
    trail.add(
        c,
        "iam",
        "UpdateAccessKey",
        carol,
        OFFICE_2,
        CHROME,
        params={"userName": "alice", "accessKeyId": ALICE_KEY, "status": "Inactive"},
    )
    trail.add(
        c + timedelta(seconds=40),
        "iam",
        "DeleteAccessKey",
        carol,
        OFFICE_2,
        CHROME,
        params={"userName": "bob", "accessKeyId": BOB_NEW_KEY},
    )
    trail.add(
        c + timedelta(seconds=90),
        "ec2",
        "TerminateInstances",
        carol,
        OFFICE_2,
        CHROME,
        region="ap-south-1",
        params={"instancesSet": {"items": [{"instanceId": INSTANCE}]}},
        response={"instancesSet": {"items": [{"instanceId": INSTANCE}]}},
        read_only=False,
    )
    trail.add(
        c + timedelta(seconds=120),
        "iam",
        "DeleteUser",
        carol,
        OFFICE_2,
        CHROME,
        params={"userName": "backup-svc"},
    )
