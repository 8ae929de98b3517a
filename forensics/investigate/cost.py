"""The incident's cost (DESIGN.md): usage line items whose resource is one the intrusion created
(instances, and volumes or addresses where the ids link), by region and by hour; tax, credits and
refunds on them apart (`excluded`); billed to the last billed hour, and for what is still running
a labelled projection at its last hourly rate to the end of the evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .context import Ctx, iso

COST_SQL = """
SELECT region, date_trunc('hour', usage_start) AS hour, currency, sum(cost) AS cost,
       count(*) AS items
FROM billing
WHERE list_contains(CAST($ids AS VARCHAR[]), resource_id) AND is_usage_line(line_item_type, provider)
  AND (CAST($s AS TIMESTAMPTZ) IS NULL OR usage_end > CAST($s AS TIMESTAMPTZ))
  AND (CAST($t AS TIMESTAMPTZ) IS NULL OR usage_start < CAST($t AS TIMESTAMPTZ))
GROUP BY ALL ORDER BY hour, region
"""

# What the vocabulary says is not usage, on the same resources, by kind (never in the total).
EXCLUDED_SQL = """
SELECT CASE WHEN line_item_type = 'Tax' THEN 'tax'
            WHEN line_item_type = 'Credit' THEN 'credits'
            WHEN line_item_type = 'Refund' THEN 'refunds'
            ELSE 'fees' END AS kind,
       sum(cost) AS cost
FROM billing
WHERE list_contains(CAST($ids AS VARCHAR[]), resource_id) AND is_aws_line(provider)
  AND NOT is_usage_line(line_item_type, provider)
  AND (CAST($s AS TIMESTAMPTZ) IS NULL OR usage_end > CAST($s AS TIMESTAMPTZ))
  AND (CAST($t AS TIMESTAMPTZ) IS NULL OR usage_start < CAST($t AS TIMESTAMPTZ))
GROUP BY ALL
"""

# Each still-running resource's last billed hour and its usage cost in that hour.
LAST_RATE_SQL = """
SELECT resource_id, max_by(cost, hour) AS rate, max(hour) AS hour
FROM (SELECT resource_id, date_trunc('hour', usage_start) AS hour, sum(cost) AS cost
      FROM billing
      WHERE list_contains(CAST($ids AS VARCHAR[]), resource_id) AND is_usage_line(line_item_type, provider)
      GROUP BY ALL)
GROUP BY resource_id
"""


def incident_cost(
    ctx: Ctx,
    resources: list[str],
    running: list[str] | None = None,
    evidence_end: Any = None,
    window: tuple[Any, Any] = (None, None),
) -> dict[str, Any]:
    """Total, currency, by_region and by_hour (hour keys in ISO 8601 Z), billed_until, the
    projection for what is still running, and what was excluded from the total. `window`
    (from, to; either may be None) keeps the lines that overlap it: a function bills before and
    after its incident."""
    s, t = window
    billed = bool(resources) and ctx.has_rows("billing")
    rows = ctx.rows(COST_SQL, ids=resources, s=s, t=t) if billed else []
    by_region: dict[str, float] = {}
    by_hour: dict[str, float] = {}
    currencies: dict[str, float] = {}
    total = 0.0
    items = 0
    for row in rows:
        cost = float(row["cost"] or 0.0)
        region = row["region"] or "unknown"
        hour = iso(row["hour"]) or "unknown"
        by_region[region] = by_region.get(region, 0.0) + cost
        by_hour[hour] = by_hour.get(hour, 0.0) + cost
        currencies[row["currency"] or "USD"] = currencies.get(row["currency"] or "USD", 0) + 1
        total += cost
        items += int(row["items"])
    currency = max(currencies, key=lambda c: currencies[c]) if currencies else "USD"
    return {
        "total": round(total, 6),
        "currency": currency,
        "by_region": {k: round(v, 6) for k, v in sorted(by_region.items())},
        "by_hour": {k: round(v, 6) for k, v in sorted(by_hour.items())},
        "line_items": items,
        "resources_billed": _billed(ctx, resources) if rows else 0,
        "billed_until": _billed_until(rows),
        "projected": _projection(ctx, running or [], evidence_end) if billed else None,
        "excluded": _excluded(ctx, resources, s, t)
        if billed
        else {"tax": 0.0, "credits": 0.0, "refunds": 0.0},
    }


def _billed_until(rows: list[dict[str, Any]]) -> str | None:
    """The end of the last billed hour (billing lags: nothing after it is in the total)."""
    hours = [r["hour"] for r in rows if r["hour"] is not None]
    return iso(max(hours) + timedelta(hours=1)) if hours else None


def _excluded(ctx: Ctx, resources: list[str], s: Any = None, t: Any = None) -> dict[str, float]:
    out = {"tax": 0.0, "credits": 0.0, "refunds": 0.0}
    for r in ctx.rows(EXCLUDED_SQL, ids=resources, s=s, t=t):
        out[r["kind"]] = round(out.get(r["kind"], 0.0) + float(r["cost"] or 0.0), 6)
    return out


def _projection(ctx: Ctx, running: list[str], evidence_end: Any) -> dict[str, Any] | None:
    """For resources still running: each one's last hourly usage rate carried from its last billed
    hour to the end of the evidence. A labelled estimate, never added to the total."""
    if not running or evidence_end is None:
        return None
    amount, rate, last = 0.0, 0.0, []
    for r in ctx.rows(LAST_RATE_SQL, ids=running):
        hours = max(0.0, (evidence_end - (r["hour"] + timedelta(hours=1))).total_seconds() / 3600)
        amount += float(r["rate"] or 0.0) * hours
        rate += float(r["rate"] or 0.0)
        last.append(r["hour"])
    if not last or amount <= 0:  # billing already reaches the end of the evidence: nothing to project
        return None
    return {
        "label": "estimate: last hourly rate of what is still running, to the end of the evidence",
        "amount": round(amount, 6),
        "rate_per_hour": round(rate, 6),
        "from": iso(min(last) + timedelta(hours=1)),
        "to": iso(evidence_end),
        "resources": sorted(running),
    }


def _billed(ctx: Ctx, resources: list[str]) -> int:
    return int(
        ctx.scalar(
            "SELECT count(DISTINCT resource_id) FROM billing "
            "WHERE list_contains(CAST($ids AS VARCHAR[]), resource_id)",
            ids=resources,
        )
        or 0
    )
