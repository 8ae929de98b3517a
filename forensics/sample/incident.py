"""The leaked-key incident on 2026-11-16, minute by minute.

02:41:17  dev-tanaka pushes his access key to a public repository (known only to the truth)
02:51:43  first use from a hosting-provider address with a Kali aws-cli: whoami, IAM recon
02:53     privilege escalation attempts, all denied (PowerUserAccess has no IAM writes)
02:54     DescribeRegions, GetServiceQuota in every region, a RunInstances dry run
02:55     the mass launch from a second address (Boto3), see `mining`
03:21:58  AWS attaches AWSCompromisedKeyQuarantineV2; the Health event follows
03:27     the attacker's next calls meet the explicit deny
03:52     responders contain (see `containment`); one region is missed
The key's owner keeps working from the office the whole time.
"""

from __future__ import annotations

from typing import Any

from . import calls
from .baseline_people import tanaka_actor
from .clock import utc
from .containment import contain
from .identities import ATTACKER_BOTO3, ATTACKER_CLI, Actor, aws_internal, iam_user
from .ids import Ids, derive
from .mining import LAUNCH_PLAN, Launch, launch_wave
from .records import DRY_RUN, Recorder, ec2_explicit_deny, explicit_deny, not_authorized
from .world import (
    ACCOUNT_ID,
    ATTACKER_LAUNCH_IP,
    ATTACKER_RECON_IP,
    GLOBAL_REGION,
    HOME_REGION,
    World,
)

PUSH_TIME = utc(2026, 11, 16, 2, 41, 17)
FIRST_USE = utc(2026, 11, 16, 2, 51, 43)
LAUNCH_START = utc(2026, 11, 16, 2, 55, 6)
QUARANTINE_TIME = utc(2026, 11, 16, 3, 21, 58)
HEALTH_TIME = utc(2026, 11, 16, 3, 23, 40)
QUARANTINE_POLICY = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
REPOSITORY = "https://github.com/tanaka-dev/sakura-batch-tools/blob/main/config/settings.py"


class Incident:
    """The rendered records of the incident, by category, and what the attacker launched."""

    def __init__(
        self, events: dict[str, list[dict[str, Any]]], launches: list[Launch], intents: dict[str, str]
    ) -> None:
        self.events = events
        self.launches = launches
        self.intents = intents  # eventID -> escalation | persistence | launch


def build_incident(world: World, seed: int) -> Incident:
    story = Recorder(Ids(derive(seed, "incident")))
    _owner_at_work(story, world)
    recon = iam_user(world.tanaka, ATTACKER_RECON_IP, ATTACKER_CLI, "intrusion")
    script = iam_user(world.tanaka, ATTACKER_LAUNCH_IP, ATTACKER_BOTO3, "intrusion")
    _recon(story, world, recon)
    _escalation(story, world, recon)
    _pre_launch(story, world, recon)
    launches = launch_wave(story, world, script, LAUNCH_START)
    _poll(story, script, launches)
    story.add(
        "aws_response",
        QUARANTINE_TIME,
        calls.iam(
            aws_internal(),
            "AttachUserPolicy",
            {"userName": world.tanaka.name, "policyArn": QUARANTINE_POLICY},
        ),
    )
    _after_quarantine(story, world, script)
    contain(story, world, launches, QUARANTINE_POLICY)
    return Incident(story.events, launches, story.intents)


