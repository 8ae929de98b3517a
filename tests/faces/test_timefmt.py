"""The faces' one time format and one duration format."""

from __future__ import annotations

import datetime as dt

import pytest

from forensics.timefmt import format_duration, format_time, relative_duration


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-11-16T02:51:43Z", "2026-11-16 02:51:43 UTC"),
        ("2026-11-16T11:51:43+09:00", "2026-11-16 02:51:43 UTC"),
        (dt.datetime(2026, 11, 16, 2, 51, 43), "2026-11-16 02:51:43 UTC"),  # naive is UTC
        (dt.datetime(2026, 11, 16, 2, 51, 43, 900_000, tzinfo=dt.UTC), "2026-11-16 02:51:43 UTC"),
        (None, "—"),
        ("", "—"),
        ("not a time", "—"),
    ],
)
def test_format_time(value: object, text: str) -> None:
    assert format_time(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59, "59 s"),
        (156, "2 min 36 s"),
        (1815, "30 min 15 s"),
        (1800, "30 min"),
        (3627, "1 h"),
        (3840, "1 h 4 min"),
        (86400 + 7200 + 59, "1 d 2 h"),
        (-1815, "30 min 15 s"),
        (None, "—"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_relative_duration_says_which_side() -> None:
    assert relative_duration(1815, "first use") == "30 min 15 s after first use"
    assert relative_duration(-1062000, "first use") == "12 d 7 h before first use"
    assert relative_duration(0, "first use") == "at first use"
    assert relative_duration(None, "first use") == "—"
