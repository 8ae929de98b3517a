"""`forensics hunt`: every detection over a case (DuckDB) or a lake (Spark), one list of findings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import output
from ..case import Case
from ..cli import FromOpt, ToOpt, _problem, app, choose_format, emit_json, fail, run
from ..errors import ParameterError
from ..hunt import parse_time, run_hunt, summary


@app.command()
def hunt(
    case: Annotated[
        Path | None,
        typer.Option("--case", metavar="FILE", help="The case file (DuckDB); the duckdb engine reads it."),
    ] = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="table (one row per finding with its entities) | json (a list of findings, each "
            "carrying schema_version).",
        ),
    ] = "table",
    engine: Annotated[
        str, typer.Option("--engine", metavar="ENGINE", help="duckdb (a case) | spark (a lake).")
    ] = "duckdb",
    lake: Annotated[
        Path | None,
        typer.Option("--lake", metavar="DIR", help="A Parquet lake from `forensics export` (spark engine)."),
    ] = None,
    master: Annotated[
        str | None, typer.Option("--master", metavar="URL", help="Spark master URL (default local[*]).")
    ] = None,
) -> None:
    """Run every detection over the case (or, with --engine spark, a lake); GuardDuty and Health
    findings join the same list. Exits 0 whether or not something is found."""
    fmt = choose_format(fmt, ("table", "json"))
    try:
        start, end = parse_time(from_time), parse_time(to_time)
    except ParameterError as exc:
        fail(str(exc))

    if engine == "spark":
        if lake is None or case is not None:
            fail("--engine spark reads a lake: give --lake DIR (and no --case)")

        def work():
            from ..engines.spark import open_lake, run_hunt_spark

            with open_lake(lake, master) as spark_lake:
                return run_hunt_spark(spark_lake, from_time=start, to_time=end, on_problem=_problem)

    elif engine == "duckdb":
        if case is None or lake is not None:
            fail("--engine duckdb reads a case: give --case FILE (export it for a lake)")

        def work():
            with Case(case, read_only=True) as c:
                return run_hunt(c, from_time=start, to_time=end, on_problem=_problem)

    else:
        fail(f"unknown --engine {engine!r} (duckdb|spark)")

    findings = run(work)
    if fmt == "json":
        emit_json([output.with_version(f) for f in findings])
        return
    output.print_findings(findings, ", ".join(f"{n} {s}" for s, n in summary(findings).items()))
