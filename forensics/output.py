"""Terminal output for the CLI: progress on stderr, tables for people, frames in several formats,
the Timesketch timeline export, and the `schema_version` every JSON document carries.

People read times as `2026-05-14 02:51:43 UTC` and spans as `2 min 36 s` (forensics.timefmt);
machine formats (JSON, CSV, Parquet, Timesketch) keep ISO 8601.

Every cell of text a person reads goes through `cell()`, and every text cell of a CSV through
`csv_cell()`: the one place where hostile content (terminal control characters, spreadsheet
formulas) is neutralised.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import escape
from .ingest.outcome import LoadReport
from .timefmt import format_duration, format_time

if TYPE_CHECKING:  # imported where frames are printed: `load` does not need polars
    import polars as pl

# The version of every JSON document the CLI writes (forensics/schemas/<document>.schema.json).
# Raise the minor for added fields, the major when a field changes meaning or disappears.
SCHEMA_VERSION = "1.0"
# Rows a table on a terminal shows unless --limit says otherwise (files and JSON: all rows).
TERMINAL_LIMIT = 50

err = Console(stderr=True)


def stdout_is_terminal() -> bool:
    """Whether a person is reading stdout (the default --limit applies only then)."""
    return sys.stdout.isatty()


# -- the one place where text is rendered ---------------------------------------------------------
def cell(value: Any) -> str:
    """A value as text for a person (table cell, Markdown, summary line): times in the one human
    format, lists joined, one line. Hostile-content neutralisation (terminal control characters)
    hooks in here."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return escape.terminal(json.dumps(value, default=str))
    return escape.terminal(value)  # one line; no escape sequence or control character survives


def csv_cell(value: Any) -> Any:
    """A value for a spreadsheet CSV cell (numbers stay numbers). CSV-formula neutralisation
    happens here; Timesketch CSV does not pass through it (its exports are never altered)."""
    return escape.csv_cell(value)