def _owner_at_work(story: Recorder, world: World) -> None:
    """dev-tanaka's own calls that day, from his desk; after the quarantine one is denied too."""
    day = [
        (
            utc(2026, 11, 16, 0, 41, 5),
            "ec2.describe-instances",
            lambda a: calls.ec2(a, HOME_REGION, "DescribeInstances"),
        ),
        (
            utc(2026, 11, 16, 1, 15, 40),
            "logs.filter-log-events",
            lambda a: calls.simple(a, "logs", "FilterLogEvents", HOME_REGION, True),
        ),
        (
            utc(2026, 11, 16, 2, 18, 22),
            "lambda.get-function",
            lambda a: calls.simple(a, "lambda", "GetFunction20150331v2", HOME_REGION, True),
        ),
        (utc(2026, 11, 16, 2, 47, 13), "s3.ls", calls.list_buckets),
        (
            utc(2026, 11, 16, 3, 2, 45),
            "ec2.describe-instances",
            lambda a: calls.ec2(a, HOME_REGION, "DescribeInstances"),
        ),
        (
            utc(2026, 11, 16, 3, 33, 10),
            "s3.ls",
            lambda a: calls.list_buckets(a, explicit_deny(world.tanaka.arn, "s3:ListAllMyBuckets")),
        ),
        (
            utc(2026, 11, 16, 3, 33, 41),
            "sts.get-caller-identity",
            lambda a: calls.sts(a, "GetCallerIdentity", HOME_REGION),
        ),
    ]
    for t, command, make in day:
        story.add("owner", t, make(tanaka_actor(world, command)))


def _recon(story: Recorder, world: World, actor: Actor) -> None:
    user = world.tanaka
    t = FIRST_USE
    story.add("intrusion", t, calls.sts(actor, "GetCallerIdentity"))
    checks = [
        ("GetUser", {"userName": user.name}),
        ("ListAttachedUserPolicies", {"userName": user.name}),
        ("ListUserPolicies", {"userName": user.name}),
        ("ListGroupsForUser", {"userName": user.name}),
    ]
    for offset, (name, params) in enumerate(checks):
        error = not_authorized(user.arn, f"iam:{name}", user.arn)
        story.add("intrusion", t + 4 + 2 * offset, calls.iam(actor, name, params, error=error))
    story.add(
        "intrusion",
        t + 13,
        calls.iam(
            actor,
            "ListUsers",
            error=not_authorized(user.arn, "iam:ListUsers", f"arn:aws:iam::{ACCOUNT_ID}:user/"),
        ),
    )
    story.add("intrusion", t + 16, calls.iam(actor, "ListRoles"))  # allowed by PowerUserAccess
    story.add("intrusion", t + 25, calls.list_buckets(actor))
    story.add("intrusion", t + 31, calls.ec2(actor, GLOBAL_REGION, "DescribeInstances"))


