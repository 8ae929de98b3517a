"""One way to write a moment and one way to write a span, for every face (report, notebooks,
CLI tables): `2026-11-16 02:51:43 UTC` and `2 min 36 s` / `1 h 4 min` / `3 d 2 h`.

Machine outputs (JSON, CSV, Timesketch) keep ISO 8601 with `Z`; these are for people.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MISSING = "—"


def _parse(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        t = value
    else:
        text = str(value).strip().replace(" UTC", "").replace("Z", "+00:00")
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


def format_time(value: Any, missing: str = MISSING) -> str:
    """A timestamp (datetime or ISO text; naive means UTC) as `2026-11-16 02:51:43 UTC`."""
    t = _parse(value)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else missing


def format_duration(seconds: float | int | None, missing: str = MISSING) -> str:
    """A span in seconds at the two units that matter: `45 s`, `2 min 36 s`, `1 h 4 min`,
    `3 d 2 h`. The sign is dropped (say "before"/"after" around it: `relative_duration`)."""
    if seconds is None:
        return missing
    s = abs(int(round(seconds)))
    if s < 60:
        return f"{s} s"
    minutes, sec = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def relative_duration(seconds: float | int | None, what: str, missing: str = MISSING) -> str:
    """`1 h 4 min after first use` / `3 d 2 h before first use` / `at first use`."""
    if seconds is None:
        return missing
    if int(round(seconds)) == 0:
        return f"at {what}"
    side = "after" if seconds > 0 else "before"
    return f"{format_duration(seconds)} {side} {what}"


__all__ = ["format_duration", "format_time", "relative_duration"]