def with_version(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with `schema_version` first."""
    return {"schema_version": SCHEMA_VERSION, **{k: v for k, v in doc.items() if k != "schema_version"}}


def load_document(report: LoadReport) -> dict[str, Any]:
    """`load --format json` (DESIGN.md): the totals and counts by source, no per-file list."""
    doc = report.to_dict()
    doc.pop("file_outcomes", None)
    return with_version(doc)


# -- progress -----------------------------------------------------------------------------------------
@contextlib.contextmanager
def progress(enabled: bool = True) -> Iterator:
    """A progress callback `(stage, done, total)` drawing a bar on stderr (or nothing)."""
    if not enabled or not err.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("loading", total=None)
    with bar:
        yield lambda stage, done, total: bar.update(task, description=stage, completed=done, total=total)


def _console(width: int = 200) -> Console:
    """stdout; on a terminal its own width, in a pipe or file a wide one (no folded rows)."""
    return Console(file=sys.stdout, width=None if stdout_is_terminal() else width)


def _add_row(table: Table, *values: Any) -> None:
    """A table row whose text is shown as it is: evidence text is never read as rich markup."""
    table.add_row(*(Text(escape.terminal(v)) if isinstance(v, str) else v for v in values))


# -- load, queries ------------------------------------------------------------------------------------
def print_load_report(report: LoadReport) -> None:
    """What a load did. Files already in the case say so ("already loaded"), apart from the
    table of files read."""
    out = _console()
    read_files = [f for f in report.files if not f.skipped]
    skipped = [f for f in report.files if f.skipped]
    if read_files:
        sub = LoadReport(files=read_files)
        table = Table(title="Load report")
        for col in ("source", "files", "read", "loaded", "duplicates", "rejected"):
            table.add_column(col, justify="right" if col != "source" else "left")
        for source, agg in sorted(sub.by_source().items()):
            _add_row(
                table,
                "unrecognised" if source in ("", "unknown") else cell(source),
                *(str(agg[k]) for k in ("files", "read", "loaded", "duplicates", "rejected")),
            )
        out.print(table)
        out.print(
            f"read {report.read:,} = loaded {report.loaded:,} + duplicates {report.duplicates:,} "
            f"+ rejected {report.rejected:,}; {report.rejected_files} files rejected"
        )
    if skipped:
        reasons: dict[str, int] = {}
        for f in skipped:
            reasons[_skip_reason(f.status, f.detail)] = reasons.get(_skip_reason(f.status, f.detail), 0) + 1
        detail = "; ".join(f"{n:,} {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
        if not read_files:
            out.print(f"already loaded: nothing new to read ({detail})", markup=False)
        else:
            out.print(f"skipped: {detail}", markup=False)
    if not report.files:
        out.print("no evidence files found at the given paths")


def _skip_reason(status: str, detail: str) -> str:
    if status in ("skipped-loaded", "skipped-duplicate", "skipped-duplicate-file") or "already" in detail:
        return "files already in the case"
    return cell(detail) or status.replace("skipped-", "skipped: ")


def print_catalog(items: list[dict]) -> None:
    table = Table(title=f"Catalogue: {len(items)} queries and rules")
    for col in ("id", "kind", "tactic", "severity", "params", "title", "attack"):
        table.add_column(col, no_wrap=col == "id")
    for q in items:
        _add_row(
            table,
            cell(q["id"]),
            cell("rule" if q.get("rule") else q["kind"]),
            cell(q["tactic"]),
            cell(q["severity"]),
            cell(", ".join(q.get("params") or {})),
            cell(q["title"]),
            cell("\n".join(q.get("attack_names") or q.get("attack") or [])),
        )
    _console().print(table)


# -- frames (query results) ---------------------------------------------------------------------------
def text_table(df: pl.DataFrame) -> str:
    """A pager-friendly table: one line per row (never folded), columns padded, a header and a
    rule; `less -S` scrolls it sideways, `grep` finds rows."""
    rows = [[cell(v) for v in row] for row in df.iter_rows()]
    header = list(df.columns)
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def print_frame(df: pl.DataFrame, total: int | None = None) -> None:
    """A query result on stdout as a pager-friendly table, with "N of M shown" when cut."""
    text = text_table(df)
    if total is not None and total > df.height:
        text += (
            f"{df.height:,} of {total:,} rows shown "
            "(--limit 0 for all; --format csv|json|parquet --out FILE)\n"
        )
    else:
        text += f"{df.height:,} rows\n"
    sys.stdout.write(text)


def iso_times(df: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO 8601 UTC text with `Z`, as machine formats write them."""
    import polars as pl

    return df.with_columns(
        [
            pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            if getattr(t, "time_zone", None)
            else pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            for c, t in df.schema.items()
            if isinstance(t, pl.Datetime)
        ]
    )


def csv_text(df: pl.DataFrame) -> str:
    """A frame as CSV: times ISO 8601, nested values as JSON text, text cells through csv_cell."""
    import polars as pl

    df = iso_times(df)
    nested = [c for c, t in df.schema.items() if t.is_nested()]
    df = df.with_columns(
        [pl.col(c).map_elements(_json_text, return_dtype=pl.String, skip_nulls=True) for c in nested]
    )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(df.columns)
    for row in df.iter_rows():
        writer.writerow(["" if v is None else csv_cell(v) for v in row])
    return buf.getvalue()


def _json_text(value: Any) -> str:
    """A nested cell (list or struct) as one JSON text."""
    return json.dumps(value.to_list() if hasattr(value, "to_list") else value, default=str)


def write_frame(df: pl.DataFrame, fmt: str, out: Path | None, total: int | None = None) -> None:
    """Write a query result as a table, CSV, JSON (one document: a list of rows) or Parquet."""
    fmt = fmt.lower()
    if fmt == "parquet":
        if out is None:
            raise ValueError("--format parquet needs --out")
        df.write_parquet(out)
        return
    if fmt == "table":
        if out is None:
            print_frame(df, total)
            return
        text = text_table(df)
    elif fmt == "csv":
        text = csv_text(df)
    elif fmt == "json":
        buf = io.StringIO()
        iso_times(df).write_json(buf)
        text = buf.getvalue()
    else:
        raise ValueError(f"unknown format {fmt!r} (table|csv|json|parquet)")
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(out).write_text(text, encoding="utf-8")


# -- Timesketch ---------------------------------------------------------------------------------------
# What each timeline source's time means (Timesketch's `timestamp_desc`).
_TIMESTAMP_DESC = {
    "cloudtrail": "Event Time",
    "vpcflow": "Flow Start",
    "billing": "Usage Start",
    "guardduty": "Finding First Seen",
    "health": "Event Start",
    "findings": "Finding First Seen",
}
_KEY = re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b")
_INSTANCE = re.compile(r"\b(i-[0-9a-f]{8,17})\b")
_IPV4 = re.compile(r"\b((?:\d{1,3}\.){3}\d{1,3})\b")


def timesketch_event(
    time: datetime, message: str, timestamp_desc: str, attributes: dict[str, Any]
) -> dict[str, Any]:
    """One Timesketch event: `message`, `datetime` (ISO 8601 with an explicit UTC offset),
    `timestamp` (epoch microseconds, the same instant), `timestamp_desc`, then attributes as flat
    values (lists and objects as one JSON string: never nested keys)."""
    t = time if time.tzinfo else time.replace(tzinfo=UTC)
    t = t.astimezone(UTC)
    event: dict[str, Any] = {
        "message": message,
        "datetime": t.isoformat(),
        "timestamp": int(t.timestamp()) * 1_000_000 + t.microsecond,
        "timestamp_desc": timestamp_desc,
    }
    for key, value in attributes.items():
        if key in event or key.startswith("_") or value is None or value == "":
            continue
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
        elif isinstance(value, (list, tuple, dict)):
            value = json.dumps(value, default=str)
        event[key] = value
    return event


def _entities_in(*texts: Any) -> dict[str, str]:
    """The principal, access key, instance and address (the first one, either direction) a
    timeline row names in its text columns."""
    found: dict[str, str] = {}
    for text in texts:
        if not text:
            continue
        text = str(text)
        if text.startswith(("arn:aws:iam::", "arn:aws:sts::")):
            found.setdefault("principal_arn", text)
        for name, pattern in (("access_key_id", _KEY), ("instance_id", _INSTANCE), ("address", _IPV4)):
            m = pattern.search(text)
            if m:
                found.setdefault(name, m.group(1))
    return found


def timesketch_rows_of_query(query_id: str, df: pl.DataFrame) -> list[dict[str, Any]]:
    """A timeline query's rows as Timesketch events; the columns become attributes, and the
    entities a row names (principal, key, instance, address) attributes of their own."""
    events = []
    for row in df.iter_rows(named=True):
        t = row.get("time")
        if not isinstance(t, datetime):
            continue  # no time, no place on a timeline (counted by the caller)
        action, actor, target = row.get("action"), row.get("actor"), row.get("target")
        parts = [f"[{row['phase']}]" if row.get("phase") else "", str(action or query_id)]
        if actor:
            parts.append(f"by {actor}")
        if target:
            parts.append(f"on {target}")
        if row.get("outcome"):
            parts.append(f"({row['outcome']})")
        if row.get("detail"):
            parts.append(f"- {row['detail']}")
        attributes = {**row, "query": query_id}
        attributes.pop("time", None)
        attributes.update(
            {k: v for k, v in _entities_in(actor, target, row.get("detail")).items() if k not in row}
        )
        events.append(
            timesketch_event(
                t,
                " ".join(p for p in parts if p),
                _TIMESTAMP_DESC.get(str(row.get("source")), "Event Time"),
                attributes,
            )
        )
    return events


def timesketch_rows_of_story(story: dict[str, Any], events: pl.DataFrame) -> list[dict[str, Any]]:
    """The story's phased events (investigate's timeline) as Timesketch events."""
    indicator = story.get("indicator") or {}
    out = []
    for row in events.iter_rows(named=True):
        t = row.get("time")
        if not isinstance(t, datetime):
            continue
        who = row.get("principal_arn") or row.get("actor") or ""
        parts = [f"[{row.get('phase')}]" if row.get("phase") else "", str(row.get("action") or "")]
        if who:
            parts.append(f"by {who}")
        if row.get("source_ip"):
            parts.append(f"from {row['source_ip']}")
        if row.get("region"):
            parts.append(f"in {row['region']}")
        if row.get("target"):
            parts.append(f"on {row['target']}")
        if row.get("outcome"):
            parts.append(f"({row['outcome']})")
        attributes = {
            **{k: v for k, v in row.items() if k != "time"},
            "indicator": f"{indicator.get('type')}:{indicator.get('value')}" if indicator else None,
        }
        out.append(
            timesketch_event(
                t,
                " ".join(p for p in parts if p),
                _TIMESTAMP_DESC.get(_source_of(row.get("event_source")), "Event Time"),
                attributes,
            )
        )
    return out


def _source_of(event_source: Any) -> str:
    text = str(event_source or "")
    if text.endswith(".amazonaws.com") or text == "":
        return "cloudtrail"
    return text


def write_timesketch(events: Iterable[dict[str, Any]], out: Path | None) -> int:
    """Write Timesketch events: JSONL (stdout, or a `.jsonl` file) or CSV (a `.csv` file, a
    header of every key). Returns how many were written."""
    events = list(events)
    suffix = out.suffix.lower() if out is not None else ".jsonl"
    if suffix == ".csv":
        keys: dict[str, None] = {}
        for e in events:
            keys.update(dict.fromkeys(e))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(keys), lineterminator="\n")
        writer.writeheader()
        writer.writerows(events)
        text = buf.getvalue()
    elif suffix == ".jsonl":
        text = "".join(json.dumps(e, default=str) + "\n" for e in events)
    else:
        raise ValueError(f"Timesketch imports .jsonl or .csv files, not {out}")
    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
    return len(events)


