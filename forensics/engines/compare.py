"""Rows from two engines compared as multisets: the differential test's and the benchmark's rule."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def normal(value: Any) -> Any:
    """One value in a form both engines agree on: times in UTC, lists sorted, money to 1e-6,
    JSON text parsed (engines write the same document with different spacing)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        rounded = round(float(value), 6)
        return int(rounded) if rounded == int(rounded) else rounded
    if isinstance(value, list | tuple):
        return sorted((normal(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, dict):
        return {k: normal(v) for k, v in sorted(value.items())}
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return normal(json.loads(value))
        except ValueError:
            return value
    return value


def multiset(rows: list[dict[str, Any]]) -> Counter:
    return Counter(json.dumps(normal(r), sort_keys=True, default=str) for r in rows)


def differences(left: list[dict[str, Any]], right: list[dict[str, Any]], limit: int = 3) -> list[str]:
    """Rows only on one side (a few of each), empty when the multisets are equal."""
    a, b = multiset(left), multiset(right)
    only_left = list((a - b).elements())[:limit]
    only_right = list((b - a).elements())[:limit]
    return [f"only in the first: {r}" for r in only_left] + [f"only in the second: {r}" for r in only_right]
