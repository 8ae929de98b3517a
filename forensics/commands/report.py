"""`forensics report`: the postmortem of one indicator as a single self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..case import Case
from ..cli import app
from ..errors import ForensicsError, IndicatorNotFoundError


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"forensics: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def report(
    case: Annotated[Path, typer.Option("--case", help="The case file (DuckDB).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML page.")],
    access_key: Annotated[str | None, typer.Option("--access-key", help="An access key id.")] = None,
    principal: Annotated[str | None, typer.Option("--principal", help="A principal ARN.")] = None,
    ip: Annotated[str | None, typer.Option("--ip", help="A source address.")] = None,
    instance: Annotated[str | None, typer.Option("--instance", help="An EC2 instance id.")] = None,
    from_time: Annotated[str | None, typer.Option("--from", help="Start of the window (ISO 8601).")] = None,
    to_time: Annotated[str | None, typer.Option("--to", help="End of the window (ISO 8601).")] = None,
    known_ip: Annotated[list[str], typer.Option("--known-ip", help="Our own address (repeatable).")] = [],  # noqa: B006
    responder: Annotated[
        list[str], typer.Option("--responder", help="A responder's principal ARN (repeatable).")
    ] = [],  # noqa: B006
    budget: Annotated[
        float | None, typer.Option("--budget", help="Monthly budget to replay alerts against.")
    ] = None,
) -> None:
    """Write the postmortem of one indicator: story, phases, figures, findings, what is still
    running, cost, coverage and the evidence appendix, in one HTML file that opens offline."""
    from ..report import write_report

    if len([v for v in (access_key, principal, ip, instance) if v]) != 1:
        _fail("give exactly one of --access-key, --principal, --ip, --instance")
    if out.is_dir():
        _fail(f"--out {out} is a folder; give the path of the HTML file to write")
    if not case.exists():
        _fail(f"{case}: no case file here (load evidence first)")
    try:
        with Case(case, read_only=True) as c:
            path = write_report(
                c,
                out,
                access_key,
                principal,
                ip,
                instance,
                from_time,
                to_time,
                known_ip,
                responder,
                budget,
            )
    except IndicatorNotFoundError as exc:
        _fail(str(exc), 1)
    except ForensicsError as exc:
        _fail(str(exc), 2)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
