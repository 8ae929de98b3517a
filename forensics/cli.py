"""The `forensics` command line: thin verbs over the same library the notebooks use.

One style across verbs (DESIGN.md "CLI"): `--format` for output (`--json` is a hidden alias
where it existed), `--case FILE`, the same indicator options everywhere (`--access-key`,
`--principal`, `--ip`, `--instance`, `--resource`), `--from/--to` for a time scope, `--out`.

Exit status: 0 when the command did its work, 1 when an indicator is not in the case,
2 for a usage error or when nothing at all could be loaded (one `forensics: ...` line on stderr).
With --format json, stdout holds one JSON document carrying `schema_version` and nothing else.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__, output
from .case import Case
from .errors import ForensicsError, IndicatorNotFoundError, ParameterError
from .escape import terminal

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Investigate AWS security incidents from exported evidence, in one DuckDB case file.",
)

T = TypeVar("T")

# -- the options every verb shares (one spelling, one help text) --------------------------------
CaseOpt = Annotated[
    Path, typer.Option("--case", metavar="FILE", help="The case file (DuckDB) to read or write.")
]
AccessKeyOpt = Annotated[
    str | None,
    typer.Option("--access-key", metavar="KEY", help="Indicator: an access key id (AKIA..., ASIA...)."),
]
PrincipalOpt = Annotated[
    str | None,
    typer.Option("--principal", metavar="ARN", help="Indicator: a principal ARN (user, role, session)."),
]
IpOpt = Annotated[
    str | None, typer.Option("--ip", metavar="IP", help="Indicator: a source address (IPv4 or IPv6).")
]
InstanceOpt = Annotated[
    str | None, typer.Option("--instance", metavar="ID", help="Indicator: an EC2 instance id (i-...).")
]
ResourceOpt = Annotated[
    str | None, typer.Option("--resource", metavar="ARN", help="Indicator: a resource ARN.")
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", metavar="REGION", help="An AWS region (e.g. ap-south-1).")
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="TIME", help="Start of the time scope (ISO 8601, UTC unless an offset is given)."
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to", metavar="TIME", help="End of the time scope (ISO 8601, UTC unless an offset is given)."
    ),
]
JsonAlias = Annotated[bool, typer.Option("--json", hidden=True, help="Same as --format json.")]
KnownIpOpt = Annotated[
    list[str],
    typer.Option(
        "--known-ip", metavar="IP", help="An address of our own, never the intruder's (repeatable)."
    ),
]
ResponderOpt = Annotated[
    list[str],
    typer.Option(
        "--responder",
        metavar="ARN",
        help="A responder's principal ARN: its actions are containment (repeatable).",
    ),
]


class _StderrLines(logging.Handler):
    """Library warnings as `forensics: ...` lines on whatever stderr is now."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("forensics: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(terminal(self.format(record)), err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forensics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Investigate AWS security incidents from exported evidence, in one DuckDB case file."""


# -- shared helpers for the verbs -----------------------------------------------------------------
def fail(message: str, code: int = 2) -> NoReturn:
    """One `forensics: ...` line on stderr and the exit status (2 usage, 1 indicator not found).
    Messages name evidence (paths, values from records): escape sequences and line breaks in them
    are removed, so a hostile file name cannot drive the analyst's terminal or forge a line."""
    typer.echo(f"forensics: {terminal(message)}", err=True)
    raise typer.Exit(code)


_fail = fail  # the name older verb modules import


def _problem(line: str) -> None:
    typer.echo(f"forensics: {terminal(line)}", err=True)


def choose_format(fmt: str, allowed: tuple[str, ...], as_json: bool = False) -> str:
    """The output format, checked against what the verb writes (`--json` means json)."""
    fmt = "json" if as_json else fmt.lower()
    if fmt not in allowed:
        fail(f"unknown --format {fmt!r} ({'|'.join(allowed)})")
    return fmt


def indicator(
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
    resource: str | None = None,
    region: str | None = None,
    required: bool = True,
    region_allowed: bool = False,
) -> dict[str, str]:
    """The one indicator given, as {option name: value}; a usage error for none (when required)
    or more than one."""
    given = {
        name: value
        for name, value in (
            ("access_key", access_key),
            ("principal", principal),
            ("ip", ip),
            ("instance", instance),
            ("resource", resource),
            ("region", region),
        )
        if value
    }
    options = ["--access-key", "--principal", "--ip", "--instance", "--resource"] + (
        ["--region"] if region_allowed else []
    )
    if len(given) > 1 or (required and not given):
        fail(f"give exactly one of {', '.join(options)}")
    return given


def run(work: Callable[[], T]) -> T:
    """Library errors as one line on stderr: 1 for an indicator not in the case, else 2."""
    try:
        return work()
    except IndicatorNotFoundError as exc:
        fail(str(exc), 1)
    except ForensicsError as exc:
        fail(str(exc), 2)


def emit_json(doc: Any) -> None:
    """One JSON document on stdout (times as ISO 8601 text)."""
    sys.stdout.write(json.dumps(doc, default=str) + "\n")
    sys.stdout.flush()


# -- load, queries, query --------------------------------------------------------------------------
@app.command()
def load(
    paths: Annotated[
        list[Path], typer.Argument(help="Evidence files or folders (folders are walked recursively).")
    ],
    case: CaseOpt,
    source: Annotated[
        str,
        typer.Option(
            metavar="SOURCE",
            help="What the evidence is: auto (detect each file) | cloudtrail | vpcflow | billing | findings.",
        ),
    ] = "auto",
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="table (a summary for people) | json (one document)."
        ),
    ] = "table",
    as_json: JsonAlias = False,
) -> None:
    """Load evidence into the case: detect each file's format, record provenance, quarantine bad
    input. Files already in the case are not read again."""
    fmt = choose_format(fmt, ("table", "json"), as_json)

    def work():
        with Case(case) as c, output.progress(enabled=fmt != "json") as progress:
            return c.load(paths, source=source, on_problem=_problem, progress=progress)

    report = run(work)
    if fmt == "json":
        emit_json(output.load_document(report))
    else:
        output.print_load_report(report)
    nothing_new = report.loaded == 0 and report.duplicates == 0
    # a README or a dataset's labels alone is no evidence skipped: nothing was loaded
    if nothing_new and not any(f.skipped and f.status != "skipped-not-evidence" for f in report.files):
        fail("nothing could be loaded from the given paths")


