"""Billing exports: legacy CUR, CUR 2.0 and FOCUS normalised by name; money never counted twice."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from .fixtures_evidence import (
    ACCT,
    CUR_COLUMNS,
    FOCUS_COLUMNS,
    cli_load,
    csv_text,
    cur_row,
    focus_row,
    write,
    write_cur2_parquet,
    write_zip,
)

FOCUS = "focus_sample_data/FOCUS-1.0/focus_sample.csv"
CUR = "focus_converters_aws_cur/sample-anonymous-aws-export-dataset.csv"


def csv_sum(text: str, column: str, where=lambda row: True) -> Decimal:
    """The money as the file states it, summed exactly (the loader's DOUBLE must agree)."""
    total = Decimal(0)
    for row in csv.DictReader(io.StringIO(text)):
        value = row[column]
        if where(row) and value not in ("", "NULL"):
            total += Decimal(value)
    return total


def rows(case, sql: str, **params) -> list[tuple]:
    return case.sql(sql, **params).rows()


def by_name(report) -> dict[str, tuple]:
    return {
        Path(f.path).name: (f.status, f.records_read, f.records_loaded, f.duplicates, f.rejected)
        for f in report.files
    }


def billed(case) -> float:
    return rows(case, "SELECT coalesce(sum(cost), 0) FROM billing")[0][0]


def reconciled_with_sources(case) -> bool:
    """Every billing row is accounted for by exactly one loaded file's count."""
    [(in_table, counted)] = rows(
        case,
        "SELECT (SELECT count(*) FROM billing), (SELECT sum(records_loaded) FROM sources "
        "WHERE format IN ('cur_legacy_csv', 'cur_legacy_parquet', 'cur2', 'focus'))",
    )
    return in_table == counted


def test_focus_sample(corpus, case):
    text = (corpus / FOCUS).read_text()
    report = case.load([corpus / FOCUS], on_problem=lambda line: None)
    assert by_name(report) == {"focus_sample.csv": ("loaded", 1000, 1000, 0, 0)}
    got = rows(
        case,
        "SELECT provider, count(*), sum(cost), count(region), count(tags), "
        "list(DISTINCT billing_period), list(DISTINCT payer_account_id) "
        "FROM billing GROUP BY ALL ORDER BY 1",
    )
    aws = csv_sum(text, "BilledCost", lambda r: r["ProviderName"] == "AWS")
    assert [r[:2] for r in got] == [("AWS", 942), ("Microsoft", 51), ("Oracle", 7)]
    assert got[0][2] == pytest.approx(float(aws), abs=1e-9) and round(aws, 2) == Decimal("18.01")
    assert got[0][3:] == (942, 653, ["2024-09"], ["1234567890123"])  # 13 digits kept as text
    assert got[2][3] == 0  # literal NULL is no value
    first = rows(  # the file's first data line
        case,
        "SELECT usage_start, usage_end, account_id, service, region, usage_amount, "
        "line_item_type, currency, cost FROM billing WHERE resource_id = $r AND usage_start = $t",
        r="arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12",
        t="2024-09-18T22:00:00Z",
    )
    assert [f[2:] for f in first] == [
        ("51738928782", "Amazon Simple Queue Service", "us-west-2", 2.0, "Usage", "USD", 8e-07)
    ]
    assert first[0][1].isoformat() == "2024-09-18T23:00:00+00:00"  # no zone in the file: UTC
    assert total_cost_matches(case, float(csv_sum(text, "BilledCost")))


def total_cost_matches(case, expected: float) -> bool:
    return billed(case) == pytest.approx(expected, abs=1e-9)


def test_legacy_cur_sample(corpus, case):
    text = (corpus / CUR).read_text()
    report = case.load([corpus / CUR], on_problem=lambda line: None)
    assert by_name(report) == {CUR.split("/")[1]: ("loaded", 1281, 1281, 0, 0)}
    assert total_cost_matches(case, float(csv_sum(text, "lineItem/UnblendedCost")))
    assert round(billed(case), 2) == 1.68
    got = rows(
        case,
        "SELECT line_item_type, count(*), count(region), list(DISTINCT account_id), "
        "list(DISTINCT billing_period), list(DISTINCT source_format) FROM billing "
        "GROUP BY ALL ORDER BY 1",
    )
    assert got == [
        ("Tax", 12, 0, ["123412340534"], ["2023-11"], ["cur_legacy_csv"]),
        ("Usage", 1269, 1269, ["123412340534"], ["2023-11"], ["cur_legacy_csv"]),
    ]


def test_usage_type_prefixes_give_the_same_region_as_the_product_column(corpus, case, tmp_path):
    """detections.md §9's prefix table, checked against a real CUR with the region blanked."""
    original = list(csv.DictReader(io.StringIO((corpus / CUR).read_text())))
    blanked = [{**r, "product/region": "", "product/regionCode": ""} for r in original]
    write(tmp_path / "blank.csv", csv_text(blanked))
    case.load([tmp_path], on_problem=lambda line: None)
    derived = dict(rows(case, "SELECT line_item_id, region FROM billing"))
    checked = 0
    for r in original:
        if r["product/region"] not in ("", "global"):
            assert derived[r["identity/LineItemId"]] == r["product/region"], r["lineItem/UsageType"]
            checked += 1
    assert checked == 1255


@pytest.mark.parametrize(
    ("usage_type", "region"),
    [
        ("APN1-BoxUsage:g4dn.xlarge", "ap-northeast-1"),
        ("EU-BoxUsage:m5.large", "eu-west-1"),
        ("BoxUsage:t3.micro", "us-east-1"),
        ("USW2-SpotUsage:p3.2xlarge", "us-west-2"),
        ("APE1-USE1-AWS-In-Bytes", "ap-east-1"),
        ("APS3-EBS:VolumeUsage.gp3", "ap-south-1"),
        ("ca-central-1-KMS-Requests", "ca-central-1"),
        ("Global-SoftwareUsage", None),
    ],
)
def test_region_from_usage_type_prefix(case, tmp_path, usage_type, region):
    row = cur_row(1, "1.5", **{"lineItem/UsageType": usage_type, "product/region": ""})
    write(tmp_path / "cur.csv", csv_text([row]))
    case.load([tmp_path], on_problem=lambda line: None)
    assert rows(case, "SELECT region, instance_type FROM billing")[0][0] == region


def test_gzip_and_zip_exports_read_like_plain_csv(case, tmp_path):
    plain = [cur_row(n, f"0.{n + 1}", account="011111111111") for n in range(5)]
    gz = [cur_row(n, f"1.{n + 1}", account="022222222222") for n in range(7)]
    zipped = [cur_row(n, f"2.{n + 1}", account="033333333333") for n in range(9)]
    write(tmp_path / "a" / "r-1.csv", csv_text(plain, CUR_COLUMNS))
    write(tmp_path / "b" / "r-1.csv.gz", csv_text(gz, CUR_COLUMNS), gz=True)
    write_zip(tmp_path / "c" / "r-1.csv.zip", "r-1.csv", csv_text(zipped, CUR_COLUMNS))
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert sorted(by_name(report).values()) == [
        ("loaded", 5, 5, 0, 0),
        ("loaded", 7, 7, 0, 0),
        ("loaded", 9, 9, 0, 0),
    ]
    got = rows(
        case,
        "SELECT account_id, count(*), round(sum(cost), 6), any_value(tags->>'user:Name') "
        "FILTER (WHERE line_item_id LIKE '%-0'), any_value(source_file) FROM billing "
        "GROUP BY ALL ORDER BY 1",
    )
    assert [g[:4] for g in got] == [
        ("011111111111", 5, 1.5, "web"),
        ("022222222222", 7, 9.8, "web"),
        ("033333333333", 9, 22.5, "web"),
    ]
    assert got[2][4].endswith("r-1.csv.zip")  # provenance names the evidence, not a temp copy


def test_cur2_parquet_with_map_columns_in_billing_period_folders(case, tmp_path):
    export = tmp_path / "exports" / "sakura-cur2"
    write_cur2_parquet(
        export / "data" / "BILLING_PERIOD=2026-11" / "sakura-cur2-00001.snappy.parquet",
        [
            ("2026-11-16 03:00:00", ACCT, "APS3-BoxUsage:g4dn.12xlarge", "ap-south-1", None,
             "i-004aa4b392dd23179", 3.912, {"user:Name": "miner"}),
            ("2026-11-16 03:00:00", ACCT, "EUN1-BoxUsage:p3.2xlarge", None, "eu-north-1",
             "i-0aaa", 3.06, {}),
            ("2026-11-16 04:00:00", ACCT, "EU-BoxUsage:m5.large", None, None, "i-0bbb", 0.107, {}),
            ("2026-11-16 05:00:00", ACCT, "BoxUsage:t3.micro", None, None, "i-0ccc", 0.0104, {}),
        ],
    )  # fmt: skip
    write(
        export / "metadata" / "BILLING_PERIOD=2026-11" / "sakura-cur2-Manifest.json",
        json.dumps({"executionId": "exec-1", "billingPeriod": {"start": "2026-11-01T00:00:00Z"},
                    "dataFiles": ["s3://b/exports/sakura-cur2/data/..."], "columns": []}),
    )  # fmt: skip
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert by_name(report) == {
        "sakura-cur2-00001.snappy.parquet": ("loaded", 4, 4, 0, 0),
        "sakura-cur2-Manifest.json": ("skipped-manifest", 0, 0, 0, 0),
    }
    got = rows(
        case,
        "SELECT resource_id, account_id, region, billing_period, usage_start, cost, "
        "tags->>'user:Name', instance_type, source_format FROM billing ORDER BY cost DESC",
    )
    assert [(g[0], g[1], g[2], g[3], g[5], g[6], g[7], g[8]) for g in got] == [
        ("i-004aa4b392dd23179", ACCT, "ap-south-1", "2026-11", 3.912, "miner", "g4dn.12xlarge", "cur2"),
        ("i-0aaa", ACCT, "eu-north-1", "2026-11", 3.06, None, "p3.2xlarge", "cur2"),  # map
        ("i-0bbb", ACCT, "eu-west-1", "2026-11", 0.107, None, "m5.large", "cur2"),  # prefix
        ("i-0ccc", ACCT, "us-east-1", "2026-11", 0.0104, None, "t3.micro", "cur2"),  # none
    ]  # fmt: skip
    assert got[0][4].isoformat() == "2026-11-16T03:00:00+00:00"


def test_legacy_manifest_is_recorded_not_loaded(case, tmp_path):
    folder = tmp_path / "cur" / "report" / "20261101-20261201"
    write(
        folder / "report-Manifest.json",
        json.dumps({"assemblyId": "a1", "account": ACCT, "columns": [{"category": "identity"}],
                    "billingPeriod": {"start": "20261101T000000.000Z"},
                    "reportKeys": ["cur/report/20261101-20261201/a1/report-1.csv.gz"]}),
    )  # fmt: skip
    write(folder / "a1" / "report-1.csv.gz", csv_text([cur_row(0, "4.2")]), gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert by_name(report)["report-Manifest.json"][0] == "skipped-manifest"
    assert report.files[0].source == "billing" and billed(case) == pytest.approx(4.2)


def test_same_period_in_two_formats_is_counted_once(case, tmp_path):
    """FOCUS and legacy CUR of one account and month: the CUR counts; later CUR 2.0 wins."""
    write(tmp_path / "focus" / "f-1.csv", csv_text([focus_row(n, "1.0") for n in range(3)], FOCUS_COLUMNS))
    write(tmp_path / "cur" / "c-1.csv.gz", csv_text([cur_row(n, "2.5") for n in range(2)]), gz=True)
    lines: list[str] = []
    report = case.load([tmp_path], on_problem=lines.append)
    got = by_name(report)
    assert got["f-1.csv"] == ("superseded", 3, 0, 3, 0) and got["c-1.csv.gz"] == ("loaded", 2, 2, 0, 0)
    assert report.reconciles() and report.superseded == 1 and not lines
    assert billed(case) == pytest.approx(5.0)
    detail = next(f.detail for f in report.files if f.path.endswith("f-1.csv"))
    assert "superseded for 2026-11 by cur_legacy_csv" in detail and "higher precedence" in detail
    assert "supersedes" in next(f.detail for f in report.files if f.path.endswith("c-1.csv.gz"))

    cur2 = tmp_path / "later" / "data" / "BILLING_PERIOD=2026-11" / "x-00001.parquet"
    write_cur2_parquet(cur2, [("2026-11-01 00:00:00", ACCT, "APN1-BoxUsage:g4dn.xlarge",
                              "ap-northeast-1", None, "i-0001", 7.0, {})])  # fmt: skip
    second = case.load([cur2], on_problem=lambda line: None)
    assert by_name(second) == {"x-00001.parquet": ("loaded", 1, 1, 0, 0)}
    assert billed(case) == pytest.approx(7.0)
    status = dict(rows(case, "SELECT regexp_extract(path, '[^/]+$'), status FROM sources"))
    assert status == {"f-1.csv": "superseded", "c-1.csv.gz": "superseded", "x-00001.parquet": "loaded"}
    assert reconciled_with_sources(case)


def test_supersession_is_per_account(case, tmp_path):
    other = "099999999999"
    focus = [focus_row(n, "1.0") for n in range(3)] + [focus_row(n, "10.0", account=other) for n in range(2)]
    write(tmp_path / "f.csv", csv_text(focus, FOCUS_COLUMNS))
    write(tmp_path / "c.csv", csv_text([cur_row(n, "2.5") for n in range(2)]))
    report = case.load([tmp_path], on_problem=lambda line: None)
    got = by_name(report)
    assert got["f.csv"] == ("loaded", 5, 2, 3, 0)  # the other account's money stays
    assert billed(case) == pytest.approx(25.0)
    assert rows(case, "SELECT account_id, sum(cost) FROM billing GROUP BY ALL ORDER BY 1") == [
        (ACCT, 5.0),
        (other, 20.0),
    ]
    assert reconciled_with_sources(case)


def test_newer_delivery_wins_whatever_the_load_order(case, tmp_path):
    period = tmp_path / "cur" / "report" / "20261101-20261201"
    old = write(period / "assembly-old" / "report-1.csv.gz",
                csv_text([cur_row(n, "1.0") for n in range(4)]), gz=True)  # fmt: skip
    new = write(period / "assembly-new" / "report-1.csv.gz",
                csv_text([cur_row(n, "1.0") for n in range(6)]), gz=True)  # fmt: skip
    os.utime(old, (1_764_633_600, 1_764_633_600))  # 2025-12-02
    os.utime(new, (1_764_892_800, 1_764_892_800))  # 2025-12-05
    first = case.load([new], on_problem=lambda line: None)
    assert first.loaded == 6
    second = case.load([old], on_problem=lambda line: None)
    [o] = second.files
    assert (o.status, o.records_read, o.records_loaded, o.duplicates) == ("superseded", 4, 0, 4)
    assert "assembly-new" in o.detail and "a newer delivery" in o.detail
    assert billed(case) == pytest.approx(6.0) and reconciled_with_sources(case)


def test_cur2_execution_folders_order_deliveries_by_their_time(case, tmp_path):
    data = tmp_path / "data" / "BILLING_PERIOD=2026-11"
    for stamp, cost in [("20261205T010203Z-exec2", 9.0), ("20261203T000000Z-exec1", 4.0)]:
        row = ("2026-11-02 00:00:00", ACCT, "BoxUsage:t3.micro", None, None, "i-1", cost, {})
        write_cur2_parquet(data / stamp / "x-00001.parquet", [row])
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert sorted(f.status for f in report.files) == ["loaded", "superseded"]
    assert billed(case) == pytest.approx(9.0)


def test_overwritten_report_replaces_its_earlier_copy(case, tmp_path):
    path = write(tmp_path / "r" / "report-1.csv", csv_text([cur_row(n, "1.0") for n in range(3)]))
    case.load([path], on_problem=lambda line: None)
    write(path, csv_text([cur_row(n, "1.0") for n in range(5)]))
    again = case.load([path], on_problem=lambda line: None)
    assert again.loaded == 5 and billed(case) == pytest.approx(5.0)
    status = rows(case, "SELECT status, records_loaded, duplicates FROM sources ORDER BY loaded_at")
    assert status == [("superseded", 0, 3), ("loaded", 5, 0)]


UNKNOWN = "unrecognised format (not CloudTrail, VPC flow log, billing export or findings)"


def test_bad_billing_files(case, tmp_path):
    write(tmp_path / "unknown.csv", "colour,size,price\nred,3,1.0\n")
    no_cost = [{k: v for k, v in cur_row(0, "1").items() if k != "lineItem/UnblendedCost"}]
    write(tmp_path / "nocost.csv", csv_text(no_cost))
    typed = [cur_row(n, "1.25") for n in range(6)]
    typed[2]["lineItem/UnblendedCost"] = "abc"
    typed[4]["lineItem/UsageStartDate"] = "yesterday"
    write(tmp_path / "typed.csv", csv_text(typed))
    ragged = csv_text([cur_row(n, "0.5", account="044444444444") for n in range(5)]).splitlines()
    ragged[3] += ",extra,fields"
    write(tmp_path / "ragged.csv", "\n".join(ragged) + "\n")
    body = csv_text([cur_row(n, "0.25", account="055555555555") for n in range(3000)])
    full = gzip.compress(body.encode(), mtime=0)
    (tmp_path / "cut.csv.gz").write_bytes(full[: len(full) // 2])
    lines: list[str] = []
    report = case.load([tmp_path], on_problem=lines.append)
    got = by_name(report)
    assert got["unknown.csv"][0] == "rejected" and got["nocost.csv"][0] == "rejected"
    assert got["typed.csv"] == ("partial", 6, 4, 0, 2)
    assert got["ragged.csv"] == ("partial", 5, 4, 0, 1)
    status, read, loaded, _, rejected = got["cut.csv.gz"]
    assert status == "partial" and rejected == 1 and 1000 < loaded < 3000 and read == loaded + 1
    assert report.reconciles()
    reasons = rows(
        case,
        "SELECT regexp_extract(source_file, '[^/]+$'), position, reason FROM rejects "
        "WHERE source_file NOT LIKE '%cut.csv.gz' ORDER BY ALL",
    )
    assert reasons == [
        ("nocost.csv", "line 1", "billing export without a cost column (lineItem/UnblendedCost)"),
        ("ragged.csv", "record 3 (line 4)", "record has 22 fields where the header has 20"),
        ("typed.csv", "record 3", "lineItem/UnblendedCost abc is not a number"),
        ("typed.csv", "record 5", "lineItem/UsageStartDate yesterday is not a timestamp"),
        ("unknown.csv", "byte 0", UNKNOWN),
    ]  # fmt: skip
    assert billed(case) == pytest.approx(4 * 1.25 + 4 * 0.5 + loaded * 0.25)
    assert all(any(name in line for name in ("unknown", "nocost", "typed", "ragged", "cut"))
               for line in lines)  # fmt: skip


def test_cli_loads_billing_when_asked(tmp_path):
    write(tmp_path / "ev" / "r-1.csv", csv_text([cur_row(n, "0.5") for n in range(4)]))
    report = cli_load(tmp_path / "ev", tmp_path / "c.duckdb", "billing")
    assert report["by_source"]["billing"]["loaded"] == 4


def test_sample_tree_loads_without_rejects_and_bills_the_cur_total(sample_case):
    import forensics

    evidence = Path(__file__).resolve().parents[2] / "sample_data" / "evidence"
    [cur] = list(evidence.glob("billing/**/*.csv.gz"))
    text = gzip.decompress(cur.read_bytes()).decode()
    with forensics.Case(sample_case, read_only=True) as case:
        assert rows(case, "SELECT count(*) FROM rejects") == [(0,)]
        assert rows(case, "SELECT count(*) FROM sources WHERE status IN ('rejected', 'partial')") == [(0,)]
        expected = csv_sum(text, "lineItem/UnblendedCost")
        assert billed(case) == pytest.approx(float(expected), abs=1e-6)
        assert rows(case, "SELECT count(*), count(region) FROM billing") == [
            (len(text.splitlines()) - 1,) * 2
        ]
        assert rows(case, "SELECT status FROM sources WHERE path LIKE '%Manifest.json'") == [
            ("skipped-manifest",)
        ]
