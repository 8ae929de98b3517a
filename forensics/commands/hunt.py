"""`forensics hunt`: every detection over a case, as one list of findings."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import output
from ..case import Case
from ..cli import CaseOpt, FromOpt, ToOpt, _problem, app, choose_format, emit_json, fail, run
from ..errors import ParameterError
from ..hunt import parse_time, run_hunt, summary


@app.command()
def hunt(
    case: CaseOpt,
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
) -> None:
    """Run every detection over the case; GuardDuty and Health findings join the same list.
    Exits 0 whether or not something is found."""
    fmt = choose_format(fmt, ("table", "json"))
    try:
        start, end = parse_time(from_time), parse_time(to_time)
    except ParameterError as exc:
        fail(str(exc))

    def work():
        with Case(case, read_only=True) as c:
            return run_hunt(c, from_time=start, to_time=end, on_problem=_problem)

    findings = run(work)
    if fmt == "json":
        emit_json([output.with_version(f) for f in findings])
        return
    output.print_findings(findings, ", ".join(f"{n} {s}" for s, n in summary(findings).items()))