def _escalation(story: Recorder, world: World, actor: Actor) -> None:
    """Classic paths to admin; PowerUserAccess allows none of them."""
    user = world.tanaka
    admin_doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    ci_policy = f"arn:aws:iam::{ACCOUNT_ID}:policy/sakura-ci-deploy-policy"
    # What each attempt would have done, as DESIGN.md's Privilege escalation reads it: a new
    # user alone gains nothing, a login for oneself is a way back in (persistence); admin on
    # oneself, a key for the CI user and a new default version of a policy are escalation.
    attempts = [
        (
            "CreateUser",
            {"userName": "support-admin", "path": "/"},
            f"arn:aws:iam::{ACCOUNT_ID}:user/support-admin",
            "persistence",
        ),
        (
            "AttachUserPolicy",
            {"userName": user.name, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            user.arn,
            "escalation",
        ),
        ("CreateAccessKey", {"userName": world.ci.name}, world.ci.arn, "escalation"),
        (
            "CreateLoginProfile",
            {"userName": user.name, "passwordResetRequired": False},
            user.arn,
            "persistence",
        ),
        (
            "PutUserPolicy",
            {"userName": user.name, "policyName": "backup-access", "policyDocument": admin_doc},
            user.arn,
            "escalation",
        ),
        (
            "CreatePolicyVersion",
            {"policyArn": ci_policy, "policyDocument": admin_doc, "setAsDefault": True},
            ci_policy,
            "escalation",
        ),
    ]
    t = FIRST_USE + 82
    for name, params, resource, intent in attempts:
        error = not_authorized(user.arn, f"iam:{name}", resource)
        story.add("intrusion", t, calls.iam(actor, name, params, error=error), intent=intent)
        t += 5 + story.ids.rng.randrange(4)


def _pre_launch(story: Recorder, world: World, actor: Actor) -> None:
    """How big can we go, and where? Then a dry run to prove RunInstances is allowed."""
    t = FIRST_USE + 139
    story.add("intrusion", t, calls.ec2(actor, GLOBAL_REGION, "DescribeRegions", {"regionSet": {}}))
    for region in LAUNCH_PLAN:
        t += 1
        story.add(
            "intrusion",
            t,
            calls.simple(
                actor,
                "servicequotas",
                "GetServiceQuota",
                region,
                True,
                params={"serviceCode": "ec2", "quotaCode": "L-1216C47A"},
            ),
        )
    params = {
        "instancesSet": {"items": [{"imageId": world.amis[GLOBAL_REGION], "minCount": 1, "maxCount": 1}]},
        "instanceType": "p3.16xlarge",
        "blockDeviceMapping": {},
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
    }
    story.add(
        "intrusion",
        t + 6,
        calls.ec2(actor, GLOBAL_REGION, "RunInstances", params, error=DRY_RUN),
        intent="launch",
    )


def _poll(story: Recorder, actor: Actor, launches: list[Launch]) -> None:
    """The script checks its instances came up."""
    t = LAUNCH_START + 14 * 60
    for launch in launches:
        if launch.instances:
            ids = {"items": [{"instanceId": inst["id"]} for inst in launch.instances]}
            story.add(
                "intrusion",
                t,
                calls.ec2(actor, launch.region, "DescribeInstances", {"instancesSet": ids, "filterSet": {}}),
            )
            t += 3


def _after_quarantine(story: Recorder, world: World, actor: Actor) -> None:
    """The script goes on; AWS's policy now denies launches, IAM writes and S3 listing."""
    arn = world.tanaka.arn
    ids = story.ids
    t = QUARANTINE_TIME + 312
    for region in (GLOBAL_REGION, HOME_REGION):
        error = ec2_explicit_deny(
            ids, arn, "ec2:RunInstances", f"arn:aws:ec2:{region}:{ACCOUNT_ID}:instance/*"
        )
        params = {
            "instancesSet": {"items": [{"imageId": world.amis[region], "minCount": 1, "maxCount": 20}]},
            "instanceType": "p3.16xlarge",
        }
        call = calls.ec2(actor, region, "RunInstances", params, error=error)
        story.add("intrusion", t, call, intent="launch")
        t += 4
    spot = ec2_explicit_deny(
        ids, arn, "ec2:RequestSpotInstances", f"arn:aws:ec2:us-west-2:{ACCOUNT_ID}:spot-instances-request/*"
    )
    story.add(
        "intrusion",
        t + 12,
        calls.ec2(
            actor,
            "us-west-2",
            "RequestSpotInstances",
            {
                "instanceCount": 10,
                "type": "one-time",
                "launchSpecification": {"imageId": world.amis["us-west-2"], "instanceType": "p3.16xlarge"},
            },
            error=spot,
        ),
        intent="launch",
    )
    story.add(
        "intrusion",
        t + 40,
        calls.iam(
            actor,
            "CreateAccessKey",
            {"userName": "dev-tanaka"},
            error=explicit_deny(arn, "iam:CreateAccessKey", arn),
        ),
        intent="persistence",  # a new key for itself: a way back in
    )
    story.add("intrusion", t + 71, calls.list_buckets(actor, explicit_deny(arn, "s3:ListAllMyBuckets")))
    story.add("intrusion", t + 95, calls.sts(actor, "GetCallerIdentity"))
    story.add("intrusion", t + 102, calls.ec2(actor, GLOBAL_REGION, "DescribeInstances"))
