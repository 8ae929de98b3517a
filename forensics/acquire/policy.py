"""The read-only IAM policy `forensics acquire` needs (`forensics acquire --policy`).

Action names from the Service Authorization Reference (reference/acquisition-and-integrity.md §10).
`kms:Decrypt` is needed only when the trail's log files are SSE-KMS encrypted; `sts:GetCallerIdentity`
needs no grant; `sts:AssumeRole` only with --role-name (granted on the roles in other accounts).
"""

from __future__ import annotations

from typing import Any

ACTIONS = {
    "CloudTrail": [
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrail",
        "cloudtrail:LookupEvents",
        "cloudtrail:ListPublicKeys",
    ],
    "S3": [
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetBucketLocation",
    ],
    "Regions": ["ec2:DescribeRegions"],
    "GuardDuty": ["guardduty:ListDetectors", "guardduty:ListFindings", "guardduty:GetFindings"],
    "Health": ["health:DescribeEvents", "health:DescribeEventDetails", "health:DescribeAffectedEntities"],
    "KMS": ["kms:Decrypt"],
}


def policy(role_name: str | None = None) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {"Sid": f"ForensicsAcquire{sid}", "Effect": "Allow", "Action": actions, "Resource": "*"}
        for sid, actions in ACTIONS.items()
    ]
    if role_name:
        statements.append(
            {
                "Sid": "ForensicsAcquireAssumeRole",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Resource": f"arn:aws:iam::*:role/{role_name}",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
