"""What the evidence covers, so "not found" can be read: sources, accounts, regions, span, and
the gaps (a trail stopped, hours with no CloudTrail at all, attacked regions without flow logs,
billing that ends before the story does)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .context import Ctx, iso

SOURCE_SQL = {
    "cloudtrail": """SELECT count(*) AS records, count(DISTINCT source_file) AS files,
                            -- DESIGN.md: spans and loops use only unflagged times
                            min(event_time) FILTER ('time implausible' <> ALL(record_flags)) AS "from",
                            max(event_time) FILTER ('time implausible' <> ALL(record_flags)) AS "to",
                            list(DISTINCT aws_region ORDER BY aws_region)
                                FILTER (WHERE aws_region IS NOT NULL) AS regions,
                            list(DISTINCT resource_account(recipient_account_id, account_id)
                                 ORDER BY resource_account(recipient_account_id, account_id))
                                FILTER (WHERE resource_account(recipient_account_id, account_id)
                                        IS NOT NULL) AS accounts
                     FROM cloudtrail""",
    "vpc_flows": """SELECT count(*) AS records, count(DISTINCT source_file) AS files,
                           min(start_time) FILTER ('time implausible' <> ALL(record_flags)) AS "from",
                           max(end_time) FILTER ('time implausible' <> ALL(record_flags)) AS "to"
                    FROM vpc_flows""",
    "billing": """SELECT count(*) AS records, count(DISTINCT source_file) AS files,
                         min(usage_start) AS "from", max(usage_end) AS "to" FROM billing""",
    "findings": """SELECT count(*) AS records, count(DISTINCT source_file) AS files,
                          min(first_seen) AS "from", max(last_seen) AS "to" FROM findings""",
}

# Hours as integers since the epoch: truncating a TIMESTAMPTZ per row costs ten times more.
HOURS_SQL = """
WITH hours AS (
    SELECT unnest(generate_series(epoch_us($start) // 3600000000,
                                  epoch_us($end) // 3600000000)) AS h
),
seen AS (SELECT DISTINCT epoch_us(event_time) // 3600000000 AS h FROM cloudtrail)
SELECT make_timestamptz(h.h * 3600000000) AS hour FROM hours h ANTI JOIN seen s USING (h)
ORDER BY 1
"""


def coverage(ctx: Ctx, launched: dict[str, list[str]], story_end: datetime | None) -> dict[str, Any]:
    """The `coverage` block. `launched` maps region -> instances the intrusion launched."""
    sources: dict[str, Any] = {}
    trail: dict[str, Any] = {}
    for table, sql in SOURCE_SQL.items():
        row = ctx.one(sql) or {}
        trail = trail or row
        sources[table] = {
            "records": row.get("records", 0),
            "files": row.get("files", 0),
            "from": iso(row.get("from")),
            "to": iso(row.get("to")),
        }
    start, end = trail.get("from"), trail.get("to")
    accounts = trail.get("accounts") or []
    regions = trail.get("regions") or []
    gaps: list[dict[str, Any]] = []
    gaps += _trail_stops(ctx)
    if start is not None:
        gaps += _silent_hours(ctx, start, end)
    gaps += _flowless_regions(ctx, launched)
    gaps += _billing_end(
        ctx, sources["billing"], max(t for t in (story_end, end) if t) if (story_end or end) else None
    )
    return {
        "sources": sources,
        "accounts": accounts,
        "regions": regions,
        "from": iso(start),
        "to": iso(end),
        "gaps": gaps,
        # {verdict: file count} from CloudTrail digest validation (forensics.integrity); {} unverified
        "integrity": {
            r["integrity"]: r["n"]
            for r in ctx.rows(
                "SELECT integrity, count(*) AS n FROM sources "
                "WHERE integrity IS NOT NULL GROUP BY 1 ORDER BY 1"
            )
        },
    }


def _trail_stops(ctx: Ctx) -> list[dict[str, Any]]:
    rows = ctx.rows(
        """SELECT s.event_time, s.event_name, s.principal_arn, s.aws_region,
                  json_extract_string(s.request_parameters, '$.name') AS trail,
                  (SELECT min(r.event_time) FROM cloudtrail r
                   WHERE event_has('logging_on', r.event_source, r.event_name)
                     AND r.outcome = 'success' AND r.event_time > s.event_time) AS resumed
           FROM cloudtrail s
           WHERE event_has('logging_off', s.event_source, s.event_name) AND s.outcome = 'success'
           ORDER BY s.event_time"""
    )
    return [
        {
            "kind": "trail_stopped",
            "from": iso(r["event_time"]),
            "to": iso(r["resumed"]),
            "detail": f"{r['event_name']} {r['trail'] or ''} by {r['principal_arn']} "
            f"in {r['aws_region']}".replace("  ", " "),
        }
        for r in rows
    ]


def _silent_hours(ctx: Ctx, start: datetime, end: datetime) -> list[dict[str, Any]]:
    hours = [r["hour"] for r in ctx.rows(HOURS_SQL, start=start, end=end)]
    gaps: list[dict[str, Any]] = []
    for hour in hours:
        if gaps and gaps[-1]["_end"] == hour:
            gaps[-1]["_end"] = hour + timedelta(hours=1)
        else:
            gaps.append({"_start": hour, "_end": hour + timedelta(hours=1)})
    out = []
    for g in gaps:
        hours_n = int((g["_end"] - g["_start"]).total_seconds() // 3600)
        out.append(
            {
                "kind": "no_cloudtrail",
                "from": iso(g["_start"]),
                "to": iso(g["_end"]),
                "detail": f"no CloudTrail event in {hours_n} hour(s)",
            }
        )
    return out


def _flowless_regions(ctx: Ctx, launched: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not launched:
        return []
    ids = sorted({i for insts in launched.values() for i in insts})
    seen = set()
    if ctx.has_rows("vpc_flows"):
        # By instance id, or through the instance's interfaces (version 2 flows name none).
        seen = {
            r["i"]
            for r in ctx.rows(
                """SELECT DISTINCT instance_id AS i FROM vpc_flows
                   WHERE list_contains(CAST($ids AS VARCHAR[]), instance_id)
                   UNION
                   SELECT DISTINCT l.instance_id FROM instance_interface l
                   JOIN vpc_flows v ON v.interface_id = l.interface_id
                                   AND coalesce(v.account_id, l.account_id) = l.account_id
                   WHERE list_contains(CAST($ids AS VARCHAR[]), l.instance_id)""",
                ids=ids,
            )
        }
    out = []
    for region, insts in sorted(launched.items()):
        if insts and not seen.intersection(insts):
            out.append(
                {
                    "kind": "no_flow_logs",
                    "region": region,
                    "from": None,
                    "to": None,
                    "detail": f"no flow records for the {len(insts)} instance(s) launched in {region}",
                }
            )
    return out


def _billing_end(ctx: Ctx, billing: dict[str, Any], story_end: datetime | None) -> list[dict[str, Any]]:
    if not billing["records"]:
        return [
            {
                "kind": "no_billing",
                "from": None,
                "to": None,
                "detail": "no billing export loaded: cost cannot be measured",
            }
        ]
    last = ctx.scalar("SELECT max(usage_end) FROM billing")
    if story_end is not None and last is not None and last < story_end:
        return [
            {
                "kind": "billing_ends_early",
                "from": iso(last),
                "to": iso(story_end),
                "detail": "billing ends before the evidence does: later cost is missing",
            }
        ]
    return []
