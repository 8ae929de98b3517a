"""record_flags on vpc_flows (DESIGN.md): a flow with an absurd time is kept and flagged, said in
one line, and left out of the evidence's span; Security Lake's flows are flagged lossy; an older
case without the column gets it derived from what it stores when opened."""

from __future__ import annotations

import duckdb

import forensics
from forensics.investigate.coverage import SOURCE_SQL

from .fixtures_evidence import flow, flow_text
from .ocsf_fixtures import lake_path, ocsf_flow_row, write_parquet
from .test_evidence_faults import digests, load, rows


def _evidence(root):
    recs = [flow(0), flow(1, start=1_000, end=1_060), flow(2, start=4_000_000_000, end=4_000_000_060)]
    root.mkdir(parents=True)
    (root / "flows.log").write_text(flow_text(recs, list(recs[0])))
    write_parquet(
        lake_path(root, "VPC_FLOW", 2, "us-east-1", "012345678901", "20251116", "f.parquet"),
        [ocsf_flow_row(flow(3))],
    )


def test_absurd_flow_times_are_kept_flagged_and_out_of_the_span(tmp_path):
    ev = tmp_path / "ev"
    _evidence(ev)
    before = digests(ev)
    case = tmp_path / "c.duckdb"

    report, stderr = load(case, ev)

    assert (report["read"], report["loaded"], report["rejected"]) == (4, 4, 0)
    assert "2 flow records have a time before 2013-11 or more than a day ahead: kept" in stderr
    flags = rows(case, "SELECT src_port - 40000, record_flags FROM vpc_flows ORDER BY src_port")
    assert flags == [(0, []), (1, ["time implausible"]), (2, ["time implausible"]), (3, ["lossy from OCSF"])]
    with forensics.Case(case, read_only=True) as c:  # the story's coverage of the flow logs
        span = c.sql(SOURCE_SQL["vpc_flows"]).row(0, named=True)
    assert (span["from"].isoformat(), span["to"].isoformat()) == (
        "2025-11-16T02:51:43+00:00",
        "2025-11-16T02:52:46+00:00",
    )
    assert digests(ev) == before


def test_an_older_case_gets_flow_flags_on_open(tmp_path):
    ev = tmp_path / "ev"
    _evidence(ev)
    case = tmp_path / "c.duckdb"
    load(case, ev)
    with duckdb.connect(str(case)) as con:
        con.execute("ALTER TABLE vpc_flows DROP COLUMN record_flags")
    with forensics.Case(case) as c:  # read-write open: upgraded, not refused
        got = c.sql("SELECT src_port - 40000 AS n, record_flags FROM vpc_flows ORDER BY src_port").rows()
    assert got == [(0, []), (1, ["time implausible"]), (2, ["time implausible"]), (3, ["lossy from OCSF"])]
