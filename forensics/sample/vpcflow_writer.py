"""VPC Flow Logs delivered to S3, one gzip text file per flow log per five minutes:

    AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD/<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz

The Tokyo logs use the default (version 2) format; the default VPCs of us-east-1, us-west-2 and
ap-south-1 have a custom version-5 format with instance ids. The first line of each file names
the fields; '-' marks a missing value. The evidence starts 12 hours before the incident (the
bucket's lifecycle rule keeps one day), so it shows the web shop's ordinary traffic, then SSH
into the new instances and their steady connections to mining pools.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

from .clock import EVIDENCE_END, HOUR, INCIDENT_DAY, day_path, stamp
from .cloudtrail_writer import write_gzip
from .ids import Ids, derive
from .resources import Instance
from .world import (
    ACCOUNT_ID,
    ATTACKER_LAUNCH_IP,
    MINER_DOWNLOAD,
    MINING_POOLS,
    REGIONS,
    WEB_NAT_IP,
    World,
)

V2 = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
]
V5 = [
    "version",
    "account-id",
    "region",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "interface-id",
    "flow-direction",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "tcp-flags",
    "traffic-path",
    "az-id",
    "log-status",
]
WINDOW = 300
FLOW_START = INCIDENT_DAY - 12 * HOUR
CLIENT_NETS = ("126.", "153.", "60.", "220.", "180.", "114.")  # Japanese consumer ISPs
SCANNERS = ("45.142.122.", "80.82.77.", "162.142.125.", "167.94.138.")
AWS_ENDPOINTS = ("52.219.68.", "52.219.16.", "13.248.40.", "99.77.188.")


@dataclass(frozen=True)
class FlowLog:
    """One flow log subscription: which VPC, which format."""

    name: str
    region: str
    vpc: str
    fields: tuple[str, ...]
    version: int


def flow_logs(world: World) -> list[FlowLog]:
    return [
        FlowLog("prod", "ap-northeast-1", world.prod_vpc, tuple(V2), 2),
        FlowLog("default", "ap-northeast-1", world.default_vpcs["ap-northeast-1"], tuple(V2), 2),
        FlowLog("default", "us-east-1", world.default_vpcs["us-east-1"], tuple(V5), 5),
        FlowLog("default", "us-west-2", world.default_vpcs["us-west-2"], tuple(V5), 5),
        FlowLog("default", "ap-south-1", world.default_vpcs["ap-south-1"], tuple(V5), 5),
    ]


def _flow(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    packets: int,
    size: int,
    start: int,
    end: int,
    action: str = "ACCEPT",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "srcaddr": src,
        "dstaddr": dst,
        "srcport": sport,
        "dstport": dport,
        "protocol": 6,
        "packets": packets,
        "bytes": packets * size,
        "start": start,
        "end": end,
        "action": action,
        "log-status": "OK",
        **extra,
    }


def _web_traffic(world: World, w: int, rng: Random) -> list[dict[str, Any]]:
    """Shoppers reach the load balancer, which talks to the two web servers; they use the
    database and, through the NAT gateway, AWS APIs. Internet scanners are rejected."""
    out = []
    for _ in range(rng.randint(5, 11)):
        net, b, c, d = rng.choice(CLIENT_NETS), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)
        client = f"{net}{b}.{c}.{d}"
        alb = rng.choice(world.alb)
        port, start = rng.randrange(32768, 60999), w + rng.randrange(200)
        end = start + rng.randrange(5, 90)
        pk = rng.randint(8, 40)
        out.append(_flow(client, alb.private_ip, port, 443, pk, 110, start, end, eni=alb.eni))
        out.append(_flow(alb.private_ip, client, 443, port, pk + 4, 900, start, end, eni=alb.eni))
    for host in world.web:
        alb = rng.choice(world.alb)
        port, start = rng.randrange(32768, 60999), w + rng.randrange(60)
        pk = rng.randint(60, 300)
        out.append(_flow(alb.private_ip, host.private_ip, port, 8080, pk, 300, start, w + 290, eni=host.eni))
        out.append(_flow(host.private_ip, alb.private_ip, 8080, port, pk, 700, start, w + 290, eni=host.eni))
        port = rng.randrange(32768, 60999)
        out.append(
            _flow(
                host.private_ip, world.rds.private_ip, port, 5432, pk // 2, 180, start, w + 290, eni=host.eni
            )
        )
        out.append(
            _flow(
                world.rds.private_ip, host.private_ip, 5432, port, pk // 2, 420, start, w + 290, eni=host.eni
            )
        )
        api = f"{rng.choice(AWS_ENDPOINTS)}{rng.randrange(1, 255)}"
        port = rng.randrange(32768, 60999)
        out.append(_flow(host.private_ip, api, port, 443, 14, 190, start, start + 4, eni=world.nat.eni))
        out.append(_flow(api, WEB_NAT_IP, 443, port, 12, 1100, start, start + 4, eni=world.nat.eni))
    if w % HOUR == 0:  # the idle standby database: no traffic in the capture window
        out.append({"eni": world.rds_standby.eni, "start": w, "end": w + 57, "log-status": "NODATA"})
    for _ in range(rng.randint(0, 3)):
        scanner = f"{rng.choice(SCANNERS)}{rng.randrange(1, 255)}"
        start = w + rng.randrange(280)
        out.append(
            _flow(
                scanner,
                world.nat.private_ip,
                rng.randrange(1024, 65535),
                rng.choice((22, 23, 445, 3389, 5900)),
                1,
                44,
                start,
                start + 1,
                "REJECT",
                eni=world.nat.eni,
            )
        )
    return out


def _miner_traffic(inst: Instance, w: int, rng: Random) -> list[dict[str, Any]]:
    """SSH from the attacker, the miner download, then one long-lived pool connection."""
    out: list[dict[str, Any]] = []
    up = inst.launched + 60
    stop = inst.terminated if inst.terminated is not None else EVIDENCE_END
    lo, hi = max(w, up), min(w + WINDOW, stop)
    if lo >= hi:
        return out
    base = {"eni": inst.eni, "instance-id": inst.instance_id, "vpc-id": inst.vpc, "subnet-id": inst.subnet}
    me = inst.private_ip
    if w <= up + 30 < w + WINDOW:
        port = rng.randrange(40000, 60000)
        out.append(
            _flow(ATTACKER_LAUNCH_IP, me, port, 22, 38, 120, up + 30, up + 95, **base, direction="ingress")
        )
        out.append(
            _flow(me, ATTACKER_LAUNCH_IP, 22, port, 35, 260, up + 30, up + 95, **base, direction="egress")
        )
    if w <= up + 70 < w + WINDOW:
        port = rng.randrange(40000, 60000)
        ip, dport = MINER_DOWNLOAD
        out.append(_flow(me, ip, port, dport, 420, 60, up + 70, up + 78, **base, direction="egress"))
        out.append(_flow(ip, me, dport, port, 2900, 1400, up + 70, up + 78, **base, direction="ingress"))
    if hi > up + 80:
        pool_ip, pool_port = MINING_POOLS[int(inst.instance_id[-2:], 16) % len(MINING_POOLS)]
        port = 40000 + int(inst.instance_id[-4:], 16) % 20000  # one connection, kept open
        start = max(lo, up + 80)
        pk = max(2, (hi - start) // 5 + rng.randrange(4))
        out.append(_flow(me, pool_ip, port, pool_port, pk, 96, start, hi, **base, direction="egress"))
        out.append(_flow(pool_ip, me, pool_port, port, pk, 142, start, hi, **base, direction="ingress"))
    return out


def _line(log: FlowLog, flow: dict[str, Any], az_id: str) -> str:
    egress = flow.get("direction") == "egress"
    values = {
        "version": log.version,
        "account-id": ACCOUNT_ID,
        "region": log.region,
        "interface-id": flow["eni"],
        "flow-direction": flow.get("direction", "-"),
        "pkt-srcaddr": flow.get("srcaddr", "-"),
        "pkt-dstaddr": flow.get("dstaddr", "-"),
        "tcp-flags": {"ACCEPT": "19", "REJECT": "2"}.get(flow.get("action", "-"), "-"),
        "traffic-path": "8" if egress else "-",
        "az-id": az_id,
        **flow,
    }
    return " ".join(str(values.get(field, "-")) for field in log.fields)


def write_flow_logs(
    evidence: Path, world: World, instances: dict[str, Instance], seed: int
) -> tuple[int, int]:
    """Write every flow log file; returns (files, records)."""
    files = records = 0
    for log in flow_logs(world):
        flow_log_id = Ids(derive(seed, "flow-log", log.name, log.region)).resource("fl")
        mine = sorted(
            (i for i in instances.values() if i.region == log.region and i.vpc == log.vpc and i.eni),
            key=lambda i: i.instance_id,
        )
        az_id = f"{REGIONS[log.region][2]}-az1"
        for w in range(FLOW_START, EVIDENCE_END, WINDOW):
            rng = derive(seed, "flows", log.name, log.region, w)
            flows = _web_traffic(world, w, rng) if log.name == "prod" else []
            for inst in mine:
                flows.extend(_miner_traffic(inst, w, rng))
            if not flows:
                continue
            lines = [" ".join(log.fields)] + [_line(log, f, az_id) for f in flows]
            delivered = w + WINDOW
            name = (
                f"{ACCOUNT_ID}_vpcflowlogs_{log.region}_{flow_log_id}_{stamp(delivered)}_"
                f"{Ids(rng).hex(8)}.log.gz"
            )
            key = f"AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{log.region}/{day_path(delivered)}/{name}"
            write_gzip(evidence / key, ("\n".join(lines) + "\n").encode())
            files += 1
            records += len(flows)
    return files, records
