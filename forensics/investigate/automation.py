"""Automation incidents (DESIGN.md, Definitions): no intruder, a function that runs away.

The indicator is the function (`--resource` with its ARN) or its execution role (`--principal`,
when every call of that role is the function's own). The story: the change that set it going and
who made it, the loop the `runaway_write_loop` detection finds in its own calls (rate, errors),
its invocations by hour from the bill, the cost of the function's and its log group's usage lines
with the lag rules of the intrusion story (billed_until, projected, excluded), the change that
stopped it and who made it, and the durations between. The definitions (what names a function,
what starts or stops it, which billing lines are its) live in vocabulary/automation.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from .. import catalog
from ..errors import ForensicsError, IndicatorNotFoundError
from . import coverage
from .context import Ctx, Scope, iso, parse_time, seconds
from .cost import incident_cost


@dataclass
class Function:
    name: str
    arn: str
    region: str
    account: str


class UnsupportedResourceError(ForensicsError):
    """A resource ARN of a kind no story is told for (only Lambda functions are)."""


# The function's own calls: sessions it names, made from its runtime, in its account.
OWN_SQL = """
SELECT count(*) AS events, min(event_time) AS first, max(event_time) AS last,
       list(DISTINCT principal_arn ORDER BY principal_arn) AS principals,
       list(DISTINCT session_issuer_arn ORDER BY session_issuer_arn)
           FILTER (WHERE session_issuer_arn IS NOT NULL) AS roles,
       list(DISTINCT access_key_id ORDER BY access_key_id)
           FILTER (WHERE access_key_id IS NOT NULL) AS keys,
       count(DISTINCT access_key_id) AS sessions,
       count(*) FILTER (WHERE outcome <> 'success') AS failed
FROM cloudtrail
WHERE is_function_call(session_name, user_agent, account_id, principal_arn, recipient_account_id,
                   $name, $account)
"""

# Changes people (or their tools) made to the function, its triggers and its rules.
CHANGES_SQL = """
WITH named AS (
    SELECT * FROM cloudtrail
    WHERE is_principal_action(principal_type) AND NOT read_only
      AND resource_account(recipient_account_id, account_id) = $account
      AND names_function(request_parameters, $name, $arn)
),
rules AS (   -- the EventBridge rules whose targets named the function
    SELECT DISTINCT rule_of(request_parameters) AS rule_name, aws_region FROM named
    WHERE event_source = 'events.amazonaws.com' AND rule_of(request_parameters) IS NOT NULL
),
by_rule AS (
    SELECT c.* FROM cloudtrail c JOIN rules r
      ON rule_of(c.request_parameters) = r.rule_name AND c.aws_region = r.aws_region
    WHERE c.event_source = 'events.amazonaws.com' AND is_principal_action(c.principal_type)
      AND NOT c.read_only AND resource_account(c.recipient_account_id, c.account_id) = $account
),
changes AS (SELECT * FROM named UNION SELECT * FROM by_rule)
SELECT event_time, event_id, event_name, event_source, aws_region AS region,
       automation_effect(event_source, event_name, request_parameters) AS effect,
       actor_of(session_issuer_arn, principal_arn) AS actor, principal_arn, source_ip,
       user_agent, outcome, CAST(request_parameters AS VARCHAR) AS request
FROM changes
WHERE automation_effect(event_source, event_name, request_parameters) IS NOT NULL
  AND (CAST($to AS TIMESTAMPTZ) IS NULL OR event_time <= CAST($to AS TIMESTAMPTZ))
ORDER BY event_time, event_id
"""

BILLED_IDS_SQL = """
SELECT DISTINCT resource_id FROM billing
WHERE bills_function(resource_id, $region, $account, $name)
  AND coalesce(account_id, $account) = $account
ORDER BY 1
"""

INVOCATIONS_SQL = """
SELECT date_trunc('hour', usage_start) AS hour, sum(usage_amount) AS invocations
FROM billing
WHERE list_contains(CAST($ids AS VARCHAR[]), resource_id) AND is_usage_line(line_item_type, provider)
  AND counts_invocations(service, usage_type)
  AND (CAST($s AS TIMESTAMPTZ) IS NULL OR usage_end > CAST($s AS TIMESTAMPTZ))
  AND (CAST($t AS TIMESTAMPTZ) IS NULL OR usage_start < CAST($t AS TIMESTAMPTZ))
