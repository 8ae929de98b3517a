"""Entity profiles in the spirit of Amazon Detective, from local evidence: first and last seen,
API calls over time (succeeded vs failed), what is newly observed in the scope window against a
baseline of up to 45 days before it (the span actually available is reported), related
entities, and for an instance its flow volume by remote address and port."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import duckdb

from ..errors import IndicatorNotFoundError
from .context import Ctx, Scope, iso

# Which CloudTrail events belong to an entity, by kind. `$e` is the entity.
PREDICATES = {
    "access_key": "access_key_id = $e",
    "principal": "(principal_arn = $e OR session_issuer_arn = $e)",
    "ip": "source_ip = $e",
    "instance": "(session_name = $e OR list_contains(instance_ids, $e))",
    "region": "aws_region = $e",
    # who touched a resource (its ARN): calls naming it, and a function's own calls
    "resource": """(names_resource(request_parameters, $e)
                   OR is_function_call(session_name, user_agent, account_id, principal_arn,
                                       recipient_account_id, lambda_function_name($e),
                                       arn_account($e)))""",
}
# An instance's flows: those naming it, and those on its interfaces (version 2 records name no
# instance: the vocabulary's `instance_interface`).
INSTANCE_FLOWS = """(instance_id = $e OR interface_id IN
    (SELECT l.interface_id FROM instance_interface l WHERE l.instance_id = $e))"""
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# What "newly observed" compares, per kind: (label, expression).
NOVELTY = [
    ("api_calls", "event_source || ':' || event_name"),
    ("source_ips", "CASE WHEN source_is_ip THEN source_ip END"),
    ("user_agents", "user_agent"),
    ("regions", "aws_region"),
    ("principals", "principal_arn"),
]
RELATED = {
    "access_key": ["principal_arn", "source_ip", "aws_region", "user_agent"],
    "principal": ["access_key_id", "source_ip", "aws_region", "user_agent"],
    "ip": ["principal_arn", "access_key_id", "aws_region", "user_agent"],
    "instance": ["principal_arn", "access_key_id", "source_ip", "aws_region"],
    "region": ["principal_arn", "access_key_id", "source_ip"],
    "resource": ["principal_arn", "event_name", "source_ip", "aws_region"],
}


def kind_of(entity: str) -> str:
    """Guess the entity's kind from its shape."""
    if re.match(r"^(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}$", entity):
        return "access_key"
    if entity.startswith("arn:"):
        return "principal"
    if re.match(r"^i-[0-9a-fA-F]{8,17}$", entity):
        return "instance"
    if REGION_RE.match(entity):
        return "region"
    return "ip"


def profile(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    kind: str | None = None,
    from_time: datetime | None = None,
    to_time: datetime | None = None,
    baseline_days: int = 45,
) -> dict[str, Any]:
    """The profile. Scope defaults to the entity's last 24 hours of activity, as Detective's."""
    kind = kind or kind_of(entity)
    if kind not in PREDICATES:
        raise ValueError(f"unknown entity kind {kind!r}: one of {', '.join(PREDICATES)}")
    ctx = Ctx(con, Scope())
    try:
        return _profile(ctx, entity, kind, from_time, to_time, baseline_days)
    finally:
        ctx.close()


def _profile(ctx: Ctx, entity: str, kind: str, from_time, to_time, baseline_days: int):
    where = PREDICATES[kind]
    ctx.run(
        f"""CREATE OR REPLACE TEMP TABLE prof_events AS
            SELECT event_time, event_source, event_name, source_ip, source_is_ip, user_agent,
                   aws_region, principal_arn, access_key_id, outcome
            FROM cloudtrail WHERE {where}""",
        e=entity,
    )
    seen = ctx.one("SELECT min(event_time) AS first, max(event_time) AS last, count(*) AS n FROM prof_events")
    flows_seen = _flow_span(ctx, entity, kind)
    if not seen or (not seen["n"] and not flows_seen):
        raise IndicatorNotFoundError(f"{kind.replace('_', ' ')} {entity} is not in the case")
    first = min(t for t in (seen["first"], flows_seen and flows_seen[0]) if t)
    last = max(t for t in (seen["last"], flows_seen and flows_seen[1]) if t)
    to_time = to_time or last
    from_time = from_time or (to_time - timedelta(hours=24))
    evidence_start = ctx.scalar("SELECT min(event_time) FROM cloudtrail")
    base_from = max(from_time - timedelta(days=baseline_days), evidence_start or from_time)
    window = {"s": from_time, "t": to_time}
    return {
        "entity": entity,
        "kind": kind,
        "first_seen": iso(first),
        "last_seen": iso(last),
        "scope": {"from": iso(from_time), "to": iso(to_time)},
        "baseline": {
            "from": iso(base_from),
            "to": iso(from_time),
            "days": round(max((from_time - base_from).total_seconds(), 0) / 86400, 2),
            "requested_days": baseline_days,
        },
        "events": {
            "in_scope": ctx.scalar(
                "SELECT count(*) FROM prof_events WHERE event_time BETWEEN $s AND $t", **window
            ),
            "total": seen["n"],
        },
        "activity": _activity(ctx, from_time, to_time),
        "newly_observed": _novelty(ctx, base_from, from_time, to_time),
        "related": _related(ctx, kind, from_time, to_time),
        "flows": _flows(ctx, entity, kind, from_time, to_time),
    }


