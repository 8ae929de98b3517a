"""Entity relationship graph: principal → keys → addresses → instances, derived credentials too.

Laid out in columns by kind (left to right in the order an investigation pivots), so it needs
no graph library and the same case always draws the same picture.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from .theme import base_layout, empty_figure, require_columns

KINDS: tuple[str, ...] = ("principal", "access_key", "derived", "address", "instance")
KIND_STYLE: dict[str, tuple[str, str, str]] = {  # label, symbol, colour
    "principal": ("principals", "square", "#1f77b4"),
    "access_key": ("access keys", "diamond", "#ff7f0e"),
    "derived": ("derived credentials", "diamond-open", "#d62728"),
    "address": ("source addresses", "circle", "#9467bd"),
    "instance": ("instances", "triangle-up", "#2ca02c"),
}


def entity_graph(
    edges: pl.DataFrame,
    title: str = "Entities and how they connect",
    highlight: dict[str, str] | None = None,
    per_column: int = 12,
) -> go.Figure:
    """Draw `edges` (`src`, `src_kind`, `dst`, `dst_kind`, `relation`, optional `count`).

    Kinds are `principal`, `access_key`, `derived`, `address`, `instance` (others go last);
    a kind with more than `per_column` nodes wraps into several columns. Hovering a node lists
    its links, hovering an edge's midpoint names the relation. `highlight` maps nodes to a
    note (say, "still running") and rings them in red.
    """
    highlight = highlight or {}
    require_columns(edges, ("src", "src_kind", "dst", "dst_kind", "relation"), "entity_graph")
    edges = edges.filter(pl.col("src").is_not_null() & pl.col("dst").is_not_null()).unique(
        ["src", "dst", "relation"], keep="first", maintain_order=True
    )
    if edges.is_empty():
        return empty_figure(title, "No entities linked to this indicator.")
    if "count" not in edges.columns:
        edges = edges.with_columns(pl.lit(None, dtype=pl.Int64).alias("count"))
    nodes = _nodes(edges)
    pos, width = _layout(nodes, per_column)
    fig = go.Figure()
    xs: list[float | None] = []
    ys: list[float | None] = []
    mid_x, mid_y, mid_text = [], [], []
    for row in edges.iter_rows(named=True):
        (x0, y0), (x1, y1) = pos[row["src"]], pos[row["dst"]]
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        mid_x.append((x0 + x1) / 2)
        mid_y.append((y0 + y1) / 2)
        count = f" ({row['count']:,} events)" if row["count"] is not None else ""
        mid_text.append(html.escape(f"{row['src']} → {row['relation']} → {row['dst']}{count}"))
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#aaaaaa", "width": 1.2},
            hoverinfo="skip",
            showlegend=False,
            name="edges",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=mid_x,
            y=mid_y,
            mode="markers",
            marker={"size": 6, "color": "#cccccc"},
            hovertext=mid_text,
            hoverinfo="text",
            showlegend=False,
            name="relations",
        )
    )
    links = _links(edges)
    kinds = sorted(nodes, key=_kind_rank)
    for kind in kinds:
        label, symbol, color = KIND_STYLE.get(kind, (kind, "circle", "#7f7f7f"))
        names = nodes[kind]
        fig.add_trace(
            go.Scatter(
                x=[pos[n][0] for n in names],
                y=[pos[n][1] for n in names],
                mode="markers+text",
                name=label,
                text=[_short(n) for n in names],
                textposition="bottom center",
                textfont={"size": 10},
                marker={
                    "symbol": symbol,
                    "size": 16,
                    "color": color,
                    "line": {
                        "width": [4 if n in highlight else 1.5 for n in names],
                        "color": ["#d62728" if n in highlight else color for n in names],
                    },
                },
                hovertext=[
                    f"<b>{html.escape(n)}</b>"
                    + (f" ({html.escape(highlight[n])})" if n in highlight else "")
                    + f"<br>{links.get(n, '')}"
                    for n in names
                ],
                hoverinfo="text",
                customdata=names,
            )
        )
    tallest = min(max(len(v) for v in nodes.values()), per_column)
    base_layout(fig, title, height=max(360, 140 + 48 * tallest))
    fig.update_xaxes(visible=False, range=[-0.5, max(width - 0.5, 0.5)])
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(meta={"kinds": kinds})
    return fig


def _kind_rank(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


def _nodes(edges: pl.DataFrame) -> dict[str, list[str]]:
    """Nodes by kind, in the order edges introduce them; a node any edge calls `derived` (a
    minted user that also signs calls, say) is drawn as derived."""
    kind_of: dict[str, str] = {}
    for src, sk, dst, dk in edges.select("src", "src_kind", "dst", "dst_kind").iter_rows():
        for name, kind in ((src, sk), (dst, dk)):
            if name not in kind_of or kind == "derived":
                kind_of[name] = kind
    nodes: dict[str, list[str]] = {}
    for name, kind in kind_of.items():
        nodes.setdefault(kind, []).append(name)
    return nodes


def _layout(nodes: dict[str, list[str]], per_column: int) -> tuple[dict[str, tuple[float, float]], float]:
    """Positions by kind, left to right; a long kind wraps into sub-columns 0.8 apart, every
    other one half a row lower, so the labels under neighbouring nodes never share a line."""
    pos: dict[str, tuple[float, float]] = {}
    tallest = min(max(len(v) for v in nodes.values()), per_column)
    x = 0.0
    for kind in sorted(nodes, key=_kind_rank):
        names = nodes[kind]
        columns = -(-len(names) // per_column)
        for j in range(columns):
            chunk = names[j * per_column : (j + 1) * per_column]
            offset = (tallest - len(chunk)) / 2 + (0.5 if j % 2 else 0.0)
            for i, name in enumerate(chunk):
                pos[name] = (x + 0.8 * j, offset + i)
        x += 1 + 0.8 * (columns - 1)
    return pos, x


def _links(edges: pl.DataFrame) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for src, dst, rel in edges.select("src", "dst", "relation").iter_rows():
        out.setdefault(src, []).append(f"→ {rel} → {html.escape(dst)}")
        out.setdefault(dst, []).append(f"← {rel} ← {html.escape(src)}")
    return {
        k: "<br>".join(v[:12] + ([f"… {len(v) - 12} more"] if len(v) > 12 else [])) for k, v in out.items()
    }


def _short(name: str) -> str:
    """ARNs shortened to their resource part for the label (the hover keeps them whole)."""
    if name.startswith("arn:"):
        return name.split(":", 5)[-1]
    return name
