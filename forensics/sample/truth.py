"""The ground truth, computed from the evidence as it is written, never typed in by hand.

`TruthObserver` watches every CloudTrail record on its way to disk (cheaply: it runs a million
times at large scales) and keeps what the DESIGN.md definitions need: the leaked key's history,
the first non-global write per region, records that may be responders', instance-role sessions
and Lambda write loops. `finish` then derives the facts, with billing rows and AWS's notices.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from typing import Any

from .clock import DAY, iso
from .resources import epoch

# The services this generator writes to us-east-1 whatever the actor's region (calls.iam, calls.sts,
# the console's sign-in and the like): the generator's own world, not the vocabulary's definition,
# which the ground truth must never borrow (it is there to check it).
GLOBAL_SERVICES = {
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "organizations.amazonaws.com",
    "signin.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "support.amazonaws.com",
    "health.amazonaws.com",
    "ce.amazonaws.com",
}
INSTANCE_SESSION = re.compile(r":assumed-role/([^/]+)/(i-[0-9a-fA-F]+)$")
KEEP_PER_SOURCE = 200  # per (instance session, address): enough to tell home from away


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_denied(event: dict[str, Any]) -> bool:
    code = event.get("errorCode") or ""
    return (
        code in ("AccessDenied", "AccessDeniedException")
        or code.endswith("UnauthorizedOperation")
        or "explicit deny" in (event.get("errorMessage") or "")
    )


class TruthObserver:
    """Collects, record by record, what the ground truth needs."""

    def __init__(self, leaked_key: str, leaked_user_arn: str, watch_from: int) -> None:
        self.key = leaked_key
        self.user_arn = leaked_user_arn
        self.watch_from = watch_from  # the incident day: responders act after this
        self.counts: Counter[str] = Counter()
        self.key_events: list[tuple[int, dict[str, Any]]] = []
        self.first_write: dict[str, int] = {}
        self.others_after: list[tuple[int, dict[str, Any], str]] = []
        self.quarantines: list[dict[str, Any]] = []
        self.instance_sessions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.instance_counts: Counter[tuple[str, str]] = Counter()
        self.lambda_writes: dict[tuple[str, str], list[int]] = {}

    def observe(self, t: int, category: str, event: dict[str, Any]) -> None:
        self.counts[category] += 1
        identity = event["userIdentity"]
        if identity.get("accessKeyId") == self.key:
            self.key_events.append((t, event))
        if not event["readOnly"] and event["eventSource"] not in GLOBAL_SERVICES:
            region = event["awsRegion"]
            if t < self.first_write.get(region, 1 << 62):
                self.first_write[region] = t
        kind = identity.get("type")
        if category == "aws_response" and event["eventName"] == "AttachUserPolicy":
            self.quarantines.append(event)  # the generator filed AWS's quarantine as its response
        arn = identity.get("arn", "")
        if t >= self.watch_from and kind not in ("AWSService", None) and arn != self.user_arn:
            self.others_after.append((t, event, json.dumps(event["requestParameters"])))
        if kind == "AssumedRole" and "/i-" in arn and INSTANCE_SESSION.search(arn):
            source = (arn, event["sourceIPAddress"])
            self.instance_counts[source] += 1
            kept = self.instance_sessions.setdefault(source, [])
            if len(kept) < KEEP_PER_SOURCE:
                kept.append(event)
        if not event["readOnly"] and "AWS_Lambda_" in event["userAgent"]:
            self.lambda_writes.setdefault((arn, event["eventName"]), []).append(t)


def first_use(key_events: list[tuple[int, dict[str, Any]]]) -> tuple[dict[str, Any], set[str]]:
    """DESIGN.md: the earliest event from an address never seen with the key before (service
    names are not addresses). Returns it with the addresses seen before it."""
    seen: set[str] = set()
    for _, event in sorted(key_events, key=lambda te: te[0]):
        ip = event["sourceIPAddress"]
        if not is_address(ip):
            continue
        if seen and ip not in seen:
            return event, seen
        seen.add(ip)
    raise ValueError("the leaked key never appears from a new address")


def cost_of(rows: list[dict[str, str]], resource_ids: set[str]) -> tuple[float, dict[str, float]]:
    by_region: dict[str, float] = {}
    for row in rows:
        if row["lineItem/ResourceId"] in resource_ids:
            region = row["product/region"]
            by_region[region] = by_region.get(region, 0.0) + float(row["lineItem/UnblendedCost"])
    return sum(by_region.values()), by_region


def billed_regions(rows: list[dict[str, str]], before: int) -> set[str]:
    return {
        r["product/region"]
        for r in rows
        if r["product/region"]
        and float(r["lineItem/UnblendedCost"]) > 0
        and epoch(r["lineItem/UsageEndDate"]) <= before
    }  # a line item is hourly: only whole hours before `before` count


def exfiltration(obs: TruthObserver) -> dict[str, Any] | None:
    """Instance-role sessions used from an address other than the session's usual one."""
    home: dict[str, tuple[str, int]] = {}
    for (arn, ip), count in obs.instance_counts.items():
        if count > home.get(arn, ("", 0))[1]:
            home[arn] = (ip, count)
    away = [(arn, ip) for (arn, ip) in obs.instance_counts if ip != home[arn][0]]
    if not away:
        return None
    arn, ip = sorted(away)[0]
    events = sorted(obs.instance_sessions[(arn, ip)], key=lambda e: e["eventTime"])
    role, instance_id = INSTANCE_SESSION.search(arn).groups()  # type: ignore[union-attr]
    context = events[0]["userIdentity"]["sessionContext"]
    objects = [e["requestParameters"]["key"] for e in events if e["eventName"] == "GetObject"]
    return {
        "session_arn": arn,
        "instance_id": instance_id,
        "role": role,
        "role_arn": context["sessionIssuer"]["arn"],
        "access_key": events[0]["userIdentity"]["accessKeyId"],
        "ec2_role_delivery": context.get("ec2RoleDelivery"),
        "home_ip": home[arn][0],
        "outside_ip": ip,
        "user_agent": events[0]["userAgent"],
        "time": events[0]["eventTime"],
        "last": events[-1]["eventTime"],
        "event_count": len(events),
        "event_names": sorted({e["eventName"] for e in events}),
        "data_events": sum(1 for e in events if e["eventCategory"] == "Data"),
        "objects_downloaded": objects,
        "bytes_downloaded": sum(
            e.get("additionalEventData", {}).get("bytesTransferredOut", 0)
            for e in events
            if e["eventName"] == "GetObject"
        ),
        "denied": sorted({e["eventName"] for e in events if is_denied(e)}),
    }


