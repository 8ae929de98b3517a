"""One time format and one duration format for everything a person reads (tables, Markdown,
the demo, the report). Machine outputs (JSON, CSV, Parquet, Timesketch) keep ISO 8601.

    format_time("2026-05-14T02:51:43Z")  -> "2026-05-14 02:51:43 UTC"
    format_duration(156)                 -> "2 min 36 s"
    format_duration(3840)                -> "1 h 4 min"
    format_duration(266400)              -> "3 d 2 h"
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

MISSING = "—"
_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def parse(value: Any) -> datetime | None:
    """A datetime (naive taken as UTC), a date or ISO 8601 text as an aware UTC datetime; None
    when it is none of these."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        t = value
    elif isinstance(value, date):
        t = datetime(value.year, value.month, value.day)
    else:
        try:
            t = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(value: Any, missing: str = MISSING) -> str:
    """`2026-05-14 02:51:43 UTC` (seconds, always UTC); text that is not a time is returned as
    it is, and a missing value as `missing`."""
    if value is None or value == "":
        return missing
    t = parse(value)
    if t is None:
        return str(value)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(seconds: float | int | None, missing: str = MISSING) -> str:
    """The two largest units of a span: `43 s`, `2 min 36 s`, `1 h 4 min`, `3 d 2 h` (`0 s`
    for none); a negative span gets a leading `-`."""
    if seconds is None:
        return missing
    sign = "-" if seconds < 0 else ""
    left = int(round(abs(seconds)))
    parts: list[str] = []
    for unit, size in _UNITS:
        n, left = divmod(left, size)
        if n or parts:
            parts.append(f"{n} {unit}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0 ")] or ["0 s"]
    return sign + " ".join(parts)


def format_relative(seconds: float | int | None, missing: str = MISSING) -> str:
    """A span relative to a moment: `2 min 36 s after`, `9 d 8 h before`."""
    if seconds is None:
        return missing
    return f"{format_duration(abs(seconds))} {'before' if seconds < 0 else 'after'}"


def relative_duration(seconds: float | int | None, what: str, missing: str = MISSING) -> str:
    """A span around a named moment: `1 h 4 min after first use`, `3 d 2 h before first use`,
    `at first use`."""
    if seconds is None:
        return missing
    if int(round(seconds)) == 0:
        return f"at {what}"
    return f"{format_relative(seconds)} {what}"
