"""Verbs that orchestrate several parts of the library: demo, sample, hunt, investigate, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import output
from ..case import Case
from ..cli import _problem, app

REPO_SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@app.command()
def sample(
    outdir: Annotated[Path, typer.Argument(help="Where to write evidence/ and ground_truth.json.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 7,
    scale: Annotated[int, typer.Option(help="Multiply the benign background N times.")] = 1,
) -> None:
    """Regenerate the sample incident (evidence tree plus ground truth)."""
    from ..sample import generate_sample

    truth = generate_sample(outdir, seed=seed, scale=scale)
    typer.echo(
        f"wrote {outdir}/evidence and {outdir}/ground_truth.json "
        f"(leaked key {truth.get('leaked_access_key')})"
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the case and the report.")] = Path(
        "demo-out"
    ),
) -> None:
    """The main job on the bundled sample incident: load, hunt, investigate, write a report."""
    out.mkdir(parents=True, exist_ok=True)
    evidence = REPO_SAMPLE / "evidence"
    if not evidence.is_dir():
        from ..sample import generate_sample

        typer.echo("bundled sample_data/ not found: generating it", err=True)
        generate_sample(out / "sample_data")
        evidence = out / "sample_data" / "evidence"
    case_path = out / "case.duckdb"
    with Case(case_path) as c, output.progress() as progress:
        report = c.load([evidence], on_problem=_problem, progress=progress)
    output.print_load_report(report)
    with Case(case_path, read_only=True) as c:
        from ..hunt import run_hunt
        from ..report import pick_indicator, write_report

        findings = run_hunt(c)
        output.print_hunt_summary(findings)
        indicator = pick_indicator(findings)
        if indicator is None:
            typer.echo("forensics: the hunt found nothing to investigate; no report written", err=True)
            return
        story, events = c.timeline(**indicator)
        output.print_story_summary(story)
        # The sample account's monthly budget is taken as 1,000 USD (stated on the page) so the
        # cost figure shows when the 20/50/70 % alerts would have fired.
        page = write_report(
            c, out / "report.html", findings=findings, timeline=(story, events), budget=1000.0, **indicator
        )
    typer.echo(f"\nreport: {page}   (case: {case_path})")
