"""Evidence coverage: which source saw which region when, so a conclusion drawn from silence
can be checked against gaps in the evidence rather than gaps in the attack."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from .theme import UTC_AXIS, base_layout, empty_figure, plot_time, plot_times, require_columns

GAP_COLOR = "#d62728"


def evidence_coverage(
    coverage: pl.DataFrame,
    gaps: Sequence[dict[str, Any]] = (),
    title: str = "Evidence coverage: records per source, region and hour",
    step_seconds: int | None = None,
) -> go.Figure:
    """Heatmap of records per (`source`, `region`) row and `bucket` column (`records`).

    Every bucket of the span gets a column (`step_seconds` wide, inferred if not given), so
    buckets with no record stay blank, and `gaps` (dicts with `from`/`to` or `start`/`end`,
    optionally `source` and `region`) are outlined in red on their row (or across all rows).
    """
    require_columns(coverage, ("source", "region", "bucket", "records"), "evidence_coverage")
    coverage = coverage.filter(pl.col("bucket").is_not_null())
    if coverage.is_empty():
        return empty_figure(title, "The case holds no evidence yet.")
    coverage = coverage.with_columns(
        pl.concat_str(pl.col("source"), pl.col("region").fill_null("(all regions)"), separator=" · ").alias(
            "row"
        )
    )
    rows = coverage.select("source", "region", "row").unique().sort("source", "region")["row"]
    rows_list = rows.to_list()
    for gap in gaps:  # a source silent for the whole span still gets its (empty) row
        if gap.get("source") and not any(_matches(r, gap) for r in rows_list):
            rows_list.append(f"{gap['source']} · {gap.get('region') or '(all regions)'}")
    buckets = coverage["bucket"].unique().sort()
    lo, hi = coverage["bucket"].min(), coverage["bucket"].max()
    step = step_seconds or _step(buckets)
    full = pl.datetime_range(lo, hi, f"{step}s", eager=True)  # type: ignore[arg-type]
    x = plot_times(full)
    cells = {
        (r, t): n
        for r, t, n in zip(coverage["row"], plot_times(coverage["bucket"]), coverage["records"], strict=True)
    }
    counts = [[cells.get((r, t)) for t in x] for r in rows_list]
    # Colour on a log scale: one noisy source (a retry loop) must not wash out the others.
    z = [[None if n is None else math.log10(n) for n in row] for row in counts]
    top = max((v for row in z for v in row if v is not None), default=0.0)
    ticks = [10**i for i in range(int(top) + 1)]
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=rows_list,
            z=z,
            customdata=counts,
            zmin=0,
            zmax=max(top, 1.0),
            colorscale="Blues",
            hoverongaps=False,
            xgap=0,
            ygap=2,
            colorbar={
                "title": {"text": "records"},
                "tickvals": [math.log10(t) for t in ticks],
                "ticktext": [f"{t:,}" for t in ticks],
            },
            hovertemplate="%{y}<br>%{x}Z<br>%{customdata:,} records<extra></extra>",
        )
    )
    _draw_gaps(fig, gaps, rows_list, (x[0], x[-1]))
    base_layout(fig, title, height=max(280, 110 + 26 * len(rows_list)))
    fig.update_yaxes(autorange="reversed", type="category", title=None)
    fig.update_xaxes(title=UTC_AXIS, type="date")
    return fig


def _step(buckets: pl.Series) -> int:
    if buckets.len() < 2:
        return 3600
    return max(int(buckets.diff().drop_nulls().dt.total_seconds().min()), 1)  # type: ignore[arg-type]


def _draw_gaps(
    fig: go.Figure, gaps: Sequence[dict[str, Any]], rows: list[str], span: tuple[Any, Any]
) -> None:
    """Outline each gap on its row; a gap without times (a source that never covered a
    region, an open-ended stop) runs to the edge of the span."""
    for gap in gaps:
        start = plot_time(gap.get("from") or gap.get("start")) or span[0]
        end = plot_time(gap.get("to") or gap.get("end")) or span[1]
        matching = [i for i, r in enumerate(rows) if _matches(r, gap)]
        label = str(gap.get("reason") or gap.get("source") or "gap")
        spans = [(i - 0.5, i + 0.5) for i in matching] if matching else [(-0.5, len(rows) - 0.5)]
        for y0, y1 in spans:
            fig.add_shape(
                type="rect",
                x0=start,
                x1=end,
                y0=y0,
                y1=y1,
                xref="x",
                yref="y",
                line={"color": GAP_COLOR, "width": 2, "dash": "dot"},
                fillcolor=GAP_COLOR,
                opacity=0.18,
                name=f"gap:{label}",
            )
        fig.add_annotation(
            x=start,
            y=spans[0][0],
            xref="x",
            yref="y",
            text=f"gap: {label}",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"color": GAP_COLOR, "size": 10},
        )


def _matches(row: str, gap: dict[str, Any]) -> bool:
    source, _, region = row.partition(" · ")
    if gap.get("source") and gap["source"] != source:
        return False
    return not (gap.get("region") and gap["region"] != region)
