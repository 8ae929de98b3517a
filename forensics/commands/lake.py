"""`forensics export` and `forensics pull`: a case as a Parquet lake, and a lake's slice as a case."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..cli import AccessKeyOpt, CaseOpt, InstanceOpt, IpOpt, PrincipalOpt, _fail, app
from ..errors import ForensicsError
from ..schema import SCHEMA_VERSION


@app.command("export")
def export(
    case: CaseOpt,
    to: Annotated[Path, typer.Option("--to", help="A new or empty folder for the lake.")],
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Write the case's tables as a Hive-partitioned Parquet lake (by account, region and day)."""
    from ..lake import export_case

    fmt = fmt.lower()
    if fmt not in ("table", "json"):
        _fail(f"unknown --format {fmt!r} (table|json)")
    if not case.exists():
        _fail(f"no case file at {case}")
    try:
        report = export_case(case, to)
    except ForensicsError as exc:
        _fail(str(exc))
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema_version": SCHEMA_VERSION, **report.to_dict()}) + "\n")
        return
    rows = ", ".join(f"{t} {n}" for t, n in report.tables.items() if n)
    typer.echo(f"lake written to {report.lake} in {report.seconds:.1f} s: {rows or 'no rows'}")


@app.command("sql")
def sql(
    query_id: Annotated[
        str | None,
        typer.Argument(metavar="ID", help="A query or rule id of the catalogue (`forensics queries`)."),
    ] = None,
    dialect: Annotated[str, typer.Option("--dialect", help="duckdb|spark|athena|trino")] = "trino",
    param: Annotated[list[str], typer.Option("--param", help="NAME=VALUE, repeatable.")] = [],  # noqa: B006
    view: Annotated[
        str | None,
        typer.Option(
            "--view",
            metavar="TABLE",
            help="Print instead the view that maps another tool's table onto the case's shape: "
            "cloudtrail_logs (AWS's Athena table for CloudTrail), vpc_flow_logs (AWS's for VPC flow logs), "
            "cur (a legacy CUR in Parquet, the CUR Athena integration), cur2 (a CUR 2.0 Data Export), "
            "focus (a FOCUS Data Export with AWS columns) "
            "or aws_cloudtrail_log (Tailpipe's, duckdb).",
        ),
    ] = None,
    run: Annotated[
        bool, typer.Option("--run", help="Run it on Athena (pyathena, --dialect athena); print its rows.")
    ] = False,
    workgroup: Annotated[str | None, typer.Option("--workgroup", help="Athena workgroup (--run).")] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Athena database holding the views (--run).")
    ] = None,
    s3_output: Annotated[
        str | None,
        typer.Option("--s3-output", metavar="URI", help="s3:// folder for results (else the workgroup's)."),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region of Athena (--run).")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", hidden=True, help="Athena endpoint (tests: moto).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="sql | json (--run: rows)")] = "sql",
) -> None:
    """Print a canned query as SQL that runs on another engine, vocabulary inlined; or a view
    mapping AWS's or Tailpipe's table onto the case's; or run the query on Athena."""
    from ..dialects import sql_for

    dialect = dialect.lower()
    if (query_id is None) == (view is None):
        _fail("give a query ID or --view TABLE (one of them)")
    if view is not None:
        if run:
            _fail("--run runs a query, not a view: create the view once, then run queries over it")
        from ..lake.views import view_sql

        try:
            sys.stdout.write(view_sql(view, dialect))
        except ForensicsError as exc:
            _fail(str(exc))
        return
    params = {}
    for item in param:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--param expects NAME=VALUE, got {item!r}")
        params[name.strip()] = value
    if run:
        _run_athena(query_id, dialect, params, workgroup, database, s3_output, region, endpoint_url, fmt)
        return
    if any((workgroup, database, s3_output, region)):
        _fail("--workgroup, --database, --s3-output and --region go with --run")
    try:
        text = sql_for(query_id, dialect, params)
    except ForensicsError as exc:
        _fail(str(exc))
    sys.stdout.write(text)


