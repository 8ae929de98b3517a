"""The mass launch: within three minutes the attacker's script walks every default region,
creates a key pair and an open security group, and launches the largest instances it can.
Some regions refuse (quota, capacity, account verification); one region gets a Spot fleet
instead of RunInstances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import ec2_shapes as shapes
from .identities import Actor
from .records import PENDING_VERIFICATION, VCPU_LIMIT, Recorder, insufficient_capacity
from .world import World

# region: (launch call, instance type, instances EC2 grants, refusal when it fails)
LAUNCH_PLAN: dict[str, tuple[str, str, int, str]] = {
    "ap-south-1": ("RunInstances", "g4dn.12xlarge", 2, ""),
    "eu-north-1": ("RunInstances", "c5.24xlarge", 0, "pending-verification"),
    "eu-west-3": ("RunInstances", "c5.24xlarge", 1, ""),
    "eu-west-2": ("RunInstances", "c5.24xlarge", 1, ""),
    "eu-west-1": ("RunInstances", "p3.16xlarge", 2, ""),
    "ap-northeast-3": ("RunInstances", "g4dn.12xlarge", 0, "capacity"),
    "ap-northeast-2": ("RunInstances", "c5.24xlarge", 2, ""),
    "ap-northeast-1": ("RunInstances", "p3.16xlarge", 2, ""),
    "ca-central-1": ("RunInstances", "g4dn.12xlarge", 0, "vcpu"),
    "sa-east-1": ("RunInstances", "c5.24xlarge", 0, "vcpu"),
    "ap-southeast-1": ("RunInstances", "c5.24xlarge", 1, ""),
    "ap-southeast-2": ("RunInstances", "g4dn.12xlarge", 2, ""),
    "eu-central-1": ("CreateFleet", "g4dn.12xlarge", 3, ""),
    "us-east-1": ("RunInstances", "p3.16xlarge", 2, ""),
    "us-east-2": ("RunInstances", "c5.24xlarge", 2, ""),
    "us-west-1": ("RunInstances", "g4dn.12xlarge", 1, ""),
    "us-west-2": ("RunInstances", "p3.16xlarge", 3, ""),
}
RETRY_TYPE = "c5.18xlarge"  # what the script tries next when a region refuses


@dataclass
class Launch:
    """What the attacker holds in one region after the wave."""

    region: str
    key_name: str
    group_id: str
    instance_type: str
    call: str  # RunInstances or CreateFleet
    instances: list[dict[str, Any]] = field(default_factory=list)  # id, volume, eni, ip
    launch_template: str = ""


def _refusal(kind: str, instance_type: str, region: str) -> tuple[str, str]:
    if kind == "vcpu":
        return VCPU_LIMIT
    if kind == "pending-verification":
        return PENDING_VERIFICATION
    return insufficient_capacity(instance_type, region)


def launch_wave(story: Recorder, world: World, actor: Actor, start: int) -> list[Launch]:
    """Play the wave from `start`, region by region; returns what got launched."""
    ids = story.ids
    launches = []
    t = start
    for region, (api, itype, granted, refusal) in LAUNCH_PLAN.items():
        name = ids.chars("abcdefghijklmnopqrstuvwxyz0123456789", 10)
        launch = Launch(region, name, ids.resource("sg"), itype, api)
        story.add("intrusion", t, shapes.key_pair(actor, region, name, ids))
        story.add("intrusion", t + 1, shapes.security_group(actor, region, f"{name}-sg", launch.group_id))
        rule = ids.resource("sgr")
        story.add("intrusion", t + 2, shapes.open_to_the_world(actor, region, launch.group_id, rule))
        if refusal:
            for attempt, attempt_type in enumerate((itype, RETRY_TYPE)):
                error = _refusal(refusal, attempt_type, region)
                call = shapes.run_instances(
                    world, actor, region, attempt_type, name, launch.group_id, [], error
                )
                story.add("intrusion", t + 3 + 2 * attempt, call, intent="launch")
        elif api == "CreateFleet":
            launch.launch_template = ids.resource("lt")
            call = shapes.launch_template(
                world,
                actor,
                region,
                launch.launch_template,
                f"{name}-lt",
                itype,
                name,
                launch.group_id,
                t + 3,
            )
            story.add("intrusion", t + 3, call)
            launch.instances = [shapes.new_instance(ids, world, region) for _ in range(granted)]
            for inst in launch.instances:
                inst["volume"] = ""  # a fleet's response does not name the volumes
            call = shapes.create_fleet(
                actor,
                region,
                launch.launch_template,
                itype,
                [inst["id"] for inst in launch.instances],
                f"fleet-{ids.uuid()}",
            )
            story.add("intrusion", t + 4, call, intent="launch")
        else:
            launch.instances = [shapes.new_instance(ids, world, region) for _ in range(granted)]
            call = shapes.run_instances(
                world, actor, region, itype, name, launch.group_id, launch.instances, None, t + 3
            )
            story.add("intrusion", t + 3, call, intent="launch")
        launches.append(launch)
        t += 8 + ids.rng.randrange(3)
    return launches
