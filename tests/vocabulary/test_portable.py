"""portable.sql's JSON primitives on DuckDB (tests/lake's differential test runs the queries that
use them on Spark): facts of JSON, not of the code."""

from __future__ import annotations

import duckdb
import pytest

from forensics import vocabulary


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    from forensics.schema import TABLES

    for ddl in TABLES.values():
        c.execute(ddl)
    vocabulary.install(c)
    return c


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ('{"launchPermission": {"add": {"items": [{"group": "all"}]}}, "imageId": "ami-1"}',
         ['{"add":{"items":[{"group":"all"}]}}', '"ami-1"']),
        ('{"b": 1, "a": [2, 3]}', ["1", "[2,3]"]),  # the object's order, not the keys'
        ('{}', []),
        ('[{"a": 1}]', []),  # an array has elements, not values
        ('"text"', []),
        (None, []),
    ],
)  # fmt: skip
def test_json_values_are_an_objects_values_as_json_in_order(con, text, values) -> None:
    got = con.execute("SELECT json_values(CAST($t AS JSON))::VARCHAR[]", {"t": text}).fetchone()[0]
    assert got == values
