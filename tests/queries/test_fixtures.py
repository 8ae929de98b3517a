"""Every canned query against its own fixtures: cases that must fire and near misses that must not.

The evidence of each case is written as raw files and loaded through the real loaders, so a
query is proven against what AWS writes, not against hand-made table rows.
"""

from __future__ import annotations

import pytest

from forensics import catalog
from forensics.fixtures import check, load_suite, run_case

QUERIES = catalog.catalog()


def _cases() -> list:
    out = []
    for qid, q in sorted(QUERIES.items()):
        for i, case in enumerate(load_suite(q.path).get("cases") or []):
            name = case.get("name", f"case {i}")
            out.append(pytest.param(qid, i, id=f"{qid}: {name}"))
    return out


@pytest.mark.parametrize(("query_id", "index"), _cases())
def test_fixture_case(query_id: str, index: int) -> None:
    q = QUERIES[query_id]
    suite = load_suite(q.path)
    case = suite["cases"][index]
    df, problems = run_case(query_id, case, suite)
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


@pytest.mark.parametrize("query_id", sorted(QUERIES))
def test_query_header_and_output_contract(query_id: str) -> None:
    """Detections share leading columns, timelines theirs; headers name a phase and a severity."""
    q = QUERIES[query_id]
    cases = load_suite(q.path).get("cases") or []
    firing = next(c for c in cases if c.get("fires", True))
    df, _ = run_case(query_id, firing, load_suite(q.path))
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
