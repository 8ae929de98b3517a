"""Shared look and the small conversions every figure needs (times, phases, outcomes).

Plotly.js has no time zones: a tz-aware timestamp serialised with its offset is either shifted
or rejected, depending on the browser. Every time here is therefore turned into a naive UTC
text (`2026-11-16 02:51:43`) before it reaches a trace, and axes say "UTC" in their titles.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from ..investigate.phases import PHASES as _PHASE_ORDER

PHASES: tuple[str, ...] = tuple(_PHASE_ORDER)  # DESIGN.md's phase names, in story order
# The timeline's lane for what AWS Health and GuardDuty reported (findings, not API calls: the
# phase table's aws_response counts only AWS's own calls, such as the quarantine).
FINDINGS_LANE = "aws_findings"
LANES: tuple[str, ...] = tuple(
    x for p in PHASES for x in ((p, FINDINGS_LANE) if p == "aws_response" else (p,))
) + (() if "aws_response" in PHASES else (FINDINGS_LANE,))
_LANE_LABELS = {"aws_response": "AWS response", FINDINGS_LANE: "AWS Health and GuardDuty findings"}


def lane_label(name: str) -> str:
    """A lane or phase name as a person reads it: `privilege_escalation` → `Privilege escalation`."""
    if name in _LANE_LABELS:
        return _LANE_LABELS[name]
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


PHASE_COLORS: dict[str, str] = {
    "initial_access": "#1f77b4",
    "execution": "#393b79",
    "discovery": "#17becf",
    "credential_access": "#9467bd",
    "privilege_escalation": "#d62728",
    "persistence": "#8c564b",
    "defense_evasion": "#7f7f7f",
    "lateral_movement": "#bcbd22",
    "exfiltration": "#e377c2",
    "impact": "#ff7f0e",
    "aws_response": "#2ca02c",
    "containment": "#006d2c",
}

# How each outcome (cloudtrail.outcome, DESIGN.md "Denied" / "Dry run") is drawn.
OUTCOME_STYLE: dict[str, dict[str, Any]] = {
    "success": {"symbol": "circle", "color": "#1f77b4", "label": "succeeded"},
    "denied": {"symbol": "x", "color": "#d62728", "label": "denied"},
    "failed": {"symbol": "triangle-up", "color": "#ff7f0e", "label": "failed"},
    "dry_run": {"symbol": "diamond-open", "color": "#9467bd", "label": "dry run"},
}

QUARANTINE_COLOR = "#2ca02c"
CONTAINMENT_COLOR = "#006d2c"
INCIDENT_COLOR = "#d62728"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
UTC_AXIS = "time (UTC)"


def palette(n: int) -> list[str]:
    """`n` distinct colours, cycling plotly's qualitative set (no numpy needed)."""
    base = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
        "#bcbd22",
        "#17becf",
        "#393b79",
        "#637939",
        "#8c6d31",
        "#843c39",
        "#7b4173",
        "#3182bd",
        "#e6550d",
    ]
    return [base[i % len(base)] for i in range(n)]


def plot_time(value: Any) -> str | None:
    """One time (datetime, date or ISO text with Z/offset) as naive UTC text for plotly."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime(TIME_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d 00:00:00")
    raise TypeError(f"not a time: {value!r}")


def plot_times(column: pl.Series | Iterable[Any]) -> list[str | None]:
    """A column of times as naive UTC texts (tz-aware Polars columns converted to UTC first)."""
    if isinstance(column, pl.Series) and isinstance(column.dtype, pl.Datetime):
        if column.dtype.time_zone is not None:  # type: ignore[union-attr]
            column = column.dt.convert_time_zone("UTC")
        return column.dt.strftime(TIME_FORMAT).to_list()
    return [plot_time(v) for v in column]


def as_utc(value: Any) -> dt.datetime | None:
    """A time (datetime or ISO text) as an aware UTC datetime, for arithmetic."""
    text = plot_time(value)
    return None if text is None else dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)


def require_columns(frame: pl.DataFrame, needed: Sequence[str], figure: str) -> None:
    """Fail early, naming the figure and the missing columns, rather than deep inside plotly."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{figure}: frame lacks column(s) {', '.join(missing)}")


MARK_ROW_PX = 16  # height of one row of time-mark labels above the plot


def base_layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    """The common frame of every figure: title, white template, legend below the axis, hover
    by point, and room above the plot for the time marks' labels (one row each)."""
    marks = sum(1 for a in fig.layout.annotations or () if (a.name or "").startswith("mark:"))
    top = 56 + MARK_ROW_PX * marks
    fig.update_layout(
        title={
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 8},
        },
        template="plotly_white",
        height=height + MARK_ROW_PX * marks,
        margin={"l": 60, "r": 30, "t": top, "b": 50},
        # below the axis title, at the foot of the figure: never on the marks' labels
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.0, "yref": "container", "x": 0.0},
        hoverlabel={"align": "left"},
    )
    fig.update_layout(margin_b=110)
    return fig


def mark_time(
    fig: go.Figure, when: Any, label: str, color: str, dash: str = "dash", row: int | None = None
) -> None:
    """A vertical line at `when` (quarantine, containment, incident start), its label above the
    plot area in a row of its own, so labels sit on no marker and on no other label."""
    x = plot_time(when)
    if x is None:
        return
    kwargs: dict[str, Any] = {"row": row, "col": 1} if row is not None else {}
    slot = sum(1 for a in fig.layout.annotations or () if (a.name or "").startswith("mark:"))
    fig.add_vline(x=x, line={"color": color, "dash": dash, "width": 2}, **kwargs)
    fig.add_annotation(
        x=x,
        y=1,
        xref="x",
        yref="paper",
        yanchor="bottom",
        xanchor="left",
        yshift=2 + MARK_ROW_PX * slot,
        text=html.escape(label),
        showarrow=False,
        font={"color": color, "size": 11},
        name=f"mark:{label}",
    )


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure that says plainly there is nothing to draw (never a blank canvas)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, title, height=260)
