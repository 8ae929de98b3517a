"""Time helpers and the fixed calendar of the sample incident.

Times are plain integers (Unix seconds, UTC) inside the generator: they are cheap to compare and
shift, and they never depend on the machine's clock or time zone. They are turned into AWS's
text forms only when a record is written.
"""

from __future__ import annotations

import calendar
import time

HOUR = 3600
DAY = 86400
JST = 9 * HOUR  # the company works in Tokyo (UTC+9)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Unix seconds for a UTC calendar time."""
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def iso(t: int) -> str:
    """CloudTrail's eventTime form: 2026-11-16T02:51:43Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def iso_ms(t: float) -> str:
    """The CUR form with milliseconds: 2026-11-16T02:00:00.000Z."""
    whole = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((t - whole) * 1000):03d}Z"


def stamp(t: int) -> str:
    """The compact form used in S3 object names: 20261116T0255Z."""
    return time.strftime("%Y%m%dT%H%MZ", time.gmtime(t))


def day_path(t: int) -> str:
    """The YYYY/MM/DD folder of a delivery."""
    return time.strftime("%Y/%m/%d", time.gmtime(t))


def http_date(t: int) -> str:
    """The RFC 1123 form AWS Health uses in startTime: Mon, 16 Nov 2026 03:23:40 GMT."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


def tokyo_hour(t: int) -> int:
    """Hour of the day on a Tokyo wall clock."""
    return time.gmtime(t + JST).tm_hour


def tokyo_weekday(t: int) -> int:
    """Day of the week in Tokyo, Monday = 0."""
    return time.gmtime(t + JST).tm_wday


# The calendar of the story (all UTC). Two weeks of ordinary work, then the incident day.
EVIDENCE_START = utc(2026, 11, 2)  # Monday 09:00 in Tokyo
INCIDENT_DAY = utc(2026, 11, 16)  # Monday
EVIDENCE_END = utc(2026, 11, 16, 12)  # the evidence was exported at 21:00 Tokyo time
BILLING_PERIOD_START = utc(2026, 11, 1)
BILLING_PERIOD_END = utc(2026, 12, 1)
