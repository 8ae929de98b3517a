"""What the intrusion launched: regions attempted, succeeded, failed and new; instances and
types; refused launches with their codes; what it created that bills; the instances' flows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from .context import Ctx, iso

# Calls that create compute (StartInstances restarts what exists: not a launch).
LAUNCHES = [
    "RunInstances",
    "CreateFleet",
    "RequestSpotInstances",
    "RequestSpotFleet",
    "RunScheduledInstances",
]

LAUNCH_SQL = r"""
SELECT event_time, event_id, event_name, aws_region AS region, outcome, error_code,
       regexp_extract_all(CAST(response_elements AS VARCHAR),
                          '"(i-[0-9a-fA-F]{8,17})"', 1) AS instances,
       coalesce(instance_type,
                regexp_extract(CAST(response_elements AS VARCHAR),
                               '"[iI]nstanceType"\s*:\s*"([^"]+)"', 1),
                regexp_extract(CAST(request_parameters AS VARCHAR),
                               '"[iI]nstanceType"\s*:\s*"([^"]+)"', 1)) AS instance_type
FROM inv_events WHERE list_contains(CAST($launches AS VARCHAR[]), event_name)
ORDER BY event_time, event_id
"""

# Ids of things the intrusion created that can bill or talk: instances, volumes, interfaces,
# addresses (allocation id and public IP), NAT gateways, snapshots.
CREATED_SQL = r"""
SELECT DISTINCT unnest(list_concat(
    regexp_extract_all(CAST(response_elements AS VARCHAR),
                       '"((?:i|vol|eni|eipalloc|nat|snap)-[0-9a-fA-F]{8,17})"', 1),
    CASE WHEN event_name = 'AllocateAddress'
         THEN [json_extract_string(response_elements, '$.publicIp')] ELSE [] END)) AS id
FROM inv_events
WHERE outcome = 'success'
  AND regexp_matches(event_name, '^(Run|Create|Allocate|Request|Import|Copy)')
"""

PRIVATE_IPS_SQL = r"""
SELECT DISTINCT unnest(regexp_extract_all(CAST(response_elements AS VARCHAR),
                       '"privateIpAddress"\s*:\s*"([0-9.]+)"', 1)) AS ip
