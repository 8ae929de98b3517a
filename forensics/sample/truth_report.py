"""Assembles ground_truth.json from what `TruthObserver` saw, the billing rows and AWS's notices.
Every fact is derived from the evidence; only the push time (which no log records) comes from
the story itself."""

from __future__ import annotations

from typing import Any

from .clock import EVIDENCE_END, EVIDENCE_START, iso
from .resources import epoch, launched_instances
from .truth import (
    TruthObserver,
    billed_regions,
    cost_of,
    exfiltration,
    first_use,
    is_denied,
    lambda_loop,
)


def _names(events: list[dict[str, Any]]) -> list[str]:
    return sorted({e["eventName"] for e in events})


def _launches(intrusion: list[dict[str, Any]], intents: dict[str, str]) -> dict[str, Any]:
    attempts = [
        e
        for e in intrusion
        if intents.get(e["eventID"]) == "launch" and e.get("errorCode") != "Client.DryRunOperation"
    ]
    succeeded = sorted({e["awsRegion"] for e in attempts if not e.get("errorCode")})
    attempted = sorted({e["awsRegion"] for e in attempts})
    failed: dict[str, str] = {}
    for event in sorted(attempts, key=lambda e: e["eventTime"]):
        region = event["awsRegion"]
        if region not in succeeded and region not in failed:
            failed[region] = event["errorCode"]
    return {
        "regions_attempted": attempted,
        "regions_succeeded": succeeded,
        "regions_failed": dict(sorted(failed.items())),
        "launch_calls": {e["awsRegion"]: e["eventName"] for e in attempts if not e.get("errorCode")},
        "failed_calls": sum(1 for e in attempts if e.get("errorCode")),
        "error_codes": dict(
            sorted(
                {
                    c: sum(1 for e in attempts if e.get("errorCode") == c)
                    for c in {e.get("errorCode") for e in attempts}
                    if c
                }.items()
            )
        ),
    }


def _responders(obs: TruthObserver, start: int, watched: set[str], user: str) -> list[Any]:
    """Other principals acting, after first use, on the key, the user or what the attacker
    created. AWS's own calls are excluded (they are not principals of the account)."""
    found = []
    for t, event, params in obs.others_after:
        if t <= start:
            continue
        request = event.get("requestParameters") or {}
        if request.get("userName") == user or any(w in params for w in watched):
            found.append(event)
    return sorted(found, key=lambda e: e["eventTime"])


