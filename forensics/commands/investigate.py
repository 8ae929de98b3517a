"""Verbs over `forensics.investigate`: investigate (the story), profile (an entity), budget
(alerts replayed). Markdown for people, one JSON document for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..case import Case
from ..cli import app
from ..errors import ForensicsError, IndicatorNotFoundError

CaseOpt = Annotated[Path, typer.Option("--case", help="The case file (DuckDB).")]
FormatOpt = Annotated[str, typer.Option("--format", help="md|json")]
AccessKeyOpt = Annotated[str | None, typer.Option("--access-key", help="An access key id.")]
PrincipalOpt = Annotated[str | None, typer.Option("--principal", help="A principal ARN.")]
IpOpt = Annotated[str | None, typer.Option("--ip", help="A source address.")]
InstanceOpt = Annotated[str | None, typer.Option("--instance", help="An EC2 instance id.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="Start of the window (ISO 8601).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="End of the window (ISO 8601).")]


def _emit(doc: dict[str, Any], fmt: str, render) -> None:
    if fmt == "json":
        typer.echo(json.dumps(doc, default=str))
    else:
        typer.echo(render(doc), nl=False)


def _check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in ("md", "json"):
        _fail(f"unknown --format {fmt!r} (md|json)")
    return fmt


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"forensics: {message}", err=True)
    raise typer.Exit(code)


def _run(work):
    """Library errors as one line on stderr: 1 for an indicator not in the case, else 2."""
    try:
        return work()
    except IndicatorNotFoundError as exc:
        _fail(str(exc), 1)
    except ForensicsError as exc:
        _fail(str(exc), 2)


@app.command()
def investigate(
    case: CaseOpt,
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    known_ip: Annotated[list[str], typer.Option("--known-ip", help="Our own address (repeatable).")] = [],  # noqa: B006
    responder: Annotated[
        list[str], typer.Option("--responder", help="A responder's principal ARN (repeatable).")
    ] = [],  # noqa: B006
    fmt: FormatOpt = "md",
) -> None:
    """From one indicator to the whole story: pivot, attribution, phases, impact, response,
    cost, durations and what the evidence covers."""
    from ..investigate.markdown import story_markdown

    fmt = _check_format(fmt)
    given = [v for v in (access_key, principal, ip, instance) if v]
    if len(given) != 1:
        _fail("give exactly one of --access-key, --principal, --ip, --instance")

    def work():
        with Case(case, read_only=True) as c:
            return c.investigate(access_key, principal, ip, instance, from_time, to_time, known_ip, responder)

    _emit(_run(work), fmt, story_markdown)


@app.command()
def profile(
    entity: Annotated[str, typer.Argument(help="Access key, principal ARN, address, instance id or region.")],
    case: CaseOpt,
    kind: Annotated[
        str | None, typer.Option(help="access_key|principal|ip|instance|region (guessed from the entity)")
    ] = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    baseline_days: Annotated[int, typer.Option(help="Baseline before the scope.")] = 45,
    fmt: FormatOpt = "md",
) -> None:
    """An entity's profile in a scope window (default: its last 24 hours of activity):
    activity, what is newly observed against the baseline, related entities, flows."""
    from ..investigate.markdown import profile_markdown

    fmt = _check_format(fmt)

    def work():
        with Case(case, read_only=True) as c:
            return c.profile(entity, kind, from_time, to_time, baseline_days)

    _emit(_run(work), fmt, profile_markdown)


@app.command()
def budget(
    case: CaseOpt,
    amount: Annotated[float, typer.Option("--amount", help="The monthly budget.")],
    threshold: Annotated[
        list[float] | None,
        typer.Option("--threshold", help="Alert at this % (repeatable; default 20, 50, 70)."),
    ] = None,
    lag_hours: Annotated[float, typer.Option(help="Budgets' evaluation lag, hours.")] = 8.0,
    month: Annotated[
        str | None, typer.Option(help="YYYY-MM (default: month of first use, else the last billed)")
    ] = None,
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    fmt: FormatOpt = "md",
) -> None:
    """Replay AWS Budgets: when each threshold alert would have fired, with and without the
    evaluation lag, against the intrusion's first use and AWS's quarantine."""
    from ..investigate.markdown import budget_markdown

    fmt = _check_format(fmt)
    thresholds = threshold or [20.0, 50.0, 70.0]

    def work():
        with Case(case, read_only=True) as c:
            return c.budget_replay(
                amount,
                thresholds,
                lag_hours,
                month,
                access_key=access_key,
                principal=principal,
                ip=ip,
                instance=instance,
            )

    _emit(_run(work), fmt, budget_markdown)
