"""The postmortem as one self-contained HTML page (story, phases, figures, findings, what is
still running, cost, coverage, evidence appendix), built from the same library calls the
notebooks and the CLI use."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..case import Case
from .render import build_report


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
) -> Path:
    """Investigate one indicator, hunt the same window, and write the page to `out`."""
    from ..hunt import run_hunt

    story = case.investigate(
        access_key=access_key,
        principal=principal,
        ip=ip,
        instance=instance,
        from_time=from_time,
        to_time=to_time,
        known_ips=tuple(known_ips),
        responders=tuple(responders),
    )
    findings = run_hunt(case, from_time=from_time, to_time=to_time)
    page = build_report(case, story, findings)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


__all__ = ["build_report", "write_report"]
