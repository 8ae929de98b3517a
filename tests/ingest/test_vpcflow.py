"""VPC Flow Logs: fields parsed by name in any order, every delivery shape, bad input quarantined."""

from __future__ import annotations

import gzip
import random
import zlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from forensics.ingest.vpcflow_sql import FIELDS

from .fixtures_evidence import ACCT, V2, cli_load, flow, flow_text, write

DOCS = "awsdocs_vpc_flow_log_examples"
ELASTIC = "elastic_integrations_aws/vpcflow"


def ts(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def outcomes(report) -> dict[str, tuple]:
    return {Path(f.path).name: (f.status, f.records_read, f.records_loaded, f.rejected) for f in report.files}


def rows(case, sql: str, **params) -> list[tuple]:
    return case.sql(sql, **params).rows()


@pytest.fixture(scope="module")
def docs_case(corpus, tmp_path_factory):
    """The AWS documentation examples (header line per file), loaded once for this module."""
    import forensics

    path = tmp_path_factory.mktemp("docs") / "case.duckdb"
    with forensics.Case(path) as case:
        report = case.load(sorted((corpus / DOCS).glob("*.log")), on_problem=lambda line: None)
    with forensics.Case(path, read_only=True) as case:
        yield case, report


def test_doc_examples_parse_by_header_name_and_only_the_ellipsis_line_is_rejected(docs_case):
    case, report = docs_case
    assert report.reconciles() and (report.read, report.loaded, report.rejected) == (28, 27, 1)
    got = outcomes(report)
    assert got["04_tcp_flag_sequence.log"] == ("loaded", 8, 8, 0)  # one record has a double space
    assert got["05_traffic_through_a_nat_gateway.log"] == ("loaded", 6, 6, 0)  # '#comments' dropped
    assert got["06_traffic_through_a_transit_gateway.log"] == ("partial", 5, 4, 1)
    [(file, position, reason, excerpt)] = rows(
        case, "SELECT source_file, position, reason, excerpt FROM rejects"
    )
    assert file.endswith("06_traffic_through_a_transit_gateway.log") and position == "line 3"
    assert reason == "record has 1 fields where the header on line 1 names 17" and excerpt == "..."


def test_doc_examples_values(docs_case):
    case, _ = docs_case
    [ipv6] = rows(
        case,
        "SELECT src_addr, dst_addr, src_port, dst_port, protocol, packets, bytes, start_time, "
        "end_time, action, log_status FROM vpc_flows WHERE source_file LIKE '%03_ipv6%'",
    )
    assert ipv6 == (
        "2001:db8:1234:a100:8d6e:3477:df66:f105",
        "2001:db8:1234:a102:3304:8879:34cf:4071",
        34892, 22, 6, 54, 8855, ts(1477913708), ts(1477913820), "ACCEPT", "OK",
    )  # fmt: skip
    nodata = rows(
        case,
        "SELECT log_status, src_addr, packets, action, start_time, account_id FROM vpc_flows "
        "WHERE source_file LIKE '%01_no_data%' ORDER BY source_position",
    )
    assert nodata == [
        ("NODATA", None, None, None, ts(1431280876), "123456789010"),
        ("SKIPDATA", None, None, None, ts(1431280876), "123456789010"),
    ]
    flags = rows(
        case,
        "SELECT list(tcp_flags ORDER BY line), sum(bytes), sum(packets), any_value(vpc_id) "
        "FROM (SELECT *, split_part(source_position, ' ', 2)::INT AS line FROM vpc_flows "
        "WHERE source_file LIKE '%04_tcp_flag%')",
    )
    assert flags == [([2, 18, 2, 18, 1, 1, 3, 19], 23462480, 17121, "vpc-abcdefab012345678")]
    v5 = rows(
        case,
        "SELECT pkt_src_aws_service, pkt_dst_aws_service, flow_direction, traffic_path, region, "
        "az_id, sublocation_type, instance_id, type, version FROM vpc_flows "
        "WHERE source_file LIKE '%07_service%' ORDER BY source_position",
    )
    assert v5 == [
        ("S3", None, "ingress", None, "ap-southeast-2", "apse2-az3", None, "i-0c50d5961bcb2d47b", "IPv4", 5),
        (None, "S3", "egress", 8, "ap-southeast-2", "apse2-az3", None, "i-0c50d5961bcb2d47b", "IPv4", 5),
    ]  # fmt: skip
    nat = rows(
        case,
        "SELECT count(*), count(instance_id), count(version), count(start_time), "
        "list(DISTINCT pkt_dst_addr ORDER BY pkt_dst_addr) FROM vpc_flows "
        "WHERE source_file LIKE '%05_traffic_through_a_nat%'",
    )
    assert nat == [(6, 2, 0, 0, ["10.0.0.220", "10.0.1.5", "203.0.113.5"])]


def test_elastic_samples_headerless_custom_orders_are_rejected_with_the_reason(corpus, case):
    lines: list[str] = []
    report = case.load(sorted((corpus / ELASTIC).glob("*.log")), on_problem=lines.append)
    assert report.reconciles()
    assert outcomes(report) == {
        "test-extra-samples.log": ("loaded", 7, 7, 0),  # default v2 without header
        "test-with-message-field.log": ("loaded", 1, 1, 0),  # {"message": "<record>"}
        "test-tcp-flag-sequence.log": ("loaded", 3, 3, 0),  # header repeated before each record
        "test-ecs-samples.log": ("rejected", 10, 0, 10),
        "test-tgw-samples.log": ("rejected", 10, 0, 10),
        "test-v5-all-fields.log": ("rejected", 1, 0, 1),
        "test-v8-samples.log": ("rejected", 1, 0, 1),
    }
    reasons = rows(
        case,
        "SELECT regexp_extract(source_file, '[^/]+$'), count(*), any_value(reason) FROM rejects "
        "GROUP BY ALL ORDER BY 1",
    )
    counts = {name: (n, reason.split(";")[0]) for name, n, reason in reasons}
    assert counts["test-ecs-samples.log"] == (
        10,
        "no header line names the fields and the record has 39 fields",
    )
    assert counts["test-tgw-samples.log"][0] == 10 and "36 fields" in counts["test-tgw-samples.log"][1]
    assert "29 fields" in counts["test-v5-all-fields.log"][1]
    assert "40 fields" in counts["test-v8-samples.log"][1]
    assert len(lines) == 22 and all("test-" in line for line in lines)
    wrapped = rows(
        case,
        "SELECT account_id, interface_id, log_status, start_time, end_time, src_addr "
        "FROM vpc_flows WHERE source_file LIKE '%message-field%'",
    )
    assert wrapped == [
        ("428961148399", "eni-0e0bf7be352692297", "NODATA", ts(1671029698), ts(1671029728), None)
    ]
    repeated = rows(
        case,
        "SELECT source_position, log_status, src_addr FROM vpc_flows "
        "WHERE source_file LIKE '%tcp-flag-sequence%' ORDER BY source_position",
    )
    assert repeated == [
        ("line 2", "OK", "52.213.180.42"),
        ("line 4", "SKIPDATA", None),
        ("line 6", "NODATA", None),
    ]


# Field orders of the Elastic samples (their FORMATS.json, expanded), given as a header line.
V5_ALL = V2 + (
    " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id"
    " sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction"
    " traffic-path"
)
ECS = V5_ALL + (
    " ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id"
    " ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn"
    " ecs-task-arn ecs-task-id"
)
TGW = (
    "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id"
    " tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id"
    " tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr"
    " srcport dstport protocol packets bytes start end log-status type packets-lost-no-route"
    " packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region"
    " flow-direction pkt-src-aws-service pkt-dst-aws-service"
)


def test_elastic_custom_orders_parse_once_their_format_line_is_given(corpus, case, tmp_path):
    for name, header in [
        ("test-ecs-samples.log", ECS),
        ("test-v8-samples.log", ECS + " reject-reason"),
        ("test-v5-all-fields.log", V5_ALL),
        ("test-tgw-samples.log", TGW),
    ]:
        body = (corpus / ELASTIC / name).read_text()
        write(tmp_path / name, f"{header}\n{body}", gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert (report.read, report.loaded, report.rejected) == (22, 22, 0)
    ecs = rows(
        case,
        "SELECT interface_id, src_addr, dst_addr, action, log_status, flow_direction, "
        "ecs_cluster_name, ecs_container_instance_id, ecs_service_name, ecs_task_id "
        "FROM vpc_flows WHERE source_file LIKE '%ecs-samples%' AND source_position = 'line 2'",
    )
    assert ecs == [
        (None, "1.128.0.0", "2a02:cf40::", "REJECT", "OK", "ingress", "frontend-cluster",
         "i-82bfd814a3c34e21a", "payments-service", "6adbd0d6-211"),
    ]  # fmt: skip
    assert rows(case, "SELECT reject_reason FROM vpc_flows WHERE source_file LIKE '%v8%'") == [("BPA",)]
    v5 = rows(
        case,
        "SELECT account_id, pkt_src_aws_service, pkt_dst_aws_service, traffic_path, start_time, "
        "tcp_flags FROM vpc_flows WHERE source_file LIKE '%v5-all%'",
    )
    # the sample's 9-digit start is kept as written (1975); the address family text is kept
    assert v5 == [("64111117617", "AMAZON", "CLOUDFRONT", 1, ts(164000066), 1)]
    tgw = rows(
        case,
        "SELECT src_addr, dst_addr, packets, bytes, log_status, flow_direction, "
        "extra->>'tgw-id', extra->>'tgw-attachment-id', extra->>'packets-lost-no-route' "
        "FROM vpc_flows WHERE source_file LIKE '%tgw%' AND source_position = 'line 2'",
    )
    assert tgw == [
        ("1.128.0.0", "2a02:cf40::", 49, 8947, "SKIPDATA", "ingress", "tgw-0a12bc34de56f7890",
         "tgw-attach-0789ijkl", None),
    ]  # fmt: skip


def _value(name: str, typ: str, n: int) -> object:
    if name == "start":
        return 1_763_261_503 + n
    if name == "end":
        return 1_763_261_563 + n
    if typ in ("INTEGER", "BIGINT"):
        return 1000 + 7 * n + len(name)
    if n % 7 == 3:
        return None  # '-' in the file
    return f"{name}-{n}"


def test_any_subset_and_order_of_fields_maps_by_name(case, tmp_path):
    rng = random.Random(20261128)
    expected: dict[str, list[dict]] = {}
    for k in range(3):
        chosen = rng.sample(FIELDS, k=12 + 9 * k)
        fields = [name for name, _, _ in chosen]
        recs = [{name: _value(name, typ, n) for name, _, typ in chosen} for n in range(40)]
        write(tmp_path / f"order{k}.log.gz", flow_text(recs, fields), gz=True)
        expected[f"order{k}.log.gz"] = [
            {col: _value(name, typ, n) for name, col, typ in chosen} for n in range(40)
        ]
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert (report.read, report.loaded, report.rejected) == (120, 120, 0)
    for name, recs in expected.items():
        cols = list(recs[0])
        got = case.sql(
            f"SELECT {', '.join(cols)} FROM vpc_flows WHERE source_file LIKE $f "
            "ORDER BY split_part(source_position, ' ', 2)::INT",
            f=f"%{name}",
        ).rows()
        want = [tuple(ts(v) if c in ("start_time", "end_time") else v for c, v in r.items()) for r in recs]
        assert got == want, name


def test_cloudwatch_export_lines_carry_a_timestamp_before_the_record(case, tmp_path):
    recs = [flow(n) for n in range(5)]
    body = "".join(
        f"2026-11-16T03:{n:02d}:00.000Z {line}\n"
        for n, line in enumerate(flow_text(recs, V2.split(), header=False).splitlines())
    )
    write(tmp_path / "000000.gz", body, gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.files[0].format == "vpcflow-cloudwatch-export"
    assert (report.loaded, report.rejected) == (5, 0)
    got = rows(
        case,
        "SELECT src_port, bytes, extra->>'exported-at' FROM vpc_flows ORDER BY src_port LIMIT 2",
    )
    assert got == [(40000, 100, "2026-11-16T03:00:00.000Z"), (40001, 200, "2026-11-16T03:01:00.000Z")]


def test_parquet_delivery_with_hive_partitions(case, tmp_path):
    folder = (
        tmp_path / "AWSLogs" / f"aws-account-id={ACCT}" / "aws-service=vpcflowlogs"
        / "aws-region=ap-south-1" / "year=2026" / "month=11" / "day=16"
    )  # fmt: skip
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        """COPY (SELECT 5 AS version, NULL::VARCHAR AS account_id,
                    'eni-0' || i AS interface_id, '10.1.0.' || i AS srcaddr,
                    '45.9.20.' || i AS dstaddr, 50000 + i AS srcport, 3333 AS dstport,
                    6::BIGINT AS protocol, (10 + i)::BIGINT AS packets, (1000 * i)::BIGINT AS bytes,
                    (1763261503 + i)::BIGINT AS "start", (1763261563 + i)::BIGINT AS "end",
                    'ACCEPT' AS action, 'OK' AS log_status, 'egress' AS flow_direction,
                    'i-004aa4b392dd23179' AS instance_id, 'x' || i AS some_future_field
                FROM range(1, 51) t(i)) TO '"""
        + str(folder / "flows.parquet")
        + "' (FORMAT parquet)"
    )
    con.close()
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.files[0].format == "vpcflow-parquet"
    assert (report.read, report.loaded, report.rejected) == (50, 50, 0)
    got = rows(
        case,
        "SELECT count(*), sum(bytes), min(start_time), any_value(account_id), any_value(region), "
        "count(DISTINCT instance_id), any_value(extra->>'some_future_field' ORDER BY src_port), "
        "max(dst_port) FROM vpc_flows",
    )
    assert got == [(50, 1275000, ts(1763261504), ACCT, "ap-south-1", 1, "x1", 3333)]


def test_account_and_region_come_from_the_delivery_path_when_records_lack_them(case, tmp_path):
    fields = ["srcaddr", "dstaddr", "start", "end", "log-status"]
    recs = [flow(n) for n in range(3)]
    plain = tmp_path / "AWSLogs" / ACCT / "vpcflowlogs" / "eu-north-1" / "2026" / "11" / "16"
    hive = (
        tmp_path / "hive" / "AWSLogs" / "aws-account-id=111122223333" / "aws-service=vpcflowlogs"
        / "aws-region=sa-east-1" / "year=2026" / "month=11" / "day=16" / "hour=03"
    )  # fmt: skip
    write(
        plain / f"{ACCT}_vpcflowlogs_eu-north-1_fl-1_20261116T0300Z_ab.log.gz",
        flow_text(recs, fields),
        gz=True,
    )
    write(
        hive / "111122223333_vpcflowlogs_sa-east-1_fl-2_20261116T0300Z_cd.log.gz",
        flow_text(recs[::-1], fields),
        gz=True,
    )
    named = [flow(n, **{"account-id": "444455556666", "region": "ap-east-1"}) for n in range(2)]
    write(hive / "named.log.gz", flow_text(named, [*fields, "account-id", "region"]), gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert (report.loaded, report.rejected) == (8, 0)
    got = rows(case, "SELECT account_id, region, count(*) FROM vpc_flows GROUP BY ALL ORDER BY ALL")
    assert got == [
        (ACCT, "eu-north-1", 3),
        ("111122223333", "sa-east-1", 3),
        ("444455556666", "ap-east-1", 2),  # the record's own fields win
    ]


def test_truncated_gzip_keeps_whole_lines_before_the_break(case, tmp_path):
    recs = [flow(n) for n in range(400)]
    full = gzip.compress(flow_text(recs, V2.split()).encode(), mtime=0)
    cut = full[: len(full) * 3 // 5]
    (tmp_path / "cut.log.gz").write_bytes(cut)
    prefix = zlib.decompressobj(wbits=31).decompress(cut).decode()
    whole = prefix.count("\n") - 1  # complete records after the header
    lines: list[str] = []
    report = case.load([tmp_path], on_problem=lines.append)
    [f] = report.files
    assert (f.status, f.records_loaded, f.rejected, f.records_read) == ("partial", whole, 1, whole + 1)
    assert 100 < whole < 400
    reasons = rows(case, "SELECT position, reason FROM rejects ORDER BY position")
    assert (f"line {whole + 2}", "record cut short where the compressed stream breaks") in reasons
    assert any("truncated gzip" in reason for _, reason in reasons)
    assert all("cut.log.gz" in line for line in lines) and len(lines) == 2


def test_bad_lines_are_rejected_with_their_line_and_the_rest_of_the_file_loads(case, tmp_path):
    text = flow_text([flow(n) for n in range(10)], V2.split()).splitlines()
    text[4] = text[4].rsplit(" ", 1)[0]  # line 5: 13 fields
    text[7] = text[7].replace(" 40006 ", " abc ")  # line 8: srcport not a number
    write(tmp_path / "bad.log", "\n".join(text) + "\n")
    good = write(tmp_path / "good.log", flow_text([flow(n) for n in range(20, 30)], V2.split()))
    future = [flow(n) for n in range(40, 44)]
    future[1]["start"] = 99_999_999_999  # typed fine, but no flow time: rejected on the fast path
    write(tmp_path / "future.log", flow_text(future, V2.split()))
    report = case.load([tmp_path], on_problem=lambda line: None)
    got = outcomes(report)
    assert got == {
        "bad.log": ("partial", 10, 8, 2),
        "good.log": ("loaded", 10, 10, 0),
        "future.log": ("partial", 4, 3, 1),
    }
    assert rows(case, "SELECT position, reason, excerpt FROM rejects ORDER BY source_file, position") == [
        ("line 5", "record has 13 fields where the header on line 1 names 14", text[4]),
        ("line 8", "srcport abc is not an integer", text[7]),
        (
            "line 3",
            "start 99999999999 is not epoch seconds",
            flow_text(future[1:2], V2.split(), False).strip(),
        ),
    ]
    assert rows(case, "SELECT count(*) FROM vpc_flows WHERE source_file = $p", p=str(good)) == [(10,)]


def test_invalid_utf8_is_salvaged_line_by_line(case, tmp_path):
    body = flow_text([flow(n) for n in range(6)], V2.split()).encode()
    body = body.replace(b" 40003 ", b" 4\xff003 ")
    write(tmp_path / "latin.log", body)
    report = case.load([tmp_path], on_problem=lambda line: None)
    [f] = report.files
    assert (f.status, f.records_read, f.records_loaded, f.rejected) == ("partial", 6, 5, 1)
    [(position, reason)] = rows(case, "SELECT position, reason FROM rejects")
    assert position == "line 5" and reason.startswith("srcport 4")


def test_reloading_adds_nothing(case, tmp_path):
    write(tmp_path / "a.log.gz", flow_text([flow(n) for n in range(30)], V2.split()), gz=True)
    first = case.load([tmp_path], on_problem=lambda line: None)
    again = case.load([tmp_path], on_problem=lambda line: None)
    assert first.loaded == 30 and again.loaded == 0
    assert [f.status for f in again.files] == ["skipped-already-loaded"]
    assert rows(case, "SELECT count(*) FROM vpc_flows") == [(30,)]


def test_cli_loads_flow_logs_only_when_asked(tmp_path):
    ev = tmp_path / "evidence"
    write(ev / "a.log.gz", flow_text([flow(n) for n in range(12)], V2.split()), gz=True)
    report = cli_load(ev, tmp_path / "c.duckdb", "vpcflow")
    assert report["by_source"]["vpcflow"]["loaded"] == 12 and report["read"] == 12


def test_sample_flow_logs_load_without_rejects(sample_case):
    import forensics

    with forensics.Case(sample_case, read_only=True) as case:
        got = rows(
            case,
            "SELECT count(*), count(DISTINCT source_file), count(*) FILTER (WHERE start_time IS NULL)"
            " FROM vpc_flows",
        )
        assert got == [(9244, 444, 0)]  # sample_data/README.md: 444 files, 9,244 records
        regions = rows(  # v2 records name no region: it comes from the delivery path
            case,
            "SELECT list(DISTINCT region ORDER BY region), count(region), list(DISTINCT account_id) "
            "FROM vpc_flows",
        )
        assert regions == [
            (["ap-northeast-1", "ap-south-1", "us-east-1", "us-west-2"], 9244, ["047391826504"])
        ]
        assert rows(case, "SELECT count(*) FROM rejects WHERE source_file LIKE '%vpcflowlogs%'") == [(0,)]
