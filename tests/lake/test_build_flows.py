"""`forensics lake build` for VPC flow logs: the built lake's `vpc_flows` holds exactly the rows the
loader puts in a case from the same files (every column, file and line included), bad lines are
rejected with the loader's reasons, bad files are reported and counts reconcile."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.lake import attach_lake

from ..evidence_cases import build_lake_from, load_case
from ..ingest.test_vpcflow import DOCS, ECS, ELASTIC, TGW, V5_ALL
from .conftest import REPO

pytestmark = pytest.mark.xdist_group("spark")

SAMPLE = Path("AWSLogs/047391826504")
BAD = Path("AWSLogs/333344445555/vpcflowlogs/us-east-2/2026/11/16")
PARQUET = Path(
    "AWSLogs/aws-account-id=444455556666/aws-service=vpcflowlogs/aws-region=us-east-1/"
    "year=2026/month=11/day=16/hour=03"
)
HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
    "action log-status"
)
GOOD = "2 333344445555 eni-0a1b2c3d 198.51.100.7 10.0.0.5 44321 22 6 10 840 1794801300 1794801360 ACCEPT OK"


def _gz(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data))


@pytest.fixture(scope="module")
def evidence(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample incident's flow logs and three of its trail files (a mixed folder), the AWS
    documentation's examples, Elastic's samples (custom formats given their header, a headerless
    v2 file, JSON-wrapped records, a header before every record), a Parquet delivery in the Hive
    layout, and bad files: a gzip cut short, a file that is not gzip, lines of a wrong field
    count or a bad value, custom-format lines without a header, and a copy of another file."""
    root = tmp_path_factory.mktemp("flows") / "evidence"
    # the sample's 444 flow files as one file per format (the same records; each Spark file costs
    # seconds on a busy 2-core machine), and one of them cut short below
    sample = sorted((REPO / "sample_data" / "evidence" / SAMPLE / "vpcflowlogs").rglob("*.log.gz"))
    merged: dict[str, list[str]] = {}
    for f in sample:
        header, *lines = gzip.decompress(f.read_bytes()).decode().splitlines()
        merged.setdefault(header, []).extend(lines)
    day = root / SAMPLE / "vpcflowlogs/us-west-2/2026/11/16"
    for i, (header, lines) in enumerate(sorted(merged.items())):
        _gz(
            day / f"047391826504_vpcflowlogs_us-west-2_merged{i}.log.gz",
            "\n".join([header, *lines, ""]).encode(),
        )
    trail = sorted((REPO / "sample_data" / "evidence" / SAMPLE / "CloudTrail").rglob("*.json.gz"))[:3]
    for f in trail:
        dest = root / f.relative_to(REPO / "sample_data" / "evidence")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dest)
    docs = root / "AWSLogs/111122223333/vpcflowlogs/us-east-1/2021/06/01"
    for f in sorted((corpus / DOCS).glob("*.log")):
        _gz(docs / f"{f.stem}.log.gz", f.read_bytes())
    elastic = root / "AWSLogs/222233334444/vpcflowlogs/eu-west-1/2025/01/01"
    for name, header in [
        ("test-ecs-samples.log", ECS),
        ("test-v8-samples.log", ECS + " reject-reason"),
        ("test-v5-all-fields.log", V5_ALL),
        ("test-tgw-samples.log", TGW),
    ]:
        _gz(elastic / f"{name}.gz", f"{header}\n".encode() + (corpus / ELASTIC / name).read_bytes())
    for name in ("test-extra-samples.log", "test-with-message-field.log", "test-tcp-flag-sequence.log"):
        elastic.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus / ELASTIC / name, elastic / name)  # uncompressed text
    whole = sample[0].read_bytes()
    (root / BAD).mkdir(parents=True)
    (root / BAD / "cut.log.gz").write_bytes(gzip.compress(gzip.decompress(whole))[: len(whole) // 2])
    (root / BAD / "notgzip.log.gz").write_bytes(b"this is not gzip")
    shutil.copy(sorted(docs.iterdir())[0], root / BAD / "copy.log.gz")  # the same bytes again
    _gz(
        root / BAD / "badlines.log.gz",
        "\n".join(
            [
                HEADER,
                GOOD,
                GOOD.rsplit(" ", 1)[0],  # a field short
                GOOD.replace(" 44321 ", " x "),  # srcport not an integer
                GOOD.replace("1794801360", "99999999999"),  # end not epoch seconds
                "",
                GOOD,
            ]
        ).encode()
        + b"\n",
    )
    nat = (corpus / DOCS / "05_traffic_through_a_nat_gateway.log").read_text().splitlines()[1:]
    _gz(root / BAD / "noheader.log.gz", ("\n".join(nat) + "\n").encode())
    parquet = root / PARQUET
    parquet.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * FROM (VALUES
                (5, 'eni-0p1', '203.0.113.9', '10.1.0.4', 51515, 443, 6, 3, 180, 1794801300, 1794801360,
                 'ACCEPT', 'OK', 'vpc-1', 'ingress', 'tgw-attach-1'),
                (5, 'eni-0p1', '10.1.0.4', '203.0.113.9', 443, 51515, 6, 2, 120, 1794801300, 1794801360,
                 'ACCEPT', 'OK', '-', 'egress', NULL))
              t(version, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes,
                "start", "end", action, log_status, vpc_id, flow_direction, tgw_attachment_id))
            TO '{parquet / "flows.log.parquet"}' (FORMAT parquet)"""
    )
    con.close()
    return root


@pytest.fixture(scope="module")
def loaded(evidence: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_case(evidence, tmp_path_factory.mktemp("flows_case") / "case.duckdb")


@pytest.fixture(scope="module")
def built(spark, evidence: Path, tmp_path_factory: pytest.TempPathFactory):
    return build_lake_from(spark, evidence, tmp_path_factory.mktemp("flows_built") / "lake")


@pytest.fixture(scope="module")
def con(built, loaded: Path):
    lake, _, _ = built
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    attach_lake(c, lake)
    c.execute(f"ATTACH '{loaded}' AS c (READ_ONLY)")
    yield c
    c.close()


def _columns(con, table: str) -> str:
    names = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = 'c' AND table_name = $t "
        "ORDER BY column_index",
        {"t": table},
    ).fetchall()
    return ", ".join(f'"{n}"' for (n,) in names)


# the gzip cut short: Spark and the loader both keep lines before the break, not always the same
CUT = f"source_file NOT LIKE '%/{BAD.as_posix()}/cut.log.gz'"


def test_the_lake_holds_exactly_the_loaders_flows(con) -> None:
    cols = _columns(con, "vpc_flows")
    for a, b in (("lake", "c"), ("c", "lake")):
        extra = con.execute(
            f"SELECT {cols} FROM {a}.vpc_flows WHERE {CUT} "
            f"EXCEPT ALL SELECT {cols} FROM {b}.vpc_flows WHERE {CUT}"
        ).fetchall()
        assert extra == [], f"in {a} and not in {b}: {extra[:3]}"
    sample = "SELECT count(*) FROM lake.vpc_flows WHERE source_file LIKE '%/047391826504/vpcflowlogs/%'"
    assert con.execute(sample).fetchone()[0] == 9244  # the sample incident's flows
    per_account = dict(con.execute("SELECT account_id, count(*) FROM lake.vpc_flows GROUP BY 1").fetchall())
    assert per_account["444455556666"] == 2  # Parquet: the account from the Hive path
    # what AWS's Athena table has no column for, from the file: ECS fields, reject-reason, extra
    beyond = con.execute(
        "SELECT count(ecs_cluster_name), count(reject_reason), count(extra) FROM lake.vpc_flows"
    ).fetchone()
    assert all(n > 0 for n in beyond), beyond
    tgw = con.execute(
        "SELECT extra ->> 'tgw_attachment_id' FROM lake.vpc_flows WHERE account_id = '444455556666' "
        "ORDER BY source_position"
    ).fetchall()
    assert tgw == [("tgw-attach-1",), (None,)]


def test_bad_lines_are_rejected_with_the_loaders_reasons(con) -> None:
    # a file whose first line is neither a header nor a record the loader recognises is refused
    # whole by the loader's sniffing ("unrecognised format"); the build, which takes the file by
    # its S3 path, rejects each of its lines with the loader's line reason instead
    rejects = (
        "SELECT source_file, position, reason FROM {}.rejects WHERE source_file LIKE '%vpcflowlogs%' "
        "AND source_file NOT LIKE '%/noheader.log.gz' AND {}"
        # a file with no line at all (not gzip) is in the build's sources alone, as CloudTrail's
        " AND source_file NOT LIKE '%/notgzip.log.gz'"
    )
    ours = sorted(con.execute(rejects.format("lake", CUT)).fetchall())
    theirs = sorted(con.execute(rejects.format("c", CUT)).fetchall())
    assert ours == theirs
    noheader = rejects.replace("NOT LIKE '%/noheader", "LIKE '%/noheader").format("lake", CUT)
    by_file = {(Path(f).name, p): r for f, p, r in ours + con.execute(noheader).fetchall()}
    assert (
        by_file[("badlines.log.gz", "line 3")] == "record has 13 fields where the header on line 1 names 14"
    )
    assert by_file[("badlines.log.gz", "line 4")] == "srcport x is not an integer"
    assert by_file[("badlines.log.gz", "line 5")] == "end 99999999999 is not epoch seconds"
    assert by_file[("noheader.log.gz", "line 1")].startswith("no header line names the fields")


def test_sources_match_the_loaders_and_counts_reconcile(built, con) -> None:
    _, report, problems = built
    assert report.read == report.written + report.duplicates + report.rejected
    cols = "path, sha256, status, records_read, records_loaded, rejected"
    flows = (
        "WHERE path LIKE '%vpcflowlogs%' AND path NOT LIKE '%/cut.log.gz' "
        "AND path NOT LIKE '%/notgzip.log.gz' AND path NOT LIKE '%/noheader.log.gz'"  # as in rejects
    )
    ours = sorted(con.execute(f"SELECT {cols} FROM lake.sources {flows}").fetchall())
    theirs = sorted(con.execute(f"SELECT {cols} FROM c.sources {flows}").fetchall())
    assert len(ours) >= 20 and all(sha for _, sha, *_ in ours)
    assert ours == theirs
    copy = next(r for r in ours if r[0].endswith("/copy.log.gz"))
    assert copy[2] == "skipped-already-loaded"
    totals = con.execute(
        "SELECT sum(records_read), sum(records_loaded), sum(duplicates), sum(rejected) FROM lake.sources"
    ).fetchone()
    assert totals == (report.read, report.written, report.duplicates, report.rejected)
    # the bad files: reported, not fatal; the cut file keeps what was read before the break
    bad = {Path(p).name: why for p, why in report.bad_files.items()}
    assert set(bad) == {"cut.log.gz", "notgzip.log.gz"}
    assert "cut short" in bad["cut.log.gz"] and len(problems) == 2
    status = dict(con.execute("SELECT regexp_extract(path, '[^/]+$'), status FROM lake.sources").fetchall())
    assert (status["cut.log.gz"], status["notgzip.log.gz"]) == ("partial", "rejected")
    assert status["noheader.log.gz"] == "rejected"  # every line rejected: nothing of it stays
    cut_rows = "SELECT {} FROM {}.vpc_flows WHERE NOT ({})"
    ours_cut = con.execute(cut_rows.format(_columns(con, "vpc_flows"), "lake", CUT)).fetchall()
    theirs_cut = con.execute(cut_rows.format(_columns(con, "vpc_flows"), "c", CUT)).fetchall()
    assert len(ours_cut) > 0 and all(row in theirs_cut for row in ours_cut)  # rows hold lists


def test_a_mixed_folder_builds_trail_and_flows_with_their_addresses(con) -> None:
    ct = "SELECT event_id, source_file, source_position FROM {}.cloudtrail"
    ours = sorted(con.execute(ct.format("lake")).fetchall())
    assert len(ours) > 0 and ours == sorted(con.execute(ct.format("c")).fetchall())
    addresses = "SELECT address, network FROM {}.addresses"
    assert sorted(con.execute(addresses.format("lake")).fetchall()) == sorted(
        con.execute(addresses.format("c")).fetchall()
    )


def test_cli_builds_a_flow_only_folder(spark, tmp_path: Path) -> None:
    day = tmp_path / "evidence/AWSLogs/333344445555/vpcflowlogs/us-east-2/2026/11/16"
    _gz(day / "one.log.gz", f"{HEADER}\n{GOOD}\n".encode())
    result = CliRunner().invoke(
        app,
        [
            "lake",
            "build",
            "--from",
            str(tmp_path / "evidence"),
            "--to",
            str(tmp_path / "lake"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["records_read"], out["records_written"], out["tables"]["vpc_flows"]) == (1, 1, 1)
    assert out["tables"]["cloudtrail"] == 0
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    attach_lake(con, tmp_path / "lake")
    row = con.execute(
        "SELECT source_position, account_id, src_port, CAST(start_time AS VARCHAR), region "
        "FROM lake.vpc_flows"
    ).fetchall()
    assert row == [
        ("line 2", "333344445555", 44321, "2026-11-16 03:55:00+00", "us-east-2")
    ]  # region: the path's
