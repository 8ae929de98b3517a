"""Regions × time heatmaps: a multi-region launch burst shows as one bright column."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from .activity import infer_step
from .theme import (
    INCIDENT_COLOR,
    UTC_AXIS,
    base_layout,
    empty_figure,
    mark_time,
    plot_times,
    require_columns,
)


def region_heatmap(
    counts: pl.DataFrame,
    title: str = "RunInstances by region and time",
    value: str = "calls",
    marks: dict[str, Any] | None = None,
    step_seconds: int | None = None,
) -> go.Figure:
    """Heatmap of `counts` (`region`, `bucket` time, `value`), regions as rows.

    Rows are sorted by first activity so the order of the spread reads top to bottom. Every
    bucket between the first and the last is a column (`step_seconds`, else the smallest gap
    between buckets), so a cell never stretches over quiet minutes; empty cells stay blank
    (not zero-coloured), so "no call" and "few calls" look different. Counts are whole: the
    colour bar's ticks are integers. `marks` maps a label to a time drawn as a vertical line.
    """
    require_columns(counts, ("region", "bucket", value), "region_heatmap")
    counts = counts.filter(pl.col("bucket").is_not_null())
    if counts.is_empty():
        return empty_figure(title, "No matching calls in the evidence.")
    counts = counts.with_columns(pl.col("region").fill_null("(no region)"))
    regions = (
        counts.group_by("region")
        .agg(pl.col("bucket").min().alias("first"))
        .sort("first", "region")["region"]
        .to_list()
    )
    step = step_seconds or infer_step(counts["bucket"])
    first, last = counts["bucket"].min(), counts["bucket"].max()
    buckets = pl.datetime_range(first, last, f"{step}s", eager=True)  # type: ignore[arg-type]
    x = plot_times(buckets)
    cell = {
        (region, t): v
        for region, t, v in zip(counts["region"], plot_times(counts["bucket"]), counts[value], strict=True)
    }
    z = [[cell.get((region, b)) for b in x] for region in regions]
    # a cell spans its bucket: drawn at the bucket's middle, named by its start on hover
    starts = [[b for b in x] for _ in regions]
    x = plot_times(buckets.dt.offset_by(f"{step // 2}s"))
    top = max(1, int(counts[value].max() or 1))  # type: ignore[arg-type]
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=regions,
            z=z,
            colorscale="YlOrRd",
            hoverongaps=False,
            zmin=0,
            zmax=top,
            colorbar={"title": {"text": value}, "tickformat": "d", "tick0": 0, "dtick": max(1, -(-top // 5))},
            customdata=starts,
            hovertemplate="%{y}<br>%{customdata}Z + "
            + f"{step // 60} min<br>"
            + value
            + ": %{z}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    for label, when in (marks or {}).items():
        mark_time(fig, when, label, INCIDENT_COLOR if "first" in label else "#2ca02c")
    base_layout(fig, title, height=max(300, 120 + 24 * len(regions)))
    fig.update_yaxes(autorange="reversed", title=None, type="category")
    fig.update_xaxes(title=UTC_AXIS, type="date")
    return fig
