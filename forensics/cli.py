"""The `forensics` command line: thin verbs over the same library the notebooks use.

Exit status: 0 when the command did its work, 1 when an indicator is not in the case,
2 for a usage error or when nothing at all could be loaded (one clear line on stderr).
With --json / --format json, stdout holds one JSON document and nothing else.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import output
from .case import Case
from .errors import ForensicsError, IndicatorNotFoundError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Investigate AWS security incidents from exported evidence, in one DuckDB case file.",
)

CaseOpt = Annotated[Path, typer.Option("--case", help="The case file (DuckDB).")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"forensics: {message}", err=True)
    raise typer.Exit(code)


def _problem(line: str) -> None:
    typer.echo(f"forensics: {line}", err=True)


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Evidence files or folders (walked recursively).")],
    case: CaseOpt,
    source: Annotated[str, typer.Option(help="auto|cloudtrail|vpcflow|billing|findings")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the load report as JSON.")] = False,
) -> None:
    """Load evidence into the case: detect each file's format, record provenance, quarantine bad input."""
    with Case(case) as c, output.progress(enabled=not as_json) as progress:
        report = c.load(paths, source=source, on_problem=_problem, progress=progress)
        summary = report.to_dict()
    if as_json:
        summary.pop("file_outcomes")
        typer.echo(json.dumps(summary))
    else:
        output.print_load_report(report)
    nothing_new = report.loaded == 0 and report.duplicates == 0
    # a README or a dataset's labels alone is no evidence skipped: nothing was loaded
    if nothing_new and not any(f.skipped and f.status != "skipped-not-evidence" for f in report.files):
        _fail("nothing could be loaded from the given paths")


@app.command("queries")
def list_queries(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the canned query catalogue."""
    from .catalog import catalog

    items = [q.summary() for q in catalog().values()]
    if as_json:
        typer.echo(json.dumps(items))
    else:
        output.print_catalog(items)


@app.command()
def query(
    query_id: Annotated[str, typer.Argument(metavar="ID")],
    case: CaseOpt,
    param: Annotated[list[str], typer.Option("--param", help="NAME=VALUE, repeatable.")] = [],  # noqa: B006
    fmt: Annotated[str, typer.Option("--format", help="table|csv|json|parquet")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Run one canned query with bound parameters."""
    params = {}
    for item in param:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--param expects NAME=VALUE, got {item!r}")
        params[name.strip()] = value
    with Case(case, read_only=True) as c:
        df = c.query(query_id, **params)
    output.write_frame(df, fmt, out)


def main() -> None:
    """Console-script entry point: library errors become one line on stderr."""
    try:
        app(standalone_mode=True)
    except IndicatorNotFoundError as exc:
        typer.echo(f"forensics: {exc}", err=True)
        sys.exit(1)
    except ForensicsError as exc:
        typer.echo(f"forensics: {exc}", err=True)
        sys.exit(2)


# Verbs that live in their own modules (forensics/commands/) register themselves on `app`.
from . import commands  # noqa: E402,F401
