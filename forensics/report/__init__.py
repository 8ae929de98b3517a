"""The postmortem as one self-contained HTML page (story, phases, figures, findings, what is
still running, cost, coverage, evidence appendix), built from the same library calls the
notebooks and the CLI use.

`frames` and `story_frames` (the queries behind the figures) import no plotting library;
rendering loads `forensics.plots` only when a page is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from ..case import Case


def build_report(
    case: Case,
    story: dict[str, Any],
    findings: list[dict[str, Any]] | None = None,
    budget: dict[str, Any] | None = None,
    title: str | None = None,
    events: pl.DataFrame | None = None,
) -> str:
    """The page as text, from a story (and its phased `events` when the investigation gave
    them), the hunt's findings and an optional budget replay."""
    from .render import build_report as render

    return render(case, story, findings, budget, title, events)


def write_report(
    case: Case,
    out: str | os.PathLike[str],
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
    from_time: Any = None,
    to_time: Any = None,
    known_ips: Iterable[str] = (),
    responders: Iterable[str] = (),
    budget: float | None = None,
    thresholds: Iterable[float] = (20, 50, 70),
    findings: list[dict[str, Any]] | None = None,
    timeline: tuple[dict[str, Any], Any] | None = None,
    resource: str | None = None,
) -> Path:
    """Investigate one indicator, hunt the same window, replay the monthly `budget` (if
    given) and write the page to `out`. Pass `findings` to reuse a hunt already run, and
    `timeline` (what `Case.timeline` returned) to reuse an investigation."""

    if timeline is None:
        timeline = case.timeline(
            access_key=access_key,
            principal=principal,
            ip=ip,
            instance=instance,
            from_time=from_time,
            to_time=to_time,
            known_ips=tuple(known_ips),
            responders=tuple(responders),
            resource=resource,
        )
    story, events = timeline
    if findings is None:
        from ..hunt import run_hunt

        findings = run_hunt(case, from_time=from_time, to_time=to_time)
    replay = None
    if budget is not None:
        replay = case.budget_replay(
            budget,
            thresholds=tuple(thresholds),
            access_key=access_key,
            principal=principal,
            ip=ip,
            instance=instance,
            resource=resource,
        )
    page = build_report(case, story, findings, replay, events=events)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def pick_indicator(findings: list[dict[str, Any]]) -> dict[str, str] | None:
    """The indicator a responder would start from: a key AWS Health reported exposed, else
    the key of the most severe (then earliest) finding, else its principal or address."""
    ranked = sorted(
        findings,
        key=lambda f: (
            f.get("source") != "health",
            _SEVERITY.get(str(f.get("severity")), 5),
            str(f.get("first_seen") or ""),
        ),
    )
    for field, kind in (("access_key_id", "access_key"), ("principal_arn", "principal"), ("source_ip", "ip")):
        for finding in ranked:
            if finding.get(field):
                return {kind: finding[field]}
    return None


__all__ = ["build_report", "pick_indicator", "write_report"]