# -- hunt and story summaries -------------------------------------------------------------------------
_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
_SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"]


def short_principal(arn: Any) -> str:
    """The readable part of a principal ARN (`user/dev-tanaka`, `assumed-role/R/session`,
    `root`), with the account when it is not the only one; other values as they are."""
    text = cell(arn)
    if text.startswith("arn:") and text.count(":") >= 5:
        return text.split(":", 5)[5]
    return text


def regions_text(regions: list[str] | None, limit: int = 4) -> str:
    regions = regions or []
    return ", ".join(cell(r) for r in regions[:limit]) + (
        f" +{len(regions) - limit}" if len(regions) > limit else ""
    )


def findings_table(findings: list[dict[str, Any]], title: str) -> Table:
    """Findings with their entities (who, key, address, regions), so different rows look
    different."""
    table = Table(title=title)
    columns = ("first seen", "severity", "tactic", "detection", "principal", "key", "address", "regions")
    for col in (*columns, "count", "what"):
        table.add_column(
            col,
            overflow="fold",
            no_wrap=col in ("first seen", "severity", "tactic", "detection", "key", "address", "count"),
            justify="right" if col == "count" else "left",
        )
    for f in findings:
        what = cell(f["title"])
        if f.get("outcomes"):
            what += " (" + ", ".join(f"{cell(k)} {v}" for k, v in f["outcomes"].items()) + ")"
        if f.get("cost") is not None:
            what += f"; cost {f['cost']:,.2f} {cell(f.get('currency'))}".rstrip()
        if f.get("attack_names"):  # the techniques by name: `T1562.008 Impair Defenses: ...`
            what += " [" + "; ".join(cell(n.rsplit(" (", 1)[0]) for n in f["attack_names"]) + "]"
        ents = f.get("entities") or {}
        principal = f.get("principal_arn") or next(iter(ents.get("principals") or []), None)
        key = f.get("access_key_id") or next(iter(ents.get("access_keys") or []), None)
        address = f.get("source_ip") or next(iter(ents.get("source_ips") or []), None)
        if not principal and ents.get("instances"):
            principal = regions_text(ents["instances"], 2)
        severity = cell(f.get("severity"))
        _add_row(
            table,
            format_time(f.get("first_seen"), missing=""),
            Text(severity, style=_SEVERITY_STYLE.get(severity, "")),
            cell(f.get("tactic")),
            cell(f["detection"]) + ("" if f.get("source", "query") == "query" else f" ({cell(f['source'])})"),
            short_principal(principal),
            cell(key),
            cell(address),
            regions_text(f.get("regions")),
            str(f.get("count", "")),
            what,
        )
    return table


