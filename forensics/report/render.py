"""Assemble the postmortem page: one HTML file, plotly.js inlined once, nothing fetched.

`build_report` takes what the library already computed (the investigate story, the hunt's
findings, an optional budget replay) and the open case for the frames the figures draw.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from importlib import resources
from string import Template
from typing import Any

import polars as pl

from .. import __version__, integrity
from ..case import Case
from ..plots.html import figures_html, full_plotlyjs, plotly_version
from ..timefmt import format_time, relative_duration
from . import frames, sections, text
from .figures import Figure, report_figures


def _section(anchor: str, heading: str, inner: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{inner}</section>'


def _figure_block(fig: Figure, rendered: str) -> str:
    return (
        f'<div class="figure" data-figure="{fig.key}"><h3>{html.escape(fig.heading)}</h3>'
        f'<p class="caption">{html.escape(fig.caption)}</p>{rendered}</div>'
    )


def thresholds_from_replay(replay: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Budget lines for the cost figure from a `Case.budget_replay` result (if any)."""
    if not replay:
        return []
    return [
        {
            "label": f"{alert['threshold_pct']:g}% of {replay.get('budget'):,.2f}",
            "amount": alert["amount"],
            "crossed_at": alert.get("fires_at"),
        }
        for alert in replay.get("alerts") or []
        if alert.get("amount") is not None
    ]


def build_report(
    case: Case,
    story: dict[str, Any],
    findings: list[dict[str, Any]] | None = None,
    budget: dict[str, Any] | None = None,
    title: str | None = None,
    events: pl.DataFrame | None = None,
) -> str:
    """The whole page as text."""
    if story.get("kind") == "automation":
        from .automation import build_report as automation_page

        return automation_page(case, story, findings, budget, title)
    findings = findings or []
    ours = [sections.linked(f, story) for f in findings if sections.related(f, story)]
    others = [f for f in findings if not sections.related(f, story)]
    running = list(story.get("still_running") or [])
    lifetimes = frames.instance_lifetimes(case, (story.get("run_instances") or {}).get("instances") or [])
    facts = text.Facts(
        pools=text.mining_pools(story, frames.mining_ports(case)),
        data=frames.data_access(case, story).to_dicts(),
        data_events=frames.data_events_recorded(case),
        running_regions={r["instance"]: r["region"] for r in lifetimes.iter_rows(named=True)},
    )
    story = sections.with_gap_times(story, lifetimes)
    figs = report_figures(case, story, thresholds_from_replay(budget), events)
    rendered = dict(
        zip(
            (f.key for f in figs),
            figures_html([(f"fig-{f.key}", f.figure) for f in figs], with_plotlyjs=False),
            strict=True,
        )
    )
    by_key = {f.key: _figure_block(f, rendered[f.key]) for f in figs}
    evidence = frames.evidence_files(case)

    story_html = "".join(f"<p>{html.escape(p)}</p>" for p in text.narrative(story, facts))
    parts = [
        _section(
            "story",
            "What happened",
            f'<div class="story">{story_html}</div>' + "<h3>Key moments</h3>" + sections.key_times(story),
        ),
        _section("phases", "Phases", sections.phase_table(story) + by_key["timeline"]),
        _section(
            "launches",
            "Launches and regions",
            '<div class="grid"><div>'
            + by_key["run-instances"]
            + by_key["writes"]
            + "</div><div><h3>Regions</h3>"
            + sections.launches_table(story)
            + "</div></div>",
        ),
        _section(
            "activity", "Activity and entities", by_key["key-activity"] + by_key["entities"] + by_key["flows"]
        ),
        findings_section(
            ours,
            others,
            "this intrusion",
            "Hunt results that name none of this intrusion's keys, principals, addresses or "
            "instances: separate stories to triage on their own.",
        ),
        _section(
            "still-running",
            f"Still running ({len(running)})",
            sections.still_running_table(running, lifetimes),
        ),
        _section("cost", "Cost", sections.cost_table(story) + _budget(budget) + by_key["cost"]),
        coverage_section(case, story, by_key["coverage"]),
        evidence_section(case, evidence),
    ]
    nav = nav_html(
        (
            ("story", "Story"),
            ("phases", "Phases"),
            ("launches", "Launches"),
            ("activity", "Activity"),
            ("findings", "Findings"),
            ("still-running", "Still running"),
            ("cost", "Cost"),
            ("coverage", "Coverage"),
            ("evidence", "Evidence"),
        )
    )
    meta = meta_html(case, story, evidence) + _address_data_note(case)
    glance = sections.glance(text.glance(story, facts))
    return page(title or text.headline(story, facts), glance, meta, nav, parts)


# The page frame both kinds of postmortem share (an intrusion's here, an automation incident's in
# report/automation.py): the closing sections, the navigation, the case line and the template.


def findings_section(
    ours: list[dict[str, Any]], others: list[dict[str, Any]], about: str, others_note: str = ""
) -> str:
    """The hunt's findings about the incident (`about`), then the others in the same evidence
    (with `others_note`, HTML, as their caption)."""
    note = f'<p class="caption">{others_note}</p>' if others_note else ""
    return _section(
        "findings",
        f"Findings ({len(ours)} about {about}, {len(others)} others)",
        sections.findings_table(ours)
        + "<h3>Other findings in the same evidence</h3>"
        + note
        + sections.findings_table(others),
    )


