"""Assemble the story of one intrusion (the JSON of DESIGN.md) from the steps: pivot, follow
what was minted, attribute, classify, impact, response, cost, coverage. SQL does the work;
this module only orders the steps and shapes the document."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from . import attribution, coverage, impact, phases, pivot, response
from .context import Ctx, Scope, iso, parse_time, seconds
from .cost import incident_cost

MAX_HOPS = 8  # minted credentials followed this many generations deep


def investigate(
    con: duckdb.DuckDBPyConnection,
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """The whole story from one indicator. Raises IndicatorNotFoundError when it is absent."""
    ctx = Ctx(con, scope or Scope())
    try:
        return _story(ctx, access_key, principal, ip, instance)
    finally:
        ctx.close()


TIMELINE_SQL = """
SELECT event_time AS time, phase, actor, event_name AS action, event_source, aws_region AS region,
       source_ip, principal_arn, access_key_id, outcome, target_user_name AS target, event_id
FROM inv_events
UNION ALL BY NAME
SELECT event_time AS time, phase, actor, event_name AS action, event_source,
       aws_region AS region, source_ip, principal_arn, access_key_id, outcome,
       target_user_name AS target, event_id
FROM inv_response
ORDER BY time, event_id
"""


def investigate_with_events(
    con: duckdb.DuckDBPyConnection,
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
    scope: Scope | None = None,
) -> tuple[dict[str, Any], pl.DataFrame]:
    """The story and, in one pass, its events (attacker, AWS, responders) each in its phase:
    what a timeline draws, so figures and the story never disagree."""
    ctx = Ctx(con, scope or Scope())
    try:
        story = _story(ctx, access_key, principal, ip, instance)
        return story, ctx.con.sql(TIMELINE_SQL).pl()
    finally:
        ctx.close()


def follow_and_attribute(ctx: Ctx, follow: pivot.Follow) -> tuple[list[str], str]:
    """Attribute, follow what the attributed events minted, repeat until nothing new."""
    for _ in range(MAX_HOPS):
        ips, how = _attribute(ctx, follow)
        if not pivot.follow_minted(follow, pivot.minted(ctx)):
            return ips, how
    return _attribute(ctx, follow)


def _attribute(ctx: Ctx, follow: pivot.Follow) -> tuple[list[str], str]:
    """The intrusion's events, plus what its CloudFormation stacks made for it."""
    ips, how = attribution.build_events(ctx, follow)
    pivot.stack_events(ctx)
    return ips, how


