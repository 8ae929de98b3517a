"""Plotly figures of an investigation. The only package that imports plotly.

Every function takes Polars frames (from `Case.sql` / `Case.query` or `forensics.report.frames`)
or the investigate story, and returns a `plotly.graph_objects.Figure`; nothing here queries the
case, shows, prints or writes, except `export_figure(s)` which writes image files on request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..escape import plotly_figure
from . import activity, cost, coverage, flows, graph, heatmap, timeline
from .export import export_figure, export_figures, find_browser


def _escaped(build: Callable) -> Callable:
    """The figures' one render point: every string Plotly reads as markup escaped
    (forensics.escape.plotly_figure), whichever face shows the figure."""

    @functools.wraps(build)
    def figure(*args, **kwargs):
        return plotly_figure(build(*args, **kwargs))

    return figure


api_call_volume = _escaped(activity.api_call_volume)
cost_by_region = _escaped(cost.cost_by_region)
evidence_coverage = _escaped(coverage.evidence_coverage)
flow_volume = _escaped(flows.flow_volume)
entity_graph = _escaped(graph.entity_graph)
region_heatmap = _escaped(heatmap.region_heatmap)
attack_timeline = _escaped(timeline.attack_timeline)

__all__ = [
    "api_call_volume",
    "attack_timeline",
    "cost_by_region",
    "entity_graph",
    "evidence_coverage",
    "export_figure",
    "export_figures",
    "find_browser",
    "flow_volume",
    "region_heatmap",
]
