"""Static PNG/SVG/PDF export of figures (for slides and the written report) through kaleido.

kaleido 1.x renders in a Chrome or Chromium it finds on the machine and cannot download one
offline. We point it at a browser explicitly (argument, `FORENSICS_BROWSER`, kaleido's own
`BROWSER_PATH`, then Debian's `/usr/bin/chromium`), and disable MathJax, whose default is a
CDN request.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import plotly.graph_objects as go

from ..errors import ForensicsError

FORMATS = ("png", "svg", "pdf", "jpeg", "webp")
_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_browser(browser: str | os.PathLike[str] | None = None) -> str:
    """The Chromium kaleido should drive; a clear error naming what was tried if none."""
    tried = []
    for candidate in (
        browser,
        os.environ.get("FORENSICS_BROWSER"),
        os.environ.get("BROWSER_PATH"),
        *_CANDIDATES,
        shutil.which("chromium"),
        shutil.which("google-chrome"),
    ):
        if not candidate:
            continue
        tried.append(str(candidate))
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ForensicsError(
        "static export needs Chrome or Chromium (kaleido renders through it and cannot "
        "download one offline): install Debian's `chromium` or set FORENSICS_BROWSER; tried "
        + (", ".join(tried) or "nothing")
    )


def export_figures(
    figures: Mapping[str, go.Figure],
    folder: str | os.PathLike[str],
    fmt: str = "png",
    width: int = 1200,
    height: int | None = None,
    scale: float = 2.0,
    browser: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write each figure as `folder/<name>.<fmt>` in one browser session; return the paths."""
    if fmt not in FORMATS:
        raise ForensicsError(f"unknown image format {fmt!r} (use one of {', '.join(FORMATS)})")
    try:
        import kaleido
    except ImportError:
        raise ForensicsError("static export needs the `kaleido` package (pip install kaleido)") from None
    path_to_browser = find_browser(browser)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    jobs, paths = [], []
    for name, fig in figures.items():
        path = out / f"{name}.{fmt}"
        opts = {
            "format": fmt,
            "width": width,
            "scale": scale,
            "height": height or int(fig.layout.height or 450),
        }
        jobs.append({"fig": fig, "path": str(path), "opts": opts})
        paths.append(path)
    try:
        kaleido.write_fig_from_object_sync(
            jobs, kopts={"path": path_to_browser, "mathjax": False, "timeout": 60}
        )
    except Exception as exc:  # kaleido raises its own and choreographer's error types
        raise ForensicsError(
            f"static export through {path_to_browser} failed: {type(exc).__name__}: {exc}"
        ) from None
    missing = [str(p) for p in paths if not p.is_file() or p.stat().st_size == 0]
    if missing:
        raise ForensicsError("static export wrote nothing for " + ", ".join(missing))
    return paths


def export_figure(
    fig: go.Figure,
    path: str | os.PathLike[str],
    width: int = 1200,
    height: int | None = None,
    scale: float = 2.0,
    browser: str | os.PathLike[str] | None = None,
) -> Path:
    """Write one figure to `path`; the format is the file's suffix (.png, .svg, .pdf, ...)."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower().replace("jpg", "jpeg")
    if fmt not in FORMATS:
        raise ForensicsError(f"cannot tell the image format from {target.name!r} (use .png, .svg, .pdf, ...)")
    written = export_figures({target.stem: fig}, target.parent, fmt, width, height, scale, browser)
    return written[0]
