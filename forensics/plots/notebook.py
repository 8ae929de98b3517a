"""How figures show in a notebook, so they survive the notebook leaving the kernel.

Plotly's default Jupyter output carries only `application/vnd.plotly.v1+json`, which JupyterLab
draws and nothing else does: `jupyter nbconvert --to html`, nbviewer and papermill outputs show
an empty cell. `plotly_mimetype+forensics_notebook` writes both that type (JupyterLab keeps
drawing it) and an HTML div with the figure's data. It is Plotly's `notebook` renderer (plotly.js
inlined once per notebook, so the exported page works offline) without the MathJax script it
fetches from a CDN for every figure. GitHub runs no JavaScript: `static=True` adds a PNG of each
figure (kaleido, through the Chromium `export.find_browser` finds).
"""

from __future__ import annotations

import os
from typing import Any

import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

from .export import find_browser
from .html import CONFIG

RENDERER = "plotly_mimetype+forensics_notebook"


class OfflineNotebookRenderer(NotebookRenderer):
    """`notebook`, minus the MathJax CDN script and with the report's mode bar."""

    def to_mimebundle(self, fig_dict: Any) -> dict[str, str]:
        from plotly.io import to_html

        markup = to_html(
            fig_dict,
            config=CONFIG,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=525,
            validate=False,
        )
        return {"text/html": markup}


pio.renderers["forensics_notebook"] = OfflineNotebookRenderer()


def use_notebook_renderer(static: bool = False, browser: str | None = None) -> str:
    """Make every figure shown from now on carry HTML (and a PNG when `static`); the renderer
    name set."""
    name = RENDERER
    if static:
        # kaleido finds the browser through BROWSER_PATH; it cannot download one offline
        os.environ.setdefault("BROWSER_PATH", find_browser(browser))
        name += "+png"
        pio.renderers["png"].width = 1100
    pio.renderers.default = name
    return name
