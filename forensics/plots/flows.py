"""VPC flow volume of an instance by remote address and port: a miner's pool stands out."""

from __future__ import annotations

import html
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
    palette,
    plot_times,
    require_columns,
)

OTHER = "other endpoints"


def flow_volume(
    flows: pl.DataFrame,
    title: str = "Network traffic by remote endpoint",
    top: int = 8,
    value: str = "bytes",
    step_seconds: int | None = None,
    marks: dict[str, Any] | None = None,
    log_y: bool = True,
    roles: dict[str, str] | None = None,
) -> go.Figure:
    """`value` per time bucket for each remote endpoint (address:port), one line each.

    `flows` has `bucket`, `remote_addr`, `remote_port` and `value` (bytes or packets); with a
    `service_port` column an endpoint is the address and the service's port (`22` for an SSH
    client's session, not its ephemeral source port), and a true `mining` column names the
    endpoint a mining pool. `roles` maps an address to what it is ("attacker"). The
    `top` endpoints by total volume keep their own line, the rest are summed as one. Lines on
    a log axis (not stacked bars) because a miner's steady trickle to its pool is what matters,
    and one large download would otherwise flatten it to nothing.
    """
    require_columns(flows, ("bucket", "remote_addr", "remote_port", value), "flow_volume")
    flows = flows.filter(pl.col("bucket").is_not_null())
    if flows.is_empty():
        return empty_figure(title, "No flow records for this instance in the evidence.")
    port = "service_port" if "service_port" in flows.columns else "remote_port"
    role = pl.col("remote_addr").replace_strict(roles or {}, default=None, return_dtype=pl.String)
    if "mining" in flows.columns:
        role = pl.coalesce(role, pl.when(pl.col("mining")).then(pl.lit("mining pool")))
    flows = flows.with_columns(
        pl.concat_str(
            pl.concat_str(
                pl.col("remote_addr").fill_null("?"),
                pl.col(port).cast(pl.String).fill_null("?"),
                separator=":",
            ),
            pl.concat_str(pl.lit(" ("), role, pl.lit(")")).fill_null(""),
        ).alias("endpoint")
    )
    totals = (
        flows.group_by("endpoint").agg(pl.col(value).sum()).sort(value, "endpoint", descending=[True, False])
    )
    keep = totals.head(top)["endpoint"].to_list()
    flows = flows.with_columns(
        pl.when(pl.col("endpoint").is_in(keep))
        .then(pl.col("endpoint"))
        .otherwise(pl.lit(OTHER))
        .alias("endpoint")
    )
    order = keep + ([OTHER] if flows["endpoint"].eq(OTHER).any() else [])
    step = step_seconds or infer_step(flows["bucket"])
    fig = go.Figure()
    for endpoint, color in zip(order, palette(len(order)), strict=True):
        part = (
            flows.filter(pl.col("endpoint") == endpoint)
            .group_by("bucket")
            .agg(pl.col(value).sum())
            .sort("bucket")
        )
        fig.add_trace(
            go.Scatter(
                x=plot_times(part["bucket"]),
                y=part[value].to_list(),
                name=html.escape(endpoint),
                mode="lines+markers",
                line={"shape": "hv", "color": "#bbbbbb" if endpoint == OTHER else color},
                marker={"size": 5},
                connectgaps=False,
                hovertemplate=html.escape(endpoint)
                + "<br>%{x}Z + "
                + f"{step // 60} min"
                + "<br>%{y:,} "
                + value
                + "<extra></extra>",
            )
        )
    for label, when in (marks or {}).items():
        mark_time(fig, when, label, INCIDENT_COLOR)
    base_layout(fig, title)
    fig.update_xaxes(title=UTC_AXIS, type="date")
    if log_y:
        fig.update_yaxes(title=f"{value} per {step // 60} min (log scale)", type="log")
    else:
        fig.update_yaxes(title=f"{value} per {step // 60} min", rangemode="tozero")
    return fig
