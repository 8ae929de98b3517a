"""The attack timeline: swimlanes by phase (or by actor), one marker per event, denied calls
distinct, AWS's quarantine and the containment as annotated lines, the phases' spans shaded.

Above `max_markers` events the markers are binned (one marker per lane, time bin and outcome,
sized by its count), so a burst of thousands of calls stays readable and the page stays light.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import plotly.graph_objects as go
import polars as pl

from .theme import (
    CONTAINMENT_COLOR,
    LANES,
    OUTCOME_STYLE,
    PHASE_COLORS,
    PHASES,
    QUARANTINE_COLOR,
    UTC_AXIS,
    base_layout,
    empty_figure,
    lane_label,
    mark_time,
    plot_time,
    plot_times,
    require_columns,
)

TIMELINE_COLUMNS = ("time", "phase", "actor", "action", "outcome")
_BIN_STEPS = (1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400)


def attack_timeline(
    events: pl.DataFrame,
    story: dict[str, Any] | None = None,
    lanes: str = "phase",
    max_markers: int = 2000,
    title: str = "Attack timeline",
) -> go.Figure:
    """Swimlanes of the incident's events.

    `events` has the timeline columns (`time`, `phase`, `actor`, `action`, `outcome`, and
    optionally `target`, `detail`, `source_ip`, `region`, `event_id`); `story` is the
    investigate story, whose phases, quarantine, containment and first use are drawn over it.
    """
    require_columns(events, TIMELINE_COLUMNS, "attack_timeline")
    if lanes not in ("phase", "actor"):
        raise ValueError(f"attack_timeline: lanes must be 'phase' or 'actor', not {lanes!r}")
    events = events.filter(pl.col("time").is_not_null()).sort("time")
    if events.is_empty():
        return empty_figure(title, "No events for this indicator in the evidence.")
    lane_names = _lane_order(events, lanes)
    lane_y = {name: i for i, name in enumerate(lane_names)}
    events = events.with_columns(
        pl.col(lanes).fill_null("(unknown)").replace_strict(lane_y, default=None).alias("_y"),
        pl.col("outcome").fill_null("success").alias("outcome"),
    )
    fig = go.Figure()
    binned = events.height > max_markers
    if binned:
        step = _bin_seconds(events, max_markers, len(lane_names))
        _binned_traces(fig, events, step)
        title = f"{title} ({events.height:,} events; one marker per {_step_text(step)} bin)"
    else:
        _event_traces(fig, events)
    spans = _phase_spans(events, story)
    _shade(fig, spans, lane_y if lanes == "phase" else None)
    _mark_story(fig, story)
    base_layout(fig, title, height=max(320, 90 + 46 * len(lane_names)))
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(lane_names))),
        ticktext=[lane_label(n) for n in lane_names] if lanes == "phase" else lane_names,
        range=[len(lane_names) - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
        title=None,
    )
    fig.update_xaxes(title=UTC_AXIS, type="date")
    fig.update_layout(meta={"binned": binned, "events": events.height, "lanes": lane_names})
    return fig


def _lane_order(events: pl.DataFrame, lanes: str) -> list[str]:
    names = events[lanes].fill_null("(unknown)").unique().to_list()
    if lanes == "phase":
        rank = {p: i for i, p in enumerate(LANES)}
        return sorted(names, key=lambda p: (rank.get(p, len(rank)), p))
    # Actors in order of first appearance; on a tie, the one acting in the earlier phase.
    rank = {p: i for i, p in enumerate(PHASES)}
    first = (
        events.with_columns(
            pl.col(lanes).fill_null("(unknown)"),
            pl.col("phase").replace_strict(rank, default=len(rank)).alias("_rank"),
        )
        .sort("time", "_rank")
        .group_by(lanes, maintain_order=True)
        .first()
    )
    return first[lanes].to_list()


def _hover(events: pl.DataFrame) -> list[str]:
    fields = [c for c in ("actor", "target", "source_ip", "region", "detail", "event_id")]
    present = [c for c in fields if c in events.columns]
    texts = []
    times = plot_times(events["time"])
    for t, row in zip(
        times, events.select(["action", "outcome", "phase", *present]).iter_rows(named=True), strict=True
    ):
        lines = [
            f"<b>{html.escape(str(row['action']))}</b> ({row['outcome']})",
            f"{t}Z",
            f"phase: {lane_label(str(row['phase']))}",
        ]
        lines += [f"{c}: {html.escape(str(row[c]))}" for c in present if row[c] not in (None, "")]
        texts.append("<br>".join(lines))
    return texts


def _event_traces(fig: go.Figure, events: pl.DataFrame) -> None:
    for outcome, style in OUTCOME_STYLE.items():
        part = events.filter(pl.col("outcome") == outcome)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=plot_times(part["time"]),
                y=part["_y"].to_list(),
                mode="markers",
                name=style["label"],
                marker={
                    "symbol": style["symbol"],
                    "color": style["color"],
                    "size": 10,
                    "line": {"width": 1, "color": style["color"]},
                },
                hovertext=_hover(part),
                hoverinfo="text",
            )
        )


def _bin_seconds(events: pl.DataFrame, max_markers: int, lanes: int) -> int:
    span = (events["time"].max() - events["time"].min()).total_seconds()  # type: ignore[operator]
    wanted = max(1.0, span * lanes * len(OUTCOME_STYLE) / max(max_markers, 1))
    return next((s for s in _BIN_STEPS if s >= wanted), _BIN_STEPS[-1])


def _step_text(step: int) -> str:
    if step % 3600 == 0:
        return f"{step // 3600} h"
    if step % 60 == 0:
        return f"{step // 60} min"
    return f"{step} s"


def _binned_traces(fig: go.Figure, events: pl.DataFrame, step: int) -> None:
    bins = (
        events.with_columns(pl.col("time").dt.truncate(f"{step}s").alias("_bin"))
        .group_by("_y", "phase", "_bin", "outcome")
        .agg(
            pl.len().alias("n"),
            pl.col("action").mode().first().alias("top"),
            pl.col("action").n_unique().alias("kinds"),
        )
        .sort("_bin", "_y")
    )
    biggest = max(int(bins["n"].max() or 1), 1)  # type: ignore[arg-type]
    for outcome, style in OUTCOME_STYLE.items():
        part = bins.filter(pl.col("outcome") == outcome)
        if part.is_empty():
            continue
        starts = plot_times(part["_bin"])
        hover = [
            f"<b>{n:,} {style['label']} events</b><br>{t}Z + {_step_text(step)}<br>phase: {ph}"
            f"<br>most frequent: {html.escape(str(top))} ({k} distinct actions)"
            for t, n, ph, top, k in zip(
                starts, part["n"], part["phase"], part["top"], part["kinds"], strict=True
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=starts,
                y=part["_y"].to_list(),
                mode="markers",
                name=f"{style['label']} (count per bin)",
                marker={
                    "symbol": style["symbol"],
                    "color": style["color"],
                    "size": [6 + 24 * (n / biggest) ** 0.5 for n in part["n"]],
                    "line": {"width": 1, "color": style["color"]},
                },
                customdata=part["n"].to_list(),
                hovertext=hover,
                hoverinfo="text",
            )
        )


def _phase_spans(events: pl.DataFrame, story: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The story's phase spans when it has them, else each phase's first and last event."""
    phases = (story or {}).get("phases") or []
    spans = [p for p in phases if p.get("start") and p.get("end")]
    if spans:
        return spans
    agg = events.group_by("phase").agg(pl.col("time").min().alias("start"), pl.col("time").max().alias("end"))
    return agg.to_dicts()


