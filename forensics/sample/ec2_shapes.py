"""The EC2 calls of a launch as CloudTrail records them: requestParameters and responseElements
of CreateKeyPair, CreateSecurityGroup, AuthorizeSecurityGroupIngress, RunInstances,
CreateLaunchTemplate and CreateFleet, and autoscaling's own launches."""

from __future__ import annotations

from typing import Any

from . import calls
from .clock import iso
from .identities import Actor
from .ids import Ids
from .records import Call
from .world import ACCOUNT_ID, HOME_REGION, World

ROOT_VOLUME_GB = 100
VCPUS = {"p3.16xlarge": 64, "g4dn.12xlarge": 48, "c5.24xlarge": 96, "c5.18xlarge": 72, "m6i.large": 2}
XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
AUTOSCALING_ACCOUNT = "940372691376"  # requesterId of instances autoscaling launches


def key_pair(actor: Actor, region: str, name: str, ids: Ids) -> Call:
    return calls.ec2(
        actor,
        region,
        "CreateKeyPair",
        {"keyName": name, "keyType": "rsa", "keyFormat": "pem"},
        {
            "keyName": name,
            "keyFingerprint": ":".join(ids.hex(2) for _ in range(20)),
            "keyPairId": ids.resource("key"),
            "keyMaterial": "<sensitiveDataRemoved>",
        },
    )


def security_group(actor: Actor, region: str, name: str, group_id: str) -> Call:
    return calls.ec2(
        actor,
        region,
        "CreateSecurityGroup",
        {"groupName": name, "groupDescription": "default access"},
        {"_return": True, "groupId": group_id},
    )


def open_to_the_world(actor: Actor, region: str, group_id: str, rule_id: str) -> Call:
    """AuthorizeSecurityGroupIngress for every TCP port from 0.0.0.0/0."""
    rule = {
        "ipProtocol": "tcp",
        "fromPort": 0,
        "toPort": 65535,
        "groups": {},
        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
        "ipv6Ranges": {},
        "prefixListIds": {},
    }
    created = {
        "groupOwnerId": ACCOUNT_ID,
        "groupId": group_id,
        "securityGroupRuleId": rule_id,
        "isEgress": False,
        "ipProtocol": "tcp",
        "fromPort": 0,
        "toPort": 65535,
        "cidrIpv4": "0.0.0.0/0",
    }
    return calls.ec2(
        actor,
        region,
        "AuthorizeSecurityGroupIngress",
        {"groupId": group_id, "ipPermissions": {"items": [rule]}},
        {"_return": True, "securityGroupRuleSet": {"items": [created]}},
    )


def new_instance(ids: Ids, world: World, region: str) -> dict[str, Any]:
    """Ids and addresses EC2 gives a new instance in the default VPC."""
    third, fourth = ids.rng.randrange(16, 48), ids.rng.randrange(4, 250)
    return {
        "id": ids.resource("i"),
        "volume": ids.resource("vol"),
        "eni": ids.resource("eni"),
        "ip": f"172.31.{third}.{fourth}",
        "mac": ":".join(ids.hex(2) for _ in range(6)),
        "subnet": world.default_subnets[region],
        "vpc": world.default_vpcs[region],
    }