def print_findings(findings: list[dict[str, Any]], severity_line: str) -> None:
    """`hunt`'s table: one row per finding, in time order."""
    out = _console(240)
    if not findings:
        out.print("No findings.")
        return
    out.print(findings_table(findings, f"Hunt: {len(findings)} findings"))
    out.print(severity_line, markup=False)


def print_hunt_summary(findings: list[dict], limit: int = 20) -> None:
    """The demo's view of the hunt: the most severe findings first, with their entities."""
    ranked = sorted(
        findings,
        key=lambda f: (
            _SEVERITY_ORDER.index(f.get("severity", "info")) if f.get("severity") in _SEVERITY_ORDER else 5,
            f.get("first_seen") or "",
        ),
    )
    table = findings_table(ranked[:limit], f"Hunt: {len(findings)} findings, most severe first")
    if len(ranked) > limit:
        table.caption = f"{limit} of {len(ranked)} shown (forensics hunt --case FILE for all)"
    _console(240).print(table)


def launches_text(run: dict[str, Any]) -> str:
    """`attempted in 17 regions, succeeded in 13 (24 instances), of which 12 new; failed in ...`"""
    attempted = run.get("attempted_regions") or []
    succeeded = run.get("regions") or []
    new = run.get("new_regions")
    new_succeeded = None if new is None else [r for r in succeeded if r in set(new)]
    text = (
        f"attempted in {len(attempted)} regions, succeeded in {len(succeeded)} "
        f"({len(run.get('instances') or [])} instances)"
    )
    if new_succeeded is None:
        text += ", new regions unknown (too little history)"
    else:
        text += f", of which {len(new_succeeded)} new"
    failed = run.get("failed_regions") or []
    text += f"; failed in {', '.join(cell(r) for r in failed) if failed else 'none'}"
    return text


