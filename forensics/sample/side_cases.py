"""Two unrelated stories on other days, so an investigation must tell them apart from the
leaked key:

* 2026-11-06: an S3 auto-remediation Lambda fails and retries all day (a self-inflicted loop
  that costs about $100 in Lambda time and writes thousands of identical failed calls);
* 2026-11-10: an SSRF in the web application leaks its instance-role credentials (IMDSv1),
  which are replayed from a VPS to list buckets and download order exports.
"""

from __future__ import annotations

from typing import Any

from . import calls
from .baseline_people import ADMIN
from .clock import HOUR, utc
from .identities import CHROME_MAC, LAMBDA_BOTO3, STOLEN_CLI, aws_service, role_session
from .ids import Ids, derive
from .records import Recorder, not_authorized
from .world import (
    ASSETS_BUCKET,
    EMAIL_DOMAIN,
    HOME_REGION,
    LAMBDA_IPS,
    OFFICE_IPS,
    ORDERS_BUCKET,
    SSRF_IP,
    World,
)

LOOP_FUNCTION = "s3-bucket-policy-remediator"
LOOP_START = utc(2026, 11, 6, 0, 40, 12)  # 09:40 in Tokyo, right after the rule was deployed
LOOP_STOP = utc(2026, 11, 6, 22, 58, 30)  # 07:58 next morning: concurrency set to zero
LOOP_MEMORY_GB = 10.0  # 10,240 MB ...
LOOP_TIMEOUT_S = 900  # ... and every invocation runs into the 15-minute timeout
LOOP_ATTEMPTS = (1, 4, 11, 25)  # seconds into an invocation when it retries PutBucketPolicy
SSRF_START = utc(2026, 11, 10, 16, 42, 7)  # 01:42 in Tokyo
SSRF_CREDENTIALS_ISSUED = utc(2026, 11, 10, 16, 39, 51)


class SideCases:
    """Rendered records of both stories and the Lambda invocation times billing needs."""

    def __init__(self, events: dict[str, list[dict[str, Any]]], invocations: list[int]) -> None:
        self.events = events
        self.invocations = invocations


def build_side_cases(world: World, seed: int) -> SideCases:
    story = Recorder(Ids(derive(seed, "side-cases")))
    invocations = _lambda_loop(story, world)
    _ssrf(story, world)
    return SideCases(story.events, invocations)


def _lambda_loop(story: Recorder, world: World) -> list[int]:
    role = world.remediator_role
    ids = story.ids
    lambda_service = aws_service("lambda.amazonaws.com")
    bad_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{ASSETS_BUCKET}", f"arn:aws:s3:::{ASSETS_BUCKET}*/"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    error = ("MalformedPolicy", "Policy has invalid resource")
    invocations = []
    t = LOOP_START
    session_start = -1
    actor = None
    while t < LOOP_STOP - LOOP_TIMEOUT_S:
        if t - session_start >= 2 * HOUR:  # a new execution environment: a new role session
            session_start = t
            key = ids.access_key("ASIA")
            story.add(
                "lambda_loop",
                t - 1,
                calls.assume_role_by_service(
                    lambda_service,
                    role.arn,
                    LOOP_FUNCTION,
                    HOME_REGION,
                    key,
                    t + 12 * HOUR,
                    ids,
                    assumed_role_id=role.role_id,
                ),
            )
            actor = role_session(
                role, LOOP_FUNCTION, key, t - 1, ids.rng.choice(LAMBDA_IPS), LAMBDA_BOTO3, label="lambda_loop"
            )
        invocations.append(t)
        for offset in LOOP_ATTEMPTS:
            story.add(
                "lambda_loop",
                t + offset,
                calls.s3_bucket(
                    actor,
                    "PutBucketPolicy",
                    ASSETS_BUCKET,
                    HOME_REGION,
                    {"bucketPolicy": bad_policy, "policy": [""]},
                    error=error,
                ),
            )
        t += 60 + ids.rng.randrange(121)  # EventBridge re-triggers it about twice a minute
    admin = role_session(
        world.admin_sso,
        f"{ADMIN}@{EMAIL_DOMAIN}",
        ids.access_key("ASIA"),
        LOOP_STOP - 300,
        OFFICE_IPS[1],
        CHROME_MAC,
        label="admin",
        console=True,
    )
    story.add(
        "lambda_fix",
        LOOP_STOP,
        calls.simple(
            admin,
            "lambda",
            "PutFunctionConcurrency20171031",
            HOME_REGION,
            False,
            params={"functionName": LOOP_FUNCTION, "reservedConcurrentExecutions": 0},
            response={"reservedConcurrentExecutions": 0},
        ),
    )
    return invocations


def _ssrf(story: Recorder, world: World) -> None:
    """The stolen session: the instance id as session name, delivered by IMDSv1 ("1.0")."""
    ids = story.ids
    host = world.web[0]
    role = world.web_role
    key = ids.access_key("ASIA")

    def actor(command: str) -> Any:
        return role_session(
            role,
            host.instance_id,
            key,
            SSRF_CREDENTIALS_ISSUED,
            SSRF_IP,
            STOLEN_CLI.format(command=command),
            label="ssrf",
            ec2_delivery="1.0",
        )

    session_arn = role.session_arn(host.instance_id)
    t = SSRF_START
    story.add("ssrf", t, calls.sts(actor("sts.get-caller-identity"), "GetCallerIdentity", HOME_REGION))
    story.add("ssrf", t + 24, calls.list_buckets(actor("s3.ls")))
    story.add("ssrf", t + 55, calls.s3_list_objects(actor("s3.ls"), ORDERS_BUCKET, HOME_REGION, "exports/"))
    t += 93
    for month in ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        key_name = f"exports/customers-{month}.csv.gz"
        size = 40_000_000 + ids.rng.randrange(9_000_000)
        story.add(
            "ssrf",
            t,
            calls.s3_object(actor("s3.cp"), "GetObject", ORDERS_BUCKET, key_name, HOME_REGION, size),
        )
        t += 20 + ids.rng.randrange(25)
    story.add(
        "ssrf",
        t + 96,
        calls.iam(
            actor("iam.list-attached-role-policies"),
            "ListAttachedRolePolicies",
            {"roleName": role.name},
            error=not_authorized(session_arn, "iam:ListAttachedRolePolicies", role.arn),
        ),
    )
    message = not_authorized(session_arn, "secretsmanager:ListSecrets", "*")[1]
    story.add(
        "ssrf",
        t + 121,
        calls.simple(
            actor("secretsmanager.list-secrets"),
            "secretsmanager",
            "ListSecrets",
            HOME_REGION,
            True,
            error=("AccessDeniedException", message),
        ),
    )
