"""What the analysts' notebooks share: figures that survive export, a case that never lands in
the repository, and findings shown whole (grouped by detection, every ARN, key and address in
full) rather than as a truncated frame.

Nothing here prints: `open_case` returns the sentence a notebook shows, and the views are
objects Jupyter displays (HTML for JupyterLab, exported HTML and GitHub; plain text elsewhere).
"""

from __future__ import annotations

import hashlib
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ..case import Case
from ..timefmt import format_duration, format_time, relative_duration
from . import sections
from .text import fmt_money

_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def setup(static: bool = False, rows: int = 100) -> str:
    """Figures as HTML as well as Plotly's own output (plus a PNG when `static`), and Polars
    frames shown with whole strings and up to `rows` rows. The renderer set."""
    from ..plots.notebook import use_notebook_renderer

    pl.Config.set_fmt_str_lengths(400)
    pl.Config.set_tbl_rows(rows)
    pl.Config.set_tbl_cols(-1)
    return use_notebook_renderer(static)


def cache_dir() -> Path:
    """Where notebooks keep the cases they build: `FORENSICS_CACHE`, else the user's cache
    directory (`XDG_CACHE_HOME` or `~/.cache`), never the checkout."""
    explicit = os.environ.get("FORENSICS_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "forensics"


def default_case_path(evidence: str | os.PathLike[str]) -> Path:
    """The case file for an evidence folder: one per folder, in `cache_dir()`."""
    where = str(Path(evidence).resolve())
    digest = hashlib.sha256(where.encode()).hexdigest()[:16]
    return cache_dir() / "cases" / f"{Path(where).name}-{digest}" / "case.duckdb"


def open_case(case_path: str | os.PathLike[str] | None, evidence: str | os.PathLike[str]) -> tuple[Case, str]:
    """The case read-only, and a sentence saying what was loaded. With `case_path=None` the
    evidence is loaded into `default_case_path(evidence)` (files already there are skipped:
    "already loaded")."""
    note = f"Case {case_path}"
    if case_path is None:
        case_path = default_case_path(evidence)
        Path(case_path).parent.mkdir(parents=True, exist_ok=True)
        with Case(case_path) as loading:
            report = loading.load([evidence], on_problem=lambda line: None)
            held = sum(loading.tables().values())
        note = load_note(report.to_dict(), held, case_path)
    return Case(case_path, read_only=True), note


def load_note(report: dict[str, Any], held: int, path: str | os.PathLike[str]) -> str:
    """`1,509 files: 21,213 records loaded into …` or `already loaded: …`."""
    files, skipped = report.get("files", 0), report.get("skipped_files", 0)
    if files and skipped == files:
        return f"Evidence already loaded ({files:,} files unchanged); the case {path} holds {held:,} records."
    extra = f", {report.get('rejected', 0):,} rejected" if report.get("rejected") else ""
    return (
        f"{report.get('loaded', 0):,} records loaded from {files - skipped:,} file(s) into {path}"
        f"{extra}" + (f"; {skipped:,} file(s) were already loaded" if skipped else "") + "."
    )


class Html:
    """An HTML fragment Jupyter displays as such (and as text where HTML is not shown)."""

    def __init__(self, markup: str, text: str = "") -> None:
        self.markup, self.text = markup, text

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return self.text or self.markup


FINDING_ENTITY_COLUMNS: list[tuple[str, str]] = [
    ("first_seen", "first seen"),
    ("last_seen", "last seen"),
    ("count", "events"),
    ("principal_arn", "principal"),
    ("access_key_id", "key"),
    ("source_ip", "address"),
    ("instances", "instances"),
    ("regions", "regions"),
    ("resources", "resources"),
]


def findings_by_detection(
    findings: Sequence[dict[str, Any]],
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(the detection's first finding, its rows) per detection, the most severe first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(str(f.get("detection")), []).append(f)
    ordered = sorted(
        groups.values(),
        key=lambda rows: (
            min(_SEVERITY.get(str(r.get("severity")), 5) for r in rows),
            min(str(r.get("first_seen") or "") for r in rows),
        ),
    )
    out = []
    for rows in ordered:
        rows = sorted(
            rows, key=lambda r: (_SEVERITY.get(str(r.get("severity")), 5), str(r.get("first_seen") or ""))
        )
        out.append((rows[0], rows))
    return out


def _entity_row(f: dict[str, Any]) -> dict[str, Any]:
    ents = f.get("entities") or {}
    return {
        "first_seen": format_time(f.get("first_seen")),
        "last_seen": format_time(f.get("last_seen")),
        "count": f.get("count"),
        "principal_arn": f.get("principal_arn"),
        "access_key_id": f.get("access_key_id"),
        "source_ip": f.get("source_ip"),
        "instances": ents.get("instances") or [],
        "regions": f.get("regions") or [],
        "resources": ents.get("resources") or [],
        "severity": f.get("severity"),
    }


def findings_view(findings: Sequence[dict[str, Any]]) -> Html:
    """Every finding, grouped by detection (most severe first), each with its entities whole."""
    if not findings:
        return Html('<p class="empty">No findings.</p>', "No findings.")
    parts = [f"<p>{len(findings)} finding(s) from {len(findings_by_detection(findings))} detection(s).</p>"]
    lines = []
    for head, rows in findings_by_detection(findings):
        severities = sorted({str(r.get("severity")) for r in rows}, key=lambda s: _SEVERITY.get(s, 5))
        entity_rows = [_entity_row(r) for r in rows]
        cols = [
            c for c in FINDING_ENTITY_COLUMNS if any(r.get(c[0]) not in (None, [], "") for r in entity_rows)
        ]
        if len({r["severity"] for r in entity_rows}) > 1:
            cols = [("severity", "severity"), *cols]
        parts.append(
            f"<h4>{html.escape(str(head.get('detection')))} · {html.escape('/'.join(severities))} · "
            f"{len(rows)} finding(s)</h4><p>{html.escape(str(head.get('title') or ''))} "
            f"<em>({html.escape(', '.join(head.get('tactics') or [head.get('tactic') or '']))})</em></p>"
            + sections.table(entity_rows, cols)
        )
        lines.append(f"{head.get('detection')} ({'/'.join(severities)}): {len(rows)}")
        for r in entity_rows:
            named = [str(r[k]) for k in ("principal_arn", "access_key_id", "source_ip") if r.get(k)]
            named += [str(i) for i in r["instances"]]
            lines.append(f"  {r['first_seen']}  {r['count']} event(s)  {'  '.join(named)}")
    return Html("".join(parts), "\n".join(lines))


def cost_view(story: dict[str, Any]) -> Html:
    """The intrusion's billed cost: total, then per region, most expensive first."""
    cost = story.get("cost") or {}
    currency = cost.get("currency") or "USD"
    total = fmt_money(cost.get("total"), currency)
    rows = [
        {"region": r, "cost": fmt_money(v, currency)}
        for r, v in sorted((cost.get("by_region") or {}).items(), key=lambda kv: -(kv[1] or 0))
    ]
    head = f"Billed to the intrusion's resources so far: {total} in {len(rows)} region(s)."
    text = head + "\n" + "\n".join(f"  {r['region']:<16} {r['cost']:>14}" for r in rows)
    return Html(
        f"<p><strong>{html.escape(head)}</strong></p>"
        + sections.table(rows, [("region", "region"), ("cost", "cost")]),
        text,
    )


def budget_view(replay: dict[str, Any]) -> Html:
    """When each budget alert would have fired, against the intrusion's first use."""
    rows = []
    currency = replay.get("currency")
    for a in replay.get("alerts") or []:
        rows.append(
            {
                "threshold": f"{a.get('threshold_pct'):g}% ({fmt_money(a.get('amount'), currency)})",
                "crossed": format_time(a.get("crossed_hour")),
                "alert": format_time(a.get("fires_at")),
                "alert_lag": format_time(a.get("fires_at_with_lag")),
                "vs_first_use": relative_duration(a.get("after_first_use_s"), "first use"),
                "vs_first_use_lag": relative_duration(a.get("after_first_use_with_lag_s"), "first use"),
            }
        )
    cols = [
        ("threshold", "threshold"),
        ("crossed", "crossed in billing hour"),
        ("alert", "alert"),
        ("alert_lag", f"alert with {format_duration((replay.get('lag_hours') or 0) * 3600)} Budgets lag"),
        ("vs_first_use", "alert vs first use"),
        ("vs_first_use_lag", "with lag, vs first use"),
    ]
    head = (
        f"Monthly budget {fmt_money(replay.get('budget'), currency)} for {replay.get('month')}; "
        f"month-to-date spend {fmt_money(replay.get('month_to_date'), currency)} "
        f"({replay.get('granularity')} billing)."
    )
    text = (
        head + "\n" + "\n".join(f"  {r['threshold']}: alert {r['alert']} ({r['vs_first_use']})" for r in rows)
    )
    return Html(f"<p>{html.escape(head)}</p>" + sections.table(rows, cols), text)


__all__ = [
    "Html",
    "budget_view",
    "cache_dir",
    "cost_view",
    "default_case_path",
    "findings_by_detection",
    "findings_view",
    "load_note",
    "open_case",
    "setup",
]
