"""`forensics report`: the postmortem of one indicator as a single self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..case import Case
from ..cli import (
    AccessKeyOpt,
    CaseOpt,
    FromOpt,
    InstanceOpt,
    IpOpt,
    KnownIpOpt,
    PrincipalOpt,
    ResourceOpt,
    ResponderOpt,
    ToOpt,
    _problem,
    app,
    fail,
    indicator,
    run,
)


@app.command()
def report(
    case: CaseOpt,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="PATH", help="The HTML file to write (one page that opens offline)."),
    ],
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    resource: ResourceOpt = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    known_ip: KnownIpOpt = [],  # noqa: B006
    responder: ResponderOpt = [],  # noqa: B006
    budget: Annotated[
        float | None,
        typer.Option("--budget", metavar="USD", help="A monthly budget (USD) to replay alerts against."),
    ] = None,
) -> None:
    """Write the postmortem of one indicator: story, phases, figures, findings, what is still
    running, cost, coverage and the evidence appendix, in one HTML file that opens offline.
    Without an indicator, the hunt's top indicator is taken (and named)."""
    from ..report import write_report

    given = indicator(access_key, principal, ip, instance, resource, required=False)
    if out.is_dir():
        fail(f"--out {out} is a folder; give the path of the HTML file to write")
    if not case.exists():
        fail(f"{case}: no case file here (load evidence first)")

    def work():
        with Case(case, read_only=True) as c:
            chosen = dict(given)
            findings = None
            if not chosen:
                from ..hunt import run_hunt
                from ..report import pick_indicator

                findings = run_hunt(c, from_time=from_time, to_time=to_time)
                picked = pick_indicator(findings)
                if picked is None:
                    fail("the hunt found nothing to report on; give an indicator")
                chosen = picked
                shown = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in picked.items() if v)
                _problem(f"no indicator given; reporting on the hunt's top indicator: {shown}")
            return write_report(
                c,
                out,
                chosen.get("access_key"),
                chosen.get("principal"),
                chosen.get("ip"),
                chosen.get("instance"),
                from_time,
                to_time,
                known_ip,
                responder,
                budget,
                **({"findings": findings} if findings is not None else {}),
                resource=chosen.get("resource"),
            )

    path = run(work)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
