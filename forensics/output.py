"""Terminal output for the CLI: progress on stderr, tables with rich, frames in several formats."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .ingest.outcome import LoadReport

err = Console(stderr=True)


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
        yield lambda stage, done, total: bar.update(
            task, description=stage, completed=done, total=total
        )


def print_load_report(report: LoadReport) -> None:
    out = Console(file=sys.stdout)
    table = Table(title="Load report")
    for col in ("source", "files", "read", "loaded", "duplicates", "rejected", "skipped"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for source, agg in sorted(report.by_source().items()):
        table.add_row(
            source,
            *(
                str(agg[k])
                for k in ("files", "read", "loaded", "duplicates", "rejected", "skipped")
            ),
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
        table.add_row(q["id"], q["kind"], q["tactic"] or "", q["severity"] or "", q["title"])
    Console(file=sys.stdout).print(table)


def print_frame(df: pl.DataFrame, title: str | None = None) -> None:
    table = Table(title=title)
    for col in df.columns:
        table.add_column(col, overflow="fold")
    for row in df.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(file=sys.stdout, width=200).print(table)


def iso_times(df: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO 8601 UTC text with `Z`, as every face prints them."""
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
        flat = df.with_columns(
            [pl.col(c).cast(pl.String) for c, t in df.schema.items() if t.is_nested()]
        )
        text = flat.write_csv()
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