def lambda_loop(obs: TruthObserver, rows: list[dict[str, str]]) -> dict[str, Any] | None:
    """The Lambda session that repeats one write call the most in a single day (a nightly job
    adds up over weeks, and more so in scaled-up baselines; a loop does it all at once)."""
    if not obs.lambda_writes:
        return None

    def busiest_day(times: list[int]) -> int:
        return max(Counter(t // DAY for t in times).values())

    (arn, name), times = max(obs.lambda_writes.items(), key=lambda kv: busiest_day(kv[1]))
    role, function = arn.split(":assumed-role/")[1].split("/")
    function_arn_tail = f":function:{function}"
    first, last = min(times), max(times)
    days = {iso(first)[:10], iso(last)[:10]}
    lines = [
        r
        for r in rows
        if r["lineItem/ResourceId"].endswith(function_arn_tail) and r["lineItem/UsageStartDate"][:10] in days
    ]
    return {
        "function": function,
        "function_arn": lines[0]["lineItem/ResourceId"] if lines else None,
        "role": role,
        "session_arn": arn,
        "event_name": name,
        "start": iso(first),
        "end": iso(last),
        "event_count": len(times),
        "cost": round(sum(float(r["lineItem/UnblendedCost"]) for r in lines), 2),
        "usage_types": sorted({r["lineItem/UsageType"] for r in lines}),
    }
