"""Plotly figures of an investigation. The only package that imports plotly.

Every function takes Polars frames (from `Case.sql` / `Case.query` or `forensics.report.frames`)
or the investigate story, and returns a `plotly.graph_objects.Figure`; nothing here queries the
case, shows, prints or writes, except `export_figure(s)` which writes image files on request.
"""

from __future__ import annotations

from .activity import api_call_volume
from .cost import cost_by_region
from .coverage import evidence_coverage
from .export import export_figure, export_figures, find_browser
from .flows import flow_volume
from .graph import entity_graph
from .heatmap import region_heatmap
from .timeline import attack_timeline

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
