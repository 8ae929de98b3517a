"""HTML sections of the report: tables built from the story, the findings and the case.

Every value is escaped here; nothing from the evidence (user agents, ARNs, error messages)
reaches the page as markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from ..investigate.context import parse_time
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


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], cls: str = "") -> str:
    """A plain table; an empty one says so instead of vanishing."""
    if not rows:
        return '<p class="empty">None in the evidence.</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(row.get(k))}</td>" for k, _ in columns) + "</tr>" for row in rows
    )
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
    return table(
        rows, [("moment", "moment"), ("time", "time (UTC)"), ("after", "after first use")], "compact"
    )


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
                "phase": p.get("phase"),
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
            ("start", "start (UTC)"),
            ("end", "end (UTC)"),
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
    ("first_seen", "first seen (UTC)"),
    ("severity", "severity"),
    ("detection", "detection"),
    ("title", "title"),
    ("tactic", "tactic"),
    ("principal_arn", "principal"),
    ("access_key_id", "key"),
    ("source_ip", "address"),
    ("count", "count"),
    ("regions", "regions"),
]


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


def findings_table(findings: Sequence[dict[str, Any]]) -> str:
    rows = [
        {
            **f,
            "first_seen": fmt_time(f.get("first_seen")),
            "principal_arn": (f.get("principal_arn") or "").split(":", 5)[-1] or None,
        }
        for f in findings
    ]
    return table(rows, FINDING_COLUMNS, "findings")


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
            ("launched", "launched (UTC)"),
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


def coverage_tables(story: dict[str, Any]) -> str:
    cov = story.get("coverage") or {}
    sources = cov.get("sources") or {}
    rows = []
    for name, info in sources.items():
        row = {"source": name}
        row.update(info if isinstance(info, dict) else {"records": info})
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