GROUP BY ALL ORDER BY hour
"""


def resolve(ctx: Ctx, resource: str | None = None, principal: str | None = None) -> Function | None:
    """The function of a `--resource` ARN (an error for other kinds of resource, or a function the
    case does not show), or of a `--principal` role used only by one function (else None)."""
    if resource:
        row = ctx.one(
            """SELECT lambda_function_name($r) AS name, arn_region($r) AS region,
                      arn_account($r) AS account""",
            r=resource.strip(),
        )
        if not row or not row["name"]:
            raise UnsupportedResourceError(
                f"resource {resource}: a story (investigate, budget, report) is told for a Lambda "
                "function (arn:aws:lambda:REGION:ACCOUNT:function:NAME); for another resource, "
                "`forensics profile --resource ARN` shows who touched it"
            )
        fn = Function(
            row["name"],
            ctx.scalar(
                "SELECT lambda_function_arn($g, $a, $n)", g=row["region"], a=row["account"], n=row["name"]
            ),
            row["region"],
            row["account"],
        )
        seen = ctx.scalar(
            """SELECT count(*) FROM cloudtrail
               WHERE is_function_call(session_name, user_agent, account_id, principal_arn,
                                      recipient_account_id, $name, $account)""",
            name=fn.name,
            account=fn.account,
        )
        billed = ctx.has_rows("billing") and ctx.scalar(
            "SELECT count(*) FROM billing WHERE bills_function(resource_id, $g, $a, $n)",
            g=fn.region,
            a=fn.account,
            n=fn.name,
        )
        named = ctx.scalar(
            """SELECT count(*) FROM cloudtrail
               WHERE resource_account(recipient_account_id, account_id) = $a
                 AND names_function(request_parameters, $n, $arn)""",
            a=fn.account,
            n=fn.name,
            arn=fn.arn,
        )
        if not (seen or billed or named):
            raise IndicatorNotFoundError(
                f"function {resource} has no CloudTrail event or billing line in the case"
            )
        return fn
    if not principal:
        return None
    # A role (or one of its sessions) whose every call is one function's own.
    row = ctx.one(
        """SELECT count(*) AS events,
                  count(*) FILTER (WHERE NOT is_function_session(user_agent)) AS other,
                  count(DISTINCT session_name) AS names, any_value(session_name) AS name,
                  mode(aws_region) AS region,
                  any_value(identity_account(account_id, principal_arn, recipient_account_id)) AS account
           FROM cloudtrail WHERE principal_arn = $p OR session_issuer_arn = $p""",
        p=principal.strip(),
    )
    if not row or not row["events"] or row["other"] or row["names"] != 1:
        return None
    arn = ctx.scalar(
        "SELECT lambda_function_arn($g, $a, $n)", g=row["region"], a=row["account"], n=row["name"]
    )
    return Function(row["name"], arn, row["region"], row["account"])


def story(
    con: duckdb.DuckDBPyConnection,
    resource: str | None = None,
    principal: str | None = None,
    scope: Scope | None = None,
) -> dict[str, Any] | None:
    """The automation story of a function; None when a principal is not a function's role."""
    ctx = Ctx(con, scope or Scope())
    try:
        fn = resolve(ctx, resource, principal)
        if fn is None:
            return None
        indicator = (
            {"type": "resource", "value": resource} if resource else {"type": "principal", "value": principal}
        )
        return _story(ctx, fn, indicator)
    finally:
        ctx.close()


# The story's events for a timeline (the columns of story.TIMELINE_SQL): the function's own calls
# as `automation`; the changes to it (`change` for a start, `containment` for a stop, each with
# who made it) are added from the story.
EVENTS_SQL = """
SELECT event_time AS time, 'automation' AS phase, 'function' AS actor, event_name AS action,
       event_source, aws_region AS region, source_ip, principal_arn, access_key_id, outcome,
       coalesce(json_extract_string(request_parameters, '$.bucketName'),
                json_extract_string(request_parameters, '$.functionName')) AS target, event_id
FROM cloudtrail
WHERE is_function_call(session_name, user_agent, account_id, principal_arn, recipient_account_id,
                   $name, $account)
  AND (CAST($s AS TIMESTAMPTZ) IS NULL OR event_time >= CAST($s AS TIMESTAMPTZ))
  AND (CAST($t AS TIMESTAMPTZ) IS NULL OR event_time <= CAST($t AS TIMESTAMPTZ))
ORDER BY time, event_id
"""


