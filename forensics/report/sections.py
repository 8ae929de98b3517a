"""HTML sections of the report: tables built from the story, the findings and the case.

Every value is escaped here; nothing from the evidence (user agents, ARNs, error messages)
reaches the page as markup.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from ..investigate.context import iso, parse_time
from ..plots.theme import lane_label
from .text import fmt_duration, fmt_money, fmt_time

Column = tuple[str, str]  # (key, heading)


def esc(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return html.escape(json.dumps(value, default=str, sort_keys=True))
    return html.escape(str(value))


_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC")


def cell(value: Any) -> str:
    """A cell's markup: escaped, and a timestamp kept on one line (never `…02:51:43 / UTC`)."""
    text = esc(value)
    if isinstance(value, str) and _TIME.match(value):
        return f'<span class="nw">{text}</span>'
    return text


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], cls: str = "") -> str:
    """A plain table in a container that scrolls sideways when the page is narrower than the
    table (nothing is ever cut off); an empty one says so instead of vanishing."""
    if not rows:
        return '<p class="empty">None in the evidence.</p>'
    head = "".join(f'<th class="c-{html.escape(k)}">{html.escape(h)}</th>' for k, h in columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="c-{html.escape(k)}">{cell(row.get(k))}</td>' for k, _ in columns)
        + "</tr>"
        for row in rows
    )
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<div class="scroll"><table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def glance(rows: Sequence[tuple[str, str, str]]) -> str:
    """The first screen: each question and its answer, the bad news marked."""
    items = "".join(
        f'<div class="q {html.escape(tone)}"><dt>{html.escape(q)}</dt><dd>{html.escape(a)}</dd></div>'
        for q, a, tone in rows
    )
    return f'<dl class="glance">{items}</dl>'


def frame_table(frame: pl.DataFrame, cls: str = "", limit: int | None = None) -> str:
    shown = frame if limit is None else frame.head(limit)
    rows = [{k: _cell(v) for k, v in row.items()} for row in shown.iter_rows(named=True)]
    out = table(rows, [(c, c) for c in frame.columns], cls)
    if limit is not None and frame.height > limit:
        out += f'<p class="note">{frame.height - limit:,} more rows not shown.</p>'
    return out


