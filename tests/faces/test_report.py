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


def _human(iso: str) -> str:
    """Ground truth's `2026-11-16T02:51:43Z` in the page's one time format."""
    return iso.replace("T", " ").replace("Z", " UTC")


def test_the_page_inlines_the_cartesian_plotly_once_and_references_nothing_outside(page: Path) -> None:
    from plotly.offline import get_plotlyjs_version

    text = page.read_text(encoding="utf-8")
    # the vendored cartesian bundle of the very version Plotly writes figures for, once
    assert text.count(f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}") == 1
    assert text.count("* plotly.js v") == 0  # not the full 4.8 MB library as well
    assert text.count("Plotly.newPlot(") == 8
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", text)
    assert "cdn.plot.ly/plotly" not in text
    assert page.stat().st_size < 3_500_000  # was 5.7 MB with the full library


def test_the_cartesian_bundle_is_vendored_with_its_licence() -> None:
    from forensics.report import render

    vendor = Path(render.__file__).parent / "vendor"
    assert "MIT License" in (vendor / "plotly.js-LICENSE").read_text()
    assert render.plotlyjs()[0] == "cartesian"


def test_the_page_tells_the_story_with_its_facts(page: Path, ground_truth: dict) -> None:
    text = page.read_text(encoding="utf-8")
    first = ground_truth["first_use"]
    for fact in (
        _human(first["time"]),
        first["source_ip"],
        _human(ground_truth["quarantine"]["time"]),
        _human(ground_truth["containment"]["start"]),
        "AWSCompromisedKeyQuarantineV2",
        *ground_truth["still_running"],
        *ground_truth["attacker_ips"],
    ):
        assert fact in text, fact
    assert "30 min 15 s after first use" in text  # first use → quarantine, 1,815 s
    assert "containment after 1 h;" in text  # first use → containment, 3,627 s
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", _visible(text))  # one time format
    assert "Still running (2)" in text
    launched = sum(len(ids) for ids in ground_truth["instances"].values())
    assert f"It launched {launched} instance(s) in {len(ground_truth['regions_succeeded'])} region(s)" in text
    assert f"{len(ground_truth['regions_new'])} region(s) the account had never used" in text


def _visible(text: str) -> str:
    """The page without its scripts (figure data keeps plotly's own time format)."""
    return re.sub(r"<script>.*?</script>", "", text, flags=re.S)


def test_the_title_names_the_incident_and_the_story_names_mining_and_guardduty(
    page: Path, ground_truth: dict
) -> None:
    text = _visible(page.read_text(encoding="utf-8"))
    title = re.search(r"<h1>(.*?)</h1>", text).group(1)
    regions = len(ground_truth["regions_succeeded"])
    assert (
        title == f"Leaked access key {ground_truth['leaked_access_key']} used for crypto-mining in "
        f"{regions} regions"
    )
    story = re.search(r'<div class="story">(.*?)</div>', text, re.S).group(1)
    assert "mining pools" in story
    guardduty = {t for found in ground_truth["guardduty_findings"].values() for t in found}
    mining = "CryptoCurrency:EC2/BitcoinTool.B!DNS"
    assert mining in guardduty and "GuardDuty reported" in story and mining in story
    assert "PenTest:IAMUser/KaliLinux" in story