def build_truth(
    obs: TruthObserver,
    *,
    account: str,
    user_name: str,
    push_time: int,
    rows: list[dict[str, str]],
    intents: dict[str, str],
    health: dict[str, Any],
    findings: dict[str, list[dict[str, Any]]],
    counts: dict[str, Any],
    seed: int,
    scale: int,
) -> dict[str, Any]:
    first, owner_ips = first_use(obs.key_events)
    t_first = epoch(first["eventTime"])
    # baseline records share one dict per call across copies: take times from the observer
    key_times = sorted(t for t, _ in obs.key_events)
    late = [e for t, e in sorted(obs.key_events, key=lambda te: te[0]) if t >= t_first]
    attacker_ips = sorted({e["sourceIPAddress"] for e in late} - owner_ips)
    intrusion = [e for e in late if e["sourceIPAddress"] in attacker_ips]
    used = {r for r, t in obs.first_write.items() if t < t_first} | billed_regions(rows, t_first)
    touched = {e["awsRegion"] for e in intrusion}
    launches = _launches(intrusion, intents)

    created = launched_instances(intrusion)
    watched = set(created) | {first["userIdentity"]["accessKeyId"]}
    for e in intrusion:
        response = e.get("responseElements") or {}
        if e["eventName"] == "CreateSecurityGroup" and response:
            watched.add(response["groupId"])
        if e["eventName"] == "CreateKeyPair" and response:
            watched.add(response["keyName"])
    responder_events = _responders(obs, t_first, watched, user_name)
    instances = launched_instances(intrusion + responder_events)
    volumes = {i.volume_id for i in instances.values() if i.volume_id}
    total, by_region = cost_of(rows, set(instances) | volumes)
    quarantine = min(obs.quarantines, key=lambda e: e["eventTime"])
    escalation = [e for e in intrusion if intents.get(e["eventID"]) == "escalation"]
    after_q = [e for e in intrusion if e["eventTime"] > quarantine["eventTime"]]
    first_launch = min(
        epoch(e["eventTime"])
        for e in intrusion
        if intents.get(e["eventID"]) == "launch" and not e.get("errorCode")
    )
    contained = epoch(responder_events[0]["eventTime"]) if responder_events else None
    terminated: dict[str, list[str]] = {}
    for inst in instances.values():
        if inst.terminated is not None:
            terminated.setdefault(inst.region, []).append(inst.instance_id)

    return {
        "scenario": "Leaked PowerUser access key used for multi-region crypto-mining; plus an "
        "SSRF instance-credential theft and a runaway remediation Lambda",
        "generator": {"seed": seed, "scale": scale},
        "account_id": account,
        "evidence_window": {"start": iso(EVIDENCE_START), "end": iso(EVIDENCE_END)},
        "used_regions": sorted(used),
        "leaked_access_key": first["userIdentity"]["accessKeyId"],
        "leaked_user": {"name": first["userIdentity"]["userName"], "arn": first["userIdentity"]["arn"]},
        "push_time": iso(push_time),
        "key_first_seen": iso(key_times[0]),
        "owner_ips": sorted(owner_ips),
        "first_use": {
            "time": first["eventTime"],
            "source_ip": first["sourceIPAddress"],
            "user_agent": first["userAgent"],
            "region": first["awsRegion"],
            "event_name": first["eventName"],
        },
        "attacker_ips": attacker_ips,
        "attacker_user_agents": sorted({e["userAgent"] for e in intrusion}),
        "intrusion_events": len(intrusion),
        "intrusion_denied": sum(1 for e in intrusion if is_denied(e)),
        "regions_touched": sorted(touched),
        "regions_new": sorted(touched - used),
        **launches,
        "instances": {
            r: sorted(i.instance_id for i in instances.values() if i.region == r)
            for r in sorted({i.region for i in instances.values()})
        },
        "instance_types": {i: instances[i].instance_type for i in sorted(instances)},
        "instance_type_counts": dict(
            sorted(
                {
                    t: sum(1 for i in instances.values() if i.instance_type == t)
                    for t in {i.instance_type for i in instances.values()}
                }.items()
            )
        ),
        "volumes": sorted(volumes),
        "key_pairs": sorted(
            e["responseElements"]["keyName"] for e in intrusion if e["eventName"] == "CreateKeyPair"
        ),
        "security_groups": sorted(
            e["responseElements"]["groupId"] for e in intrusion if e["eventName"] == "CreateSecurityGroup"
        ),
        "dry_run": [
            {"time": e["eventTime"], "region": e["awsRegion"]}
            for e in intrusion
            if e.get("errorCode") == "Client.DryRunOperation"
        ],
        "escalation_attempts": {
            "event_names": _names(escalation),
            "total": len(escalation),
            "denied": sum(1 for e in escalation if is_denied(e)),
            "succeeded": sum(1 for e in escalation if not e.get("errorCode")),
            "dry_run": sum(1 for e in escalation if e.get("errorCode") == "Client.DryRunOperation"),
            "failed": sum(
                1
                for e in escalation
                if e.get("errorCode") and not is_denied(e) and e["errorCode"] != "Client.DryRunOperation"
            ),
        },
        "quarantine": {
            "time": quarantine["eventTime"],
            "policy": quarantine["requestParameters"]["policyArn"],
            "source_ip": quarantine["sourceIPAddress"],
        },
        "after_quarantine": {
            "events": len(after_q),
            "explicit_deny": sum(1 for e in after_q if "explicit deny" in (e.get("errorMessage") or "")),
            "event_names": _names(after_q),
        },
        "health_event": {
            "time": health["time"],
            "type": health["detail"]["eventTypeCode"],
            "access_key": health["detail"]["affectedEntities"][0]["entityValue"],
        },
        "containment": {
            "start": responder_events[0]["eventTime"] if responder_events else None,
            "responder_principal_arn": responder_events[0]["userIdentity"]["arn"]
            if responder_events
            else None,
            "responder_ip": responder_events[0]["sourceIPAddress"] if responder_events else None,
            "end": responder_events[-1]["eventTime"] if responder_events else None,
            "event_names": _names(responder_events),
            "terminated": {r: sorted(ids) for r, ids in sorted(terminated.items())},
        },
        "still_running": sorted(i.instance_id for i in instances.values() if i.terminated is None),
        "incident_cost": {
            "total": round(total, 2),
            "currency": "USD",
            "by_region": {r: round(c, 2) for r, c in sorted(by_region.items())},
        },
        "durations_s": {
            "push_to_first_use": t_first - push_time,
            "first_use_to_run_instances": first_launch - t_first,
            "first_use_to_quarantine": epoch(quarantine["eventTime"]) - t_first,
            "first_use_to_containment": contained - t_first if contained else None,
        },
        "exfiltration": exfiltration(obs),
        "lambda_loop": lambda_loop(obs, rows),
        "guardduty_findings": {r: sorted(f["Type"] for f in items) for r, items in sorted(findings.items())},
        "counts": counts,
    }
