"""The postmortem page of an automation incident (a Lambda function that ran away: the story of
`forensics.investigate.automation`): what set it going, the loop, the cost by hour with the budget
replay on the function's own lines, what stopped it and who, the hunt's findings about it, coverage
and the evidence appendix. Same template and plotly.js as the intrusion's page."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import polars as pl

from ..case import Case
from ..plots import cost_by_region
from ..plots.html import figures_html
from ..timefmt import relative_duration
from . import frames, sections, text
from .figures import Figure
from .render import (
    _figure_block,
    _section,
    coverage_section,
    evidence_section,
    findings_section,
    meta_html,
    nav_html,
    page,
    thresholds_from_replay,
)


def headline(story: dict[str, Any]) -> str:
    a = story["automation"]
    if a["runaway"]:
        return f"Automation incident: Lambda function {a['function']} ran away"
    return f"Lambda function {a['function']}: no runaway loop"


def narrative(story: dict[str, Any]) -> list[str]:
    """The story in sentences (plain text: escaped where it is written into the page)."""
    a = story["automation"]
    cost = story["cost"]
    d = story["durations_s"]
    loop = a.get("loop")
    out = []
    start = a["start"]
    if start["change"]:
        c = start["change"]
        out.append(
            f"{c['event_name']} by {c['by']} from {c['source_ip']} at {text.fmt_time(c['time'])} "
            f"set {a['function']} going; its first call came "
            f"{text.fmt_duration(d['start_change_to_first_call'])} later."
        )
    else:
        out.append(f"{a['function']} first ran at {text.fmt_time(start['time'])}; {start['note']}.")
    if loop:
        out.append(
            f"It then sent {loop['calls']:,} identical {loop['event_name']} calls on {loop['resource']} "
            f"({loop['failed']:,} failed, {loop['error_code']}) at {loop['calls_per_minute']} a minute "
            f"for {text.fmt_duration(d['loop'])}, in {loop['sessions']} sessions of its role: there was "
            "no intruder, the function looped."
        )
    else:
        out.append(
            "Its own calls show no runaway loop (no write repeated with the same request at loop scale)."
        )
    if a["invocations"]["total"]:
        out.append(
            f"The bill counts {a['invocations']['total']:,} invocations "
            f"(at most {a['invocations']['peak_per_hour']:,} in one hour)."
        )
    out.append(
        f"Its usage lines and its log group's cost {text.fmt_money(cost['total'], cost['currency'])}, "
        f"billed until {text.fmt_time(cost['billed_until'])}."
        + (
            " At its last hourly rate it would cost "
            f"{text.fmt_money(cost['projected']['amount'], cost['currency'])} more to the end of "
            "the evidence (an estimate, not in the total)."
            if cost.get("projected")
            else ""
        )
    )
    stop = a["stop"]
    if stop:
        out.append(
            f"{stop['by']} stopped it with {stop['event_name']} from {stop['source_ip']} at "
            f"{text.fmt_time(stop['time'])}, {text.fmt_duration(d['first_call_to_stop'])} "
            "after its first call."
        )
    elif loop:
        out.append("Nothing in the evidence stopped it.")
    return out


def key_times(story: dict[str, Any]) -> str:
    a = story["automation"]
    d = story["durations_s"]
    start = (a["start"]["change"] or {}).get("time")
    rows = [
        {"moment": "change that set it going", "time": text.fmt_time(start), "after": ""},
        {"moment": "first call of the run", "time": text.fmt_time(a["start"]["time"]), "after": "0 s"},
        {"moment": "last call", "time": text.fmt_time(a["last_call"]), "after": text.fmt_duration(d["loop"])},
        {
            "moment": "change that stopped it",
            "time": text.fmt_time((a["stop"] or {}).get("time")),
            "after": text.fmt_duration(d["first_call_to_stop"]),
        },
    ]
    return sections.table(
        rows, [("moment", "moment"), ("time", "time"), ("after", "after the first call")], "compact"
    )


def changes_table(story: dict[str, Any]) -> str:
    rows = [
        {
            "time": text.fmt_time(c["time"]),
            "effect": c["effect"],
            "call": c["event_name"],
            "by": c["by"],
            "from": c["source_ip"],
            "request": c["request"],
        }
        for c in story["automation"]["changes"]
    ]
    cols = [
        ("time", "time"),
        ("effect", "effect"),
        ("call", "call"),
        ("by", "by"),
        ("from", "from"),
        ("request", "request"),
    ]
    return sections.table(rows, cols, "compact")


def _budget(budget: dict[str, Any] | None) -> str:
    if not budget:
        return ""
    rows = []
    for alert in budget.get("alerts") or []:
        rows.append(
            {
                "threshold_pct": alert["threshold_pct"],
                "amount": text.fmt_money(alert.get("amount"), budget.get("currency")),
                "fires_at": text.fmt_time(alert.get("fires_at")),
                "fires_at_with_lag": text.fmt_time(alert.get("fires_at_with_lag")),
                "after_start": relative_duration(alert.get("after_run_start_with_lag_s"), "the first call"),
                "before_stop": relative_duration(alert.get("after_stop_with_lag_s"), "the stop")
                if budget.get("stopped")
                else "never stopped",
            }
        )
    head = (
        f"<h3>Budget replay on this function</h3><p>A monthly budget of "
        f"{html.escape(text.fmt_money(budget.get('budget'), budget.get('currency')))} on the function's "
        f"and its log group's lines for {html.escape(str(budget.get('month')))}, Budgets' lag "
        f"{budget.get('lag_hours')} h.</p>"
    )
    cols = [
        ("threshold_pct", "threshold %"),
        ("amount", "amount"),
        ("fires_at", "alert at"),
        ("fires_at_with_lag", "with Budgets' lag"),
        ("after_start", "with lag, vs the first call"),
        ("before_stop", "with lag, vs the stop"),
    ]
    return head + sections.table(rows, cols, "compact budget")


def build_report(
    case: Case,
    story: dict[str, Any],
    findings: list[dict[str, Any]] | None = None,
    budget: dict[str, Any] | None = None,
    title: str | None = None,
) -> str:
    a = story["automation"]
    findings = findings or []
    names = {a["function"], a["function_arn"], *story.get("principals", []), *a["roles"]}
    ours = [f for f in findings if _names(f) & names]
    others = [f for f in findings if not _names(f) & names]
    cost = story["cost"]
    frame = pl.DataFrame(
        {
            "hour": [datetime.fromisoformat(h.replace("Z", "+00:00")) for h in cost["by_hour"]],
            "region": [a["region"]] * len(cost["by_hour"]),
            "cost": list(cost["by_hour"].values()),
        },
        schema={"hour": pl.Datetime("us", "UTC"), "region": pl.Utf8, "cost": pl.Float64},
    )
    fig = Figure(
        "cost",
        "Cost by hour",
        "The function's and its log group's usage lines per billing hour, and the running total "
        "(with the budget replay's thresholds when a budget was given).",
        cost_by_region(
            frame,
            thresholds_from_replay(budget),
            a["start"]["time"],
            cost["currency"],
            f"Cost of {a['function']} by hour",
        ),
    )
    rendered = figures_html([(f"fig-{fig.key}", fig.figure)], with_plotlyjs=False)[0]
    evidence = frames.evidence_files(case)
    story_html = "".join(f"<p>{html.escape(p)}</p>" for p in narrative(story))
    parts = [
        _section(
            "story",
            "What happened",
            f'<div class="story">{story_html}</div><h3>Key moments</h3>' + key_times(story),
        ),
        _section("changes", "Changes to the function", changes_table(story)),
        _section("cost", "Cost", sections.cost_table(story) + _budget(budget) + _figure_block(fig, rendered)),
        findings_section(ours, others, "this function"),
        coverage_section(case, story),
        evidence_section(case, evidence),
    ]
    nav = nav_html(
        (
            ("story", "Story"),
            ("changes", "Changes"),
            ("cost", "Cost"),
            ("findings", "Findings"),
            ("coverage", "Coverage"),
            ("evidence", "Evidence"),
        )
    )
    meta = meta_html(case, story, evidence)
    stop = a["stop"] or {}
    loop = a["loop"]
    glance = sections.glance(
        [
            (
                "What ran away?",
                f"{a['function']}: {loop['calls']:,} identical {loop['event_name']} calls"
                if loop
                else f"Nothing: {a['function']} shows no runaway loop",
                "bad" if loop else "ok",
            ),
            (
                "What did it cost?",
                f"{text.fmt_money(cost['total'], cost['currency'])}, billed until "
                f"{text.fmt_time(cost['billed_until'])}",
                "bad" if loop and cost["total"] else "info",
            ),
            (
                "Who stopped it, and when?",
                f"{stop['by']} at {text.fmt_time(stop['time'])} ({stop['event_name']})"
                if stop
                else ("Nobody in the evidence" if loop else "Nothing to stop"),
                "ok" if stop else ("bad" if loop else "info"),
            ),
        ]
    )
    return page(title or headline(story), glance, meta, nav, parts)


def _names(finding: dict[str, Any]) -> set[str]:
    named = {finding.get("access_key_id"), finding.get("principal_arn"), finding.get("resource")}
    for values in (finding.get("entities") or {}).values():
        named |= set(values or [])
    return {n for n in named if n}