FROM inv_events WHERE outcome = 'success' AND list_contains(CAST($launches AS VARCHAR[]), event_name)
"""


def launches(ctx: Ctx) -> list[dict[str, Any]]:
    return ctx.rows(LAUNCH_SQL, launches=LAUNCHES)


def run_instances(calls: list[dict[str, Any]], touched: set[str], used_regions: set[str]) -> dict[str, Any]:
    """The `run_instances` block (DESIGN.md). Dry runs are not attempts; a region succeeded
    when a launch there succeeded; new regions are regions the intrusion touched (any event)
    that the account had not used before first use."""
    attempts = [c for c in calls if c["outcome"] != "dry_run"]
    attempted = sorted({c["region"] for c in attempts})
    succeeded = sorted({c["region"] for c in attempts if c["outcome"] == "success"})
    types: Counter[str] = Counter()
    instances: list[str] = []
    for call in attempts:
        if call["outcome"] != "success":
            continue
        for inst in call["instances"]:
            if inst not in instances:
                instances.append(inst)
                types[call["instance_type"] or "unknown"] += 1
    failed = [c for c in attempts if c["outcome"] != "success"]
    codes = Counter(c["error_code"] or "unknown" for c in failed)
    first_ok = next((c["event_time"] for c in attempts if c["outcome"] == "success"), None)
    return {
        "regions": succeeded,
        "attempted_regions": attempted,
        "failed_regions": sorted(set(attempted) - set(succeeded)),
        "new_regions": sorted(touched - used_regions),
        "instances": instances,
        "instance_types": dict(sorted(types.items())),
        "failed_calls": len(failed),
        "error_codes": dict(sorted(codes.items())),
        "first_attempt": iso(attempts[0]["event_time"]) if attempts else None,
        "first_success": iso(first_ok),
        "dry_runs": sum(1 for c in calls if c["outcome"] == "dry_run"),
        "calls": [
            {
                "time": iso(c["event_time"]),
                "event_name": c["event_name"],
                "region": c["region"],
                "outcome": c["outcome"],
                "error_code": c["error_code"],
                "instance_type": c["instance_type"],
                "instances": c["instances"],
            }
            for c in calls
        ],
    }


def created_resources(ctx: Ctx) -> list[str]:
    return sorted(r["id"] for r in ctx.rows(CREATED_SQL) if r["id"])


def used_regions(ctx: Ctx, before: datetime | None, accounts: list[str]) -> set[str]:
    """Regions the account used before first use (DESIGN.md): a write other than through a
    global service, or a bill."""
    if before is None:
        return set()
    rows = ctx.rows(
        """SELECT DISTINCT aws_region AS region FROM cloudtrail
           WHERE event_time < $t AND read_only = false AND aws_region IS NOT NULL
             AND NOT list_contains(CAST($globals AS VARCHAR[]), event_source)
             AND (len(CAST($accounts AS VARCHAR[])) = 0
                  OR list_contains(CAST($accounts AS VARCHAR[]),
                                   coalesce(recipient_account_id, account_id)))
           UNION
           SELECT DISTINCT region FROM billing
           WHERE usage_end <= $t AND region IS NOT NULL AND region <> ''
             AND coalesce(cost, 0) <> 0
             AND (len(CAST($accounts AS VARCHAR[])) = 0
                  OR list_contains(CAST($accounts AS VARCHAR[]), account_id))""",
        t=before,
        globals=GLOBAL_SOURCES,
        accounts=accounts,
    )
    return {r["region"] for r in rows}


# Services that log in us-east-1 whatever region the caller works in (DESIGN.md).
GLOBAL_SOURCES = [
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "organizations.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "route53domains.amazonaws.com",
    "support.amazonaws.com",
    "health.amazonaws.com",
    "signin.amazonaws.com",
    "account.amazonaws.com",
    "billing.amazonaws.com",
    "ce.amazonaws.com",
    "budgets.amazonaws.com",
    "trustedadvisor.amazonaws.com",
    "waf.amazonaws.com",
    "globalaccelerator.amazonaws.com",
    "sso.amazonaws.com",
    "shield.amazonaws.com",
    "notifications.amazonaws.com",
    "artifact.amazonaws.com",
    "pricing.amazonaws.com",
]

FLOWS_SQL = r"""
WITH f AS (
    SELECT *, coalesce(flow_direction = 'egress',
                       list_contains(CAST($private AS VARCHAR[]), src_addr),
                       regexp_matches(src_addr, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.)'))
              AS outbound
    FROM vpc_flows
    WHERE list_contains(CAST($ids AS VARCHAR[]), instance_id)
       OR list_contains(CAST($ids AS VARCHAR[]), interface_id)
)
SELECT CASE WHEN outbound THEN dst_addr ELSE src_addr END AS remote_addr,
       least(src_port, dst_port) AS port,
       protocol, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows,
       min(start_time) AS first, max(end_time) AS last,
       list(DISTINCT instance_id ORDER BY instance_id) FILTER (WHERE instance_id LIKE 'i-%')
           AS instances
FROM f
GROUP BY ALL ORDER BY bytes DESC NULLS LAST, remote_addr, port
LIMIT $limit
"""


def flows(ctx: Ctx, ids: list[str], limit: int = 25) -> list[dict[str, Any]]:
    """Flow volume by remote address and port for the intrusion's instances and interfaces."""
    if not ids or not ctx.has_rows("vpc_flows"):
        return []
    private = [r["ip"] for r in ctx.rows(PRIVATE_IPS_SQL, launches=LAUNCHES)]
    out = []
    for row in ctx.rows(FLOWS_SQL, ids=ids, private=private, limit=limit):
        row["first"], row["last"] = iso(row["first"]), iso(row["last"])
        row["bytes"] = int(row["bytes"] or 0)
        row["packets"] = int(row["packets"] or 0)
        row["instances"] = row["instances"] or []
        out.append(row)
    return out
