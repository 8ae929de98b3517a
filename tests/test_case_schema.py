"""The case explains itself: every table and column carries a DuckDB comment (COMMENT ON), an
older case gets them on open, and docs/case-schema.md says what the case says."""

from __future__ import annotations

from pathlib import Path

import duckdb

import forensics
from forensics.schema import TABLES

REPO = Path(__file__).resolve().parent.parent
OWN = "schema_name = 'main' AND database_name = current_database()"  # the case's own tables


def _comments(path: Path) -> tuple[dict[str, str | None], dict[tuple[str, str], str | None]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = dict(con.execute(f"SELECT table_name, comment FROM duckdb_tables() WHERE {OWN}").fetchall())
        columns = {
            (t, c): comment
            for t, c, comment in con.execute(
                f"SELECT table_name, column_name, comment FROM duckdb_columns() WHERE {OWN}"
            ).fetchall()
        }
    return tables, columns


def test_no_table_or_column_of_a_new_case_lacks_a_comment(tmp_path) -> None:
    path = tmp_path / "case.duckdb"
    forensics.Case(path).close()
    tables, columns = _comments(path)
    assert set(tables) == set(TABLES)
    assert [t for t, comment in tables.items() if not (comment or "").strip()] == []
    assert [tc for tc, comment in columns.items() if not (comment or "").strip()] == []
    assert "denied" in columns[("cloudtrail", "outcome")]


def test_an_older_case_without_comments_gets_them_on_open(tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # the tables as an older version wrote them
        con.execute("CREATE SEQUENCE load_id_seq")
        for ddl in TABLES.values():
            con.execute(ddl)
        con.execute("INSERT INTO case_meta VALUES ('schema_version', '1'), ('addresses_filled', 'true')")
    tables, columns = _comments(path)
    assert not any(tables.values()) and not any(columns.values())
    forensics.Case(path).close()
    tables, columns = _comments(path)
    assert all(tables.values()) and all(columns.values())


def test_the_case_schema_document_says_what_the_case_says(tmp_path) -> None:
    path = tmp_path / "case.duckdb"
    forensics.Case(path).close()
    _, columns = _comments(path)
    doc = (REPO / "docs" / "case-schema.md").read_text(encoding="utf-8")
    rows = {}
    table = None
    for line in doc.splitlines():
        if line.startswith("## `"):
            table = line.strip("#` ")
        elif line.startswith("| `") and table:
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[(table, cells[0].strip("`"))] = cells[2].replace("\\|", "|")
    assert rows == {tc: comment for tc, comment in columns.items()}
