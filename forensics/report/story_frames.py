"""Frames derived from an investigate story: the incident's timeline and its entity graph.

The story (DESIGN.md) names the intrusion's keys, minted credentials and addresses; the events
behind it are re-read from the case, and each attacker event is placed in its phase by the
investigation's own classifier (`forensics.investigate.phases`), so the timeline and the
story's phase table always agree. AWS's and the responders' actions come from the story.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..case import Case
from ..investigate import phases
from ..investigate.context import Ctx, Scope, parse_time

TIMELINE_SCHEMA: dict[str, Any] = {
    "time": pl.Datetime("us", "UTC"),
    "source": pl.String,
    "phase": pl.String,
    "actor": pl.String,
    "action": pl.String,
    "target": pl.String,
    "outcome": pl.String,
    "detail": pl.String,
    "event_id": pl.String,
    "source_ip": pl.String,
    "region": pl.String,
    "access_key_id": pl.String,
}

_INTRUSION_SQL = """
CREATE OR REPLACE TEMP TABLE inv_events AS
SELECT event_time, event_id, event_name, event_source, aws_region, source_ip, user_agent,
       principal_type, principal_arn, account_id, access_key_id, user_name, target_user_name,
       read_only, outcome, error_code, instance_ids, policy_arn, request_parameters
FROM cloudtrail
WHERE (list_contains($keys::VARCHAR[], access_key_id)
       OR list_contains($arns::VARCHAR[], principal_arn))
  AND list_contains($ips::VARCHAR[], source_ip)
  AND coalesce(invoked_by, '') = ''
"""

_FIRST_SQL = """
SELECT event_id FROM inv_events
WHERE event_time = $t::TIMESTAMPTZ AND source_ip = $ip
ORDER BY event_id LIMIT 1
"""

_READ_SQL = """
SELECT event_time AS time, 'cloudtrail' AS source, phase,
       split_part(principal_arn, ':', 6) AS actor,
       event_name AS action,
       coalesce(target_user_name, array_to_string(instance_ids, ','), policy_arn) AS target,
       outcome, error_code AS detail, event_id, source_ip, aws_region AS region, access_key_id
