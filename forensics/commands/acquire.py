"""`forensics acquire`: evidence out of an AWS account into a folder, sealed by its manifest."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import output
from ..cli import _fail, _problem, app
from ..errors import ParameterError
from ..hunt import parse_time

JSON_SCHEMA_VERSION = 1


@app.command()
def acquire(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write (resumed when it exists).")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Window start (ISO 8601, UTC).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Window end (ISO 8601, UTC).")] = None,
    account: Annotated[
        list[str], typer.Option("--account", help="Account to acquire (repeatable; default the caller's).")
    ] = [],  # noqa: B006
    region: Annotated[list[str], typer.Option("--region", help="Region (repeatable; default all).")] = [],  # noqa: B006
    role_name: Annotated[
        str | None, typer.Option("--role-name", help="Role to assume in the other accounts.")
    ] = None,
    s3: Annotated[
        list[str],
        typer.Option("--s3", help="s3://bucket/prefix of flow logs or billing exports (repeatable)."),
    ] = [],  # noqa: B006
    lookup: Annotated[
        str, typer.Option(help="LookupEvents: auto (where no trail bucket) | always | never")
    ] = "auto",
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
    policy: Annotated[
        bool, typer.Option("--policy", help="Print the read-only IAM policy needed, and exit.")
    ] = False,
) -> None:
    """Acquire CloudTrail (trail buckets with digests, or LookupEvents), flow logs, billing exports,
    GuardDuty findings and Health events, read-only; prints the manifest's seal (its sha256)."""
    from ..acquire import Options
    from ..acquire import acquire as run
    from ..acquire.policy import policy as iam_policy

    if policy:
        typer.echo(json.dumps(iam_policy(role_name), indent=2))
        return
    fmt = fmt.lower()
    if fmt not in ("table", "json"):
        _fail(f"unknown --format {fmt!r} (table|json)")
    if out is None:
        _fail("--out is required")
    if lookup not in ("auto", "always", "never"):
        _fail(f"unknown --lookup {lookup!r} (auto|always|never)")
    try:
        start, end = parse_time(from_), parse_time(to)
    except ParameterError as exc:
        _fail(str(exc))
    if start and end and start > end:
        _fail("--from is after --to")
    opts = Options(
        out=out,
        start=start,
        end=end,
        accounts=account,
        regions=region,
        role_name=role_name,
        s3_prefixes=s3,
        lookup=lookup,
    )
    with output.progress(enabled=fmt != "json") as progress:
        summary = run(opts, on_problem=_problem, progress=progress)
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema_version": JSON_SCHEMA_VERSION, **summary.to_dict()}) + "\n")
        return
    typer.echo(f"acquired by {summary.caller.get('Arn')} into {out}")
    for k, v in summary.counts.items():
        typer.echo(f"  {k.replace('_', ' ')}: {v}")
    typer.echo(f"manifest {summary.manifest}")
    typer.echo(f"seal (sha256 of the manifest): {summary.seal}")
