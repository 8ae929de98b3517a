"""Run a catalogue query on Amazon Athena through pyathena (`forensics sql ID --dialect athena
--run`): the statement `forensics sql` prints, its string parameters sent as Athena's execution
parameters (positional `?`, in WHERE only; Athena takes string values already quoted), the rows
back as dicts typed by pyathena from Athena's column types.

pyathena is an optional extra (`pip install 'forensics[athena]'`). Credentials and the region
come from the usual boto3 chain. The tables the statement reads (`cloudtrail`, ...) are views
over AWS's own tables (`forensics sql --view cloudtrail_logs --dialect athena`).
"""

from __future__ import annotations

from typing import Any

from ..catalog import Query, get_query
from ..dialects import statement_for
from ..errors import ForensicsError


class AthenaError(ForensicsError):
    """pyathena is missing, or Athena refused or failed the query."""


def athena_string(value: str) -> str:
    """A string as an Athena execution parameter: a quoted SQL literal (quotes doubled); an
    absent optional value is sent as NULL."""
    return "'" + value.replace("'", "''") + "'"


def run_query(
    query: str | Query,
    given: dict[str, Any] | None = None,
    *,
    workgroup: str | None = None,
    database: str | None = None,
    s3_output: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> list[dict[str, Any]]:
    """The query's rows from Athena."""
    try:
        from pyathena import connect
    except ImportError:
        raise AthenaError("pyathena is not installed (pip install 'forensics[athena]')") from None
    q = get_query(query) if isinstance(query, str) else query
    text, order = statement_for(q, "athena", given)
    bound = q.bind(given or {})
    if len(order) > 25:
        raise AthenaError(f"query {q.id!r} has {len(order)} parameters; Athena takes at most 25")
    options: dict[str, Any] = {"schema_name": database or "default"}
    if workgroup:
        options["work_group"] = workgroup
    if s3_output:
        options["s3_staging_dir"] = s3_output
    if region:
        options["region_name"] = region
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    try:
        with connect(**options) as conn:
            cursor = conn.cursor()
            values = [athena_string(str(v)) if (v := bound.get(n)) is not None else "NULL" for n in order]
            cursor.execute(text, values or None, paramstyle="qmark")
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except ForensicsError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyathena and botocore raise many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AthenaError(f"Athena: query {q.id!r} failed: {first}") from None
