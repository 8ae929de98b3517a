"""Read what the intrusion created, and when it stopped, back out of CloudTrail records.

Billing, flow logs and the ground truth all take instance lifetimes from here, so they agree with
the records by construction: change the story and every source follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .clock import utc

BOOT_SECONDS = 20  # from RunInstances to "running", when billing starts


@dataclass
class Instance:
    instance_id: str
    region: str
    instance_type: str
    launched: int  # eventTime of the launching call
    via: str  # RunInstances or CreateFleet
    volume_id: str = ""
    eni: str = ""
    private_ip: str = ""
    subnet: str = ""
    vpc: str = ""
    terminated: int | None = None  # eventTime of TerminateInstances, None if never


def epoch(text: str) -> int:
    return utc(
        int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19])
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def launched_instances(events: Iterable[dict[str, Any]]) -> dict[str, Instance]:
    """Instances named in successful RunInstances / CreateFleet responses, with their
    TerminateInstances times when some later record terminates them."""
    found: dict[str, Instance] = {}
    ordered = sorted(events, key=lambda e: e["eventTime"])
    for event in ordered:
        if event.get("errorCode") or not event.get("responseElements"):
            continue
        name, response = event["eventName"], event["responseElements"]
        t = epoch(event["eventTime"])
        if name == "RunInstances":
            itype = event["requestParameters"]["instanceType"]
            for item in response["instancesSet"]["items"]:
                eni = item.get("networkInterfaceSet", {}).get("items", [{}])[0]
                volumes = item.get("blockDeviceMapping", {}).get("items", [])
                found[item["instanceId"]] = Instance(
                    item["instanceId"],
                    event["awsRegion"],
                    itype,
                    t,
                    name,
                    volumes[0]["ebs"]["volumeId"] if volumes else "",
                    eni.get("networkInterfaceId", ""),
                    item.get("privateIpAddress", ""),
                    item.get("subnetId", ""),
                    item.get("vpcId", ""),
                )
        elif name == "CreateFleet":
            for item in _as_list(response["CreateFleetResponse"]["fleetInstanceSet"]["item"]):
                for instance_id in _as_list(item["instanceIds"]["item"]):
                    found[instance_id] = Instance(
                        instance_id, event["awsRegion"], item["instanceType"], t, name
                    )
        elif name == "TerminateInstances":
            for item in response["instancesSet"]["items"]:
                if item["instanceId"] in found:
                    found[item["instanceId"]].terminated = t
    return found
