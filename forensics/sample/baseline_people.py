"""The people and pipelines of the baseline: developers in the console through SSO, the
developer whose key will leak (dev-tanaka, CLI from the office), the CI pipeline's IAM user, an
administrator, and a security vendor that reads every region once a day."""

from __future__ import annotations

from random import Random
from typing import TYPE_CHECKING

from . import baseline_pipelines, calls
from .clock import DAY, HOUR, INCIDENT_DAY, tokyo_hour, tokyo_weekday
from .identities import (
    CHROME_MAC,
    CHROME_WIN,
    CLI_MAC,
    EDGE_WIN,
    Actor,
    iam_user,
    role_session,
)
from .ids import Ids, derive
from .records import Call
from .world import (
    EMAIL_DOMAIN,
    GLOBAL_REGION,
    HOME_REGION,
    OFFICE_IPS,
    World,
)

if TYPE_CHECKING:
    from .baseline import Baseline, Plan

DEVELOPERS = (("suzuki.h", CHROME_WIN), ("yamamoto.r", CHROME_MAC), ("kobayashi.m", EDGE_WIN))
ADMIN = "sato.k"  # the administrator who will also lead the response
CONSOLE_READS = (
    ("ec2", "DescribeInstances"),
    ("ec2", "DescribeSecurityGroups"),
    ("ec2", "DescribeVolumes"),
    ("lambda", "ListFunctions20150331"),
    ("lambda", "GetFunction20150331v2"),
    ("logs", "DescribeLogGroups"),
    ("logs", "FilterLogEvents"),
    ("monitoring", "DescribeAlarms"),
    ("rds", "DescribeDBInstances"),
    ("cloudformation", "DescribeStacks"),
)
CONSOLE_WRITES = (
    ("ec2", "CreateTags"),
    ("lambda", "UpdateFunctionConfiguration20150331v2"),
    ("ssm", "PutParameter"),
)
TANAKA_COMMANDS = (
    ("ec2.describe-instances", "ec2", "DescribeInstances", True),
    ("logs.filter-log-events", "logs", "FilterLogEvents", True),
    ("lambda.get-function", "lambda", "GetFunction20150331v2", True),
    ("ecr.describe-repositories", "ecr", "DescribeRepositories", True),
    ("sts.get-caller-identity", "sts", "GetCallerIdentity", True),
    ("s3.ls", "s3", "ListBuckets", True),
    ("lambda.update-function-code", "lambda", "UpdateFunctionCode20150331v2", False),
    ("ec2.create-tags", "ec2", "CreateTags", False),
)


def add_people(bl: Baseline, hour: int, rng: Random, plan: Plan) -> None:
    """Append the humans' and pipelines' calls of one hour to the plan."""
    workday = tokyo_weekday(hour) < 5
    local = tokyo_hour(hour)
    if workday and 9 <= local <= 18:
        _developers(bl, hour, rng, plan)
        if hour < INCIDENT_DAY:  # on the incident day the story module plays him
            _tanaka(bl, hour, rng, plan)
            _admin(bl, hour, rng, plan)
    baseline_pipelines.add_pipelines(bl, hour, rng, plan, workday, local)


def _call(actor: Actor, service: str, name: str, region: str, read_only: bool) -> Call:
    if service == "ec2":
        return calls.ec2(actor, region, name, read_only=read_only)
    if service == "s3":
        return calls.list_buckets(actor)
    if service == "sts":
        return calls.sts(actor, name, region)
    return calls.simple(actor, service, name, region, read_only)


def _developers(bl: Baseline, hour: int, rng: Random, plan: Plan) -> None:
    day = hour - hour % DAY
    for index, (name, browser) in enumerate(DEVELOPERS):
        login = day + HOUR * Ids(derive(bl.seed, "login", name, day)).rng.choice((0, 0, 1))
        if hour < login - login % HOUR:
            continue
        login += 300 + 97 * index
        session = f"{name}@{EMAIL_DOMAIN}"
        key = bl.session_key("sso", name, day)
        actor = role_session(
            bl.world.developer_sso,
            session,
            key,
            login,
            OFFICE_IPS[index % 2],
            browser,
            label="developer",
            console=True,
        )
        if hour == login - login % HOUR:
            plan.append((login, console_login(actor)))
        for _ in range(rng.randint(2, 6)):
            service, name_ = rng.choice(CONSOLE_READS)
            t = max(hour + rng.randrange(HOUR), login + 5)
            plan.append((t, _call(actor, service, name_, HOME_REGION, True)))
        if rng.random() < 0.25:
            service, name_ = rng.choice(CONSOLE_WRITES)
            plan.append((hour + rng.randrange(HOUR), _call(actor, service, name_, HOME_REGION, False)))
        if rng.random() < 0.1:
            plan.append(
                (
                    hour + rng.randrange(HOUR),
                    calls.simple(actor, "health", "DescribeEventAggregates", GLOBAL_REGION, True),
                )
            )


def console_login(actor: Actor) -> Call:
    identity = {k: v for k, v in actor.identity.items() if k != "accessKeyId"}
    signin = Actor(identity, actor.ip, actor.user_agent, label=actor.label)
    return Call(
        signin,
        "signin.amazonaws.com",
        "ConsoleLogin",
        GLOBAL_REGION,
        False,
        None,
        {"ConsoleLogin": "Success"},
        extra={"additionalEventData": {"MobileVersion": "No", "MFAUsed": "No"}},
        host="signin.aws.amazon.com",
        event_type="AwsConsoleSignIn",
    )


def tanaka_actor(world: World, command: str) -> Actor:
    """dev-tanaka's own key from his desk: always the same office address."""
    return iam_user(world.tanaka, OFFICE_IPS[0], CLI_MAC.format(command=command), "owner")


def _tanaka(bl: Baseline, hour: int, rng: Random, plan: Plan) -> None:
    if rng.random() > 0.7:
        return
    for _ in range(rng.randint(1, 3)):
        command, service, name, read_only = rng.choice(TANAKA_COMMANDS)
        if not read_only and rng.random() < 0.5:
            command, service, name, read_only = TANAKA_COMMANDS[0]
        region = GLOBAL_REGION if service == "s3" else HOME_REGION
        plan.append(
            (
                hour + rng.randrange(HOUR),
                _call(tanaka_actor(bl.world, command), service, name, region, read_only),
            )
        )


def _admin(bl: Baseline, hour: int, rng: Random, plan: Plan) -> None:
    if tokyo_hour(hour) != 14 or rng.random() > 0.4:
        return
    start = hour + rng.randrange(1800)
    session = f"{ADMIN}@{EMAIL_DOMAIN}"
    actor = role_session(
        bl.world.admin_sso,
        session,
        bl.session_key("admin", hour),
        start,
        OFFICE_IPS[1],
        CHROME_MAC,
        label="admin",
        console=True,
    )
    plan.append((start, console_login(actor)))
    for offset, name in enumerate(("GetAccountSummary", "ListUsers", "ListRoles")):
        plan.append((start + 20 + 9 * offset, calls.iam(actor, name)))
    plan.append((start + 80, calls.simple(actor, "ce", "GetCostAndUsage", GLOBAL_REGION, True)))
