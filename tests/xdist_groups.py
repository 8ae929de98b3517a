"""`pytest -n 2 --dist loadgroup` keeps each `xdist_group` on one worker again.

pytest-xdist 3.8 groups tests by a `@group` suffix it appends to each marked item's node id, by
assigning `item._nodeid`. pytest 9.2 keeps the id in `item._id` (a NodeId) and reads `_nodeid`
nowhere, so the suffix is lost and `loadgroup` schedules like `load`: both workers started a
Spark JVM (the "spark" group split between them) and the query fixtures' pairs
(tests/queries/conftest.py) landed on either worker. This hook appends the suffix where this
pytest keeps the id, after xdist's own hook; where xdist's assignment worked it does nothing.
"""

from __future__ import annotations

import pytest


def group_suffix(item: pytest.Item) -> str | None:
    """`@name` as pytest-xdist names an item's groups (several are joined with `_`)."""
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "@" + "_".join(sorted(names)) if names else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers under loadgroup
        return
    for item in items:
        suffix = group_suffix(item)
        if suffix is None or item.nodeid.endswith(suffix):
            continue
        node_id = getattr(item, "_id", None)
        if node_id is None:  # an older pytest: xdist's own assignment is the one it reads
            item._nodeid = item.nodeid + suffix
        else:
            item._id = type(node_id).parse(item.nodeid + suffix)
