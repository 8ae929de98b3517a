"""What AWS itself tells the account: the Health risk event for the exposed key (EventBridge
JSON, as a rule delivers it) and GuardDuty findings (as `aws guardduty get-findings` prints them)
in the two regions where GuardDuty is enabled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .clock import EVIDENCE_END, http_date, iso, stamp
from .ids import Ids, derive
from .incident import HEALTH_TIME, QUARANTINE_POLICY, REPOSITORY
from .resources import Instance, epoch
from .world import ACCOUNT_ID, ATTACKER_RECON_IP, SSRF_IP, World

GUARDDUTY_REGIONS = ("ap-northeast-1", "us-east-1")
POOL_DOMAIN = "pool.supportxmr.com"
REMOTE_ORGS = {
    ATTACKER_RECON_IP: ("Stark Industries Solutions Ltd", "44477", "NL", "Amsterdam"),
    SSRF_IP: ("M247 Europe SRL", "9009", "RO", "Bucharest"),
}


def health_event(world: World, seed: int) -> dict[str, Any]:
    ids = Ids(derive(seed, "health"))
    key = world.tanaka.access_key
    code = "AWS_RISK_CREDENTIALS_EXPOSED"
    text = (
        f"We have become aware that the AWS Access Key {key}, belonging to the IAM User "
        f"{world.tanaka.name} in AWS Account {ACCOUNT_ID}, along with the corresponding Secret "
        f"Key is publicly available online at {REPOSITORY}. To protect your account from "
        f"excessive charges and unauthorized activity, we have applied the "
        f"{QUARANTINE_POLICY.rsplit('/', 1)[1]} AWS Managed Policy to the IAM User. Please "
        "rotate the exposed credentials and review your account for unwanted usage."
    )
    return {
        "version": "0",
        "id": ids.uuid(),
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "account": ACCOUNT_ID,
        "time": iso(HEALTH_TIME),
        "region": "us-east-1",
        "resources": [key],
        "detail": {
            "eventArn": f"arn:aws:health:us-east-1::event/RISK/{code}/{code}_{ids.uuid()}",
            "service": "RISK",
            "eventTypeCode": code,
            "eventTypeCategory": "issue",
            "eventScopeCode": "ACCOUNT_SPECIFIC",
            "communicationId": f"{ids.hex(64)}-1",
            "startTime": http_date(HEALTH_TIME),
            "lastUpdatedTime": http_date(HEALTH_TIME),
            "statusCode": "open",
            "eventRegion": "us-east-1",
            "eventDescription": [{"language": "en_US", "latestDescription": text}],
            "affectedEntities": [{"entityValue": key}],
            "affectedAccount": ACCOUNT_ID,
        },
    }


def _ms(t: int, ids: Ids) -> str:
    return f"{iso(t)[:-1]}.{ids.rng.randrange(1000):03d}Z"


def _finding(
    ids: Ids,
    region: str,
    ftype: str,
    severity: float,
    title: str,
    description: str,
    resource: dict[str, Any],
    action: dict[str, Any],
    first: int,
    last: int,
    count: int,
    role: str,
) -> dict[str, Any]:
    detector = Ids(derive(0, "detector", region)).hex(32)
    finding_id = ids.hex(32)
    return {
        "AccountId": ACCOUNT_ID,
        "Arn": f"arn:aws:guardduty:{region}:{ACCOUNT_ID}:detector/{detector}/finding/{finding_id}",
        "CreatedAt": _ms(first + 300, ids),
        "Description": description,
        "Id": finding_id,
        "Partition": "aws",
        "Region": region,
        "Resource": resource,
        "SchemaVersion": "2.0",
        "Service": {
            "Action": action,
            "Archived": False,
            "Count": count,
            "DetectorId": detector,
            "EventFirstSeen": iso(first),
            "EventLastSeen": iso(last),
            "ResourceRole": role,
            "ServiceName": "guardduty",
        },
        "Severity": severity,
        "Title": title,
        "Type": ftype,
        "UpdatedAt": _ms(last + 300, ids),
    }


def _remote(ip: str) -> dict[str, Any]:
    org, asn, country, city = REMOTE_ORGS[ip]
    return {
        "IpAddressV4": ip,
        "Organization": {"Asn": asn, "AsnOrg": org, "Isp": org, "Org": org},
        "Country": {"CountryName": country},
        "City": {"CityName": city},
    }


def guardduty_findings(
    world: World,
    seed: int,
    intrusion: list[dict[str, Any]],
    ssrf: list[dict[str, Any]],
    instances: dict[str, Instance],
) -> dict[str, list[dict[str, Any]]]:
    """Findings by region: Kali API calls, mining DNS lookups, exfiltrated instance creds."""
    ids = Ids(derive(seed, "guardduty"))
    out: dict[str, list[dict[str, Any]]] = {region: [] for region in GUARDDUTY_REGIONS}
    kali = sorted(epoch(e["eventTime"]) for e in intrusion if e["sourceIPAddress"] == ATTACKER_RECON_IP)
    user = world.tanaka
    out["us-east-1"].append(
        _finding(
            ids,
            "us-east-1",
            "PenTest:IAMUser/KaliLinux",
            5,
            "A penetration testing tool was used to make API calls.",
            f"An API was invoked from a Kali Linux computer using the IAM user {user.name}.",
            {
                "AccessKeyDetails": {
                    "AccessKeyId": user.access_key,
                    "PrincipalId": user.principal_id,
                    "UserName": user.name,
                    "UserType": "IAMUser",
                },
                "ResourceType": "AccessKey",
            },
            {
                "ActionType": "AWS_API_CALL",
                "AwsApiCallAction": {
                    "Api": "GetCallerIdentity",
                    "CallerType": "Remote IP",
                    "ServiceName": "sts.amazonaws.com",
                    "RemoteIpDetails": _remote(ATTACKER_RECON_IP),
                },
            },
            kali[0],
            kali[-1],
            len(kali),
            "TARGET",
        )
    )
    for inst in sorted(instances.values(), key=lambda i: i.instance_id):
        if inst.region not in GUARDDUTY_REGIONS:
            continue
        stop = inst.terminated if inst.terminated is not None else EVIDENCE_END
        first = inst.launched + 145
        out[inst.region].append(
            _finding(
                ids,
                inst.region,
                "CryptoCurrency:EC2/BitcoinTool.B!DNS",
                8,
                f"Bitcoin-related domain name queried by EC2 instance {inst.instance_id}.",
                f"EC2 instance {inst.instance_id} is querying a domain name that is associated "
                "with Bitcoin-related activity.",
                {
                    "InstanceDetails": {
                        "InstanceId": inst.instance_id,
                        "InstanceType": inst.instance_type,
                        "LaunchTime": iso(inst.launched),
                        "AvailabilityZone": f"{inst.region}a",
                        "InstanceState": "running" if inst.terminated is None else "terminated",
                        "NetworkInterfaces": [
                            {
                                "NetworkInterfaceId": inst.eni,
                                "PrivateIpAddress": inst.private_ip,
                                "SubnetId": inst.subnet,
                                "VpcId": inst.vpc,
                            }
                        ],
                    },
                    "ResourceType": "Instance",
                },
                {
                    "ActionType": "DNS_REQUEST",
                    "DnsRequestAction": {"Domain": POOL_DOMAIN, "Protocol": "UDP", "Blocked": False},
                },
                first,
                max(first, stop - 60),
                max(1, (stop - first) // 600),
                "ACTOR",
            )
        )
    if ssrf:
        times = sorted(epoch(e["eventTime"]) for e in ssrf)
        identity = ssrf[0]["userIdentity"]
        out["ap-northeast-1"].append(
            _finding(
                ids,
                "ap-northeast-1",
                "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
                8,
                "Credentials for instance role used from an external IP address.",
                "Credentials created exclusively for an EC2 instance using instance role "
                f"{world.web_role.name} have been used from external IP address {SSRF_IP}.",
                {
                    "AccessKeyDetails": {
                        "AccessKeyId": identity["accessKeyId"],
                        "PrincipalId": identity["principalId"],
                        "UserName": world.web_role.name,
                        "UserType": "AssumedRole",
                    },
                    "ResourceType": "AccessKey",
                },
                {
                    "ActionType": "AWS_API_CALL",
                    "AwsApiCallAction": {
                        "Api": "ListBuckets",
                        "CallerType": "Remote IP",
                        "ServiceName": "s3.amazonaws.com",
                        "RemoteIpDetails": _remote(SSRF_IP),
                    },
                },
                times[0],
                times[-1],
                len(times),
                "TARGET",
            )
        )
    return out


def write_notices(
    evidence: Path, health: dict[str, Any], findings: dict[str, list[dict[str, Any]]]
) -> list[Path]:
    """Write the Health event and one get-findings document per region."""
    paths = []
    health_path = (
        evidence / "health" / (f"aws-health-{health['detail']['eventTypeCode']}-{stamp(HEALTH_TIME)}.json")
    )
    health_path.parent.mkdir(parents=True, exist_ok=True)
    health_path.write_text(json.dumps(health, indent=2) + "\n")
    paths.append(health_path)
    for region, items in sorted(findings.items()):
        path = evidence / "guardduty" / f"findings-{region}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"Findings": items}, indent=2) + "\n")
        paths.append(path)
    return paths