def _shade(fig: go.Figure, spans: list[dict[str, Any]], lane_y: dict[str, int] | None) -> None:
    for span in spans:
        phase = span.get("phase") or "(unknown)"
        start, end = plot_time(span["start"]), plot_time(span["end"])
        if start == end:  # one-second phases still deserve a visible band
            end = plot_time(dt.datetime.fromisoformat(str(end)) + dt.timedelta(seconds=30))
        color = PHASE_COLORS.get(phase, "#999999")
        if lane_y is not None and phase in lane_y:
            y = lane_y[phase]
            fig.add_shape(
                type="rect",
                x0=start,
                x1=end,
                y0=y - 0.42,
                y1=y + 0.42,
                xref="x",
                yref="y",
                fillcolor=color,
                opacity=0.16,
                line={"width": 0},
                layer="below",
                name=f"span:{phase}",
            )
        elif lane_y is None:
            fig.add_shape(
                type="rect",
                x0=start,
                x1=end,
                y0=0,
                y1=1,
                xref="x",
                yref="paper",
                fillcolor=color,
                opacity=0.07,
                line={"width": 0},
                layer="below",
                name=f"span:{phase}",
            )


def _mark_story(fig: go.Figure, story: dict[str, Any] | None) -> None:
    if not story:
        return
    first = story.get("first_use") or {}
    if first.get("time"):
        mark_time(fig, first["time"], f"first use ({first.get('source_ip') or '?'})", "#444444", dash="dot")
    quarantine = story.get("aws_quarantine") or {}
    if quarantine.get("time"):
        policy = str(quarantine.get("policy") or "").rsplit("/", 1)[-1]
        mark_time(fig, quarantine["time"], f"AWS quarantine {policy}".strip(), QUARANTINE_COLOR)
    containment = story.get("containment") or {}
    if containment.get("time"):
        mark_time(fig, containment["time"], "containment", CONTAINMENT_COLOR, dash="solid")
