"""Small intrusions, written as raw CloudTrail (and one version 2 flow log), each probing one
definition of DESIGN.md: escalation by effect, outcomes, phases by actor, AWS's quarantine
scoped to the user's account, the intruder's own teardown, a CloudFormation backdoor, flows
that name no instance, and region use. The module's constants are the facts the tests expect.

- erin (account A) leaks her key: the intruder mints a key for erin herself (persistence), is
  denied an admin policy on herself (escalation, denied), is throttled on an inline policy and
  hits a limit making frank's login (escalation, failed: never denied), launches two instances
  in ap-northeast-1 (one refused in eu-north-1 by a request limit), runs a command on one
  through SSM (execution), pushes an SSH key (lateral movement), then deletes its own key and
  terminates its second instance (defense evasion). AWS quarantines a namesake erin in account
  B first, is denied once in A, then quarantines erin in A; carol terminates the first
  instance (containment). Mining flows sit on the first instance's interface in a version 2
  flow log (no instance id). Account B's erin wrote in ap-northeast-1 before: not A's use.
- gina (account A) leaks her key: the intruder creates a CloudFormation stack whose resources
  (made by CloudFormation for gina, `invokedBy`) are a user, an admin policy and a key, and an
  Auto Scaling group whose launch (AWS's own call) names the stack; the key launches an
  instance from another address. gina's own stacks, before and after, and
  their instances stay out.
- the namesake erin in account B leaks her key too: reads through global services (logged in
  us-east-1) and a launch in ap-northeast-1, which B used: no new region.
- zed (account C) has half an hour of evidence before his key launches: region use unknown;
  the intruder then stops the trail (a coverage gap that never closes).
"""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

from .trail import ACCOUNT, Trail, every, session, t, user

ACCOUNT_B = "444455556666"
ACCOUNT_C = "777788889999"

ERIN_KEY = "AKIAERIN000000LEAKED"
ERIN_B_KEY = "AKIAERINB00000OTHERA"
ERIN_MINTED = "AKIAERIN00000MINTED1"
GINA_KEY = "AKIAGINA000000LEAKED"
BACKDOOR_KEY = "AKIABACKDOOR0000CFN1"
ZED_KEY = "AKIAZED00000000SHORT"
CARLA_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/AdminAccess/carla@example.com"
BACKDOOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/svc-backdoor"

OFFICE = "198.51.100.20"
OFFICE_2 = "198.51.100.21"
EVIL_E = "45.9.148.30"
EVIL_G = "185.220.101.40"
EVIL_G2 = "185.220.101.41"
EVIL_Z = "45.9.148.99"
EVIL_B = "45.9.148.31"
CLI = "aws-cli/2.31.18 md/awscrt#0.28.1 ua/2.1 os/macos#25.0.0 md/command#{}"
EVIL_CLI = "aws-cli/1.16.312 Python/3.9.2 Linux/5.10.0-kali7-amd64 botocore/1.13.48"
EVIL_BOTO = "Boto3/1.26.137 Python/3.10.12 Linux/5.15.0-86-generic Botocore/1.29.137"
CHROME = "Mozilla/5.0 (Macintosh) Chrome/141.0.0.0 Safari/537.36"
CFN = "cloudformation.amazonaws.com"

E0 = t("2026-10-20T08:00:00Z")
I_E1 = "i-0e1e1e1e1e1e1e1e1"
I_E2 = "i-0e2e2e2e2e2e2e2e2"
ENI_E1 = "eni-0e1e1e1e1e1e1e1e1"
ENI_E2 = "eni-0e2e2e2e2e2e2e2e2"
ENI_E3 = "eni-0e3e3e3e3e3e3e3e3"
IP_E1 = "172.31.5.10"
POOL = ("141.94.96.144", 3333)
NAMESAKE_QUARANTINE = E0 + timedelta(minutes=25)
DENIED_QUARANTINE = E0 + timedelta(minutes=27)
QUARANTINE = E0 + timedelta(minutes=30)
CONTAINMENT = E0 + timedelta(minutes=40)
QUARANTINE_POLICY = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"