def story_with_events(
    con: duckdb.DuckDBPyConnection,
    resource: str | None = None,
    principal: str | None = None,
    scope: Scope | None = None,
) -> tuple[dict[str, Any], pl.DataFrame] | None:
    """The automation story and its events (what a timeline or Timesketch shows); None when a
    principal is not a function's role."""
    ctx = Ctx(con, scope or Scope())
    try:
        fn = resolve(ctx, resource, principal)
        if fn is None:
            return None
        indicator = (
            {"type": "resource", "value": resource} if resource else {"type": "principal", "value": principal}
        )
        told = _story(ctx, fn, indicator)
        own = ctx.con.sql(
            EVENTS_SQL,
            params={"name": fn.name, "account": fn.account, "s": ctx.scope.from_time, "t": ctx.scope.to_time},
        ).pl()
        changes = pl.DataFrame(
            [
                {
                    "time": parse_time(c["time"]),
                    "phase": "containment" if c["effect"] == "stop" else "change",
                    "actor": "responder",
                    "action": c["event_name"],
                    "event_source": c["event_source"],
                    "region": c["region"],
                    "source_ip": c["source_ip"],
                    "principal_arn": c["principal_arn"],
                    "access_key_id": None,
                    "outcome": "success",
                    "target": fn.name,
                    "event_id": c["event_id"],
                }
                for c in told["automation"]["changes"]
            ],
            schema=own.schema,
        )
        frame = pl.concat([own, changes]).sort("time", "event_id")
        return told, frame
    finally:
        ctx.close()


def _loop(ctx: Ctx, fn: Function) -> dict[str, Any] | None:
    """The function's runaway loop (the runaway_write_loop detection over its own calls): the
    first in scope, with how many more there were."""
    q = catalog.get_query("runaway_write_loop")
    params = q.bind({"from_time": ctx.scope.from_time, "to_time": ctx.scope.to_time})
    loops = [
        r
        for r in ctx.rows(q.sql, **params)
        if r["function_name"] == fn.name and (r["principal_arn"] or "").split(":")[4:5] == [fn.account]
    ]
    if not loops:
        return None
    first = loops[0]
    minutes = max((first["last_time"] - first["event_time"]).total_seconds() / 60.0, 1.0)
    return {
        "detection": "runaway_write_loop",
        "first_call": iso(first["event_time"]),
        "last_call": iso(first["last_time"]),
        "event_name": first["event_name"],
        "resource": first["resource"],
        "calls": first["events"],
        "failed": first["failed"],
        "error_code": first["error_code"],
        "sessions": first["sessions"],
        "calls_per_minute": first["calls_per_minute"],
        "calls_per_hour": round(first["events"] / minutes * 60.0, 2),
        "principal_arn": first["principal_arn"],
        "cost": first["cost"],
        "more_loops": len(loops) - 1,
        "_first": first["event_time"],
        "_last": first["last_time"],
    }


