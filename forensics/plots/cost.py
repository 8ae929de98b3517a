"""Cost by region and hour, with the budget thresholds and the incident's start.

Budgets compare the period's spend to date with their limit, so the thresholds are drawn
against the cumulative line (right axis), and the hourly stacks (left axis) show where the
money went.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from .theme import (
    INCIDENT_COLOR,
    UTC_AXIS,
    base_layout,
    empty_figure,
    mark_time,
    palette,
    plot_time,
    plot_times,
    require_columns,
)


def cost_by_region(
    cost: pl.DataFrame,
    thresholds: Sequence[dict[str, Any]] = (),
    incident_start: Any = None,
    currency: str = "USD",
    title: str = "Cost by region and hour",
    marks: dict[str, Any] | None = None,
) -> go.Figure:
    """Stacked hourly cost per region (`hour`, `region`, `cost`) and the running total.

    `thresholds` are budget lines on the running total: dicts with `label` and `amount`,
    and optionally `crossed_at` (when the spend crossed it, drawn as a marker).
    """
    require_columns(cost, ("hour", "region", "cost"), "cost_by_region")
    cost = cost.filter(pl.col("hour").is_not_null())
    if cost.is_empty():
        return empty_figure(title, "No billing line items in the evidence.")
    cost = cost.with_columns(pl.col("region").fill_null("global"))
    regions = (
        cost.group_by("region").agg(pl.col("cost").sum()).sort("cost", "region", descending=[True, False])
    )["region"].to_list()
    fig = go.Figure()
    for region, color in zip(regions, palette(len(regions)), strict=True):
        part = cost.filter(pl.col("region") == region).group_by("hour").agg(pl.col("cost").sum()).sort("hour")
        fig.add_trace(
            go.Bar(
                x=plot_times(part["hour"]),
                y=[round(v, 6) for v in part["cost"]],
                name=region,
                marker={"color": color},
                width=3600 * 1000 * 0.9,
                offset=0,
                hovertemplate=region + "<br>%{x}Z<br>%{y:,.2f} " + currency + "<extra></extra>",
            )
        )
    hourly = cost.group_by("hour").agg(pl.col("cost").sum()).sort("hour")
    running = hourly["cost"].cum_sum()
    ends = plot_times(hourly["hour"].dt.offset_by("1h"))
    fig.add_trace(
        go.Scatter(
            x=ends,
            y=[round(v, 6) for v in running],
            name=f"spend to date ({currency})",
            mode="lines",
            line={"color": "#222222", "width": 2},
            yaxis="y2",
            hovertemplate="to %{x}Z<br>%{y:,.2f} " + currency + " so far<extra></extra>",
        )
    )
    _thresholds(fig, thresholds, currency)
    if incident_start is not None:
        mark_time(fig, incident_start, "incident start", INCIDENT_COLOR)
    for label, when in (marks or {}).items():
        mark_time(fig, when, label, "#444444", dash="dot")
    base_layout(fig, title, height=500)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0.0},
        margin={"b": 110},
        barmode="stack",
        bargap=0,
        yaxis={"title": {"text": f"cost per hour ({currency})"}, "rangemode": "tozero"},
        yaxis2={
            "title": {"text": f"spend to date ({currency})"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    fig.update_xaxes(title=UTC_AXIS, type="date")
    return fig


def _thresholds(fig: go.Figure, thresholds: Sequence[dict[str, Any]], currency: str) -> None:
    for item in thresholds:
        amount = float(item["amount"])
        label = str(item.get("label") or f"{amount:,.2f} {currency}")
        fig.add_shape(
            type="line",
            xref="paper",
            x0=0,
            x1=1,
            yref="y2",
            y0=amount,
            y1=amount,
            line={"color": "#9467bd", "dash": "dash", "width": 1.5},
            name=f"threshold:{label}",
        )
        fig.add_annotation(
            xref="paper",
            x=0.0,
            yref="y2",
            y=amount,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            text=f"{label} ({amount:,.2f})",
            font={"color": "#9467bd", "size": 11},
        )
        crossed = plot_time(item.get("crossed_at"))
        if crossed:
            fig.add_trace(
                go.Scatter(
                    x=[crossed],
                    y=[amount],
                    yaxis="y2",
                    mode="markers",
                    showlegend=False,
                    name=f"crossed {label}",
                    marker={"symbol": "star", "size": 12, "color": "#9467bd"},
                    hovertemplate=f"{label} crossed<br>%{{x}}Z<extra></extra>",
                )
            )