G0 = t("2026-10-20T09:00:00Z")
STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/ops-tools/0b6e3f20-ae11-11ef-9d52-0affd0a4c1a7"
I_G1 = "i-0a9a9a9a9a9a9a9a9"
I_G2 = "i-0a8a8a8a8a8a8a8a8"
G_CONTAINMENT = G0 + timedelta(minutes=30)
I_OWNER = "i-0c1c1c1c1c1c1c1c1"
I_OWNER_2 = "i-0c2c2c2c2c2c2c2c2"

B0 = t("2026-10-20T10:00:00Z")
I_B1 = "i-0b1b1b1b1b1b1b1b1"
Z0 = t("2026-10-21T10:30:00Z")
I_Z1 = "i-0f1f1f1f1f1f1f1f1"
ZED_STOPS_LOGGING = Z0 + timedelta(seconds=40)

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DENIED = ("AccessDenied", "User is not authorized to perform this action")
THROTTLED = ("Throttling", "Rate exceeded")
LIMIT = ("LimitExceeded", "Cannot exceed quota for LoginProfilesPerUser")


def _launch(instances: list[tuple[str, str | None, str | None]], instance_type: str) -> dict:
    items = []
    for inst, eni, ip in instances:
        item = {"instanceId": inst, "instanceType": instance_type, "privateIpAddress": ip}
        if eni:
            item["networkInterfaceSet"] = {
                "items": [{"networkInterfaceId": eni, "privateIpAddress": ip, "status": "in-use"}]
            }
        items.append(item)
    return {"instancesSet": {"items": items}}


def build(root: Path) -> Path:
    trail = Trail()
    _history(trail)
    _erin(trail)
    _gina(trail)
    _erin_b(trail)
    _zed(trail)
    trail.write(root)
    _flows(root)
    return root


def _history(trail: Trail) -> None:
    erin, erin_b, gina = user("erin", ERIN_KEY), user("erin", ERIN_B_KEY, ACCOUNT_B), user("gina", GINA_KEY)
    for day in every(t("2026-10-14T00:00:00Z"), t("2026-10-20T00:00:00Z"), timedelta(days=1)):
        for who, ip in ((erin, OFFICE), (gina, OFFICE_2)):
            trail.add(
                day + timedelta(hours=1), "ec2", "DescribeInstances", who, ip, CLI.format("ec2.describe")
            )
            trail.add(
                day + timedelta(hours=2),
                "ec2",
                "CreateTags",
                who,
                ip,
                CLI.format("ec2.create-tags"),
                read_only=False,
            )
        # IAM writes log in us-east-1 and say nothing about regions; erin's writes there
        # (CreateTags above) make it used.
        trail.add(day + timedelta(hours=3), "iam", "UpdateUser", erin, OFFICE, CLI.format("iam.update-user"))
        # The namesake in account B works in ap-northeast-1: B's use, not A's.
        trail.add(
            day + timedelta(hours=4),
            "ec2",
            "CreateTags",
            erin_b,
            "203.0.113.80",
            CLI.format("ec2.create-tags"),
            region="ap-northeast-1",
            read_only=False,
            account=ACCOUNT_B,
        )
        # CloudFormation reading for gina (plumbing, every day).
        trail.add(
            day + timedelta(hours=5),
            "ec2",
            "DescribeInstances",
            {**gina, "invokedBy": CFN},
            CFN,
            CFN,
        )
    # gina's own stack, days before: its instance is hers.
    owner_stack = t("2026-10-17T10:00:00Z")
    trail.add(
        owner_stack,
        "cloudformation",
        "CreateStack",
        gina,
        OFFICE_2,
        CLI.format("cloudformation.create-stack"),
        params={"stackName": "ci-infra"},
        response={"stackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/ci-infra/1"},
        read_only=False,
    )
    trail.add(
        owner_stack + timedelta(minutes=1),
        "ec2",
        "RunInstances",
        {**gina, "invokedBy": CFN},
        CFN,
        CFN,
        params={"instanceType": "t3.micro"},
        response=_launch([(I_OWNER, None, None)], "t3.micro"),
        read_only=False,
    )


