"""AWS's response (the quarantine policy, the Health event) and the responders' containment:
other principals acting after first use on the intrusion's resources, or named by the analyst.
Their events go to temp table `inv_response` with phase aws_response or containment."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .context import Ctx, iso

RESPONSE_COLUMNS = """event_time, event_id, event_name, event_source, aws_region, source_ip,
    user_agent, principal_type, principal_arn, access_key_id, outcome, read_only,
    instance_ids, target_user_name, policy_arn, request_parameters, record_flags"""

# AWS's quarantine of an exposed key (DESIGN.md: aws_response, by who made it): the
# vocabulary's quarantine call, made by AWS itself, that succeeded (a denied attach is not a
# quarantine), on one of the intrusion's users in that user's own account (a namesake in
# another account is someone else).
QUARANTINE_SQL = f"""
SELECT {RESPONSE_COLUMNS}, 'aws_response' AS phase, 'aws' AS actor FROM cloudtrail
WHERE is_quarantine_call(event_source, event_name, policy_arn, request_parameters)
  AND outcome = 'success'
  AND (is_service_event(principal_type) OR invoked_by = 'AWS Internal' OR source_ip = 'AWS Internal')
  AND list_contains(CAST($users AS VARCHAR[]),
                    resource_account(recipient_account_id, account_id) || '/' || target_user_name)
  AND event_time >= CAST($since AS TIMESTAMPTZ)
  AND (CAST($until AS TIMESTAMPTZ) IS NULL OR event_time <= CAST($until AS TIMESTAMPTZ))
"""

# DESIGN.md, Attribution: responders are other principals acting after first use on the
# intrusion's resources (its users in their account, its instances, keys and named resources),
# or principals the analyst lists. Never the intruder: not its principals, keys or addresses
# (its own teardown is defense evasion, phased with its events); never AWS's services; never
# sign-in plumbing alone.
RESPONDER_SQL = f"""
SELECT {RESPONSE_COLUMNS}, 'containment' AS phase, 'responder' AS actor FROM cloudtrail
WHERE event_time >= CAST($since AS TIMESTAMPTZ)
  AND (CAST($until AS TIMESTAMPTZ) IS NULL OR event_time <= CAST($until AS TIMESTAMPTZ))
  AND is_principal_action(principal_type) AND principal_arn IS NOT NULL
  AND NOT list_contains(CAST($intruders AS VARCHAR[]), principal_arn)
  AND NOT list_contains(CAST($keys AS VARCHAR[]), coalesce(access_key_id, ''))
  AND NOT list_contains(CAST($addresses AS VARCHAR[]), coalesce(source_ip, ''))
  AND event_id NOT IN (SELECT event_id FROM inv_events)
  AND NOT event_has('sign_in', event_source, event_name)
  AND (list_contains(CAST($responders AS VARCHAR[]), principal_arn)
       OR list_contains(CAST($responders AS VARCHAR[]), session_issuer_arn)
       OR list_contains(CAST($users AS VARCHAR[]),
                        resource_account(recipient_account_id, account_id) || '/' || target_user_name)
       OR list_has_any(instance_ids, CAST($instances AS VARCHAR[]))
       OR ($pattern <> '' AND regexp_matches(CAST(request_parameters AS VARCHAR), $pattern)))
"""


def build(
    ctx: Ctx,
    first_use: datetime | None,
    users: list[str],
    intruders: list[str],
    keys: list[str],
    instances: list[str],
    tokens: list[str],
    addresses: list[str] = (),
) -> None:
    """Fill `inv_response`: the quarantine, then responders' work on our resources. `users`
    are `account/user name` pairs; `addresses` the intruder's own."""
    since = first_use or datetime(1970, 1, 1)
    until = ctx.scope.to_time
    pattern = "|".join(f'"{re.escape(t)}"' for t in sorted(set(tokens)) if t)
    ctx.run(
        f"""CREATE OR REPLACE TEMP TABLE inv_response AS
            {QUARANTINE_SQL}
            UNION ALL BY NAME
            {RESPONDER_SQL}""",
        users=users,
        since=since,
        until=until,
        intruders=intruders,
        keys=keys,
        addresses=list(addresses),
        responders=list(ctx.scope.responders),
        instances=instances,
        pattern=pattern,
    )


def quarantine(ctx: Ctx) -> dict[str, Any] | None:
    row = ctx.one("""SELECT event_time, event_name, coalesce(policy_arn,
                            json_extract_string(request_parameters, '$.policyName')) AS policy,
                            target_user_name AS user_name
                     FROM inv_response WHERE phase = 'aws_response'
                     ORDER BY event_time LIMIT 1""")
    if not row:
        return None
    return {
        "time": iso(row["event_time"]),
        "policy": row["policy"],
        "user_name": row["user_name"],
        "event_name": row["event_name"],
    }


def health(
    ctx: Ctx, keys: list[str], principals: list[str], instances: list[str] | None = None
) -> list[dict[str, Any]]:
    """AWS Health and GuardDuty findings that name the intrusion's keys, principals or the
    instances it launched (GuardDuty's mining findings name only the instance)."""
    if not ctx.has_rows("findings"):
        return []
    rows = ctx.rows(
        """SELECT source, type, first_seen, last_seen, region, access_key_id, principal_arn,
                  instance_id, remote_ip, finding_id
           FROM findings
           WHERE list_contains(CAST($keys AS VARCHAR[]), access_key_id)
              OR list_contains(CAST($principals AS VARCHAR[]), principal_arn)
              OR list_contains(CAST($instances AS VARCHAR[]), instance_id)
           ORDER BY first_seen, finding_id""",
        keys=keys,
        principals=principals,
        instances=list(instances or []),
    )
    for row in rows:
        row["first_seen"], row["last_seen"] = iso(row["first_seen"]), iso(row["last_seen"])
    return rows


def containment(ctx: Ctx) -> dict[str, Any] | None:
    rows = ctx.rows("""SELECT event_time, event_name, aws_region AS region, principal_arn,
                              source_ip, outcome, read_only, target_user_name,
                              instance_ids
                       FROM inv_response WHERE phase = 'containment'
                       ORDER BY event_time, event_id""")
    if not rows:
        return None
    start = rows[0]["event_time"]
    events = [
        {
            "time": iso(r["event_time"]),
            "event_name": r["event_name"],
            "region": r["region"],
            "principal_arn": r["principal_arn"],
            "outcome": r["outcome"],
            "target": r["target_user_name"] or ",".join(r["instance_ids"] or []) or None,
        }
        for r in rows
    ]
    return {"time": iso(start), "by": sorted({r["principal_arn"] for r in rows}), "events": events}


def still_running(ctx: Ctx, instances: list[str]) -> list[str]:
    """Instances the intrusion launched that no successful TerminateInstances ended."""
    if not instances:
        return []
    ended = {
        r["i"]
        for r in ctx.rows(
            """SELECT DISTINCT unnest(instance_ids) AS i FROM cloudtrail
           WHERE api_of(event_source, event_name) = 'ec2:TerminateInstances' AND outcome = 'success'
             AND list_has_any(instance_ids, CAST($ids AS VARCHAR[]))""",
            ids=instances,
        )
    }
    return [i for i in instances if i not in ended]