def _rows(text: str, table_class: str) -> list[str]:
    block = re.search(rf'<table class="{table_class}">(.*?)</table>', text, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", block, re.S)[1:]


def test_findings_link_the_intruders_instances_and_place_billing_hours(
    page: Path, ground_truth: dict
) -> None:
    text = _visible(page.read_text(encoding="utf-8"))
    rows = _rows(text, "findings")  # the intrusion's findings come first
    mined = [r for r in rows if "Bitcoin-related domain name" in r]
    assert mined  # GuardDuty's findings on the intruder's instances ...
    for row in mined:  # ... name who launched them, as the story links them
        assert ground_truth["leaked_user"]["name"] in row and ground_truth["leaked_access_key"] in row
    first = _human(ground_truth["first_use"]["time"])
    spend = [i for i, r in enumerate(rows) if "first_spend_in_region" in r]
    assert spend and all("(billing hour)" in rows[i] for i in spend)
    opening = next(i for i, r in enumerate(rows) if first in r)
    assert all(i > opening for i in spend)  # a billing hour never sorts before the intrusion


def test_budget_and_gaps_say_before_and_after_the_right_way(page: Path, ground_truth: dict) -> None:
    text = _visible(page.read_text(encoding="utf-8"))
    first = _human(ground_truth["first_use"]["time"])
    for row in _rows(text, "compact budget"):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        alert = re.sub(r"<[^>]+>", "", cells[3])
        assert ("after first use" in cells[5]) == (alert > first), cells
        assert ("before first use" in cells[5]) == (alert < first), cells
    gaps = _rows(text, "gaps")
    flow = [r for r in gaps if "no_flow_logs" in r]
    assert flow
    for row in flow:
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert "—" not in cells[1:3] and cells[1] >= first, cells  # not before the instances existed


def test_the_appendix_lists_every_evidence_file_with_its_digest(page: Path, ground_truth: dict) -> None:
    text = page.read_text(encoding="utf-8")
    files = sorted(p for p in (SAMPLE / "evidence").rglob("*") if p.is_file())
    assert len(files) == ground_truth["counts"]["files"]["total"]
    assert f"Evidence appendix ({len(files):,} files)" in text
    for path in files[:: max(len(files) // 12, 1)]:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in text, path


def test_every_figure_renders_in_headless_chromium_offline(page: Path, browser: Any, tmp_path: Path) -> None:
    errors: list[str] = []
    outside: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
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
        tab.close()
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


# The layout as a reader sees it: boxes of tables, time cells, Plotly's text labels and markers.
LAYOUT_JS = """
() => {
  const box = el => {
    const r = el.getBoundingClientRect();
    return {l: r.left, r: r.right, t: r.top, b: r.bottom};
  };
  const meets = (a, b) => a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1;
  const clashes = (boxes) => {
    const out = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++)
      if (meets(boxes[i].box, boxes[j].box)) out.push([boxes[i].text, boxes[j].text]);
    return out;
  };
  const tables = [...document.querySelectorAll('main table')].map(t => {
    const holder = t.parentElement;
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(holder).overflowX);
    const fits = t.getBoundingClientRect().right <= holder.getBoundingClientRect().right + 1;
    const inPage = holder.getBoundingClientRect().right <= window.innerWidth + 1;
    return {cls: t.className, scrolls, fits, inPage};
  });
  const broken = [...document.querySelectorAll('td .nw')].filter(s => s.getClientRects().length > 1)
    .map(s => s.textContent);
  const plots = [...document.querySelectorAll('.js-plotly-plot')].map(div => {
    const labels = [...div.querySelectorAll('.annotation-text-g, .ytick text, .textpoint text')]
      .filter(el => el.getBoundingClientRect().width > 0)
      .map(el => ({text: el.textContent, box: box(el)}));
    const marks = [...div.querySelectorAll('.annotation-text-g')]
      .map(el => ({text: el.textContent, box: box(el)}));
    const points = [...div.querySelectorAll('.scatterlayer path.point')]
      .map(el => ({text: 'point', box: box(el)}));
    const onPoints = [];
    for (const m of marks) for (const p of points) if (meets(m.box, p.box)) { onPoints.push(m.text); break; }
    return {id: div.id, clashes: clashes(labels), onPoints, title: div.layout.title && div.layout.title.text};
  });
  const glance = document.querySelector('dl.glance');
  return {
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    tables, broken, plots,
    glanceBottom: glance.getBoundingClientRect().bottom,
    firstScreen: document.querySelector('header').innerText,
    cost: (() => {
      const gd = document.getElementById('fig-cost');
      const xs = gd.data.filter(t => t.type === 'bar').flatMap(t => t.x);
      return {range: gd.layout.xaxis.range, first: xs.reduce((a, b) => (a < b ? a : b))};
    })(),
    timeline: (() => {
      const gd = document.getElementById('fig-timeline');
      const lanes = gd.layout.meta.lanes;
      let response = 0;
      for (const t of gd.data) for (const y of t.y) if (lanes[y] === 'aws_response') response++;
      return {response, ticks: gd.layout.yaxis.ticktext};
    })(),
  };
}
"""


@pytest.fixture(scope="module")
def layouts(page: Path, browser: Any) -> dict[int, dict[str, Any]]:
    """The page laid out by Debian's Chromium at a desktop and a narrow width."""
    out = {}
    for width in (1400, 900):
        tab = browser.new_page(viewport={"width": width, "height": 900})
        try:
            tab.goto(page.as_uri(), wait_until="load")
            tab.wait_for_function(
                "() => [...document.querySelectorAll('.js-plotly-plot')]"
                ".every(d => d._fullLayout && d.querySelector('svg.main-svg'))",
                timeout=30_000,
            )
            out[width] = tab.evaluate(LAYOUT_JS)
        finally:
            tab.close()
    return out


@pytest.mark.parametrize("width", [1400, 900])
def test_nothing_is_cut_off_or_broken_at_the_width(layouts: dict, width: int) -> None:
    layout = layouts[width]
    assert layout["overflow"] <= 0  # the page never scrolls sideways
    for table in layout["tables"]:  # a table fits, or its own container scrolls to it
        assert table["inPage"] and (table["fits"] or table["scrolls"]), table
    assert layout["broken"] == []  # no `2026-11-16 02:51:43 / UTC`


@pytest.mark.parametrize("width", [1400, 900])
def test_no_plot_label_sits_on_another_or_on_a_marker(layouts: dict, width: int) -> None:
    for plot in layouts[width]["plots"]:
        assert plot["clashes"] == [], plot["id"]
        assert plot["onPoints"] == [], plot["id"]


@pytest.mark.parametrize("width", [1400, 900])
def test_the_first_screen_answers_the_questions(layouts: dict, width: int, ground_truth: dict) -> None:
    layout = layouts[width]
    assert layout["glanceBottom"] <= 900  # the answers are all above the fold
    screen = layout["firstScreen"]
    # contained? no: the two instances still run
    assert "still running" in screen
    assert all(i in screen for i in ground_truth["still_running"])
    # what it did: launches in the regions, mining, escalation refused, data
    assert f"{len(ground_truth['regions_attempted'])} region(s) attempted" in screen
    assert f"{len(ground_truth['regions_succeeded'])} succeeded" in screen
    assert "mining pools" in screen and "data:" in screen
    assert f"tried privilege escalation {ground_truth['escalation_attempts']['total']} time(s)" in screen
    # cost so far
    assert (
        f"{ground_truth['incident_cost']['total']:,.2f} {ground_truth['incident_cost']['currency']}" in screen
    )
    # how AWS and GuardDuty saw it
    assert _human(ground_truth["quarantine"]["time"]) in screen
    assert _human(ground_truth["health_event"]["time"]) in screen
    assert ground_truth["health_event"]["type"] in screen
    assert "CryptoCurrency:EC2/BitcoinTool.B!DNS" in screen and "PenTest:IAMUser/KaliLinux" in screen
    # how long
    assert _human(ground_truth["first_use"]["time"]) in screen
    assert "AWS quarantine after 30 min 15 s" in screen  # 1,815 s


def test_the_timeline_is_titled_once_with_readable_lanes_matching_the_phase_table(
    layouts: dict, ground_truth: dict, page: Path
) -> None:
    timeline = layouts[1400]["timeline"]
    assert timeline["response"] == ground_truth["counts"]["cloudtrail_events"]["aws_response"]
    assert not any("_" in t for t in timeline["ticks"])
    plot = next(p for p in layouts[1400]["plots"] if p["id"] == "fig-timeline")
    assert not plot["title"]  # the section's heading says "Attack timeline"
    assert _visible(page.read_text(encoding="utf-8")).count("Attack timeline") == 1


def test_the_cost_chart_opens_on_the_incident_with_the_month_behind_it(
    layouts: dict, ground_truth: dict
) -> None:
    import datetime as dt

    cost = layouts[1400]["cost"]
    lo, hi = (dt.datetime.fromisoformat(str(t)[:19]) for t in cost["range"])
    first = dt.datetime.fromisoformat(ground_truth["first_use"]["time"][:19])
    assert lo < first < hi and hi - lo <= dt.timedelta(days=1)  # the incident fills the view
    assert cost["first"].startswith(
        ground_truth["evidence_window"]["start"][:7] + "-01"
    )  # the month is drawn
