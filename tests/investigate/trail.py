"""Raw CloudTrail records for investigation fixtures, written as S3-delivery JSON files and
loaded through `Case.load` like real evidence."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user(name: str, key: str, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper():0<17}"[:21],
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": key,
        "userName": name,
    }


def session(role: str, name: str, key: str, **extra: Any) -> dict[str, Any]:
    ident = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role.upper()[:6]}:{name}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }
    ident.update(extra)
    return ident


SOURCES = {
    "iam": "iam.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "ec2": "ec2.amazonaws.com",
    "s3": "s3.amazonaws.com",
    "secretsmanager": "secretsmanager.amazonaws.com",
    "cloudformation": "cloudformation.amazonaws.com",
    "servicequotas": "servicequotas.amazonaws.com",
    "signin": "signin.amazonaws.com",
    "ssm": "ssm.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
    "ec2-instance-connect": "ec2-instance-connect.amazonaws.com",
}
GLOBAL = {"iam", "sts", "signin"}


class Trail:
    """Collects records; `write` spreads them over per-region delivery files."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def add(
        self,
        when: datetime,
        service: str,
        name: str,
        identity: dict[str, Any],
        ip: str,
        ua: str,
        region: str = "us-east-1",
        params: dict | None = None,
        response: dict | None = None,
        error: tuple[str, str] | None = None,
        read_only: bool | None = None,
        account: str = ACCOUNT,
    ) -> dict[str, Any]:
        if read_only is None:
            read_only = name.startswith(("Describe", "List", "Get", "Head"))
        rec: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": z(when),
            "eventSource": SOURCES[service],
            "eventName": name,
            "awsRegion": "us-east-1" if service in GLOBAL and service != "sts" else region,
            "sourceIPAddress": ip,
            "userAgent": ua,
            "requestParameters": params,
            "responseElements": response,
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{len(self.records)}")),
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if error:
            rec["errorCode"], rec["errorMessage"] = error
        self.records.append(rec)
        return rec

    def write(self, root: Path) -> Path:
        by_file: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for rec in self.records:
            hour = rec["eventTime"][:13].replace("-", "").replace("T", "T")
            by_file.setdefault((rec["recipientAccountId"], rec["awsRegion"], hour), []).append(rec)
        for (account, region, hour), recs in by_file.items():
            folder = root / "AWSLogs" / account / "CloudTrail" / region
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{account}_CloudTrail_{region}_{hour}00Z_{uuid.uuid4().hex[:16]}.json"
            (folder / name).write_text(json.dumps({"Records": recs}))
        return root


def every(start: datetime, end: datetime, step: timedelta):
    when = start
    while when < end:
        yield when
        when += step
