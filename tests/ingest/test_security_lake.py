"""Amazon Security Lake (OCSF 1.x Parquet in its Hive layout) through the CLI: CloudTrail in both
source versions (v1 = OCSF 1.0.0-rc.2 and v2 = 1.1.0 swap actor.user.uid and uuid), deduplicated
against the trail's copies; VPC flow logs as Network Activity giving the same rows as the text
flow log; an Iceberg table refused rather than double counted."""

from __future__ import annotations

import json
from pathlib import Path

from .fixtures_evidence import flow, flow_text
from .ocsf_fixtures import lake_path, ocsf_cloudtrail_row, ocsf_flow_row, write_parquet
from .test_cloudtrail_shapes import ACCT, event
from .test_evidence_faults import case_consistent, digests, load, rows

CREATE_USER = {
    "eventName": "CreateUser",
    "eventSource": "iam.amazonaws.com",
    "awsRegion": "us-east-1",
    "requestParameters": {"userName": "backdoor"},
    "responseElements": None,
    "readOnly": False,
    "errorCode": "AccessDenied",
    "errorMessage": "User: arn:aws:iam::012345678901:user/dev is not authorized to perform: iam:CreateUser",
}
ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLE:sess",
    "arn": f"arn:aws:sts::{ACCT}:assumed-role/ops/sess",
    "accountId": ACCT,
    "accessKeyId": "ASIAEXAMPLE000000009",
    "sessionContext": {
        "sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCT}:role/ops", "userName": "ops"},
        "attributes": {"creationDate": "2026-10-01T00:00:00Z", "mfaAuthenticated": "true"},
    },
}


def _lake(root: Path) -> None:
    trail = [event(i) for i in range(3)]
    (root / "trail").mkdir(parents=True)
    (root / "trail" / f"{ACCT}_CloudTrail_ap-northeast-1_x.json").write_text(json.dumps({"Records": trail}))
    v2 = [*trail, event(10, **CREATE_USER), event(11, userIdentity=ROLE)]
    write_parquet(
        lake_path(root, "CLOUD_TRAIL_MGMT", 2, "ap-northeast-1", ACCT, "20261001", "a.gz.parquet"),
        [ocsf_cloudtrail_row(r, 2) for r in v2] + [{**ocsf_cloudtrail_row(event(19), 2), "class_uid": 2004}],
    )
    # source version 1: rc.2, request parameters flattened into `unmapped`
    v1 = [event(20, **CREATE_USER), event(21, userIdentity=ROLE)]
    write_parquet(
        lake_path(root, "CLOUD_TRAIL_MGMT", 1, "ap-northeast-1", ACCT, "20261001", "b.gz.parquet"),
        [ocsf_cloudtrail_row(r, 1) for r in v1],
    )
    # data events (S3_DATA) are API Activity too, in their own source
    s3 = event(30, eventSource="s3.amazonaws.com", eventName="GetObject", eventCategory="Data")
    write_parquet(
        lake_path(root, "S3_DATA", 2, "ap-northeast-1", ACCT, "20261001", "c.gz.parquet"),
        [ocsf_cloudtrail_row(s3, 2, payload="unmapped")],
    )


def test_security_lake_cloudtrail_both_versions_beside_the_trail(tmp_path):
    ev = tmp_path / "ev"
    _lake(ev)
    before = digests(ev)
    case = tmp_path / "c.duckdb"

    report, stderr = load(case, ev)

    # 3 trail + 6 (v2: 3 copies of the trail's, CreateUser, role call, one finding class) + 2 (v1) + 1 (S3)
    assert (report["read"], report["loaded"], report["duplicates"], report["rejected"]) == (12, 8, 3, 1)
    assert "OCSF class 2004 (API Activity) is not a CloudTrail event class" in stderr
    kept = dict(rows(case, "SELECT right(event_id, 2), delivery FROM cloudtrail"))
    assert kept == {
        "00": "trail",
        "01": "trail",
        "02": "trail",
        "10": "security-lake",
        "11": "security-lake",
        "20": "security-lake",
        "21": "security-lake",
        "30": "security-lake",
    }
    assert rows(case, "SELECT count(*), min(delivery) FROM cloudtrail_copies") == [(3, "security-lake")]
    got = {
        r[0]: r[1:]
        for r in rows(
            case,
            "SELECT right(event_id, 2), principal_type, principal_arn, principal_id, access_key_id, "
            "session_issuer_arn, mfa_authenticated, target_user_name, outcome, read_only, "
            "recipient_account_id, record_flags, event_time::VARCHAR, aws_region, source_ip, "
            "envelope ->> '$.class_uid' FROM cloudtrail WHERE delivery = 'security-lake'",
        )
    }
    for n in ("10", "20"):  # CreateUser, in both versions: identity, target and outcome
        assert got[n][:4] == (
            "IAMUser",
            f"arn:aws:iam::{ACCT}:user/dev",
            "AIDAEXAMPLE",
            "AKIAEXAMPLE000000001",
        )
        assert got[n][6:10] == ("backdoor", "denied", False, ACCT), n
        assert got[n][10] == ["lossy from OCSF"] and got[n][14] == "3001"
    for n in ("11", "21"):  # the role session: v1's uid is the principal id, v2's the ARN
        assert got[n][:6] == (
            "AssumedRole",
            ROLE["arn"],
            ROLE["principalId"],
            ROLE["accessKeyId"],
            f"arn:aws:iam::{ACCT}:role/ops",
            True,
        ), n
        assert got[n][11:14] == ("2026-10-01 00:00:" + n + "+00", "ap-northeast-1", "203.0.113.7")
    assert rows(case, "SELECT event_name, event_category FROM cloudtrail WHERE event_id LIKE '%30'") == [
        ("GetObject", "Data")
    ]
    assert digests(ev) == before
    case_consistent(case)


