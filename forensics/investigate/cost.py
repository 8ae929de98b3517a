"""The incident's cost (DESIGN.md): billing line items whose resource is one the intrusion
created (instances, and volumes or addresses where the ids link), by region and by hour."""

from __future__ import annotations

from typing import Any

from .context import Ctx, iso

COST_SQL = """
SELECT region, date_trunc('hour', usage_start) AS hour, currency, sum(cost) AS cost,
       count(*) AS items
FROM billing
WHERE list_contains(CAST($ids AS VARCHAR[]), resource_id)
GROUP BY ALL ORDER BY hour, region
"""


def incident_cost(ctx: Ctx, resources: list[str]) -> dict[str, Any]:
    """Total, currency, by_region and by_hour (hour keys in ISO 8601 Z)."""
    rows = ctx.rows(COST_SQL, ids=resources) if resources and ctx.has_rows("billing") else []
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
