"""Figures as HTML fragments for a self-contained page: plotly.js inlined once per page.

The report must open offline and send no request, so plotly.js (about 4.8 MB) is inlined in
the first figure only and every later figure is a bare div plus its script; MathJax is off
and the mode bar's "edit in Chart Studio" link is gone.
"""

from __future__ import annotations

import plotly.graph_objects as go

CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}


def figure_html(fig: go.Figure, div_id: str, with_plotlyjs: bool = False) -> str:
    """One figure as a `<div>` (and its `<script>`); `with_plotlyjs` inlines the library."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=with_plotlyjs,
        include_mathjax=False,
        div_id=div_id,
        config=CONFIG,
        validate=True,
    )


def figures_html(figures: list[tuple[str, go.Figure]], with_plotlyjs: bool = True) -> list[str]:
    """Each (div id, figure) as HTML, plotly.js inlined in the first one only (or in none, when
    the page brings its own: see `forensics.report.render.plotlyjs`)."""
    return [
        figure_html(fig, div_id, with_plotlyjs=with_plotlyjs and i == 0)
        for i, (div_id, fig) in enumerate(figures)
    ]


def plotly_version() -> str:
    """The plotly.js version the Python package bundles (the one its figures are written for)."""
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


def full_plotlyjs() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())
