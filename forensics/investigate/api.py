"""The entry points `Case` delegates to: parse the analyst's arguments once, then run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import polars as pl

from .context import Scope, parse_time


def scope(
    from_time: Any = None,
    to_time: Any = None,
    known_ips: Iterable[str] = (),
    responders: Iterable[str] = (),
) -> Scope:
    return Scope(
        from_time=parse_time(from_time),
        to_time=parse_time(to_time),
        known_ips=[ip.strip() for ip in known_ips if ip and ip.strip()],
        responders=[arn.strip() for arn in responders if arn and arn.strip()],
    )


def investigate(
    con: duckdb.DuckDBPyConnection,
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
    from_time: Any = None,
    to_time: Any = None,
    known_ips: Iterable[str] = (),
    responders: Iterable[str] = (),
    resource: str | None = None,
) -> dict[str, Any]:
    """The story (DESIGN.md). Exactly one indicator; IndicatorNotFoundError when absent. A
    Lambda function (`resource`), or a role only that function uses (`principal`), gets the
    automation story (automation.py)."""
    from . import automation
    from .story import investigate as run

    framing = scope(from_time, to_time, known_ips, responders)
    if resource or principal:
        told = automation.story(con, resource, principal, framing)
        if told is not None:
            return told
    return run(con, access_key, principal, ip, instance, framing)


def timeline(
    con: duckdb.DuckDBPyConnection,
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
    from_time: Any = None,
    to_time: Any = None,
    known_ips: Iterable[str] = (),
    responders: Iterable[str] = (),
    resource: str | None = None,
) -> tuple[dict[str, Any], pl.DataFrame]:
    """The story plus its events as a frame (time, phase, actor, action, ...), one pass; the
    automation story's for a function or its role."""
    from . import automation
    from .story import investigate_with_events

    framing = scope(from_time, to_time, known_ips, responders)
    if resource or principal:
        told = automation.story_with_events(con, resource, principal, framing)
        if told is not None:
            return told
    return investigate_with_events(con, access_key, principal, ip, instance, framing)


def profile(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    kind: str | None = None,
    from_time: Any = None,
    to_time: Any = None,
    baseline_days: int = 45,
) -> dict[str, Any]:
    """An entity profile within a scope window (see `profile.py`)."""
    from .profile import profile as run

    return run(con, entity, kind, parse_time(from_time), parse_time(to_time), baseline_days)


def budget_replay(
    con: duckdb.DuckDBPyConnection,
    budget: float,
    thresholds: Iterable[float] = (20, 50, 70),
    lag_hours: float = 8.0,
    month: str | None = None,
    **indicator: Any,
) -> dict[str, Any]:
    """Budget alerts replayed over the billing evidence (see `budget.py`). Pass an indicator
    (access_key=..., principal=..., ip=..., instance=...) to compare with its story."""
    from .budget import replay

    story = None
    chosen = {
        k: v
        for k, v in indicator.items()
        if v and k in ("access_key", "principal", "ip", "instance", "resource")
    }
    if chosen:
        story = investigate(con, **chosen)
    return replay(con, budget, list(thresholds), lag_hours, month, story)
