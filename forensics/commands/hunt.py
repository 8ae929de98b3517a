"""`forensics hunt`: every detection over a case, as one list of findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..case import Case
from ..cli import _fail, _problem, app
from ..errors import ForensicsError, ParameterError
from ..hunt import parse_time, run_hunt, summary

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


@app.command()
def hunt(
    case: Annotated[Path | None, typer.Option("--case", help="The case file (DuckDB).")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Only activity from this time (ISO 8601, UTC).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Only activity up to this time (ISO 8601, UTC).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
    engine: Annotated[str, typer.Option("--engine", help="duckdb (a case) | spark (a lake)")] = "duckdb",
    lake: Annotated[Path | None, typer.Option("--lake", help="A lake from `forensics export`.")] = None,
    master: Annotated[str | None, typer.Option("--master", help="Spark master URL (local[*]).")] = None,
) -> None:
    """Run every detection over the case (or, with --engine spark, a lake); GuardDuty and Health
    findings join the same list."""
    fmt = fmt.lower()
    if fmt not in ("table", "json"):
        _fail(f"unknown --format {fmt!r} (table|json)")
    try:
        start, end = parse_time(from_), parse_time(to)
    except ParameterError as exc:
        _fail(str(exc))
    if engine == "spark":
        if lake is None or case is not None:
            _fail("--engine spark reads a lake: give --lake DIR (and no --case)")
        from ..engines.spark import open_lake, run_hunt_spark

        try:
            with open_lake(lake, master) as spark_lake:
                findings = run_hunt_spark(spark_lake, from_time=start, to_time=end, on_problem=_problem)
        except ForensicsError as exc:
            _fail(str(exc))
    elif engine == "duckdb":
        if case is None or lake is not None:
            _fail("--engine duckdb reads a case: give --case FILE (export it for a lake)")
        with Case(case, read_only=True) as c:
            findings = run_hunt(c, from_time=start, to_time=end, on_problem=_problem)
    else:
        _fail(f"unknown --engine {engine!r} (duckdb|spark)")
    if fmt == "json":
        sys.stdout.write(json.dumps(findings) + "\n")
        return
    print_findings(findings)


def print_findings(findings: list[dict[str, Any]]) -> None:
    """A readable summary: one line per finding, in time order."""
    out = Console(file=sys.stdout, width=200)
    if not findings:
        out.print("No findings.")
        return
    table = Table(title=f"Hunt: {len(findings)} findings")
    for col in ("first seen", "severity", "tactic", "detection", "who", "from", "count", "regions", "what"):
        table.add_column(col, overflow="fold")
    for f in findings:
        who = f.get("access_key_id") or f.get("principal_arn") or ""
        regions = f.get("regions") or []
        what = f["title"]
        if f.get("outcomes"):
            what += " (" + ", ".join(f"{k} {v}" for k, v in f["outcomes"].items()) + ")"
        if f.get("cost") is not None:
            what += f" cost {f['cost']} {f.get('currency') or ''}".rstrip()
        table.add_row(
            (f.get("first_seen") or "").replace("T", " "),
            f"[{_STYLE.get(f['severity'], '')}]{f['severity']}[/]",
            f.get("tactic") or "",
            f["detection"] + ("" if f["source"] == "query" else f" ({f['source']})"),
            str(who),
            f.get("source_ip") or "",
            str(f.get("count", "")),
            ", ".join(regions[:4]) + (f" +{len(regions) - 4}" if len(regions) > 4 else ""),
            what,
        )
    out.print(table)
    out.print(", ".join(f"{n} {s}" for s, n in summary(findings).items()))
