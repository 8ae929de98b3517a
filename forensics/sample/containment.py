"""The response: an administrator signs in through SSO from the office about half an hour after
AWS's notice, disables and deletes the key, terminates the instances region by region (missing
one region), removes key pairs and security groups, and deletes the user."""

from __future__ import annotations

from . import calls
from .baseline_people import ADMIN, console_login
from .clock import utc
from .identities import CHROME_MAC, role_session
from .mining import Launch
from .records import Call, Recorder, dependency_violation
from .world import EMAIL_DOMAIN, OFFICE_IPS, World

LOGIN_TIME = utc(2026, 11, 16, 3, 49, 50)
CONTAINMENT_START = utc(2026, 11, 16, 3, 52, 10)
MISSED_REGION = "ap-south-1"  # responders never look at Mumbai: its miners run to the end
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"


def contain(story: Recorder, world: World, launches: list[Launch], quarantine: str) -> None:
    session = f"{ADMIN}@{EMAIL_DOMAIN}"
    key = story.ids.access_key("ASIA")
    actor = role_session(
        world.admin_sso, session, key, LOGIN_TIME, OFFICE_IPS[1], CHROME_MAC, label="responder", console=True
    )
    user = world.tanaka.name

    def add(t: int, call: Call) -> None:
        story.add("responder", t, call)

    add(LOGIN_TIME, console_login(actor))
    t = CONTAINMENT_START
    add(
        t,
        calls.iam(
            actor,
            "UpdateAccessKey",
            {"userName": user, "accessKeyId": world.tanaka.access_key, "status": "Inactive"},
        ),
    )
    add(t + 38, calls.iam(actor, "ListAccessKeys", {"userName": user}))
    add(t + 80, calls.iam(actor, "ListAttachedUserPolicies", {"userName": user}))
    add(
        t + 172,
        calls.iam(actor, "DeleteAccessKey", {"userName": user, "accessKeyId": world.tanaka.access_key}),
    )

    running = [la for la in launches if la.instances and la.region != MISSED_REGION]
    t += 290
    for launch in running:
        ids = [inst["id"] for inst in launch.instances]
        add(t, calls.ec2(actor, launch.region, "DescribeInstances", {"instancesSet": {}, "filterSet": {}}))
        states = [
            {
                "instanceId": i,
                "currentState": {"code": 32, "name": "shutting-down"},
                "previousState": {"code": 16, "name": "running"},
            }
            for i in ids
        ]
        add(
            t + 26,
            calls.ec2(
                actor,
                launch.region,
                "TerminateInstances",
                {"instancesSet": {"items": [{"instanceId": i} for i in ids]}},
                {"instancesSet": {"items": states}},
            ),
        )
        t += 75 + story.ids.rng.randrange(40)

    retry = None
    for index, launch in enumerate(running):
        add(
            t,
            calls.ec2(
                actor,
                launch.region,
                "DeleteKeyPair",
                {"keyName": launch.key_name},
                {"_return": True},
                read_only=False,
            ),
        )
        group = {"groupId": launch.group_id}
        if index == 0:  # the first group still has a shutting-down instance attached
            add(
                t + 9,
                calls.ec2(
                    actor,
                    launch.region,
                    "DeleteSecurityGroup",
                    group,
                    error=dependency_violation(launch.group_id),
                    read_only=False,
                ),
            )
            retry = launch
        else:
            add(
                t + 9,
                calls.ec2(
                    actor,
                    launch.region,
                    "DeleteSecurityGroup",
                    group,
                    {"_return": True, "groupId": launch.group_id},
                    read_only=False,
                ),
            )
        if launch.launch_template:
            add(
                t + 20,
                calls.ec2(
                    actor,
                    launch.region,
                    "DeleteLaunchTemplate",
                    {"DeleteLaunchTemplateRequest": {"LaunchTemplateId": launch.launch_template}},
                    read_only=False,
                ),
            )
        t += 45 + story.ids.rng.randrange(20)
    if retry is not None:
        add(
            t,
            calls.ec2(
                actor,
                retry.region,
                "DeleteSecurityGroup",
                {"groupId": retry.group_id},
                {"_return": True, "groupId": retry.group_id},
                read_only=False,
            ),
        )

    t += 120
    for policy in (quarantine, POWER_USER):
        add(t, calls.iam(actor, "DetachUserPolicy", {"userName": user, "policyArn": policy}))
        t += 31
    add(t + 20, calls.iam(actor, "DeleteUser", {"userName": user}))
    add(t + 95, calls.iam(actor, "ListUsers"))