def _cell(value: Any) -> Any:
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return fmt_time(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return value


def key_times(story: dict[str, Any]) -> str:
    """The moments that matter and the time between them."""
    first = (story.get("first_use") or {}).get("time")
    durations = story.get("durations_s") or {}
    quarantine = (story.get("aws_quarantine") or {}).get("time")
    contained = (story.get("containment") or {}).get("time")
    rows = [
        {"moment": "key first seen", "time": fmt_time(story.get("key_first_seen")), "after": ""},
        {"moment": "first use by the intruder", "time": fmt_time(first), "after": "0 s"},
        {
            "moment": "first instance launched",
            "time": _plus(first, durations.get("first_use_to_run_instances")),
            "after": fmt_duration(durations.get("first_use_to_run_instances")),
        },
        {
            "moment": "AWS quarantine",
            "time": fmt_time(quarantine),
            "after": fmt_duration(durations.get("first_use_to_quarantine")),
        },
        {
            "moment": "containment by responders",
            "time": fmt_time(contained),
            "after": fmt_duration(durations.get("first_use_to_containment")),
        },
    ]
    return table(rows, [("moment", "moment"), ("time", "time"), ("after", "after first use")], "compact")


def _plus(start: Any, seconds: int | None) -> str:
    t = parse_time(start) if start else None
    if t is None or seconds is None:
        return "—"
    from datetime import timedelta

    return fmt_time(t + timedelta(seconds=seconds))


def phase_table(story: dict[str, Any]) -> str:
    rows = []
    for p in story.get("phases") or []:
        start, end = parse_time(p.get("start")), parse_time(p.get("end"))
        span = (end - start).total_seconds() if start and end else None
        rows.append(
            {
                "phase": lane_label(str(p.get("phase"))),
                "start": fmt_time(start),
                "end": fmt_time(end),
                "duration": fmt_duration(span),
                "events": p.get("events"),
                "denied": p.get("denied"),
                "notable": p.get("notable"),
            }
        )
    return table(
        rows,
        [
            ("phase", "phase"),
            ("start", "start"),
            ("end", "end"),
            ("duration", "duration"),
            ("events", "events"),
            ("denied", "denied"),
            ("notable", "notable calls"),
        ],
        "phases",
    )


def launches_table(story: dict[str, Any]) -> str:
    run = story.get("run_instances") or {}
    regions = sorted(set(run.get("attempted_regions") or []) | set(run.get("regions") or []))
    new, ok, failed = (set(run.get(k) or []) for k in ("new_regions", "regions", "failed_regions"))
    rows = [
        {
            "region": r,
            "succeeded": "yes" if r in ok else "",
            "failed": "yes" if r in failed else "",
            "new to the account": "yes" if r in new else "",
        }
        for r in regions
    ]
    return table(
        rows,
        [
            ("region", "region"),
            ("succeeded", "launched"),
            ("failed", "failed"),
            ("new to the account", "new to the account"),
        ],
        "compact",
    )


FINDING_COLUMNS: list[Column] = [
    ("first_seen", "first seen"),
    ("severity", "severity"),
    ("finding", "finding"),
    ("tactic", "tactics"),
    ("who", "principal, key, address"),
    ("instances", "instances"),
    ("count", "events"),
    ("regions", "regions"),
]


def _regions(regions: Sequence[str]) -> str:
    """A few regions by name; many as a count, named in full on hover."""
    if len(regions) <= 3:
        return esc(list(regions))
    return f'<span title="{esc(list(regions))}">{len(regions)} regions</span>'


def _lines(values: Sequence[Any], limit: int = 4) -> str:
    """Values one per line (each kept whole), the rest counted."""
    shown = [f'<span class="nw">{esc(v)}</span>' for v in values[:limit]]
    if len(values) > limit:
        shown.append(f"… {len(values) - limit} more")
    return "<br>".join(shown)


def related(finding: dict[str, Any], story: dict[str, Any]) -> bool:
    """Whether a hunt finding concerns this story's intrusion (its keys, minted credentials,
    principals, addresses or instances)."""
    run = story.get("run_instances") or {}
    ours = (
        set(story.get("access_keys") or [])
        | set(story.get("derived_credentials") or [])
        | set(story.get("principals") or [])
        | set(story.get("source_ips") or [])
        | set(run.get("instances") or [])
    )
    ents = finding.get("entities") or {}
    named = {finding.get("access_key_id"), finding.get("principal_arn"), finding.get("source_ip")}
    for values in ents.values():
        named |= set(values or [])
    return bool(ours & named)


def linked(finding: dict[str, Any], story: dict[str, Any]) -> dict[str, Any]:
    """A finding about one of the intrusion's instances that names no principal or key (a
    GuardDuty EC2 finding) gets the principal and key that launched it, as the story links
    them (`linked_by` says so)."""
    if finding.get("principal_arn") or finding.get("access_key_id"):
        return finding
    launched = set((story.get("run_instances") or {}).get("instances") or [])
    instances = set((finding.get("entities") or {}).get("instances") or [])
    if not instances & launched:
        return finding
    keys = story.get("access_keys") or []
    return {
        **finding,
        "principal_arn": story.get("principal_arn"),
        "access_key_id": keys[0] if len(keys) == 1 else None,
        "linked_by": "launched the instance",
    }


def _billing_detections() -> set[str]:
    """Detections that read the bill: their times are usage hours, not moments."""
    from ..catalog import catalog

    return {q.id for q in catalog().values() if q.sources and q.sources[0] == "billing"}


def findings_table(findings: Sequence[dict[str, Any]]) -> str:
    """Findings by time; a billing finding's time is its usage hour, placed at the hour's end
    (the spend is known once the hour is billed) and shown as the hour it is."""
    from datetime import timedelta

    hourly = _billing_detections()
    rows = []
    for f in findings:
        start = parse_time(f.get("first_seen")) if f.get("first_seen") else None
        when, order = fmt_time(start), start
        if start is not None and f.get("detection") in hourly:
            when = f"{fmt_time(start)[:-7]}–{(start + timedelta(hours=1)):%H:%M} UTC (billing hour)"
            order = start + timedelta(hours=1)
        principal = (f.get("principal_arn") or "").split(":", 5)[-1] or None
        if principal and f.get("linked_by"):
            principal += " (launched the instance)"
        rows.append(
            {
                **f,
                "first_seen": when,
                "_order": order,
                "principal_arn": principal,
                "tactic": " → ".join(
                    str(t).replace("_", " ") for t in (f.get("tactics") or [f.get("tactic")]) if t
                ),
                "detection": str(f.get("detection") or ""),
                "instances": (f.get("entities") or {}).get("instances") or [],
            }
        )
    rows.sort(key=lambda r: (r["_order"] is None, r["_order"] or 0))
    if not rows:
        return table(rows, FINDING_COLUMNS)
    head = "".join(f'<th class="c-{k}">{html.escape(h)}</th>' for k, h in FINDING_COLUMNS)
    body = []
    for r in rows:
        ids = [v for v in (r.get("access_key_id"), r.get("source_ip")) if v]
        cells = {
            "first_seen": cell(r["first_seen"]),
            "severity": esc(r.get("severity")),
            "finding": f"<strong>{esc(r['detection'])}</strong><br>{esc(r.get('title'))}",
            "tactic": esc(r["tactic"]),
            # a long role-session ARN may wrap; a key or an address never does
            "who": "<br>".join(
                ([esc(r["principal_arn"])] if r.get("principal_arn") else [])
                + ([_lines(ids, 2)] if ids else [])
            ),
            "instances": _lines(r["instances"]),
            "count": esc(r.get("count")),
            "regions": _regions(r.get("regions") or []),
        }
        body.append(
            "<tr>" + "".join(f'<td class="c-{k}">{cells[k]}</td>' for k, _ in FINDING_COLUMNS) + "</tr>"
        )
    return (
        f'<div class="scroll"><table class="findings"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def still_running_table(instances: Sequence[str], lifetimes: pl.DataFrame) -> str:
    """The story's still-running instances, with where and when CloudTrail saw them start."""
    known = {r["instance"]: r for r in lifetimes.iter_rows(named=True)}
    rows = [{**known.get(i, {}), "instance": i} for i in instances]
    for row in rows:
        row["launched"] = fmt_time(row.get("launched"))
    return table(
        rows,
        [
            ("instance", "instance"),
            ("region", "region"),
            ("instance_type", "type"),
            ("launched", "launched"),
            ("source_ip", "launched from"),
        ],
        "compact",
    )


def cost_table(story: dict[str, Any]) -> str:
    cost = story.get("cost") or {}
    currency = cost.get("currency") or "USD"
    by_region = cost.get("by_region") or {}
    rows = [
        {"region": r, "cost": fmt_money(v, currency)}
        for r, v in sorted(by_region.items(), key=lambda kv: -(kv[1] or 0))
    ]
    rows.append({"region": "total", "cost": fmt_money(cost.get("total"), currency)})
    return table(rows, [("region", "region"), ("cost", "incident cost")], "compact")


def with_gap_times(story: dict[str, Any], lifetimes: pl.DataFrame) -> dict[str, Any]:
    """The story with each flow-log gap given its real span: from the first launch of the
    region's instances (nothing could be logged before they existed) to their last
    termination, or the end of the evidence while one still runs."""
    cov = story.get("coverage") or {}
    gaps = cov.get("gaps") or []
    if not gaps or lifetimes.is_empty():
        return story
    end = cov.get("to")
    spans: dict[str, tuple[Any, Any]] = {}
    for row in lifetimes.iter_rows(named=True):
        stop = row.get("terminated") or parse_time(end)
        start0, stop0 = spans.get(row["region"], (row["launched"], stop))
        spans[row["region"]] = (min(start0, row["launched"]), max(stop0, stop) if stop0 and stop else None)
    filled = []
    for gap in gaps:
        gap = dict(gap)
        if "flow" in str(gap.get("kind")) and gap.get("region") in spans and not gap.get("from"):
            start, stop = spans[gap["region"]]
            gap["from"], gap["to"] = iso(start), iso(stop)
        filled.append(gap)
    return {**story, "coverage": {**cov, "gaps": filled}}


def coverage_tables(story: dict[str, Any]) -> str:
    cov = story.get("coverage") or {}
    sources = cov.get("sources") or {}
    rows = []
    for name, info in sources.items():
        row = {"source": name}
        row.update(info if isinstance(info, dict) else {"records": info})
        for k in ("from", "to"):
            if k in row:
                row[k] = fmt_time(row[k])
        for k in ("records", "files"):
            if isinstance(row.get(k), int):
                row[k] = f"{row[k]:,}"
        rows.append(row)
    keys = [k for k in ("records", "files", "from", "to") if any(k in r for r in rows)]
    extra = sorted({k for r in rows for k in r} - {"source", *keys})
    out = table(rows, [("source", "source")] + [(k, k) for k in keys + extra], "compact")
    span = f"{fmt_time(cov.get('from'))} to {fmt_time(cov.get('to'))}"
    regions = cov.get("regions") or []
    out += f"<p>CloudTrail spans {esc(span)} and covers {len(regions)} region(s): "
    out += f"{esc(regions)}.</p>"
    gaps = cov.get("gaps") or []
    gap_rows = [dict(g) for g in gaps]
    for g in gap_rows:
        for k in ("from", "to"):
            if k in g:
                g[k] = fmt_time(g[k])
    gap_keys = ["kind", "from", "to", "source", "region", "detail"]
    cols = [(k, k) for k in gap_keys if any(k in g for g in gap_rows)]
    cols += [(k, k) for k in sorted({k for g in gap_rows for k in g} - set(gap_keys))]
    out += f"<h3>Gaps ({len(gap_rows)})</h3>"
    if not gap_rows:
        return out + '<p class="empty">No gap found in the evidence.</p>'
    return out + table(gap_rows, cols, "gaps")


def custody_table(rows: Sequence[dict[str, Any]]) -> str:
    """Chain of custody (forensics.integrity.custody): who acquired the evidence, when, the
    manifest's seal, and how many files AWS's digest signatures prove (verdict counts)."""
    if not rows:
        return '<p class="empty">No acquisition manifest loaded and no integrity verification run.</p>'
    shown = [
        {
            **r,
            "integrity": ", ".join(f"{n:,} {v}" for v, n in (r.get("integrity") or {}).items())
            or "not verified",
        }
        for r in rows
    ]
    columns = [
        ("acquired_by", "Acquired by"),
        ("started_at", "Started"),
        ("finished_at", "Finished"),
        ("objects", "Objects"),
        ("seal", "Seal (SHA-256 of acquisition.json)"),
        ("integrity", "CloudTrail integrity (files)"),
    ]
    return "<h3>Chain of custody</h3>" + table(shown, columns, "compact")
