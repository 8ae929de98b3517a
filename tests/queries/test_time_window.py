"""Every detection scoped by `hunt --from/--to` (its `from_time`/`to_time` parameters), on its own
first firing fixture: a window before or after all of the fixture's evidence returns nothing, and
the window from its first piece of evidence to its last returns the same rows as no window (both
bounds are inclusive).
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from forensics import Case, catalog
from forensics.fixtures import load_suite, write_evidence

QUERIES = catalog.catalog()


def _windowed() -> list[str]:
    out = []
    for qid, q in sorted(QUERIES.items()):
        names = {p.name for p in q.params}
        cases = load_suite(q.path).get("cases") or []
        fires = any(c.get("fires", True) for c in cases)
        if q.kind == "detection" and {"from_time", "to_time"} <= names and fires:
            out.append(qid)
    return out


# When each kind of evidence happened (never when it was loaded or delivered).
EVIDENCE_TIMES = """
    SELECT min(t), max(t) FROM (
        SELECT event_time AS t FROM cloudtrail
        UNION ALL SELECT unnest([start_time, end_time]) FROM vpc_flows
        UNION ALL SELECT unnest([usage_start, usage_end]) FROM billing
        UNION ALL SELECT unnest([first_seen, last_seen]) FROM findings)
"""


def _sorted(rows: list[dict]) -> list[str]:
    return sorted(repr(sorted(r.items())) for r in rows)


@pytest.mark.parametrize("query_id", _windowed())
def test_time_window_bounds_the_rows(query_id: str) -> None:
    suite = load_suite(QUERIES[query_id].path)
    case = next(c for c in suite["cases"] if c.get("fires", True))
    params = dict(case.get("params") or {})
    with tempfile.TemporaryDirectory(prefix="fx-") as tmp:
        folder = Path(tmp) / "evidence"
        write_evidence(folder, case, suite, seed=f"{query_id}/{case.get('name', '')}")
        with Case(":memory:") as c:
            c.load([folder], on_problem=lambda line: None)
            rows = c.query(query_id, **params).to_dicts()
            assert rows, "the firing fixture fires without a window"
            first, last = c.con.execute(EVIDENCE_TIMES).fetchone()
            tick = timedelta(microseconds=1)

            def within(start, end) -> list[dict]:
                return c.query(query_id, **{**params, "from_time": start, "to_time": end}).to_dicts()

            assert within(first - timedelta(days=3650), first - tick) == [], "before all the evidence"
            assert within(last + tick, last + timedelta(days=3650)) == [], "after all the evidence"
            assert _sorted(within(first, last)) == _sorted(rows), "from the first evidence to the last"
