"""Who makes a call: the `userIdentity` block, source address and user agent, as CloudTrail
writes them for each kind of caller (IAM user key, SSO session, instance role, Lambda role,
AWS service)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import iso
from .world import ACCOUNT_ID, IamUser, Role

# User agents, one per tool. Versions are plausible for late 2026 except the attacker's, which
# are years old on purpose (detections.md §6.6).
CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36"
)
EDGE_WIN = CHROME_WIN + " Edg/141.0.0.0"
CLI_MAC = (
    "aws-cli/2.31.18 md/awscrt#0.28.1 ua/2.1 os/macos#25.0.0 md/arch#arm64 lang/python#3.13.7 "
    "md/pyimpl#CPython m/b,E,Z cfg/retry-mode#standard md/installer#exe md/prompt#off "
    "md/command#{command}"
)
CLI_CI = (
    "aws-cli/2.31.18 md/awscrt#0.28.1 ua/2.1 os/linux#6.8.0-1039-aws md/arch#x86_64 "
    "lang/python#3.13.7 md/pyimpl#CPython m/E,b cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.24 md/prompt#off md/command#{command}"
)
TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.13.4 (+https://www.terraform.io) "
    "terraform-provider-aws/6.17.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.39.3 ua/2.1 os/linux lang/go#1.24.8 md/GOOS#linux md/GOARCH#amd64 "
    "api/{api}"
)
WEB_SDK = (
    "aws-sdk-js/3.917.0 ua/2.1 os/linux#6.1.155-176.282.amzn2023.x86_64 lang/js "
    "md/nodejs#22.20.0 api/{api}#3.917.0 m/E"
)
LAMBDA_BOTO3 = (
    "Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 os/linux#5.10.240-258.954.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.40.4"
)
SCANNER_SDK = "aws-sdk-go-v2/1.39.2 ua/2.1 os/linux lang/go#1.24.7 md/GOOS#linux md/GOARCH#amd64 api/{api}"
ATTACKER_CLI = "aws-cli/1.16.312 Python/3.9.2 Linux/5.10.0-kali7-amd64 botocore/1.13.48"
ATTACKER_BOTO3 = "Boto3/1.26.137 Python/3.10.12 Linux/5.15.0-86-generic Botocore/1.29.137"
STOLEN_CLI = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-26-generic exe/x86_64.ubuntu.22 prompt/off command/{command}"
)


@dataclass(frozen=True, slots=True)
class Actor:
    """One caller as it appears in a record. Identity dicts are shared between records and never
    mutated; json serialisation copies them."""

    identity: dict[str, Any]
    ip: str
    user_agent: str
    console: bool = False  # sessionCredentialFromConsole
    tls: bool = True  # service-originated calls carry no tlsDetails
    label: str = ""  # who this is in the story (for counts and the README), never written

    def with_agent(self, user_agent: str) -> Actor:
        return Actor(self.identity, self.ip, user_agent, self.console, self.tls, self.label)


def iam_user(user: IamUser, ip: str, user_agent: str, label: str) -> Actor:
    """A long-term AKIA key: no sessionContext, as in real IAMUser API-key records."""
    identity = {
        "type": "IAMUser",
        "principalId": user.principal_id,
        "arn": user.arn,
        "accountId": ACCOUNT_ID,
        "accessKeyId": user.access_key,
        "userName": user.name,
    }
    return Actor(identity, ip, user_agent, label=label)


def role_session(
    role: Role,
    session: str,
    access_key: str,
    created: int,
    ip: str,
    user_agent: str,
    *,
    label: str,
    console: bool = False,
    ec2_delivery: str | None = None,
    invoked_by: str | None = None,
) -> Actor:
    """An AssumedRole session: SSO permission sets, instance roles, Lambda and service roles."""
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role.role_id,
            "arn": role.arn,
            "accountId": ACCOUNT_ID,
            "userName": role.name,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": iso(created), "mfaAuthenticated": "false"},
    }
    if ec2_delivery:
        context["ec2RoleDelivery"] = ec2_delivery
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"{role.role_id}:{session}",
        "arn": role.session_arn(session),
        "accountId": ACCOUNT_ID,
        "accessKeyId": access_key,
        "sessionContext": context,
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return Actor(identity, ip, user_agent, console=console, tls=invoked_by is None, label=label)


def aws_service(service: str, label: str = "aws_service") -> Actor:
    """An AWS service acting on its own (AssumeRole for an instance profile, and the like)."""
    identity = {"type": "AWSService", "invokedBy": service}
    return Actor(identity, service, service, tls=False, label=label)


def aws_internal(label: str = "aws_response") -> Actor:
    """AWS's own automation, e.g. the compromised-key quarantine (detections.md §4.1: the caller
    is undocumented; it is not one of the account's principals)."""
    identity = {"type": "AWSService", "invokedBy": "AWS Internal"}
    return Actor(identity, "AWS Internal", "AWS Internal", tls=False, label=label)
