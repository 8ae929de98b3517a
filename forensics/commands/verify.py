"""`forensics verify`: CloudTrail log file integrity, offline, from digests and public keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..case import Case
from ..cli import _fail, app

JSON_SCHEMA_VERSION = 1


@app.command()
def verify(
    paths: Annotated[
        list[Path], typer.Argument(help="Evidence folders or files holding CloudTrail digests.")
    ],
    public_key: Annotated[
        list[Path],
        typer.Option("--public-key", help="`aws cloudtrail list-public-keys` JSON output; repeatable."),
    ] = [],  # noqa: B006
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="acquisition.json (found at the top of a folder otherwise)."),
    ] = None,
    case: Annotated[
        Path | None, typer.Option("--case", help="Write each file's verdict into this case's sources.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Check CloudTrail digests (signature, chain) and every log file's SHA-256 against them.

    Verdicts per file and per hour: valid, modified, missing, trailing-data, moved, unverified,
    key-not-found, signature-invalid, unreferenced (no digest lists it), gap (in the chain)."""
    from ..integrity import record, verify_paths

    fmt = fmt.lower()
    if fmt not in ("table", "json"):
        _fail(f"unknown --format {fmt!r} (table|json)")
    result = verify_paths(paths, key_files=public_key, manifest=manifest)
    if not result.files:
        _fail("no CloudTrail digests or log files under the given paths")
    updated = None
    if case is not None:
        if not case.exists():
            _fail(f"{case}: no such case")
        with Case(case) as c:
            updated = record(c.con, result)
    if fmt == "json":
        doc = {"schema_version": JSON_SCHEMA_VERSION, "keys": result.keys, **result.to_dict()}
        if updated is not None:
            doc["case_rows_updated"] = updated
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    _print(result, updated)


def _print(result, updated: int | None) -> None:
    out = Console(file=sys.stdout, width=200)
    counts = result.counts()
    out.print(
        "Integrity: "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + f" ({result.keys} public key{'s' if result.keys != 1 else ''})"
    )
    hours = [h for h in result.hours() if h["verdict"] != "valid"]
    if hours:
        table = Table(title="Hours not proven valid")
        for col in ("hour", "verdict", "files"):
            table.add_column(col)
        for h in hours:
            table.add_row(h["hour"], h["verdict"], ", ".join(f"{n} {v}" for v, n in h["files"].items()))
        out.print(table)
    bad = [f for f in result.files if f.verdict != "valid"]
    if bad:
        table = Table(title=f"Files not proven valid ({len(bad)})")
        for col in ("verdict", "kind", "file", "why"):
            table.add_column(col, overflow="fold")
        for f in bad:
            table.add_row(f.verdict, f.kind, f.path or f.key, f.detail)
        out.print(table)
    for g in result.gaps:
        out.print(f"gap in {g['chain']}: {g['from']} to {g['to']} ({g['detail']})")
    if updated is not None:
        out.print(f"{updated} files of the case got their verdict.")