def _run_athena(query_id, dialect, params, workgroup, database, s3_output, region, endpoint_url, fmt) -> None:
    """`sql ID --dialect athena --run`: the rows as `query --format json` writes them."""
    import polars as pl

    from .. import output
    from ..lake.athena import AthenaError, run_query

    if dialect != "athena":
        _fail("--run runs on Athena only: give --dialect athena")
    if fmt.lower() not in ("json", "sql"):
        _fail(f"unknown --format {fmt!r} for --run (json)")
    try:
        rows = run_query(
            query_id,
            params,
            workgroup=workgroup,
            database=database,
            s3_output=s3_output,
            region=region,
            endpoint_url=endpoint_url,
        )
    except AthenaError as exc:
        _fail(str(exc))
    except ForensicsError as exc:
        _fail(str(exc))
    df = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    output.write_frame(df, "json", None, total=len(rows))


@app.command("pull")
def pull_cmd(
    lake: Annotated[Path, typer.Option("--lake", help="A lake from `forensics export`.")],
    case: CaseOpt,
    access_key: AccessKeyOpt = None,
    principal: PrincipalOpt = None,
    ip: IpOpt = None,
    instance: InstanceOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Copy the accounts an indicator touches (whole: the baselines need them) into a new case."""
    from ..errors import IndicatorNotFoundError
    from ..lake.pull import pull

    try:
        report = pull(lake, case, access_key=access_key, principal=principal, ip=ip, instance=instance)
    except IndicatorNotFoundError as exc:
        _fail(str(exc), code=1)
    except ForensicsError as exc:
        _fail(str(exc))
    if fmt == "json":
        sys.stdout.write(json.dumps({"schema_version": SCHEMA_VERSION, **report.to_dict()}) + "\n")
        return
    rows = ", ".join(f"{t} {n}" for t, n in report.tables.items())
    typer.echo(
        f"pulled account(s) {', '.join(report.accounts)} into {report.case} in {report.seconds:.1f} s: {rows}"
    )


lake_app = typer.Typer(
    help="Lakes at organisation scale: raw evidence into a Parquet lake.", no_args_is_help=True
)
app.add_typer(lake_app, name="lake")


@lake_app.command("build")
def lake_build(
    source: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="S3URI|DIR",
            help="The raw evidence: a folder holding AWSLogs/(<org-id>/)<account>/CloudTrail/... and/or "
            ".../vpcflowlogs/..., or s3:// when Spark has the hadoop-aws jars.",
        ),
    ],
    to: Annotated[Path, typer.Option("--to", metavar="LAKE", help="A new or empty folder for the lake.")],
    engine: Annotated[
        str, typer.Option("--engine", metavar="ENGINE", help="spark (the only one).")
    ] = "spark",
    master: Annotated[
        str | None, typer.Option("--master", metavar="URL", help="Spark master URL (default local[*]).")
    ] = None,
    spark_memory: Annotated[
        str | None,
        typer.Option(
            "--spark-memory",
            metavar="SIZE",
            help="Spark driver heap, like 4g (local mode runs every task in it; default "
            "$FORENSICS_SPARK_MEMORY or 2g).",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Read raw CloudTrail trail files and VPC flow logs with Spark into the lake `forensics export`
    writes (same tables, columns, types and partitions), for `hunt --engine spark --lake` and
    `pull --lake`. Billing is not read: load it into a case and export it."""
    from ..cli import choose_format, emit_json

    fmt = choose_format(fmt, ("table", "json"))
    if engine.lower() != "spark":
        _fail(f"unknown --engine {engine!r} (lake build runs on spark)")
    try:
        from ..engines.spark import spark_session
        from ..lake.build import build_lake

        problems: list[str] = []
        report = build_lake(
            spark_session(master, memory=spark_memory), source, to, on_problem=problems.append
        )
    except ForensicsError as exc:
        _fail(str(exc))
    for line in problems:
        typer.echo(f"forensics: {line}", err=True)
    if fmt == "json":
        emit_json({"schema_version": SCHEMA_VERSION, **report.to_dict()})
        return
    typer.echo(
        f"lake built at {report.lake} in {report.seconds:.1f} s from {report.files} file(s): "
        f"{report.read} record(s) read = {report.written} written + {report.duplicates} duplicate(s) "
        f"+ {report.rejected} rejected; {len(report.bad_files)} file(s) not read"
    )
