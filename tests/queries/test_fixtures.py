"""Every canned query against its own fixtures: cases that must fire and near misses that must not.

The evidence of each case is written as raw files and loaded through the real loaders, so a
query is proven against what AWS writes, not against hand-made table rows.
"""

from __future__ import annotations

import pytest

from forensics import catalog
from forensics.fixtures import check, load_suite, run_case

QUERIES = catalog.catalog()


def _group(query_id: str) -> pytest.MarkDecorator:
    """A query's tests run on one worker, so its contract test reads the rows its first firing
    case already computed there (`_ran`)."""
    return pytest.mark.xdist_group(f"fixtures:{query_id}")


def _cases() -> list:
    out = []
    for qid, q in sorted(QUERIES.items()):
        for i, case in enumerate(load_suite(q.path).get("cases") or []):
            name = case.get("name", f"case {i}")
            out.append(pytest.param(qid, i, id=f"{qid}: {name}", marks=_group(qid)))
    return out


_RAN: dict[tuple[str, int], tuple] = {}


def _ran(query_id: str, index: int) -> tuple:
    """A fixture case's rows and load problems, computed once per worker (frames are not
    changed by the tests that read them)."""
    if (query_id, index) not in _RAN:
        suite = load_suite(QUERIES[query_id].path)
        _RAN[query_id, index] = run_case(query_id, suite["cases"][index], suite)
    return _RAN[query_id, index]


@pytest.mark.parametrize(("query_id", "index"), _cases())
def test_fixture_case(query_id: str, index: int) -> None:
    case = load_suite(QUERIES[query_id].path)["cases"][index]
    df, problems = _ran(query_id, index)
    assert not problems, f"fixture evidence did not load cleanly: {problems}"
    fails = check(df, case)
    assert not fails, "\n".join(fails)


@pytest.mark.parametrize("query_id", sorted(QUERIES))
def test_every_query_fires_and_stays_silent_somewhere(query_id: str) -> None:
    """A query with no positive case proves nothing; one with no near miss may fire on anything."""
    cases = load_suite(QUERIES[query_id].path).get("cases") or []
    assert any(c.get("fires", True) for c in cases), f"{query_id}: no case where it must fire"
    if QUERIES[query_id].kind == "detection":
        assert any(not c.get("fires", True) for c in cases), f"{query_id}: no near miss"


DETECTION_COLUMNS = [
    "event_time", "detection", "severity", "tactic", "principal_arn",
    "access_key_id", "source_ip", "region", "resource", "event_id",
]  # fmt: skip
TIMELINE_COLUMNS = ["time", "source", "phase", "actor", "action", "target", "outcome", "detail", "event_id"]
PHASES = {
    "initial_access", "execution", "discovery", "credential_access", "privilege_escalation", "persistence",
    "defense_evasion", "lateral_movement", "exfiltration", "impact", "aws_response", "containment",
}  # fmt: skip


@pytest.mark.parametrize("query_id", [pytest.param(q, marks=_group(q)) for q in sorted(QUERIES)])
def test_query_header_and_output_contract(query_id: str) -> None:
    """Detections share leading columns, timelines theirs; headers name a phase and a severity."""
    q = QUERIES[query_id]
    cases = load_suite(q.path).get("cases") or []
    firing = next(i for i, c in enumerate(cases) if c.get("fires", True))
    df, _ = _ran(query_id, firing)
    if q.kind == "detection":
        assert df.columns[: len(DETECTION_COLUMNS)] == DETECTION_COLUMNS
        assert q.tactic in PHASES
        assert q.severity in {"info", "low", "medium", "high", "critical"}
        assert set(df["severity"].unique()) <= {"info", "low", "medium", "high", "critical"}
        assert set(df["tactic"].unique()) <= PHASES
        assert set(df["detection"].unique()) == {q.id}
        names = {p.name for p in q.params}
        assert {"from_time", "to_time"} <= names, "every detection can be scoped by hunt --from/--to"
    elif q.kind == "timeline":
        assert df.columns[: len(TIMELINE_COLUMNS)] == TIMELINE_COLUMNS
        assert set(df["phase"].drop_nulls().unique()) <= PHASES
