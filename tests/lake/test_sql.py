"""`forensics sql ID --dialect`: SQL for other engines that parses there and, read back into
DuckDB, finds the same rows on the query's fixture. Athena and Trino are not executed here (no
server is reachable): parsing and the round trip are what is tested."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import sqlglot
from typer.testing import CliRunner

import forensics
from forensics import catalog
from forensics.cli import app
from forensics.dialects import TranslationError, sql_for
from forensics.fixtures import load_suite, run_case, write_evidence

QUERIES = sorted(catalog.catalog())
# Not yet written in portable SQL (each refuses with the construct named).
NOT_PORTABLE = {
    "runaway_write_loop": ("DuckDB's hash() and mode() have no Trino counterpart", {"athena", "trino"}),
}


def _rows_of(qid: str, case: dict, suite: dict, sql: str) -> list[dict]:
    """The fixture's evidence through the real loader, then `sql` as printed (nothing to bind)."""
    with tempfile.TemporaryDirectory(prefix="fx-") as tmp:
        folder = Path(tmp) / "evidence"
        write_evidence(folder, case, suite, seed=f"{qid}/{case.get('name', '')}")
        with forensics.Case(":memory:") as c:
            c.load([folder], on_problem=lambda line: None)
            return c.sql(sql).to_dicts()


@pytest.mark.parametrize("dialect", ["athena", "trino", "spark"])
def test_every_query_prints_sql_that_parses_in_the_target(dialect: str) -> None:
    for qid in QUERIES:
        if dialect in NOT_PORTABLE.get(qid, ("", ()))[1]:
            with pytest.raises(TranslationError, match=qid):
                sql_for(qid, dialect)
            continue
        text = sql_for(qid, dialect)
        assert not re.search(r"\$[a-z]\w*", text), qid  # bound the target's way
        sqlglot.parse_one(text, read="athena" if dialect == "athena" else dialect)
        if dialect != "spark":  # Athena and Trino have no SQL functions nor our tables of data
            assert "vocab_event" not in text or "vocab_event AS (" in text, qid
            assert "is_launch(" not in text.lower() and "event_has(" not in text.lower(), qid


@pytest.mark.parametrize(
    "qid", ["aws_quarantine_policy", "multi_region_compute_launch", "recon_burst",
            "security_group_open_to_world", "cost_spike_by_region_hour"],
)  # fmt: skip
def test_trino_text_read_back_finds_the_same_rows(qid: str) -> None:
    """Not executed on Trino: its text, transpiled back to DuckDB, on the query's own fixture."""
    back = sqlglot.transpile(sql_for(qid, "trino"), read="trino", write="duckdb")[0]
    suite = load_suite(catalog.catalog()[qid].path)
    case = next(c for c in suite["cases"] if c.get("fires", True) and not c.get("params"))
    original, _ = run_case(qid, case, suite)
    again = _rows_of(qid, case, suite, back)
    assert original.height > 0
    assert again == original.to_dicts()


def test_strings_become_ordered_placeholders_and_times_typed_literals() -> None:
    text = sql_for(
        "incident_timeline", "athena", {"source_ip": "198.51.100.7", "from_time": "2026-11-16T00:00:00Z"}
    )
    order = re.search(r"-- parameters, in order: (.*)", text).group(1).split(", ")
    assert order and set(order) <= {"access_key_id", "principal_arn", "source_ip", "instance_id"}
    assert text.count("?") >= len(order)
    # in WHERE a string is a placeholder; elsewhere (Athena binds nothing there) a literal that
    # sqlglot quotes: a hostile value stays one string
    hostile = sql_for("incident_timeline", "athena", {"source_ip": "1.2.3.4' OR 'a'='a"})
    assert "'1.2.3.4'' OR ''a''=''a'" in hostile
    assert len(sqlglot.parse(hostile, read="athena")) == 1
    assert "2026-11-16 00:00:00" in text  # a time is a typed literal
    spark = sql_for("incident_timeline", "spark", {"source_ip": "198.51.100.7"})
    assert ":source_ip" in spark


def test_cli_prints_and_refuses_unknown_dialects() -> None:
    ok = CliRunner().invoke(app, ["sql", "root_account_activity", "--dialect", "athena"])
    assert ok.exit_code == 0 and "not executed" in ok.stdout
    bad = CliRunner().invoke(app, ["sql", "root_account_activity", "--dialect", "oracle"])
    assert bad.exit_code == 2 and "unknown dialect" in bad.output
    with pytest.raises(TranslationError):
        sql_for("root_account_activity", "oracle")
