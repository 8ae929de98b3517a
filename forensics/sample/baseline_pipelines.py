"""The machines-driven part of the people's day: the CI pipeline's IAM user (deploys after merges,
a Terraform plan every night) and a security vendor that reads every region once a day."""

from __future__ import annotations

from random import Random
from typing import TYPE_CHECKING

from . import calls
from .clock import DAY, HOUR
from .identities import CLI_CI, SCANNER_SDK, TERRAFORM, Actor, iam_user, role_session
from .ids import Ids, derive
from .records import Call
from .world import ASSETS_BUCKET, CI_IP, GLOBAL_REGION, HOME_REGION, REGIONS, SCANNER_ACCOUNT_ID, SCANNER_IPS

if TYPE_CHECKING:
    from .baseline import Baseline, Plan


def add_pipelines(bl: Baseline, hour: int, rng: Random, plan: Plan, workday: bool, local: int) -> None:
    """Append the pipelines' and the scanner's calls of one hour (`local` is the Tokyo hour)."""
    _ci(bl, hour, rng, plan, workday, local)
    if local == 6:
        _scanner(bl, hour, rng, plan)


def _ci(bl: Baseline, hour: int, rng: Random, plan: Plan, workday: bool, local: int) -> None:
    """Deploys on weekdays after merges; a Terraform plan every night at 01:00 Tokyo time."""
    day = hour - hour % DAY
    deploy_hours = Ids(derive(bl.seed, "ci-deploys", day)).rng.sample(range(10, 19), 3)
    if workday and local in deploy_hours:
        _deploy(bl, hour + rng.randrange(3000), rng, plan, edge=local == min(deploy_hours))
    if local == 1:
        _terraform_plan(bl, hour + rng.randrange(600), plan)


def _deploy(bl: Baseline, t: int, rng: Random, plan: Plan, edge: bool) -> None:
    ci = bl.world.ci

    def cli(command: str) -> Actor:
        return iam_user(ci, CI_IP, CLI_CI.format(command=command), "ci")

    steps: list[Call] = [
        calls.sts(cli("sts.get-caller-identity"), "GetCallerIdentity", HOME_REGION),
        calls.simple(cli("ecr.get-login-password"), "ecr", "GetAuthorizationToken", HOME_REGION, True),
        calls.ec2(cli("ec2.describe-launch-templates"), HOME_REGION, "DescribeLaunchTemplates"),
        calls.ec2(
            cli("ec2.create-launch-template-version"),
            HOME_REGION,
            "CreateLaunchTemplateVersion",
            {"launchTemplateName": "sakura-web"},
            {
                "launchTemplateVersion": {
                    "launchTemplateName": "sakura-web",
                    "versionNumber": rng.randrange(200, 400),
                }
            },
        ),
        calls.simple(
            cli("autoscaling.start-instance-refresh"),
            "autoscaling",
            "StartInstanceRefresh",
            HOME_REGION,
            False,
            params={"autoScalingGroupName": "sakura-web-asg"},
        ),
        calls.simple(
            cli("lambda.update-function-code"),
            "lambda",
            "UpdateFunctionCode20150331v2",
            HOME_REGION,
            False,
            params={"functionName": "sakura-order-webhook", "publish": True},
        ),
    ]
    if edge:  # Lambda@Edge functions must live in us-east-1
        edge_fn = {"functionName": "sakura-edge-headers"}
        steps += [
            calls.simple(
                cli("lambda.update-function-code"),
                "lambda",
                "UpdateFunctionCode20150331v2",
                GLOBAL_REGION,
                False,
                params=edge_fn,
            ),
            calls.simple(
                cli("lambda.publish-version"),
                "lambda",
                "PublishVersion20150331",
                GLOBAL_REGION,
                False,
                params=edge_fn,
            ),
            calls.simple(
                cli("cloudfront.create-invalidation"),
                "cloudfront",
                "CreateInvalidation",
                GLOBAL_REGION,
                False,
                params={
                    "distributionId": "E2Q7SAKURA4CDN",
                    "invalidationBatch": {"paths": {"quantity": 1, "items": ["/*"]}},
                },
            ),
        ]
    for step in steps:
        plan.append((t, step))
        t += rng.randint(2, 25)


def _terraform_plan(bl: Baseline, t: int, plan: Plan) -> None:
    ci = bl.world.ci

    def tf(api: str) -> Actor:
        return iam_user(ci, CI_IP, TERRAFORM.format(api=api), "ci")

    steps = [
        calls.sts(tf("sts#1.38.6"), "GetCallerIdentity", HOME_REGION),
        calls.ec2(tf("ec2#1.254.1"), HOME_REGION, "DescribeVpcs"),
        calls.ec2(tf("ec2#1.254.1"), HOME_REGION, "DescribeSubnets"),
        calls.ec2(tf("ec2#1.254.1"), HOME_REGION, "DescribeSecurityGroups"),
        calls.iam(tf("iam#1.47.7"), "GetRole", {"roleName": "sakura-web-app-role"}),
        calls.iam(tf("iam#1.47.7"), "GetRole", {"roleName": "nightly-sales-report-role"}),
        calls.s3_bucket(tf("s3#1.88.4"), "GetBucketPolicy", ASSETS_BUCKET, HOME_REGION, {"policy": ""}),
        calls.simple(
            tf("lambda#1.77.8"),
            "lambda",
            "GetFunction20150331v2",
            GLOBAL_REGION,
            True,
            params={"functionName": "sakura-edge-headers"},
        ),
    ]
    for offset, step in enumerate(steps):
        plan.append((t + 3 * offset, step))


def _scanner(bl: Baseline, hour: int, rng: Random, plan: Plan) -> None:
    """A CSPM vendor assumes a read-only role and reads every region (reads, never writes)."""
    role = bl.world.scanner_role
    start = hour + 300 + rng.randrange(600)
    session = f"cspm-scan-{start}"
    key = bl.session_key("scanner", hour)
    ip = rng.choice(SCANNER_IPS)
    vendor = Actor(
        {
            "type": "AWSAccount",
            "principalId": f"AROAVENDORSCANNER7Q2M:{session}",
            "accountId": SCANNER_ACCOUNT_ID,
        },
        ip,
        SCANNER_SDK.format(api="sts#1.38.6"),
        label="scanner",
    )
    plan.append(
        (
            start,
            calls.assume_role_by_service(
                vendor,
                role.arn,
                session,
                GLOBAL_REGION,
                key,
                start + HOUR,
                Ids(derive(bl.seed, "scanner-assume", hour)),
                assumed_role_id=role.role_id,
            ),
        )
    )
    actor = role_session(
        role, session, key, start, ip, SCANNER_SDK.format(api="ec2#1.254.1"), label="scanner"
    )
    t = start + 2
    for region in REGIONS:
        for name in ("DescribeInstances", "DescribeSecurityGroups", "DescribeVolumes"):
            plan.append((t, calls.ec2(actor, region, name)))
            t += rng.randint(0, 2)
    iam_actor = actor.with_agent(SCANNER_SDK.format(api="iam#1.47.7"))
    plan.append((t + 1, calls.iam(iam_actor, "GetAccountAuthorizationDetails")))
    plan.append((t + 3, calls.list_buckets(actor.with_agent(SCANNER_SDK.format(api="s3#1.88.4")))))
