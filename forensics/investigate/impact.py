"""What the intrusion launched: regions attempted, succeeded, failed and new; instances and
types; refused launches with their codes; what it created that bills; the instances' flows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from .context import Ctx, iso

LAUNCH_SQL = r"""
SELECT event_time, event_id, event_name, aws_region AS region, outcome, error_code,
       response_instances(response_elements) AS instances,
       coalesce(instance_type,
                regexp_extract(CAST(response_elements AS VARCHAR),
                               '"[iI]nstanceType"\s*:\s*"([^"]+)"', 1),
                regexp_extract(CAST(request_parameters AS VARCHAR),
                               '"[iI]nstanceType"\s*:\s*"([^"]+)"', 1)) AS instance_type
FROM inv_events WHERE event_has('launch', event_source, event_name)
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
FROM inv_events WHERE outcome = 'success' AND event_has('launch', event_source, event_name)
"""


def launches(ctx: Ctx) -> list[dict[str, Any]]:
    return ctx.rows(LAUNCH_SQL)


def run_instances(
    calls: list[dict[str, Any]], touched: set[str], used_regions: set[str] | None
) -> dict[str, Any]:
    """The `run_instances` block (DESIGN.md). Dry runs are not attempts; a region succeeded
    when a launch there succeeded; new regions are regions the intrusion touched (any event
    outside the global services) that the account had not used before first use, None when
    region use is unknown (`used_regions` None)."""
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
        "new_regions": None if used_regions is None else sorted(touched - used_regions),
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


def touched_regions(ctx: Ctx) -> set[str]:
    """Regions the intrusion's events name, global services aside (they log in us-east-1
    whatever region the caller works in)."""
    rows = ctx.rows(
        """SELECT DISTINCT aws_region AS region FROM inv_events
           WHERE aws_region IS NOT NULL AND NOT is_global_source(event_source)"""
    )
    return {r["region"] for r in rows}


def accounts(ctx: Ctx) -> list[str]:
    """The accounts whose resources the intrusion's events touched (resource_account)."""
    rows = ctx.rows(
        """SELECT DISTINCT resource_account(recipient_account_id, account_id) AS a FROM inv_events
           WHERE resource_account(recipient_account_id, account_id) IS NOT NULL ORDER BY 1"""
    )
    return [r["a"] for r in rows]


def used_regions(ctx: Ctx, before: datetime | None, accounts: list[str]) -> set[str] | None:
    """Regions the accounts used before first use (the vocabulary's `region_use`: a write other
    than through a global service, or a bill, in the same account). None when region use is
    unknown for any of them (less than a day of trail or billing before first use)."""
    if before is None or not accounts:
        return None
    known = ctx.scalar(
        """SELECT bool_and(region_use_known(a, CAST($t AS TIMESTAMPTZ)))
           FROM (SELECT unnest(CAST($accounts AS VARCHAR[])) AS a)""",
        t=before,
        accounts=accounts,
    )
    if not known:
        return None
    rows = ctx.rows(
        """SELECT DISTINCT region FROM region_use
           WHERE list_contains(CAST($accounts AS VARCHAR[]), account_id)
             AND first_use < CAST($t AS TIMESTAMPTZ)""",
        t=before,
        accounts=accounts,
    )
    return {r["region"] for r in rows}


# The intrusion's instances' flows: by instance id where the format records it, and through
# the instances' interfaces (the vocabulary's `instance_interface`) where it does not (version 2).
FLOWS_SQL = r"""
WITH ifs AS (
    SELECT account_id, instance_id, interface_id FROM instance_interface
    WHERE list_contains(CAST($ids AS VARCHAR[]), instance_id)
       OR list_contains(CAST($ids AS VARCHAR[]), interface_id)
),
mine AS (
    SELECT v.*, coalesce(v.instance_id, i.instance_id) AS inst
    FROM vpc_flows v LEFT JOIN ifs i
      ON v.interface_id = i.interface_id AND coalesce(v.account_id, i.account_id) = i.account_id
    WHERE list_contains(CAST($ids AS VARCHAR[]), v.instance_id)
       OR list_contains(CAST($ids AS VARCHAR[]), v.interface_id)
       OR i.interface_id IS NOT NULL
),
f AS (
    SELECT *, coalesce(flow_direction = 'egress',
                       list_contains(CAST($private AS VARCHAR[]), src_addr),
                       is_internal_address(src_addr))
              AS outbound
    FROM mine
)
SELECT CASE WHEN outbound THEN dst_addr ELSE src_addr END AS remote_addr,
       least(src_port, dst_port) AS port,
       protocol, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows,
       min(start_time) AS first, max(end_time) AS last,
       list(DISTINCT inst ORDER BY inst) FILTER (WHERE inst LIKE 'i-%') AS instances
FROM f
GROUP BY ALL ORDER BY bytes DESC NULLS LAST, remote_addr, port
LIMIT $limit
"""


def flows(ctx: Ctx, ids: list[str], limit: int = 25) -> list[dict[str, Any]]:
    """Flow volume by remote address and port for the intrusion's instances and interfaces."""
    if not ids or not ctx.has_rows("vpc_flows"):
        return []
    private = [r["ip"] for r in ctx.rows(PRIVATE_IPS_SQL)]
    out = []
    for row in ctx.rows(FLOWS_SQL, ids=ids, private=private, limit=limit):
        row["first"], row["last"] = iso(row["first"]), iso(row["last"])
        row["bytes"] = int(row["bytes"] or 0)
        row["packets"] = int(row["packets"] or 0)
        row["instances"] = row["instances"] or []
        out.append(row)
    return out
