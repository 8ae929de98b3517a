"""Budget replay: when each AWS Budgets alert would have fired over the billing evidence.

An ACTUAL cost alert fires once month-to-date unblended spend exceeds the threshold share of
the monthly budget; here, at the end of the hour in which it crossed, and again with Budgets'
evaluation lag (AWS updates budgets "several times a day"; 8 hours by default, detections.md
§7.5). Both are compared with the intrusion's first use and AWS's quarantine when a story is
given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from ..errors import ForensicsError
from .context import Ctx, Scope, iso, parse_time, seconds

HOURLY_SQL = """
SELECT date_trunc('hour', usage_start) AS hour, sum(cost) AS cost, count(*) AS items,
       count(*) FILTER (WHERE usage_end - usage_start > INTERVAL 1 HOUR) AS longer
FROM billing
WHERE usage_start >= $start AND usage_start < $end AND cost IS NOT NULL
  AND (CAST($ids AS VARCHAR[]) IS NULL OR list_contains(CAST($ids AS VARCHAR[]), resource_id))
GROUP BY ALL ORDER BY hour
"""


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ForensicsError(f"not a month: {month!r} (use YYYY-MM)") from None
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def replay(
    con: duckdb.DuckDBPyConnection,
    budget: float,
    thresholds: list[float],
    lag_hours: float = 8.0,
    month: str | None = None,
    story: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The replay for one month (default: the month of first use, else the last billed). An
    automation story (automation.py) replays a budget on the function's own cost (its and its log
    group's lines) and compares the alerts with the run's first call and the change that stopped it."""
    if budget <= 0:
        raise ForensicsError("the monthly budget must be a positive amount")
    ctx = Ctx(con, Scope())
    try:
        story = story or {}
        first_use = parse_time((story.get("first_use") or {}).get("time"))
        quarantine = parse_time((story.get("aws_quarantine") or {}).get("time"))
        auto = story.get("automation") if story.get("kind") == "automation" else None
        ids = auto["billed_resources"] if auto else None
        run_start = parse_time(auto["start"]["time"]) if auto else None
        run_stop = parse_time((auto.get("stop") or {}).get("time")) if auto else None
        if month is None:
            if first_use is not None or run_start is not None:
                month = (first_use or run_start).strftime("%Y-%m")
            else:
                last = ctx.scalar("SELECT max(usage_start) FROM billing")
                if last is None:
                    raise ForensicsError("no billing evidence in the case: nothing to replay")
                month = last.strftime("%Y-%m")
        start, end = _month_bounds(month)
        hours = ctx.rows(HOURLY_SQL, start=start, end=end, ids=ids)
        currency = ctx.scalar(
            """SELECT mode(currency) FROM billing
               WHERE usage_start >= $start AND usage_start < $end
                 AND (CAST($ids AS VARCHAR[]) IS NULL
                      OR list_contains(CAST($ids AS VARCHAR[]), resource_id))""",
            start=start,
            end=end,
            ids=ids,
        )
    finally:
        ctx.close()
    lag = timedelta(hours=lag_hours)
    alerts = []
    cumulative = 0.0
    crossed: dict[float, dict[str, Any]] = {}
    for row in hours:
        cumulative += float(row["cost"] or 0.0)
        for pct in thresholds:
            if pct not in crossed and cumulative > budget * pct / 100.0:
                crossed[pct] = {"hour": row["hour"], "spend": cumulative}
    for pct in sorted(thresholds):
        hit = crossed.get(pct)
        fired = hit["hour"] + timedelta(hours=1) if hit else None
        lagged = fired + lag if fired else None
        compared = (
            {
                "after_run_start_with_lag_s": seconds(run_start, lagged),
                "after_stop_with_lag_s": seconds(run_stop, lagged),
            }
            if auto
            else {}
        )
        alerts.append(
            {
                **compared,
                "threshold_pct": pct,
                "amount": round(budget * pct / 100.0, 2),
                "crossed_hour": iso(hit["hour"]) if hit else None,
                "month_to_date": round(hit["spend"], 2) if hit else None,
                "fires_at": iso(fired),
                "fires_at_with_lag": iso(lagged),
                "after_first_use_s": seconds(first_use, fired),
                "after_first_use_with_lag_s": seconds(first_use, lagged),
                "after_quarantine_s": seconds(quarantine, fired),
                "after_quarantine_with_lag_s": seconds(quarantine, lagged),
            }
        )
    longer = sum(r["longer"] for r in hours)
    items = sum(r["items"] for r in hours)
    scoped = (
        {
            "resources": ids,
            "function": auto["function_arn"],
            "run_start": iso(run_start),
            "stopped": iso(run_stop),
        }
        if auto
        else {}
    )
    return {
        **scoped,
        "month": month,
        "budget": budget,
        "currency": currency or "USD",
        "lag_hours": lag_hours,
        # Line items longer than an hour (daily CUR, some Lambda rows) count in their first hour.
        "granularity": "hourly" if longer * 2 < items else "daily",
        "items_longer_than_an_hour": longer,
        "month_to_date": round(cumulative, 2),
        "billed_hours": len(hours),
        "first_use": iso(first_use),
        "aws_quarantine": iso(quarantine),
        "alerts": alerts,
    }
