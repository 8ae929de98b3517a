"""What every step of an investigation shares: one cursor (its temp tables live there), the
analyst's scope, and small helpers that keep SQL bound and results plain Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from .. import connection
from ..errors import QueryError


@dataclass
class Scope:
    """The analyst's framing: the story window and who is known to be on our side."""

    from_time: datetime | None = None
    to_time: datetime | None = None
    known_ips: list[str] = field(default_factory=list)
    responders: list[str] = field(default_factory=list)


class Ctx:
    """A private cursor on the case: temp tables made here vanish when it closes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        self.con = connection.cursor(con)
        self.con.execute("SET TimeZone = 'UTC'")
        self.scope = scope

    def close(self) -> None:
        self.con.close()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Run bound SQL; rows as dicts."""
        try:
            cur = self.con.execute(sql, params or None)
            names = [d[0] for d in cur.description] if cur.description else []
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except duckdb.Error as exc:
            raise QueryError("investigate", str(exc).splitlines()[0]) from None

    def one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    def scalar(self, sql: str, **params: Any) -> Any:
        row = self.con.execute(sql, params or None).fetchall()
        return row[0][0] if row else None

    def run(self, sql: str, **params: Any) -> None:
        try:
            self.con.execute(sql, params or None)
        except duckdb.Error as exc:
            raise QueryError("investigate", str(exc).splitlines()[0]) from None

    def has_rows(self, table: str) -> bool:
        """Whether a case table holds anything (sources load at different times)."""
        return bool(self.scalar(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)"))


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with Z, whole seconds, as every face prints times."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | datetime | None) -> datetime | None:
    """Accept ISO text (with Z or an offset, or a bare date) or a datetime; always UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        from ..errors import ForensicsError

        raise ForensicsError(f"not a time: {value!r} (use ISO 8601, e.g. 2026-11-16T02:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds())