def print_story_summary(story: dict) -> None:
    """The answers an analyst needs first, from an investigation story (DESIGN.md keys)."""
    fu = story.get("first_use") or {}
    cost = story.get("cost") or {}
    dur = story.get("durations_s") or {}
    quarantine = story.get("aws_quarantine") or {}
    containment = story.get("containment") or {}
    esc = story.get("escalation_attempts") or {}
    lines = [
        ("principal", cell(story.get("principal_arn"))),
        ("access keys", cell(story.get("access_keys") or [])),
        ("key first seen", format_time(story.get("key_first_seen"))),
        (
            "first use",
            f"{format_time(fu.get('time'))} from {cell(fu.get('source_ip'))} "
            f"({cell(fu.get('event_name'))}, {cell(fu.get('user_agent'))})"
            if fu
            else "none found",
        ),
        ("attacker addresses", cell(story.get("source_ips") or [])),
        (
            "escalation",
            f"{esc.get('total', 0)} attempts: {esc.get('denied', 0)} denied, "
            f"{esc.get('succeeded', 0)} succeeded",
        ),
        ("launches", launches_text(story.get("run_instances") or {})),
        (
            "AWS quarantine",
            f"{format_time(quarantine.get('time'))} {cell(quarantine.get('policy'))}".strip()
            if quarantine
            else "none in the evidence",
        ),
        (
            "containment",
            f"{format_time(containment.get('time'))} by {cell(containment.get('by') or [])}"
            if containment
            else "none in the evidence",
        ),
        ("still running", cell(story.get("still_running") or []) or "nothing"),
        ("incident cost", _money(cost.get("total"), cost.get("currency"))),
        (
            "after first use",
            ", ".join(
                f"{k.replace('first_use_to_', '').replace('_', ' ')} {format_duration(v)}"
                for k, v in dur.items()
                if v is not None
            )
            or "n/a",
        ),
    ]
    table = Table(title="Investigation", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in lines:
        _add_row(table, name, value)
    _console(160).print(table)


def _money(amount: float | None, currency: str | None) -> str:
    return "unknown" if amount is None else f"{amount:,.2f} {cell(currency)}".strip()