def test_security_lake_flows_give_the_rows_of_the_text_flow_log(tmp_path):
    recs = [flow(i) for i in range(6)]
    text = tmp_path / "text"
    text.mkdir()
    (text / "flows.log").write_text(flow_text(recs, list(recs[0])))
    lake = tmp_path / "lake"
    write_parquet(
        lake_path(lake, "VPC_FLOW", 2, "us-east-1", "012345678901", "20251116", "f.gz.parquet"),
        [ocsf_flow_row(r, 2) for r in recs[:3]],
    )
    write_parquet(
        lake_path(lake, "VPC_FLOW", 1, "us-east-1", "012345678901", "20251116", "g.gz.parquet"),
        [ocsf_flow_row(r, 1) for r in recs[3:]],
    )
    before = digests(lake)
    cols = (
        "account_id, interface_id, src_addr, dst_addr, src_port, dst_port, protocol, packets, bytes, "
        "start_time, end_time, action, log_status"
    )
    want_report, _ = load(tmp_path / "text.duckdb", text)
    got_report, _ = load(tmp_path / "lake.duckdb", lake)
    want = rows(tmp_path / "text.duckdb", f"SELECT {cols} FROM vpc_flows ORDER BY src_port")
    got = rows(tmp_path / "lake.duckdb", f"SELECT {cols} FROM vpc_flows ORDER BY src_port")
    assert got_report["by_source"]["vpcflow"]["loaded"] == want_report["loaded"] == 6
    assert got == want
    assert {r[11] for r in got} == {"ACCEPT", "REJECT"}
    extra = rows(tmp_path / "lake.duckdb", "SELECT DISTINCT extra -> '$.ocsf' ->> 'class_uid' FROM vpc_flows")
    assert extra == [("4001",)]  # the OCSF record is kept
    assert rows(tmp_path / "lake.duckdb", "SELECT DISTINCT flow_direction, region FROM vpc_flows") == [
        ("egress", "us-east-1")
    ]
    assert digests(lake) == before


def test_an_iceberg_table_is_refused_not_double_counted(tmp_path):
    ev = tmp_path / "ev"
    table = ev / "amazon_security_lake_table_us_east_1_vpc_flow_2_0"
    (table / "metadata").mkdir(parents=True)
    (table / "metadata" / "00001-abc.metadata.json").write_text(
        json.dumps({"format-version": 2, "table-uuid": "u-1", "current-snapshot-id": 2, "snapshots": []})
    )
    (table / "metadata" / "snap-2-1-abc.avro").write_bytes(b"Obj\x01" + b"\x00" * 32)
    # the same flows in an old and a rewritten data file: only a snapshot says which is current
    for n, name in ((3, "00000-old.parquet"), (4, "00001-new.parquet")):
        write_parquet(table / "data" / "eventDay=20251116" / name, [ocsf_flow_row(flow(i)) for i in range(n)])
    (ev / "flows.log").write_text(flow_text([flow(9)], list(flow(9))))
    before = digests(ev)

    report, stderr = load(tmp_path / "c.duckdb", ev)

    assert report["loaded"] == 1 and report["rejected_files"] == 2
    assert sum("data file of an Apache Iceberg table" in ln for ln in stderr.splitlines()) == 2
    status = dict(rows(tmp_path / "c.duckdb", "SELECT regexp_extract(path, '[^/]+$'), status FROM sources"))
    assert status["00000-old.parquet"] == status["00001-new.parquet"] == "rejected"
    assert status["00001-abc.metadata.json"] == status["snap-2-1-abc.avro"] == "skipped-not-evidence"
    assert rows(tmp_path / "c.duckdb", "SELECT count(*) FROM vpc_flows") == [(1,)]
    assert digests(ev) == before