def _flow_span(ctx: Ctx, entity: str, kind: str):
    if kind not in ("instance", "ip") or not ctx.has_rows("vpc_flows"):
        return None
    col = INSTANCE_FLOWS if kind == "instance" else "(src_addr = $e OR dst_addr = $e)"
    row = ctx.one(f"SELECT min(start_time) AS a, max(end_time) AS b FROM vpc_flows WHERE {col}", e=entity)
    return (row["a"], row["b"]) if row and row["a"] else None


def _activity(ctx: Ctx, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """API calls per hour (per day when the scope is longer than three days)."""
    unit = "day" if end - start > timedelta(days=3) else "hour"
    rows = ctx.rows(
        """SELECT date_trunc($unit, event_time) AS bucket, count(*) AS calls,
                  count(*) FILTER (WHERE outcome = 'success') AS succeeded,
                  count(*) FILTER (WHERE outcome <> 'success') AS failed,
                  count(*) FILTER (WHERE outcome = 'denied') AS denied
           FROM prof_events WHERE event_time BETWEEN $s AND $t
           GROUP BY ALL ORDER BY bucket""",
        unit=unit,
        s=start,
        t=end,
    )
    return [{**r, "bucket": iso(r["bucket"]), "unit": unit} for r in rows]


def _novelty(ctx: Ctx, base_from, start, end) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for label, expr in NOVELTY:
        rows = ctx.rows(
            f"""SELECT {expr} AS value, min(event_time) AS first,
                       count(*) FILTER (WHERE event_time >= $s) AS events
                FROM prof_events
                WHERE event_time >= $b AND event_time <= $t AND {expr} IS NOT NULL
                GROUP BY value HAVING min(event_time) >= $s
                ORDER BY first, value""",
            b=base_from,
            s=start,
            t=end,
        )
        out[label] = [{**r, "first": iso(r["first"])} for r in rows]
    return out


def _related(ctx: Ctx, kind: str, start, end) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for col in RELATED[kind]:
        rows = ctx.rows(
            f"""SELECT {col} AS value, count(*) AS events, min(event_time) AS first,
                       max(event_time) AS last
                FROM prof_events WHERE event_time BETWEEN $s AND $t AND {col} IS NOT NULL
                GROUP BY 1 ORDER BY events DESC, value LIMIT 25""",
            s=start,
            t=end,
        )
        out[col] = [{**r, "first": iso(r["first"]), "last": iso(r["last"])} for r in rows]
    return out


def _flows(ctx: Ctx, entity: str, kind: str, start, end) -> list[dict[str, Any]]:
    """Flow volume by remote address and port: for an instance, whom it talked to."""
    if kind != "instance" or not ctx.has_rows("vpc_flows"):
        return []
    rows = ctx.rows(
        r"""WITH f AS (
                SELECT *, coalesce(flow_direction = 'egress', is_internal_address(src_addr))
                          AS outbound
                FROM vpc_flows WHERE """
        + INSTANCE_FLOWS
        + r""" AND start_time <= $t AND end_time >= $s)
            SELECT CASE WHEN outbound THEN dst_addr ELSE src_addr END AS remote_addr,
                   least(src_port, dst_port) AS port,
                   protocol, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows,
                   sum(bytes) FILTER (WHERE outbound) AS bytes_out,
                   sum(bytes) FILTER (WHERE NOT outbound) AS bytes_in
            FROM f GROUP BY ALL ORDER BY bytes DESC, remote_addr, port LIMIT 50""",
        e=entity,
        s=start,
        t=end,
    )
    return [
        {
            **r,
            "bytes": int(r["bytes"] or 0),
            "packets": int(r["packets"] or 0),
            "bytes_out": int(r["bytes_out"] or 0),
            "bytes_in": int(r["bytes_in"] or 0),
        }
        for r in rows
    ]
