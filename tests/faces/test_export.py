"""Static export for slides and PDF (kaleido through Debian's Chromium), the boundary between
the library and its faces, and the demo's report."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from forensics import ForensicsError, plots
from forensics.cli import app
from forensics.plots import export

REPO = Path(__file__).resolve().parents[2]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_figures_export_to_png_and_svg_through_chromium(
    timeline: pl.DataFrame, story: dict, chromium: Path, tmp_path: Path
) -> None:
    fig = plots.attack_timeline(timeline, story)
    paths = export.export_figures(
        {
            "timeline": fig,
            "empty": plots.evidence_coverage(
                pl.DataFrame(
                    schema={
                        "source": pl.String,
                        "region": pl.String,
                        "bucket": pl.Datetime("us", "UTC"),
                        "records": pl.Int64,
                    }
                )
            ),
        },
        tmp_path,
        "png",
        width=1000,
        scale=1.5,
        browser=chromium,
    )
    assert [p.name for p in paths] == ["timeline.png", "empty.png"]
    assert _png_size(paths[0]) == (1500, int(fig.layout.height * 1.5))
    svg = export.export_figure(fig, tmp_path / "slides" / "timeline.svg", browser=chromium)
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg") and "AWSCompromisedKeyQuarantineV2" in text


def test_export_without_a_browser_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, timeline: pl.DataFrame
) -> None:
    monkeypatch.delenv("FORENSICS_BROWSER", raising=False)
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(export, "_CANDIDATES", ())
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    fig = plots.attack_timeline(timeline)
    with pytest.raises(ForensicsError, match="needs Chrome or Chromium.*tried /nonexistent/chrome"):
        export.export_figure(fig, tmp_path / "x.png", browser="/nonexistent/chrome")
    with pytest.raises(ForensicsError, match="cannot tell the image format from 'x.bmp'"):
        export.export_figure(fig, tmp_path / "x.bmp")


def test_only_the_plots_package_imports_plotly() -> None:
    importers = sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "forensics").rglob("*.py")
        if "plots" not in p.relative_to(REPO / "forensics").parts
        and any(
            line.lstrip().startswith(("import plotly", "from plotly"))
            for line in p.read_text(encoding="utf-8").splitlines()
        )
    )
    assert importers == []
    code = (
        "import sys, forensics, forensics.cli, forensics.investigate, forensics.hunt, "
        "forensics.report.frames, forensics.report.story_frames; "
        "print('plotly' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.stdout.strip() == "False"


def test_demo_writes_the_sample_report(tmp_path: Path, ground_truth: dict) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = tmp_path / "report.html"
    assert f"report: {page}" in result.output
    # the demo prints the investigation's answers: the leaked key, first use, what still runs
    assert ground_truth["leaked_access_key"] in result.output
    # one human time format: 2026-11-16 02:51:43 UTC (DESIGN.md, issue 16)
    shown = ground_truth["first_use"]["time"].replace("T", " ").replace("Z", " UTC")
    assert f"{shown} from {ground_truth['first_use']['source_ip']}" in result.output
    assert ground_truth["first_use"]["time"] not in result.output
    assert all(i in result.output for i in ground_truth["still_running"])
    text = page.read_text(encoding="utf-8")
    # the page's one time format: `2026-11-16 02:51:43 UTC`
    assert ground_truth["first_use"]["time"].replace("T", " ").replace("Z", " UTC") in text
    assert "Budget replay" in text
