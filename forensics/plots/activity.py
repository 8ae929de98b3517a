"""An entity's API call volume over time, succeeded versus failed (Detective's panel)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from .theme import (
    INCIDENT_COLOR,
    OUTCOME_STYLE,
    UTC_AXIS,
    base_layout,
    empty_figure,
    mark_time,
    plot_times,
    require_columns,
)


def infer_step(buckets: pl.Series) -> int:
    """The bucket width in seconds: the smallest gap between distinct buckets (one hour if one)."""
    distinct = buckets.drop_nulls().unique().sort()
    if distinct.len() < 2:
        return 3600
    gaps = distinct.diff().drop_nulls().dt.total_seconds()
    return max(int(gaps.min()), 1)  # type: ignore[arg-type]


def api_call_volume(
    volume: pl.DataFrame,
    title: str = "API calls over time",
    step_seconds: int | None = None,
    marks: dict[str, Any] | None = None,
) -> go.Figure:
    """Stacked bars of calls per time bucket by outcome (`bucket`, `outcome`, `calls`).

    Succeeded, denied, other failures and dry runs are separate stacks so that a wall of
    denied calls (a quarantined key, a probing attacker) stands out from ordinary work.
    """
    require_columns(volume, ("bucket", "outcome", "calls"), "api_call_volume")
    volume = volume.filter(pl.col("bucket").is_not_null())
    if volume.is_empty():
        return empty_figure(title, "No API calls for this entity in the evidence.")
    step = step_seconds or infer_step(volume["bucket"])
    fig = go.Figure()
    for outcome, style in OUTCOME_STYLE.items():
        part = (
            volume.filter(pl.col("outcome").fill_null("success") == outcome)
            .group_by("bucket")
            .agg(pl.col("calls").sum())
            .sort("bucket")
        )
        if part.is_empty():
            continue
        fig.add_trace(
            go.Bar(
                x=plot_times(part["bucket"]),
                y=part["calls"].to_list(),
                name=style["label"],
                marker={"color": style["color"]},
                width=step * 1000 * 0.9,
                offset=0,
                hovertemplate="%{x}Z<br>%{y:,} " + style["label"] + "<extra></extra>",
            )
        )
    for label, when in (marks or {}).items():
        mark_time(fig, when, label, INCIDENT_COLOR)
    base_layout(fig, title)
    fig.update_layout(barmode="stack", bargap=0)
    fig.update_xaxes(title=UTC_AXIS, type="date")
    fig.update_yaxes(title="calls", rangemode="tozero")
    return fig
