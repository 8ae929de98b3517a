"""Evidence that only an API gives: CloudTrail LookupEvents, GuardDuty findings, AWS Health events,
and CloudTrail's public keys. Each is written in the shape the AWS CLI prints (the loaders read
those), one file per page or per detector, and recorded in the manifest with its sha256.

Facts: reference/acquisition-and-integrity.md §8 (rates, shapes, errors).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..integrity.keys import key_list_document
from .manifest import Manifest, now_iso

log = logging.getLogger(__name__)

LOOKUP_INTERVAL_S = 0.5  # LookupEvents: 2 requests per second per account and Region
RETRY_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
MAX_TRIES = 6


class Pacer:
    """At most one call per `interval` seconds, and retries with backoff on throttling."""

    def __init__(
        self,
        interval: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval, self.sleep, self.clock = interval, sleep, clock
        self.last: float | None = None
        self.throttled = 0

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        for attempt in range(MAX_TRIES):
            if self.last is not None:
                wait = self.interval - (self.clock() - self.last)
                if wait > 0:
                    self.sleep(wait)
            self.last = self.clock()
            try:
                return fn(**kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in RETRY_CODES or attempt == MAX_TRIES - 1:
                    raise
                self.throttled += 1
                self.sleep(min(20.0, self.interval * 2 ** (attempt + 1)))
        raise AssertionError("unreachable")


def _write(manifest: Manifest, rel: Path, doc: Any, entry: dict[str, Any]) -> None:
    data = json.dumps(doc, default=_json_default).encode()
    target = manifest.out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    part.replace(target)
    manifest.add_api(
        {
            **entry,
            "path": rel.as_posix(),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "fetched_at": now_iso(),
        }
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def lookup_events(
    ct: Any,
    account: str,
    region: str,
    start: datetime,
    end: datetime,
    manifest: Manifest,
    pacer: Pacer | None = None,
) -> int:
    """Every management event of the Region in [start, end], newest first, 50 a page, at 2 calls
    a second. Resumable by time: the manifest keeps the oldest event time fetched so far, and a
    second run asks only for what is older (the boundary second again: the load deduplicates)."""
    pacer = pacer or Pacer(LOOKUP_INTERVAL_S)
    state_key = f"lookup:{account}:{region}:{_stamp(start)}"
    state = manifest.doc["state"].setdefault(state_key, {"until": end.isoformat(), "done": False})
    if state["done"]:
        return 0
    until = datetime.fromisoformat(state["until"])
    token, n, page_no = None, 0, len([a for a in manifest.doc["api"] if a.get("state") == state_key])
    while True:
        kwargs: dict[str, Any] = {"StartTime": start, "EndTime": until, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        resp = pacer.call(ct.lookup_events, **kwargs)
        events = resp.get("Events", [])
        if events:
            page_no += 1
            rel = Path("api") / "cloudtrail-lookup" / account / region / f"{_stamp(until)}-{page_no:06d}.json"
            _write(
                manifest,
                rel,
                {"Events": events},
                {
                    "source": "cloudtrail:LookupEvents",
                    "account": account,
                    "region": region,
                    "state": state_key,
                    "records": len(events),
                    "note": "management events only",
                },
            )
            n += len(events)
            oldest = min(e["EventTime"] for e in events)
            state["oldest_fetched"] = oldest.isoformat()
        token = resp.get("NextToken")
        if not token:
            break
        if events:
            state["until"] = state["oldest_fetched"]  # resume point if interrupted here
    state["done"] = True
    manifest.save()
    return n


def guardduty_findings(
    gd: Any, account: str, region: str, start: datetime | None, manifest: Manifest, pacer: Pacer | None = None
) -> int:
    """Every finding of every detector in the Region (archived ones too), updated since `start`."""
    pacer = pacer or Pacer(0.1)
    n = 0
    detectors: list[str] = []
    token = None
    while True:
        resp = pacer.call(gd.list_detectors, **({"NextToken": token} if token else {}))
        detectors += resp.get("DetectorIds", [])
        token = resp.get("NextToken")
        if not token:
            break
    for detector in detectors:
        ids: list[str] = []
        token = None
        criteria = {}
        if start is not None:
            criteria = {"Criterion": {"updatedAt": {"GreaterThanOrEqual": int(start.timestamp() * 1000)}}}
        while True:
            kwargs: dict[str, Any] = {"DetectorId": detector, "MaxResults": 50}
            if criteria:
                kwargs["FindingCriteria"] = criteria
            if token:
                kwargs["NextToken"] = token
            resp = pacer.call(gd.list_findings, **kwargs)
            ids += resp.get("FindingIds", [])
            token = resp.get("NextToken")
            if not token:
                break
        findings: list[dict[str, Any]] = []
        for i in range(0, len(ids), 50):
            resp = pacer.call(gd.get_findings, DetectorId=detector, FindingIds=ids[i : i + 50])
            findings += resp.get("Findings", [])
        rel = Path("api") / "guardduty" / account / region / f"{detector}.json"
        _write(
            manifest,
            rel,
            {"Findings": findings},
            {
                "source": "guardduty:GetFindings",
                "account": account,
                "region": region,
                "detector": detector,
                "records": len(findings),
            },
        )
        n += len(findings)
    return n


def health_events(
    health: Any,
    account: str,
    start: datetime | None,
    end: datetime | None,
    manifest: Manifest,
    pacer: Pacer | None = None,
) -> int | None:
    """AWS Health events with their descriptions and entities, as EventBridge delivers them (what
    the findings loader reads). None when the account cannot read Health (no support plan)."""
    pacer = pacer or Pacer(0.1)
    flt: dict[str, Any] = {}
    if start is not None or end is not None:
        window = {}
        if start is not None:
            window["from"] = start
        if end is not None:
            window["to"] = end
        flt["lastUpdatedTimes"] = [window]
    events: list[dict[str, Any]] = []
    token = None
    try:
        while True:
            kwargs: dict[str, Any] = {"filter": flt, "maxResults": 100}
            if token:
                kwargs["nextToken"] = token
            resp = pacer.call(health.describe_events, **kwargs)
            events += resp.get("events", [])
            token = resp.get("nextToken")
            if not token:
                break
        details: dict[str, dict[str, Any]] = {}
        entities: dict[str, list[str]] = {}
        for i in range(0, len(events), 10):
            arns = [e["arn"] for e in events[i : i + 10]]
            resp = pacer.call(health.describe_event_details, eventArns=arns)
            for d in resp.get("successfulSet", []):
                details[d["event"]["arn"]] = d
            token = None
            while True:
                kwargs = {"filter": {"eventArns": arns}, "maxResults": 100}
                if token:
                    kwargs["nextToken"] = token
                resp = pacer.call(health.describe_affected_entities, **kwargs)
                for ent in resp.get("entities", []):
                    entities.setdefault(ent.get("eventArn", ""), []).append(ent.get("entityValue"))
                token = resp.get("nextToken")
                if not token:
                    break
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "SubscriptionRequiredException":  # not modeled: compared by code
            manifest.problem("AWS Health not readable: the account has no Business or Enterprise support")
            return None
        raise
    lines = []
    for e in events:
        desc = (details.get(e["arn"]) or {}).get("eventDescription", {}).get("latestDescription")
        ents = [x for x in entities.get(e["arn"], []) if x]
        lines.append(
            {
                "version": "0",
                "id": hashlib.sha256(e["arn"].encode()).hexdigest()[:36],
                "detail-type": "AWS Health Event",
                "source": "aws.health",
                "account": account,
                "time": e.get("startTime") or e.get("lastUpdatedTime"),
                "region": e.get("region"),
                "resources": ents,
                "detail": {
                    "eventArn": e["arn"],
                    "service": e.get("service"),
                    "eventTypeCode": e.get("eventTypeCode"),
                    "eventTypeCategory": e.get("eventTypeCategory"),
                    "startTime": e.get("startTime"),
                    "endTime": e.get("endTime"),
                    "lastUpdatedTime": e.get("lastUpdatedTime"),
                    "statusCode": e.get("statusCode"),
                    "eventDescription": [{"language": "en_US", "latestDescription": desc or ""}],
                    "affectedEntities": [{"entityValue": x} for x in ents],
                },
            }
        )
    if lines:
        rel = Path("api") / "health" / account / f"health-{now_iso().replace(':', '')}.json"
        _write(
            manifest,
            rel,
            lines,
            {"source": "health:DescribeEvents", "account": account, "records": len(lines)},
        )
    return len(lines)


def public_keys(
    ct: Any, region: str, start: datetime | None, end: datetime | None, manifest: Manifest
) -> int:
    """CloudTrail's public keys for the Region over the window (plus 2 h, as aws-cli does at key
    rotation), stored as `list-public-keys` JSON in public-keys/ for `verify` offline."""
    kwargs: dict[str, Any] = {}
    if start is not None:
        kwargs["StartTime"] = start
    if end is not None:
        kwargs["EndTime"] = min(end + timedelta(hours=2), datetime.now(UTC))
    keys: list[dict[str, Any]] = []
    for page in ct.get_paginator("list_public_keys").paginate(**kwargs):
        keys += page.get("PublicKeyList", [])
    rel = Path("public-keys") / f"{region}.json"
    _write(
        manifest,
        rel,
        key_list_document(keys),
        {"source": "cloudtrail:ListPublicKeys", "region": region, "records": len(keys)},
    )
    return len(keys)