@app.command("queries")
def list_queries(
    fmt: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="table | json (a list, one object per query).")
    ] = "table",
    as_json: JsonAlias = False,
) -> None:
    """List the catalogue: every canned query and detection, with its parameters."""
    from .catalog import catalog

    fmt = choose_format(fmt, ("table", "json"), as_json)
    items = [q.summary() for q in catalog().values()]
    if fmt == "json":
        emit_json([output.with_version(q) for q in items])
    else:
        output.print_catalog(items)


# Indicator options and the query parameter each binds (when the query declares it).
_INDICATOR_PARAMS = {
    "access_key": "access_key_id",
    "principal": "principal_arn",
    "ip": "source_ip",
    "instance": "instance_id",
    "resource": "resource",
    "region": "region",
}


@app.command()
def query(
    query_id: Annotated[str, typer.Argument(metavar="ID", help="The query's id (`forensics queries`).")],
    case: CaseOpt,
    param: Annotated[
        list[str],
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="A query parameter as NAME=VALUE, bound, never pasted (repeatable).",
        ),
    ] = [],  # noqa: B006
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    from_time: FromOpt = None,
    to_time: ToOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            metavar="N",
            min=0,
            help=f"At most N rows (0: all). Default: {output.TERMINAL_LIMIT} for a table on a terminal, "
            "all rows otherwise.",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="table | csv | json (one document, a list of rows) | parquet (needs --out) | "
            "timesketch (JSONL, or CSV when --out ends .csv; timeline queries).",
        ),
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", metavar="PATH", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Run one canned query, its parameters bound by DuckDB. Indicator options and --from/--to
    set the query's own parameters (access_key_id, principal_arn, source_ip, instance_id,
    from_time, to_time) when it declares them."""
    from .catalog import get_query
    from .hunt import parse_time

    fmt = choose_format(fmt, ("table", "csv", "json", "parquet", "timesketch"))
    if fmt == "parquet" and out is None:
        fail("--format parquet needs --out FILE")
    params: dict[str, Any] = {}
    for item in param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--param expects NAME=VALUE, got {item!r}")
        params[name.strip()] = value
    q = run(lambda: get_query(query_id))
    declared = {p.name for p in q.params}
    scoped = {
        _INDICATOR_PARAMS[k]: v
        for k, v in indicator(access_key, principal, ip, instance, required=False).items()
    }
    try:
        scoped.update({k: parse_time(v) for k, v in (("from_time", from_time), ("to_time", to_time)) if v})
    except ParameterError as exc:
        fail(str(exc))
    for name, value in scoped.items():
        if name not in declared:
            option = {"from_time": "--from", "to_time": "--to"}.get(name) or "--" + next(
                k for k, v in _INDICATOR_PARAMS.items() if v == name
            ).replace("_", "-")
            fail(
                f"query {q.id!r} takes no {option} (its parameters: {', '.join(sorted(declared)) or 'none'})"
            )
        if name in params:
            fail(f"{name} given twice (as --param and as an option)")
        params[name] = value

    def work():
        with Case(case, read_only=True) as c:
            return c.query(q.id, **params)

    df = run(work)
    if fmt == "timesketch" and "time" not in df.columns:
        fail(f"query {q.id!r} has no time column: --format timesketch needs a timeline query")
    if limit is None and fmt == "table" and out is None and output.stdout_is_terminal():
        limit = output.TERMINAL_LIMIT
    total = df.height
    if limit:
        df = df.head(limit)
    if df.height < total and (fmt != "table" or out is not None):
        _problem(f"{df.height} of {total} rows written (--limit {limit})")
    if fmt == "timesketch":
        output.write_timesketch(output.timesketch_rows_of_query(q.id, df), out)
    else:
        output.write_frame(df, fmt, out, total=total)


try:  # typer vendors click; its "no arguments: show help" signal
    from typer._click.exceptions import NoArgsIsHelpError as _NoArgsIsHelp
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import NoArgsIsHelpError as _NoArgsIsHelp


def main() -> None:
    """Console-script entry point: usage errors and library errors become one line on stderr."""
    # The library logs and never prints; the program shows its warnings as `forensics: ...` lines
    # (only here: a notebook or test that imports the CLI keeps its own logging).
    logger = logging.getLogger("forensics")
    if not any(isinstance(h, _StderrLines) for h in logger.handlers):
        logger.addHandler(_StderrLines())
    try:
        status = app(prog_name="forensics", standalone_mode=False)
    except _NoArgsIsHelp as exc:
        typer.echo(exc.ctx.get_help() if getattr(exc, "ctx", None) else str(exc))
        sys.exit(0)
    except typer.BadParameter.__mro__[1] as exc:  # the usage error class of typer's click
        ctx = getattr(exc, "ctx", None)
        verb = f"{ctx.command.name} " if ctx is not None and ctx.parent is not None else ""
        hint = f" (forensics {verb}--help)" if ctx is not None else ""
        typer.echo(f"forensics: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("forensics: interrupted", err=True)
        sys.exit(130)
    except IndicatorNotFoundError as exc:
        typer.echo(f"forensics: {exc}", err=True)
        sys.exit(1)
    except ForensicsError as exc:
        typer.echo(f"forensics: {exc}", err=True)
        sys.exit(2)
    except BrokenPipeError:  # `forensics query ... | head`
        sys.stderr.close()
        sys.exit(0)
    sys.exit(status if isinstance(status, int) else 0)


# Verbs that live in their own modules (forensics/commands/) register themselves on `app`.
from . import commands  # noqa: E402,F401