def _story(ctx: Ctx, access_key, principal, ip, instance) -> dict[str, Any]:
    follow = pivot.resolve(ctx, access_key, principal, ip, instance)
    ips, how = follow_and_attribute(ctx, follow)
    first = _first_use(ctx)
    phases.classify(ctx, first["event_id"] if first else None)
    first_time = first["time"] if first else None

    facts = (
        ctx.one("""SELECT list(DISTINCT principal_arn ORDER BY principal_arn) AS principals,
                              list(DISTINCT access_key_id ORDER BY access_key_id)
                                  FILTER (WHERE access_key_id IS NOT NULL) AS keys,
                              list(DISTINCT identity_account(account_id, principal_arn,
                                                             recipient_account_id)
                                            || '/' || user_name)
                                  FILTER (WHERE principal_type = 'IAMUser') AS users,
                              any_value(identity_account(account_id, principal_arn,
                                                         recipient_account_id)) AS account,
                              min(event_time) FILTER (WHERE time_plausible(record_flags)) AS start,
                              max(event_time) FILTER (WHERE time_plausible(record_flags)) AS "end",
                              count(*) AS events
                       FROM inv_events""")
        or {}
    )
    principals = facts.get("principals") or []
    keys = sorted(set(facts.get("keys") or []) | set(follow.keys()))
    users = sorted(set(facts.get("users") or []) | _derived_users(ctx, follow, facts.get("account")))
    # Addresses are the callers' own: a service acting for the principal (`invokedBy`) writes
    # its own name there (DESIGN.md, Acting for a principal).
    source_ips = [
        r["source_ip"]
        for r in ctx.rows(
            """SELECT source_ip FROM inv_events
               WHERE has_caller_network(source_is_ip, invoked_by, principal_type)
               GROUP BY source_ip ORDER BY min(event_time), source_ip"""
        )
    ]

    calls = impact.launches(ctx)
    used = impact.used_regions(ctx, first_time, impact.accounts(ctx))
    run = impact.run_instances(calls, impact.touched_regions(ctx), used)
    instances = run["instances"]
    created = impact.created_resources(ctx)
    tokens = keys + instances + created + _named_resources(ctx)
    response.build(ctx, first_time, users, principals, keys, instances, tokens, source_ips)

    quarantine = response.quarantine(ctx)
    contained = response.containment(ctx)
    running = response.still_running(ctx, instances)
    by_region = {c["region"]: [] for c in calls}
    for c in calls:
        if c["outcome"] == "success":
            by_region[c["region"]] += c["instances"]
    story_end = max((t for t in (facts.get("end"), _response_end(ctx)) if t), default=None)

    first_launch = next(
        (c["event_time"] for c in calls if c["outcome"] == "success" and c["instances"]), None
    )
    return {
        "indicator": follow.indicator,
        "account_id": facts.get("account"),
        "principal_arn": first["principal_arn"] if first else (principals or [None])[0],
        "principals": principals,
        "access_keys": keys,
        "key_first_seen": iso(_key_first_seen(ctx, follow, first)),
        "first_use": _first_use_doc(first),
        "source_ips": source_ips,
        "attribution": {
            "method": how,
            "addresses": ips,
            "known_ips": list(ctx.scope.known_ips),
            "responders": list(ctx.scope.responders),
            "events": facts.get("events", 0),
        },
        "phases": phases.summary(ctx),
        "escalation_attempts": _escalation(ctx),
        "run_instances": run,
        "derived_credentials": [d["credential"] for d in follow.derived],
        "derivations": [{**d, "time": iso(d["time"])} for d in follow.derived],
        "aws_quarantine": quarantine,
        "health_events": response.health(ctx, keys, principals, instances),
        "containment": contained,
        "still_running": running,
        "flows": impact.flows(ctx, instances + [r for r in created if r.startswith("eni-")]),
        "cost": incident_cost(ctx, created, running, _evidence_end(ctx)),
        "durations_s": {
            "first_use_to_run_instances": seconds(first_time, first_launch),
            "first_use_to_quarantine": seconds(
                first_time, _time(ctx, "aws_response") if quarantine else None
            ),
            "first_use_to_containment": seconds(first_time, _containment_time(contained)),
        },
        "coverage": coverage.coverage(ctx, {r: v for r, v in by_region.items() if v}, story_end),
    }


def _first_use(ctx: Ctx) -> dict[str, Any] | None:
    """DESIGN.md First use, for the followed identity: attribution kept the events from new
    networks the evidence ties to the intrusion (the vocabulary's identity_network), so it is
    the earliest attributed event of a seed identity (minted credentials come later), with the
    network, the identity's history before it, and whether owner and intruder were told apart
    (with nothing tied, attribution kept every address and the first event is the key's own)."""
    return ctx.one("""SELECT e.event_time AS time, e.event_id, e.source_ip, e.user_agent,
                             e.event_name, e.aws_region AS region, e.principal_arn, e.access_key_id,
                             coalesce(n.network, a.network, e.source_ip) AS network,
                             CASE WHEN n.is_new
                                  THEN round(date_diff('second', n.identity_first, e.event_time) / 3600.0, 2)
                                  ELSE 0.0 END AS baseline_hours,
                             coalesce(n.is_new, false) OR e.fresh AS separable
                      FROM inv_events e
                      LEFT JOIN addresses a ON a.address = e.source_ip
                      LEFT JOIN identity_network n
                        ON n.account_id = identity_account(e.account_id, e.principal_arn,
                                                           e.recipient_account_id)
                       AND n.identity = novelty_identity(e.access_key_id, e.session_issuer_arn,
                                                         e.principal_arn)
                       AND n.network = coalesce(a.network, e.source_ip)
                      WHERE has_caller_network(e.source_is_ip, e.invoked_by, e.principal_type)
                      ORDER BY e.fresh, e.event_time, e.event_id
                      LIMIT 1""")


