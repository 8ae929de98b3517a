"""Verbs over `forensics.investigate`: investigate (the story), profile (an entity), budget
(alerts replayed). Markdown for people, one JSON document for scripts, and the story's phased
events for Timesketch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import output
from ..case import Case
from ..cli import (
    AccessKeyOpt,
    CaseOpt,
    FromOpt,
    InstanceOpt,
    IpOpt,
    KnownIpOpt,
    PrincipalOpt,
    RegionOpt,
    ResourceOpt,
    ResponderOpt,
    ToOpt,
    app,
    choose_format,
    emit_json,
    fail,
    indicator,
    run,
)

OutOpt = Annotated[
    Path | None, typer.Option("--out", metavar="PATH", help="Write to this file instead of stdout.")
]


def _emit(doc: dict[str, Any], fmt: str, render: Callable[[dict[str, Any]], str], out: Path | None) -> None:
    if fmt == "json":
        if out is None:
            emit_json(output.with_version(doc))
        else:
            import json

            out.write_text(json.dumps(output.with_version(doc), default=str) + "\n", encoding="utf-8")
        return
    text = render(doc)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def investigate(
    case: CaseOpt,
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    resource: ResourceOpt = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    known_ip: KnownIpOpt = [],  # noqa: B006
    responder: ResponderOpt = [],  # noqa: B006
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="md (the story to read) | json (one document) | timesketch (the story's phased "
            "events: JSONL, or CSV when --out ends .csv).",
        ),
    ] = "md",
    out: OutOpt = None,
) -> None:
    """From one indicator to the whole story: pivot, attribution, phases, impact, response,
    cost, durations and what the evidence covers. Exits 1 when the indicator is not in the case."""
    from ..investigate.markdown import story_markdown

    fmt = choose_format(fmt, ("md", "json", "timesketch"))
    given = indicator(access_key, principal, ip, instance, resource)
    if fmt == "timesketch" and out is not None and out.suffix.lower() not in (".jsonl", ".csv"):
        fail(f"--out {out}: Timesketch imports .jsonl or .csv files")
    args = (
        given.get("access_key"),
        given.get("principal"),
        given.get("ip"),
        given.get("instance"),
        from_time,
        to_time,
        known_ip,
        responder,
    )

    if fmt == "timesketch":

        def timeline():
            with Case(case, read_only=True) as c:
                return c.timeline(*args, resource=resource)

        story, events = run(timeline)
        output.write_timesketch(output.timesketch_rows_of_story(story, events), out)
        return

    def work():
        with Case(case, read_only=True) as c:
            return c.investigate(*args, resource=resource)

    _emit(run(work), fmt, story_markdown, out)


@app.command()
def profile(
    case: CaseOpt,
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    resource: ResourceOpt = None,
    region: RegionOpt = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    baseline_days: Annotated[
        int,
        typer.Option(
            "--baseline-days", min=1, metavar="DAYS", help="Days before the scope that count as normal."
        ),
    ] = 45,
    fmt: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="md (to read) | json (one document).")
    ] = "md",
    out: OutOpt = None,
) -> None:
    """An entity's profile in a scope window (default: its last 24 hours of activity): activity,
    what is newly observed against the baseline, related entities, flows. Give one of the
    indicator options or --region. Exits 1 when the entity is not in the case."""
    from ..investigate.markdown import profile_markdown

    fmt = choose_format(fmt, ("md", "json"))
    given = indicator(access_key, principal, ip, instance, resource, region, region_allowed=True)
    ((kind, entity),) = given.items()

    def work():
        with Case(case, read_only=True) as c:
            return c.profile(entity, kind, from_time, to_time, baseline_days)

    _emit(run(work), fmt, profile_markdown, out)


@app.command()
def budget(
    case: CaseOpt,
    amount: Annotated[
        float, typer.Option("--amount", metavar="AMOUNT", help="The monthly budget, in the bill's currency.")
    ],
    threshold: Annotated[
        list[float] | None,
        typer.Option(
            "--threshold",
            metavar="PCT",
            help="Alert at this percentage of the budget (repeatable; default 20, 50, 70).",
        ),
    ] = None,
    lag_hours: Annotated[
        float, typer.Option("--lag-hours", metavar="HOURS", help="AWS Budgets' evaluation lag, in hours.")
    ] = 8.0,
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            metavar="YYYY-MM",
            help="YYYY-MM (default: the month of first use, else the last billed).",
        ),
    ] = None,
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    resource: ResourceOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="md (to read) | json (one document).")
    ] = "md",
    out: OutOpt = None,
) -> None:
    """Replay AWS Budgets: when each threshold alert would have fired, with and without the
    evaluation lag, against the intrusion's first use and AWS's quarantine (those need an
    indicator)."""
    from ..investigate.markdown import budget_markdown

    fmt = choose_format(fmt, ("md", "json"))
    given = indicator(access_key, principal, ip, instance, resource, required=False)
    thresholds = threshold or [20.0, 50.0, 70.0]

    def work():
        with Case(case, read_only=True) as c:
            return c.budget_replay(amount, thresholds, lag_hours, month, **given)

    _emit(run(work), fmt, budget_markdown, out)