def _erin(trail: Trail) -> None:
    erin = user("erin", ERIN_KEY)
    at = E0
    trail.add(at, "sts", "GetCallerIdentity", erin, EVIL_E, EVIL_CLI)
    trail.add(
        at + timedelta(seconds=10),
        "iam",
        "CreateAccessKey",
        erin,
        EVIL_E,
        EVIL_CLI,
        response={"accessKey": {"userName": "erin", "accessKeyId": ERIN_MINTED, "status": "Active"}},
    )
    trail.add(
        at + timedelta(seconds=20),
        "iam",
        "AttachUserPolicy",
        erin,
        EVIL_E,
        EVIL_CLI,
        params={"userName": "erin", "policyArn": ADMIN},
        error=DENIED,
    )
    trail.add(
        at + timedelta(seconds=30),
        "iam",
        "PutUserPolicy",
        erin,
        EVIL_E,
        EVIL_CLI,
        params={
            "userName": "erin",
            "policyName": "x",
            "policyDocument": '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        },
        error=THROTTLED,
    )
    trail.add(
        at + timedelta(seconds=40),
        "iam",
        "CreateLoginProfile",
        erin,
        EVIL_E,
        EVIL_CLI,
        params={"userName": "frank"},
        error=LIMIT,
    )
    trail.add(
        at + timedelta(seconds=60),
        "ec2",
        "RunInstances",
        erin,
        EVIL_E,
        EVIL_CLI,
        region="ap-northeast-1",
        params={"instanceType": "c5.large"},
        response=_launch([(I_E1, ENI_E1, IP_E1), (I_E2, ENI_E2, "172.31.5.11")], "c5.large"),
        read_only=False,
    )
    trail.add(
        at + timedelta(seconds=70),
        "ec2",
        "RunInstances",
        erin,
        EVIL_E,
        EVIL_CLI,
        region="eu-north-1",
        params={"instanceType": "c5.large"},
        error=("RequestLimitExceeded", "Request limit exceeded."),
        read_only=False,
    )
    trail.add(
        at + timedelta(minutes=2),
        "ssm",
        "SendCommand",
        erin,
        EVIL_E,
        EVIL_CLI,
        region="ap-northeast-1",
        params={"instanceIds": [I_E1], "documentName": "AWS-RunShellScript"},
        read_only=False,
    )
    trail.add(
        at + timedelta(minutes=3),
        "ec2-instance-connect",
        "SendSSHPublicKey",
        erin,
        EVIL_E,
        EVIL_CLI,
        region="ap-northeast-1",
        params={"instanceId": I_E2, "instanceOSUser": "ec2-user"},
        read_only=False,
    )
    trail.add(
        at + timedelta(minutes=3, seconds=30),
        "ec2",
        "AttachNetworkInterface",
        erin,
        EVIL_E,
        EVIL_CLI,
        region="ap-northeast-1",
        params={"networkInterfaceId": ENI_E3, "instanceId": I_E2, "deviceIndex": 1},
        response={"attachmentId": "eni-attach-0e3e3e3e3e3e3e3e3"},
        read_only=False,
    )
    minted = user("erin", ERIN_MINTED)
    trail.add(
        at + timedelta(minutes=4),
        "ec2",
        "DescribeInstances",
        minted,
        EVIL_E,
        EVIL_CLI,
        region="ap-northeast-1",
    )
    # The minted key at work through a service (invokedBy: the principal's own action, with the
    # service's name for an address): still the intrusion's.
    trail.add(
        at + timedelta(minutes=5),
        "s3",
        "CreateBucket",
        {**minted, "invokedBy": "cloudformation.amazonaws.com"},
        "cloudformation.amazonaws.com",
        "cloudformation.amazonaws.com",
        region="ap-northeast-1",
        params={"bucketName": "erin-loot-bucket"},
        read_only=False,
    )
    # The intruder's own teardown: its second instance and the key it minted.
    trail.add(
        at + timedelta(minutes=20),
        "ec2",
        "TerminateInstances",
        erin,
        EVIL_E,
        EVIL_CLI,
        region="ap-northeast-1",
        params={"instancesSet": {"items": [{"instanceId": I_E2}]}},
        response={"instancesSet": {"items": [{"instanceId": I_E2}]}},
        read_only=False,
    )
    trail.add(
        at + timedelta(minutes=21),
        "iam",
        "DeleteAccessKey",
        erin,
        EVIL_E,
        EVIL_CLI,
        params={"userName": "erin", "accessKeyId": ERIN_MINTED},
    )
    # AWS: a namesake in account B, a denied attach in A, then the quarantine in A.
    aws = {"type": "AWSService", "invokedBy": "AWS Internal"}
    for when, account, error in (
        (NAMESAKE_QUARANTINE, ACCOUNT_B, None),
        (DENIED_QUARANTINE, ACCOUNT, DENIED),
        (QUARANTINE, ACCOUNT, None),
    ):
        trail.add(
            when,
            "iam",
            "AttachUserPolicy",
            aws,
            "AWS Internal",
            "AWS Internal",
            params={"userName": "erin", "policyArn": QUARANTINE_POLICY},
            error=error,
            account=account,
        )
    carla = session("AdminAccess", "carla@example.com", "ASIACARLA0000000001")
    trail.add(
        CONTAINMENT - timedelta(minutes=2), "signin", "ConsoleLogin", carla, OFFICE, CHROME, read_only=False
    )
    trail.add(
        CONTAINMENT,
        "ec2",
        "TerminateInstances",
        carla,
        OFFICE,
        CHROME,
        region="ap-northeast-1",
        params={"instancesSet": {"items": [{"instanceId": I_E1}]}},
        response={"instancesSet": {"items": [{"instanceId": I_E1}]}},
        read_only=False,
    )


def _gina(trail: Trail) -> None:
    gina = user("gina", GINA_KEY)
    cfn = {**gina, "accessKeyId": "ASIAFASCFN0000000001", "invokedBy": CFN}
    at = G0
    trail.add(at, "sts", "GetCallerIdentity", gina, EVIL_G, EVIL_BOTO)
    trail.add(
        at + timedelta(seconds=30),
        "cloudformation",
        "CreateStack",
        gina,
        EVIL_G,
        EVIL_BOTO,
        params={"stackName": "ops-tools", "capabilities": ["CAPABILITY_NAMED_IAM"]},
        response={"stackId": STACK_ID},
        read_only=False,
    )
    trail.add(
        at + timedelta(seconds=40),
        "iam",
        "CreateUser",
        cfn,
        CFN,
        CFN,
        params={"userName": "svc-backdoor"},
        response={"user": {"userName": "svc-backdoor", "arn": BACKDOOR_ARN, "userId": "AIDABACKDOOR"}},
    )
    trail.add(
        at + timedelta(seconds=45),
        "iam",
        "AttachUserPolicy",
        cfn,
        CFN,
        CFN,
        params={"userName": "svc-backdoor", "policyArn": ADMIN},
    )
    trail.add(
        at + timedelta(seconds=50),
        "iam",
        "CreateAccessKey",
        cfn,
        CFN,
        CFN,
        params={"userName": "svc-backdoor"},
        response={"accessKey": {"userName": "svc-backdoor", "accessKeyId": BACKDOOR_KEY, "status": "Active"}},
    )
    # The stack's Auto Scaling group launches through AWS's own identity; the launch names the
    # stack in its tags.
    trail.add(
        at + timedelta(minutes=2),
        "ec2",
        "RunInstances",
        {"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"},
        "autoscaling.amazonaws.com",
        "autoscaling.amazonaws.com",
        region="us-east-2",
        params={
            "instanceType": "c5.2xlarge",
            "tagSpecificationSet": {
                "items": [
                    {
                        "resourceType": "instance",
                        "tags": [{"key": "aws:cloudformation:stack-id", "value": STACK_ID}],
                    }
                ]
            },
        },
        response=_launch([(I_G2, None, None)], "c5.2xlarge"),
        read_only=False,
    )
    backdoor = user("svc-backdoor", BACKDOOR_KEY)
    trail.add(
        at + timedelta(minutes=10),
        "ec2",
        "RunInstances",
        backdoor,
        EVIL_G2,
        EVIL_BOTO,
        region="sa-east-1",
        params={"instanceType": "c5.4xlarge"},
        response=_launch([(I_G1, None, None)], "c5.4xlarge"),
        read_only=False,
    )
    # A responder deletes the intruder's stack.
    trail.add(
        G_CONTAINMENT,
        "cloudformation",
        "DeleteStack",
        session("AdminAccess", "carla@example.com", "ASIACARLA0000000002"),
        OFFICE,
        CHROME,
        params={"stackName": "ops-tools"},
        read_only=False,
    )
    # gina's next stack, from her desk: what CloudFormation makes for her after it is hers.
    later = at + timedelta(hours=1)
    trail.add(
        later,
        "cloudformation",
        "UpdateStack",
        gina,
        OFFICE_2,
        CLI.format("cloudformation.update-stack"),
        params={"stackName": "ci-infra"},
        response={"stackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/ci-infra/1"},
        read_only=False,
    )
    trail.add(
        later + timedelta(minutes=1),
        "ec2",
        "RunInstances",
        cfn,
        CFN,
        CFN,
        params={"instanceType": "t3.micro"},
        response=_launch([(I_OWNER_2, None, None)], "t3.micro"),
        read_only=False,
    )


def _erin_b(trail: Trail) -> None:
    erin_b = user("erin", ERIN_B_KEY, ACCOUNT_B)
    trail.add(B0, "sts", "GetCallerIdentity", erin_b, EVIL_B, EVIL_CLI, account=ACCOUNT_B)
    trail.add(
        B0 + timedelta(seconds=10),
        "iam",
        "ListAttachedUserPolicies",
        erin_b,
        EVIL_B,
        EVIL_CLI,
        params={"userName": "erin"},
        account=ACCOUNT_B,
    )
    trail.add(
        B0 + timedelta(seconds=30),
        "ec2",
        "RunInstances",
        erin_b,
        EVIL_B,
        EVIL_CLI,
        region="ap-northeast-1",
        params={"instanceType": "c5.large"},
        response=_launch([(I_B1, None, None)], "c5.large"),
        read_only=False,
        account=ACCOUNT_B,
    )


def _zed(trail: Trail) -> None:
    zed = user("zed", ZED_KEY, ACCOUNT_C)
    trail.add(
        Z0 - timedelta(minutes=30),
        "ec2",
        "DescribeInstances",
        zed,
        OFFICE,
        CLI.format("ec2"),
        account=ACCOUNT_C,
    )
    trail.add(Z0, "sts", "GetCallerIdentity", zed, EVIL_Z, EVIL_CLI, account=ACCOUNT_C)
    trail.add(
        Z0 + timedelta(seconds=30),
        "ec2",
        "RunInstances",
        zed,
        EVIL_Z,
        EVIL_CLI,
        region="us-west-2",
        params={"instanceType": "c5.large"},
        response=_launch([(I_Z1, None, None)], "c5.large"),
        read_only=False,
        account=ACCOUNT_C,
    )
    trail.add(
        ZED_STOPS_LOGGING,
        "cloudtrail",
        "StopLogging",
        zed,
        EVIL_Z,
        EVIL_CLI,
        params={"name": "main"},
        read_only=False,
        account=ACCOUNT_C,
    )


def _flows(root: Path) -> None:
    """A version 2 (default format) flow log: interface ids, no instance ids."""
    header = (
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
        "start end action log-status"
    )
    start = int((E0 + timedelta(minutes=5)).timestamp())
    pool, port = POOL
    lines = [header]
    for i in range(6):
        s = start + 60 * i
        lines.append(f"2 {ACCOUNT} {ENI_E1} {IP_E1} {pool} 49152 {port} 6 40 4000 {s} {s + 59} ACCEPT OK")
        lines.append(f"2 {ACCOUNT} {ENI_E1} {pool} {IP_E1} {port} 49152 6 38 90000 {s} {s + 59} ACCEPT OK")
        # someone else's interface, talking to the same pool: not the intrusion's
        lines.append(
            f"2 {ACCOUNT} eni-0999999999999999a 10.0.0.9 {pool} 49153 {port} 6 5 500 {s} {s + 59} ACCEPT OK"
        )
    folder = root / "AWSLogs" / ACCOUNT / "vpcflowlogs" / "ap-northeast-1" / "2026" / "10" / "20"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{ACCOUNT}_vpcflowlogs_ap-northeast-1_fl-0123456789abcdef0_20261020T0805Z_1a2b3c4d.log.gz"
    (folder / name).write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