def _evidence_end(ctx: Ctx):
    """The last plausible CloudTrail time of the case: where a projection of cost stops."""
    return ctx.scalar("SELECT max(event_time) FROM cloudtrail WHERE time_plausible(record_flags)")


def _first_use_doc(first: dict[str, Any] | None) -> dict[str, Any] | None:
    if not first:
        return None
    return {
        "time": iso(first["time"]),
        "source_ip": first["source_ip"],
        "network": first["network"],
        "user_agent": first["user_agent"],
        "event_name": first["event_name"],
        "region": first["region"],
        "access_key_id": first["access_key_id"],
        "baseline_hours": first["baseline_hours"],
        "separable": first["separable"],
    }


def _key_first_seen(ctx: Ctx, follow: pivot.Follow, first: dict[str, Any] | None):
    key = (
        follow.indicator["value"]
        if follow.indicator["type"] == "access_key"
        else (first["access_key_id"] if first else None)
    )
    if not key:
        return None
    return ctx.scalar("SELECT min(event_time) FROM cloudtrail WHERE access_key_id = $k", k=key)


def _derived_users(ctx: Ctx, follow: pivot.Follow, account: str | None) -> set[str]:
    """`account/user` for the users whose keys the intrusion minted or that it created, in the
    account of the call that made them."""
    out = set()
    for d in follow.derived:
        if not d.get("user_name"):
            continue
        acct = ctx.scalar(
            """SELECT identity_account(account_id, principal_arn, recipient_account_id)
               FROM inv_events WHERE event_time = $t AND event_name = $n LIMIT 1""",
            t=d["time"],
            n=d["event_name"],
        )
        out.add(f"{acct or account}/{d['user_name']}")
    return out


def _escalation(ctx: Ctx) -> dict[str, Any]:
    """DESIGN.md, Privilege escalation, by effect: calls whose `effect` is escalation (a key
    minted for oneself is persistence). Failures (limits, throttling) are not denials."""
    row = (
        ctx.one(
            """SELECT count(*) AS total,
                  count(*) FILTER (WHERE outcome = 'denied') AS denied,
                  count(*) FILTER (WHERE outcome = 'success') AS succeeded,
                  count(*) FILTER (WHERE outcome = 'dry_run') AS dry_run,
                  count(*) FILTER (WHERE outcome = 'failed') AS failed,
                  list(DISTINCT event_name ORDER BY event_name) AS names
           FROM inv_events WHERE effect = 'escalation'"""
        )
        or {}
    )
    return {
        "total": row.get("total", 0),
        "denied": row.get("denied", 0),
        "succeeded": row.get("succeeded", 0),
        "dry_run": row.get("dry_run", 0),
        "failed": row.get("failed", 0),
        "event_names": row.get("names") or [],
    }


def _named_resources(ctx: Ctx) -> list[str]:
    """Key pairs, security groups, launch templates and stacks the intrusion made (what its
    successful Create/Import calls name): responders' clean-up names them."""
    rows = ctx.rows(
        """SELECT DISTINCT unnest([
               json_extract_string(request_parameters, '$.keyName'),
               json_extract_string(response_elements, '$.groupId'),
               json_extract_string(response_elements, '$.stackId'),
               CASE WHEN event_source = 'cloudformation.amazonaws.com'
                    THEN json_extract_string(request_parameters, '$.stackName') END,
               regexp_extract(CAST(response_elements AS VARCHAR),
                              '"launchTemplateId"\\s*:\\s*"(lt-[0-9a-f]+)"', 1)]) AS v
           FROM inv_events
           WHERE outcome = 'success' AND NOT read_only
             AND regexp_matches(event_name, '^(Create|Import)')"""
    )
    return [r["v"] for r in rows if r["v"]]


def _response_end(ctx: Ctx):
    return ctx.scalar("SELECT max(event_time) FROM inv_response")


def _time(ctx: Ctx, phase: str):
    return ctx.scalar("SELECT min(event_time) FROM inv_response WHERE phase = $p", p=phase)


def _containment_time(contained: dict[str, Any] | None):
    return parse_time(contained["time"]) if contained else None
