"""The postmortem page: written by the CLI, self-contained, and rendered by a real headless
Chromium that may not reach the network."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.cli import app

from .conftest import CHROMIUM_ARGS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

# For each plot: its SVG layers, the drawn traces (SVG groups, heatmap images) and whether any
# WebGL canvas holds non-transparent pixels.
RENDERED_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')].map(div => {
  const svg = div.querySelectorAll('svg.main-svg').length;
  const drawn = div.querySelectorAll('.cartesianlayer .trace, .cartesianlayer .hm image').length;
  let gl = false;
  for (const canvas of div.querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const probe = document.createElement('canvas');
    probe.width = canvas.width; probe.height = canvas.height;
    const ctx = probe.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const px = ctx.getImageData(0, 0, probe.width, probe.height).data;
    for (let i = 3; i < px.length; i += 4) { if (px[i]) { gl = true; break; } }
  }
  return {id: div.id, svg, drawn, gl};
})
"""


@pytest.fixture(scope="module")
def page(sample_case: Path, ground_truth: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the leaked key, written by `forensics report` with a 1,000 USD budget."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--case",
            str(sample_case),
            "--access-key",
            ground_truth["leaked_access_key"],
            "--budget",
            "1000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    return out


def test_the_page_inlines_plotly_once_and_references_nothing_outside(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.count("* plotly.js v") == 1
    assert text.count("Plotly.newPlot(") == 8
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", text)
    assert "cdn.plot.ly/plotly" not in text.split("* plotly.js v")[0]


def test_the_page_tells_the_story_with_its_facts(page: Path, ground_truth: dict) -> None:
    text = page.read_text(encoding="utf-8")
    first = ground_truth["first_use"]
    for fact in (
        first["time"],
        first["source_ip"],
        ground_truth["quarantine"]["time"],
        ground_truth["containment"]["start"],
        "AWSCompromisedKeyQuarantineV2",
        *ground_truth["still_running"],
        *ground_truth["attacker_ips"],
    ):
        assert fact in text, fact
    assert "30 min 15 s" in text  # first use → quarantine, 1,815 s
    assert "1 h 0 min 27 s" in text  # first use → containment, 3,627 s
    assert "Still running (2)" in text
    launched = sum(len(ids) for ids in ground_truth["instances"].values())
    assert f"It launched {launched} instance(s) in {len(ground_truth['regions_succeeded'])} region(s)" in text
    assert f"{len(ground_truth['regions_new'])} region(s) the account had never used" in text


def test_the_appendix_lists_every_evidence_file_with_its_digest(page: Path, ground_truth: dict) -> None:
    text = page.read_text(encoding="utf-8")
    files = sorted(p for p in (SAMPLE / "evidence").rglob("*") if p.is_file())
    assert len(files) == ground_truth["counts"]["files"]["total"]
    assert f"Evidence appendix ({len(files):,} files)" in text
    for path in files[:: max(len(files) // 12, 1)]:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in text, path


def test_every_figure_renders_in_headless_chromium_offline(
    page: Path, chromium: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    outside: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.route("**/*", route)
            tab.goto(page.as_uri(), wait_until="load")
            tab.wait_for_function(
                "() => [...document.querySelectorAll('.js-plotly-plot')]"
                ".every(d => d._fullLayout && d.querySelector('svg.main-svg'))",
                timeout=30_000,
            )
            rendered = tab.evaluate(RENDERED_JS)
            shot = tmp_path / "report.png"
            tab.screenshot(path=str(shot), full_page=True, timeout=60_000)
        finally:
            browser.close()
    assert [r["id"] for r in rendered] == [
        "fig-timeline",
        "fig-run-instances",
        "fig-writes",
        "fig-key-activity",
        "fig-entities",
        "fig-flows",
        "fig-cost",
        "fig-coverage",
    ]
    for figure in rendered:
        assert figure["svg"] >= 1 and (figure["drawn"] > 0 or figure["gl"]), figure
    assert errors == []
    assert outside == []
    assert shot.stat().st_size > 50_000


def test_report_needs_exactly_one_indicator(sample_case: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(  # none takes the hunt's top indicator (tests/test_cli.py); two is an error
        app,
        ["report", "--case", str(sample_case), "--out", str(tmp_path / "r.html")]
        + ["--access-key", "AKIAJNRSY47UUVASTROP", "--ip", "45.155.205.107"],
    )
    assert result.exit_code == 2
    assert "exactly one of --access-key" in result.output


def test_report_on_a_key_not_in_the_case_exits_1(sample_case: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--case",
            str(sample_case),
            "--access-key",
            "AKIAAAAAAAAAAAAAAAAA",
            "--out",
            str(tmp_path / "r.html"),
        ],
    )
    assert result.exit_code == 1
    assert not (tmp_path / "r.html").exists()
