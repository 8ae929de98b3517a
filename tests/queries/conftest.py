"""A rule's fixture case and its one-scan check read the same evidence: run them one after the
other on one worker, so `forensics.fixtures.run_case` loads that evidence once for both."""

from __future__ import annotations

import pytest

FIXTURE = "test_fixtures.py::test_fixture_case["
ONE_SCAN = "test_rules.py::test_one_scan_of_every_rule_gives_each_case_its_verdict["


def _key(item: pytest.Item) -> tuple[str, int] | None:
    params = getattr(item, "callspec", None)
    if params is None:
        return None
    p = params.params
    return (p.get("query_id", p.get("rule_id")), p.get("index"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    scans = {_key(i): i for i in items if ONE_SCAN in i.nodeid}
    if not scans:
        return
    partners = {}
    for item in items:
        if FIXTURE in item.nodeid and _key(item) in scans:
            partners[id(scans[_key(item)])] = item
    moved = [i for i in items if id(i) in partners]
    if not moved:
        return
    after: dict[int, pytest.Item] = {id(partners[id(i)]): i for i in moved}
    out: list[pytest.Item] = []
    for item in items:
        if id(item) in partners:
            continue  # placed right after its fixture case
        out.append(item)
        if id(item) in after:
            scan = after[id(item)]
            scan.add_marker(pytest.mark.xdist_group(f"fixtures:{_key(scan)[0]}"))
            out.append(scan)
    items[:] = out