def coverage_section(case: Case, story: dict[str, Any], figure: str = "") -> str:
    """What the evidence covers and lacks (with its figure, if any), and the records the loader
    could not read."""
    return _section(
        "coverage",
        "Coverage and gaps",
        sections.coverage_tables(story)
        + figure
        + "<h3>Records that could not be read</h3>"
        + sections.frame_table(frames.rejects_summary(case), "compact", limit=50),
    )


def evidence_section(case: Case, evidence: pl.DataFrame) -> str:
    """The chain of custody and every evidence file with its digest."""
    return _section(
        "evidence",
        f"Evidence appendix ({evidence.height:,} files)",
        sections.custody_table(integrity.custody(case.con))
        + "<details><summary>Files and SHA-256 digests</summary>"
        + sections.frame_table(_appendix(evidence), "evidence")
        + "</details>",
    )


def nav_html(anchors: tuple[tuple[str, str], ...]) -> str:
    """The page's navigation: (anchor, name) of each section, in order."""
    return "".join(f'<a href="#{a}">{html.escape(n)}</a>' for a, n in anchors)


def meta_html(case: Case, story: dict[str, Any], evidence: pl.DataFrame) -> str:
    """The case file and the span of its evidence."""
    cov = story.get("coverage") or {}
    return (
        f"<p>Case file: {html.escape(str(case.path))}</p>"
        f"<p>Evidence from {text.fmt_time(cov.get('from'))} to "
        f"{text.fmt_time(cov.get('to'))}; {evidence.height:,} files.</p>"
    )


def page(title: str, glance: str, meta: str, nav: str, parts: list[str]) -> str:
    """The whole page: the template, plotly.js inlined once, the sections."""
    template = Template(resources.files(__package__).joinpath("template.html").read_text("utf-8"))
    return template.substitute(
        title=html.escape(title),
        version=html.escape(__version__),
        generated=format_time(datetime.now(UTC)),
        glance=glance,
        plotlyjs=plotlyjs()[1].replace("</script", "<\\/script"),
        meta=meta,
        nav=nav,
        body="\n".join(parts),
    )


CARTESIAN = "vendor/plotly-cartesian.min.js"


def plotlyjs() -> tuple[str, str]:
    """(which, source) of the plotly.js the page inlines once: the vendored cartesian bundle
    (scatter, bar, heatmap: every trace the report draws; 1.5 MB, MIT, see vendor/README.md)
    when its version is the one Plotly's Python package writes figures for, else the full
    library (4.8 MB)."""
    bundle = resources.files(__package__).joinpath(CARTESIAN)
    if bundle.is_file():
        source = bundle.read_text("utf-8")
        header = re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", source[:300])
        if header and header.group(1) == plotly_version():
            return "cartesian", source
    return "full", full_plotlyjs()


def _address_data_note(case: Case) -> str:
    """Which offline network data judged new networks, with the attribution its licence asks."""
    rows = case.sql("SELECT value FROM case_meta WHERE key = 'address_dataset'").rows()
    if not rows:
        return ""
    return (
        f"<p>Networks of addresses from {html.escape(str(rows[0][0]))}, offline. This product "
        "includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com "
        "(CC BY-SA 4.0), through the geoip2fast package.</p>"
    )


BUDGET_COLUMNS: list[tuple[str, str]] = [
    ("threshold_pct", "threshold %"),
    ("amount", "amount"),
    ("crossed_hour", "crossed in billing hour"),
    ("fires_at", "alert at"),
    ("fires_at_with_lag", "alert with Budgets' lag"),
    ("after_first_use", "alert vs the intrusion's first use"),
    ("after_first_use_with_lag", "with lag, vs first use"),
]


def _budget(budget: dict[str, Any] | None) -> str:
    """The budget replay: when each alert would have fired, against the intrusion's clock."""
    if not budget:
        return ""
    rows = []
    for alert in budget.get("alerts") or []:
        row = dict(alert)
        for key in ("crossed_hour", "fires_at", "fires_at_with_lag"):
            row[key] = text.fmt_time(alert.get(key))
        row["after_first_use"] = relative_duration(alert.get("after_first_use_s"), "first use")
        row["after_first_use_with_lag"] = relative_duration(
            alert.get("after_first_use_with_lag_s"), "first use"
        )
        row["amount"] = text.fmt_money(alert.get("amount"), budget.get("currency"))
        rows.append(row)
    head = (
        f"<h3>Budget replay</h3><p>A monthly budget of "
        f"{html.escape(text.fmt_money(budget.get('budget'), budget.get('currency')))} for "
        f"{html.escape(str(budget.get('month')))}, {html.escape(str(budget.get('granularity')))} "
        f"billing, Budgets' evaluation lag taken as {budget.get('lag_hours')} h; month-to-date "
        f"spend {html.escape(text.fmt_money(budget.get('month_to_date'), budget.get('currency')))}."
        "</p>"
    )
    return head + sections.table(rows, BUDGET_COLUMNS, "compact budget")


def _appendix(evidence: pl.DataFrame) -> pl.DataFrame:
    return evidence.select("path", "format", "status", "records_loaded", "rejected", "bytes", "sha256")
