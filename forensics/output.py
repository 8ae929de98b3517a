"""Terminal output for the CLI: progress on stderr, tables with rich, frames in several formats."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .escape import csv_frame, terminal
from .ingest.outcome import LoadReport

if TYPE_CHECKING:  # imported where frames are printed: `load` does not need polars
    import polars as pl

err = Console(stderr=True)


def _row(*values: object) -> list[Text]:
    """Table cells as plain text: no escape sequence, control character or rich markup
    (`[link=...]`) from the evidence reaches the terminal."""
    return [Text(terminal("" if v is None else v)) for v in values]


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


def print_load_report(report: LoadReport) -> None:
    out = Console(file=sys.stdout)
    table = Table(title="Load report")
    for col in ("source", "files", "read", "loaded", "duplicates", "rejected", "skipped"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for source, agg in sorted(report.by_source().items()):
        table.add_row(
            *_row(source, *(agg[k] for k in ("files", "read", "loaded", "duplicates", "rejected", "skipped")))
        )
    out.print(table)
    out.print(
        f"read {report.read} = loaded {report.loaded} + duplicates {report.duplicates} "
        f"+ rejected {report.rejected}; {report.skipped_files} files skipped, "
        f"{report.rejected_files} files rejected"
    )


def print_catalog(items: list[dict]) -> None:
    table = Table(title="Canned queries")
    for col in ("id", "kind", "tactic", "severity", "title"):
        table.add_column(col)
    for q in items:
        table.add_row(*_row(q["id"], q["kind"], q["tactic"], q["severity"], q["title"]))
    Console(file=sys.stdout).print(table)


def print_frame(df: pl.DataFrame, title: str | None = None) -> None:
    table = Table(title=title)
    for col in df.columns:
        table.add_column(col, overflow="fold")
    for row in df.iter_rows():
        table.add_row(*_row(*row))
    Console(file=sys.stdout, width=200).print(table)


def iso_times(df: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO 8601 UTC text with `Z`, as every face prints them."""
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


def write_frame(df: pl.DataFrame, fmt: str, out: Path | None) -> None:
    """Write a query result as a table, CSV, JSON (one document) or Parquet."""
    import polars as pl

    fmt = fmt.lower()
    if fmt != "parquet":
        df = iso_times(df)
    if fmt == "parquet":
        if out is None:
            raise SystemExit("forensics: --format parquet needs --out")
        df.write_parquet(out)
        return
    if fmt == "table":
        if out is None:
            print_frame(df)
            return
        text = str(df)
    elif fmt == "csv":
        flat = df.with_columns([pl.col(c).cast(pl.String) for c, t in df.schema.items() if t.is_nested()])
        text = csv_frame(flat).write_csv()  # a spreadsheet runs a cell starting with = + - @
    elif fmt == "json":
        buf = io.StringIO()
        df.write_json(buf)
        text = buf.getvalue()
    else:
        raise SystemExit(f"forensics: unknown --format {fmt!r} (table|csv|json|parquet)")
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(out).write_text(text, encoding="utf-8")


def print_hunt_summary(findings: list[dict]) -> None:
    """Findings by severity and tactic, most severe first: what the hunt saw, in a few lines."""
    order = ["critical", "high", "medium", "low", "info"]
    table = Table(title=f"Hunt: {len(findings)} findings")
    for col in ("severity", "tactic", "detection", "count", "first seen"):
        table.add_column(col)
    ranked = sorted(
        findings, key=lambda f: (order.index(f.get("severity", "info")), f.get("first_seen") or "")
    )
    for f in ranked[:20]:
        table.add_row(
            *_row(
                f.get("severity", ""),
                f.get("tactic"),
                f.get("detection", ""),
                f.get("count", ""),
                f.get("first_seen"),
            )
        )
    if len(ranked) > 20:
        table.caption = f"... and {len(ranked) - 20} more (forensics hunt --format json)"
    Console(file=sys.stdout, width=160).print(table)


def print_story_summary(story: dict) -> None:
    """The answers an analyst needs first, from an investigation story (DESIGN.md keys)."""
    fu = story.get("first_use") or {}
    run = story.get("run_instances") or {}
    cost = story.get("cost") or {}
    dur = story.get("durations_s") or {}
    quarantine = story.get("aws_quarantine") or {}
    containment = story.get("containment") or {}
    lines = [
        ("principal", story.get("principal_arn")),
        ("access keys", ", ".join(story.get("access_keys") or [])),
        ("key first seen", story.get("key_first_seen")),
        (
            "first use",
            f"{fu.get('time')} from {fu.get('source_ip')} ({fu.get('event_name')}, {fu.get('user_agent')})",
        ),
        ("attacker addresses", ", ".join(story.get("source_ips") or [])),
        (
            "escalation",
            "{total} attempts: {denied} denied, {succeeded} succeeded".format(
                **{
                    k: (story.get("escalation_attempts") or {}).get(k, 0)
                    for k in ("total", "denied", "succeeded")
                }
            ),
        ),
        (
            "launches",
            f"{len(run.get('instances') or [])} instances in {len(run.get('regions') or [])} "
            f"regions ({len(run.get('new_regions') or [])} never used before); "
            f"failed in {', '.join(run.get('failed_regions') or []) or 'none'}",
        ),
        ("AWS quarantine", f"{quarantine.get('time')} {quarantine.get('policy', '')}".strip()),
        ("containment", f"{containment.get('time')} by {', '.join(containment.get('by') or [])}"),
        ("still running", ", ".join(story.get("still_running") or []) or "nothing"),
        ("incident cost", _money(cost.get("total"), cost.get("currency"))),
        (
            "durations",
            ", ".join(f"{k.replace('first_use_to_', 'to ')} {v} s" for k, v in dur.items() if v is not None),
        ),
    ]
    table = Table(title="Investigation", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in lines:
        table.add_row(*_row(name, value))
    Console(file=sys.stdout, width=160).print(table)


def _money(amount: float | None, currency: str | None) -> str:
    return "unknown" if amount is None else f"{amount:,.2f} {currency or ''}".strip()