def run_instances(
    world: World,
    actor: Actor,
    region: str,
    itype: str,
    key_name: str,
    group_id: str,
    instances: list[dict[str, Any]],
    error: tuple[str, str] | None,
    t: int = 0,
) -> Call:
    """RunInstances as CloudTrail records it; `instances` empty with an `error` when refused."""
    params = {
        "instancesSet": {
            "items": [{"imageId": world.amis[region], "minCount": 1, "maxCount": 20, "keyName": key_name}]
        },
        "groupSet": {"items": [{"groupId": group_id}]},
        "userData": "<sensitiveDataRemoved>",
        "instanceType": itype,
        "blockDeviceMapping": {
            "items": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"volumeSize": ROOT_VOLUME_GB, "deleteOnTermination": True, "volumeType": "gp3"},
                }
            ]
        },
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
        "disableApiStop": False,
        "clientToken": f"{region}-{key_name}",
    }
    if error:
        return calls.ec2(actor, region, "RunInstances", params, None, error=error)
    internal = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    items = []
    for index, inst in enumerate(instances):
        ip = inst["ip"]
        items.append(
            {
                "instanceId": inst["id"],
                "imageId": world.amis[region],
                "instanceState": {"code": 0, "name": "pending"},
                "privateDnsName": f"ip-{ip.replace('.', '-')}.{internal}",
                "keyName": key_name,
                "amiLaunchIndex": index,
                "productCodes": {},
                "instanceType": itype,
                "launchTime": t * 1000,
                "placement": {"availabilityZone": f"{region}a", "tenancy": "default"},
                "monitoring": {"state": "disabled"},
                "subnetId": inst["subnet"],
                "vpcId": inst["vpc"],
                "privateIpAddress": ip,
                "stateReason": {"code": "pending", "message": "pending"},
                "architecture": "x86_64",
                "rootDeviceType": "ebs",
                "rootDeviceName": "/dev/xvda",
                "blockDeviceMapping": {
                    "items": [
                        {
                            "deviceName": "/dev/xvda",
                            "ebs": {
                                "volumeId": inst["volume"],
                                "status": "attaching",
                                "attachTime": t * 1000,
                                "deleteOnTermination": True,
                            },
                        }
                    ]
                },
                "virtualizationType": "hvm",
                "hypervisor": "xen",
                "groupSet": {"items": [{"groupId": group_id, "groupName": f"{key_name}-sg"}]},
                "sourceDestCheck": True,
                "networkInterfaceSet": {
                    "items": [
                        {
                            "networkInterfaceId": inst["eni"],
                            "subnetId": inst["subnet"],
                            "vpcId": inst["vpc"],
                            "ownerId": ACCOUNT_ID,
                            "status": "in-use",
                            "macAddress": inst["mac"],
                            "privateIpAddress": ip,
                            "sourceDestCheck": True,
                            "interfaceType": "interface",
                        }
                    ]
                },
                "ebsOptimized": False,
                "enaSupport": True,
                "cpuOptions": {"coreCount": VCPUS[itype] // 2, "threadsPerCore": 2},
                "metadataOptions": {
                    "state": "pending",
                    "httpTokens": "optional",
                    "httpPutResponseHopLimit": 1,
                    "httpEndpoint": "enabled",
                },
            }
        )
    response = {
        "reservationId": f"r-0{instances[0]['id'][3:]}",
        "ownerId": ACCOUNT_ID,
        "groupSet": {},
        "instancesSet": {"items": items},
    }
    return calls.ec2(actor, region, "RunInstances", params, response)


def launch_template(
    world: World,
    actor: Actor,
    region: str,
    template: str,
    name: str,
    itype: str,
    key_name: str,
    group_id: str,
    t: int,
) -> Call:
    """CreateLaunchTemplate, in the wrapped request/response style CloudTrail uses for it."""
    data = {
        "ImageId": world.amis[region],
        "InstanceType": itype,
        "KeyName": key_name,
        "UserData": "<sensitiveDataRemoved>",
        "SecurityGroupId": {"content": group_id, "tag": 1},
    }
    return calls.ec2(
        actor,
        region,
        "CreateLaunchTemplate",
        {"CreateLaunchTemplateRequest": {"LaunchTemplateName": name, "LaunchTemplateData": data}},
        {
            "CreateLaunchTemplateResponse": {
                "launchTemplate": {
                    "launchTemplateId": template,
                    "launchTemplateName": name,
                    "defaultVersionNumber": 1,
                    "latestVersionNumber": 1,
                    "createTime": iso(t),
                    "createdBy": world.tanaka.arn,
                },
                "xmlns": XMLNS,
            }
        },
        read_only=False,
    )


def create_fleet(
    actor: Actor, region: str, template: str, itype: str, instance_ids: list[str], fleet_id: str
) -> Call:
    """An "instant" Spot fleet: unlike a Spot request, its response names the instances."""
    request = {
        "CreateFleetRequest": {
            "Type": "instant",
            "TargetCapacitySpecification": {"DefaultTargetCapacityType": "spot", "TotalTargetCapacity": 10},
            "SpotOptions": {"AllocationStrategy": "price-capacity-optimized"},
            "LaunchTemplateConfigs": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": template, "Version": "1"},
                "tag": 1,
            },
        }
    }
    response = {
        "CreateFleetResponse": {
            "fleetId": fleet_id,
            "errorSet": "",
            "fleetInstanceSet": {
                "item": {
                    "instanceIds": {"item": instance_ids},
                    "instanceType": itype,
                    "launchTemplateAndOverrides": {
                        "launchTemplateSpecification": {"launchTemplateId": template, "version": "1"},
                        "overrides": {"availabilityZone": f"{region}a"},
                    },
                    "lifecycle": "spot",
                }
            },
            "xmlns": XMLNS,
        }
    }
    return calls.ec2(actor, region, "CreateFleet", request, response, read_only=False)


def autoscaling_call(world: World, actor: Actor, name: str, instance_id: str) -> Call:
    """RunInstances / TerminateInstances made by the autoscaling service-linked role."""
    items = {"items": [{"instanceId": instance_id}]}
    if name == "TerminateInstances":
        state = {
            "instanceId": instance_id,
            "currentState": {"code": 32, "name": "shutting-down"},
            "previousState": {"code": 16, "name": "running"},
        }
        return calls.ec2(
            actor,
            HOME_REGION,
            name,
            {"instancesSet": items},
            {"instancesSet": {"items": [state]}},
        )
    params = {
        "instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]},
        "launchTemplate": {"launchTemplateName": "sakura-web", "version": "$Latest"},
        "subnetId": world.prod_subnets[0],
    }
    instance = {
        "instanceId": instance_id,
        "instanceType": "m6i.large",
        "instanceState": {"code": 0, "name": "pending"},
        "placement": {"availabilityZone": "ap-northeast-1a", "tenancy": "default"},
        "subnetId": world.prod_subnets[0],
        "vpcId": world.prod_vpc,
    }
    response = {
        "reservationId": f"r-0{instance_id[3:]}",
        "ownerId": ACCOUNT_ID,
        "requesterId": AUTOSCALING_ACCOUNT,
        "instancesSet": {"items": [instance]},
    }
    return calls.ec2(actor, HOME_REGION, name, params, response)
