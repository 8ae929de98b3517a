"""One time format and one duration format for everything a person reads (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from forensics.timefmt import format_duration, format_relative, format_time, relative_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (43, "43 s"),
        (156, "2 min 36 s"),
        (3600, "1 h"),
        (3840, "1 h 4 min"),
        (3 * 86400 + 2 * 3600 + 59, "3 d 2 h"),
        (9 * 86400 + 8 * 3600 + 51 * 60 + 43, "9 d 8 h"),
        (-156, "-2 min 36 s"),
        (None, "—"),
    ],
)
def test_durations_keep_the_two_largest_units(seconds, text) -> None:
    assert format_duration(seconds) == text


def test_relative_spans_say_before_or_after() -> None:
    assert format_relative(-(9 * 86400 + 8 * 3600 + 51 * 60 + 43)) == "9 d 8 h before"
    assert format_relative(156) == "2 min 36 s after"


def test_times_are_utc_to_the_second() -> None:
    assert format_time("2026-05-14T02:51:43Z") == "2026-05-14 02:51:43 UTC"
    tokyo = timezone(timedelta(hours=9))
    assert format_time(datetime(2026, 5, 14, 11, 51, 43, 900000, tzinfo=tokyo)) == "2026-05-14 02:51:43 UTC"
    assert format_time(datetime(2026, 5, 14, 2, 51, 43)) == "2026-05-14 02:51:43 UTC"  # naive is UTC
    assert format_time(datetime(2026, 5, 14, tzinfo=UTC).date()) == "2026-05-14 00:00:00 UTC"
    assert format_time(None) == "—" and format_time("", missing="—") == "—"
    assert format_time("not a time") == "not a time"


def test_relative_duration_names_the_moment() -> None:
    assert relative_duration(1815, "first use") == "30 min 15 s after first use"
    assert relative_duration(-1062000, "first use") == "12 d 7 h before first use"
    assert relative_duration(0, "first use") == "at first use"
    assert relative_duration(None, "first use") == "—"