FROM inv_events ORDER BY event_time, event_id
"""


def _credentials(story: dict[str, Any]) -> tuple[list[str], list[str]]:
    derived = list(story.get("derived_credentials") or [])
    keys = sorted(set(story.get("access_keys") or []) | {d for d in derived if not d.startswith("arn:")})
    arns = sorted(d for d in derived if d.startswith("arn:"))
    return keys, arns


def intrusion_events(case: Case, story: dict[str, Any]) -> pl.DataFrame:
    """The attacker's events (the story's keys and minted credentials, from its addresses),
    each in its phase."""
    keys, arns = _credentials(story)
    ctx = Ctx(case.con, Scope())
    try:
        ctx.run(_INTRUSION_SQL, keys=keys, arns=arns, ips=list(story.get("source_ips") or []))
        first = story.get("first_use") or {}
        first_id = None
        if first.get("time"):
            row = ctx.one(_FIRST_SQL, t=parse_time(first["time"]), ip=first.get("source_ip"))
            first_id = row["event_id"] if row else None
        phases.classify(ctx, first_id)
        rows = ctx.rows(_READ_SQL)
    finally:
        ctx.close()
    return pl.DataFrame(rows, schema=TIMELINE_SCHEMA, orient="row")


_FINDING_ACTORS = {"health": "AWS Health", "guardduty": "AWS GuardDuty"}


def _finding_rows(story: dict[str, Any]) -> list[dict[str, Any]]:
    """AWS Health notices and GuardDuty findings the story names, in their own lane (what AWS
    reported, beside aws_response: what AWS did)."""
    rows = []
    for event in story.get("health_events") or []:
        source = str(event.get("source") or "")
        rows.append(
            {
                "time": parse_time(event.get("first_seen")),
                "source": "findings",
                "phase": "aws_findings",  # a lane of its own: the phase table counts calls
                "actor": _FINDING_ACTORS.get(source, f"AWS {source}".strip()),
                "action": event.get("type"),
                "target": event.get("access_key_id") or event.get("instance_id"),
                "outcome": "success",
                "detail": event.get("finding_id"),
                "source_ip": event.get("remote_ip"),
                "region": event.get("region"),
            }
        )
    return rows


def _response_rows(story: dict[str, Any]) -> list[dict[str, Any]]:
    """AWS's quarantine and the responders' events, as the story records them."""
    rows: list[dict[str, Any]] = []
    quarantine = story.get("aws_quarantine")
    if quarantine and quarantine.get("time"):
        rows.append(
            {
                "time": parse_time(quarantine["time"]),
                "source": "cloudtrail",
                "phase": "aws_response",
                "actor": "AWS",
                "action": quarantine.get("event_name") or "AttachUserPolicy",
                "target": quarantine.get("user_name"),
                "outcome": "success",
                "detail": quarantine.get("policy"),
            }
        )
    for event in (story.get("containment") or {}).get("events") or []:
        rows.append(
            {
                "time": parse_time(event.get("time")),
                "source": "cloudtrail",
                "phase": "containment",
                "actor": _short(event.get("principal_arn")) or "responder",
                "action": event.get("event_name"),
                "target": event.get("target"),
                "outcome": event.get("outcome") or "success",
                "region": event.get("region"),
            }
        )
    return rows


def _short(arn: str | None) -> str | None:
    """`arn:aws:iam::123:user/alice` → `user/alice` (the lane label)."""
    return arn.split(":", 5)[-1] if arn else None


def from_investigation(events: pl.DataFrame) -> pl.DataFrame:
    """The phased events `forensics.investigate.api.timeline` returns, in the timeline columns:
    the actor lane is the principal (AWS's own actions are "AWS")."""
    return events.select(
        pl.col("time").dt.convert_time_zone("UTC"),
        pl.lit("cloudtrail").alias("source"),
        "phase",
        pl.when(pl.col("actor") == "aws")
        .then(pl.lit("AWS"))
        .otherwise(pl.col("principal_arn").str.splitn(":", 6).struct.field("field_5"))
        .alias("actor"),
        "action",
        "target",
        "outcome",
        pl.lit(None, dtype=pl.String).alias("detail"),
        "event_id",
        "source_ip",
        "region",
        "access_key_id",
    )


def timeline_events(case: Case, story: dict[str, Any], events: pl.DataFrame | None = None) -> pl.DataFrame:
    """The incident's timeline frame (DESIGN.md timeline columns plus `source_ip`, `region`,
    `access_key_id`): the intrusion's events, AWS's response, the containment, and the AWS
    Health and GuardDuty findings the story names.

    `events` is the phased frame `forensics.investigate.api.timeline` returns with the story;
    without it (a story read back from JSON) the events are re-read from the case.
    """
    if events is not None:
        cloudtrail = from_investigation(events)
    else:
        response = pl.DataFrame(_response_rows(story), schema=TIMELINE_SCHEMA, orient="row")
        cloudtrail = pl.concat([intrusion_events(case, story), response], how="vertical")
    findings = pl.DataFrame(_finding_rows(story), schema=TIMELINE_SCHEMA, orient="row")
    frame = pl.concat([cloudtrail.cast(TIMELINE_SCHEMA), findings], how="vertical")
    return frame.filter(pl.col("time").is_not_null()).sort("time", "phase")


_EDGES_SQL = """
WITH ev AS (
    SELECT * FROM cloudtrail
    WHERE (list_contains($keys::VARCHAR[], access_key_id)
           OR list_contains($arns::VARCHAR[], principal_arn))
      AND list_contains($ips::VARCHAR[], source_ip) AND coalesce(invoked_by, '') = ''
)
SELECT principal_arn AS src, 'principal' AS src_kind, access_key_id AS dst,
       CASE WHEN list_contains($derived::VARCHAR[], access_key_id) THEN 'derived'
            ELSE 'access_key' END AS dst_kind,
       'signs with' AS relation, count(*) AS count, min(event_time) AS t
FROM ev WHERE access_key_id IS NOT NULL GROUP BY ALL
UNION ALL
SELECT coalesce(access_key_id, principal_arn),
       CASE WHEN list_contains($derived::VARCHAR[], coalesce(access_key_id, principal_arn))
            THEN 'derived' WHEN access_key_id IS NULL THEN 'principal' ELSE 'access_key' END,
       source_ip, 'address', 'used from', count(*), min(event_time)
FROM ev GROUP BY ALL
UNION ALL
SELECT ev.source_ip, 'address', i.id, 'instance', 'launched', count(*), min(ev.event_time)
FROM ev JOIN (SELECT unnest($instances::VARCHAR[]) AS id) i
  ON contains(CAST(ev.response_elements AS VARCHAR), '"' || i.id || '"')
WHERE ev.outcome = 'success' AND event_has('launch', ev.event_source, ev.event_name)
GROUP BY ALL
ORDER BY t, src, dst
"""


def entity_edges(case: Case, story: dict[str, Any]) -> pl.DataFrame:
    """Who signed with which key, from which address, launching which instance, and which
    credentials the intrusion minted (`src`, `src_kind`, `dst`, `dst_kind`, `relation`,
    `count`)."""
    keys, arns = _credentials(story)
    derived = list(story.get("derived_credentials") or [])
    instances = list((story.get("run_instances") or {}).get("instances") or [])
    edges = case.sql(
        _EDGES_SQL,
        instances=instances,
        keys=keys,
        arns=arns,
        derived=derived,
        ips=list(story.get("source_ips") or []),
    ).drop("t")
    minted = [
        {
            "src": d.get("by") or story.get("principal_arn"),
            "src_kind": "access_key" if d.get("by") else "principal",
            "dst": d.get("credential"),
            "dst_kind": "derived",
            "relation": str(d.get("event_name") or "minted"),
            "count": 1,
        }
        for d in story.get("derivations") or []
        if d.get("credential")
    ]
    if not minted:  # stories without `derivations`: tie minted credentials to the principal
        minted = [
            {
                "src": story.get("principal_arn"),
                "src_kind": "principal",
                "dst": d,
                "dst_kind": "derived",
                "relation": "minted",
                "count": None,
            }
            for d in derived
        ]
    extra = pl.DataFrame(minted, schema=edges.schema, orient="row")
    return pl.concat([edges, extra], how="vertical").filter(
        pl.col("src").is_not_null() & pl.col("dst").is_not_null()
    )