def _change_doc(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if not row:
        return None
    return {
        "time": iso(row["event_time"]),
        "event_name": row["event_name"],
        "event_source": row["event_source"],
        "region": row["region"],
        "effect": row["effect"],
        "by": row["principal_arn"],
        "actor": row["actor"],
        "principal_arn": row["principal_arn"],
        "source_ip": row["source_ip"],
        "user_agent": row["user_agent"],
        "event_id": row["event_id"],
        "request": row["request"],
    }


def _story(ctx: Ctx, fn: Function, indicator: dict[str, str]) -> dict[str, Any]:
    own = ctx.one(OWN_SQL, name=fn.name, account=fn.account) or {}
    loop = _loop(ctx, fn)
    changes = [
        r
        for r in ctx.rows(CHANGES_SQL, account=fn.account, name=fn.name, arn=fn.arn, to=ctx.scope.to_time)
        if r["outcome"] == "success"
    ]
    run_start: datetime | None = loop["_first"] if loop else own.get("first")
    began = None
    if run_start is not None:
        before = [c for c in changes if c["effect"] == "start" and c["event_time"] <= run_start]
        began = before[-1] if before else None
    stopped = None
    if run_start is not None:
        after = [c for c in changes if c["effect"] == "stop" and c["event_time"] >= run_start]
        stopped = after[0] if after else None
    evidence_end = ctx.scalar("SELECT max(event_time) FROM cloudtrail WHERE time_plausible(record_flags)")
    ids = (
        [
            r["resource_id"]
            for r in ctx.rows(BILLED_IDS_SQL, region=fn.region, account=fn.account, name=fn.name)
        ]
        if ctx.has_rows("billing")
        else []
    )
    # The incident's window: from the hour of the change that set it going (else of its first
    # call; or the scope's start) ...
    window_from = ctx.scope.from_time
    if window_from is None and loop:
        window_from = began["event_time"] if began else run_start
    # ... to the end of the incident after the stop (the vocabulary's function_incident_end)
    window_to = ctx.scope.to_time
    if window_to is None and loop and stopped:
        window_to = ctx.scalar("SELECT function_incident_end($t)", t=stopped["event_time"])
    running = loop is not None and stopped is None
    cost = incident_cost(
        ctx,
        ids,
        ids if running else [],
        evidence_end,
        window=(_hour(window_from), window_to),
    )
    invocations = _invocations(ctx, ids, _hour(window_from), window_to)
    last_call = loop["_last"] if loop else own.get("last")
    stop_time = stopped["event_time"] if stopped else None
    contained = (
        {"time": iso(stop_time), "by": [stopped["principal_arn"]], "events": [_change_doc(stopped)]}
        if stopped
        else None
    )
    if loop:
        loop = {k: v for k, v in loop.items() if not k.startswith("_")}
    source_ips = [
        r["source_ip"]
        for r in ctx.rows(
            """SELECT source_ip FROM cloudtrail
               WHERE is_function_call(session_name, user_agent, account_id, principal_arn,
                                      recipient_account_id, $name, $account)
                 AND has_caller_network(source_is_ip, invoked_by, principal_type)
               GROUP BY source_ip ORDER BY min(event_time), source_ip""",
            name=fn.name,
            account=fn.account,
        )
    ]
    principals = own.get("principals") or []
    return {
        "kind": "automation",
        "indicator": indicator,
        "account_id": fn.account,
        "principal_arn": principals[0] if principals else None,
        "principals": principals,
        "access_keys": own.get("keys") or [],
        "key_first_seen": None,
        "first_use": None,
        "source_ips": source_ips,
        "attribution": {
            "method": "automation: the function's own calls (its role session, its runtime)",
            "addresses": source_ips,
            "known_ips": list(ctx.scope.known_ips),
            "responders": list(ctx.scope.responders),
            "events": own.get("events", 0),
        },
        "phases": [],
        "escalation_attempts": {
            "total": 0,
            "denied": 0,
            "succeeded": 0,
            "dry_run": 0,
            "failed": 0,
            "event_names": [],
        },
        "run_instances": {
            "regions": [],
            "attempted_regions": [],
            "failed_regions": [],
            "new_regions": None,
            "instances": [],
            "instance_types": {},
            "failed_calls": 0,
            "error_codes": {},
        },
        "derived_credentials": [],
        "derivations": [],
        "aws_quarantine": None,
        "health_events": [],
        "containment": contained,
        "still_running": [fn.arn] if running else [],
        "flows": [],
        "cost": cost,
        "automation": {
            "function": fn.name,
            "function_arn": fn.arn,
            "region": fn.region,
            "log_group": f"/aws/lambda/{fn.name}",
            "roles": own.get("roles") or [],
            "billed_resources": ids,
            "own_calls": {
                "events": own.get("events", 0),
                "failed": own.get("failed", 0),
                "sessions": own.get("sessions", 0),
                "first": iso(own.get("first")),
                "last": iso(own.get("last")),
            },
            "runaway": loop is not None,
            "start": {
                "time": iso(run_start),
                "change": _change_doc(began),
                "note": None
                if began
                else "no change naming the function before it ran is in the evidence "
                "(it was made earlier, or by a service whose calls are not logged)",
            },
            "loop": loop,
            "invocations": invocations,
            "stop": _change_doc(stopped),
            "last_call": iso(last_call),
            "changes": [_change_doc(c) for c in changes],
        },
        "durations_s": {
            "first_use_to_run_instances": None,
            "first_use_to_quarantine": None,
            "first_use_to_containment": None,
            "start_change_to_first_call": seconds(began["event_time"], run_start) if began else None,
            "loop": seconds(run_start, last_call) if loop else None,
            "first_call_to_stop": seconds(run_start, stop_time),
            "last_call_to_stop": seconds(last_call, stop_time),
        },
        "coverage": coverage.coverage(ctx, {}, max((t for t in (last_call, stop_time) if t), default=None)),
    }


def _hour(t: datetime | None) -> datetime | None:
    return t.replace(minute=0, second=0, microsecond=0) if t else None


def _invocations(ctx: Ctx, ids: list[str], start, end) -> dict[str, Any]:
    """Invocations the bill counts (request lines), by hour."""
    rows = ctx.rows(INVOCATIONS_SQL, ids=ids, s=start, t=end) if ids else []
    by_hour = {iso(r["hour"]): int(r["invocations"] or 0) for r in rows}
    total = sum(by_hour.values())
    peak = max(by_hour.values(), default=0)
    return {"total": total, "peak_per_hour": peak, "by_hour": by_hour}
