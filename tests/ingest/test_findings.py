"""GuardDuty findings and AWS Health risk events: every export shape, flattened, one row per id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from .fixtures_evidence import ACCT, cli_load, envelope, finding, health_event, jsonl, pascal, write

FLAT = (
    "finding_id, source, type, severity, first_seen, last_seen, account_id, region, "
    "resource_type, access_key_id, principal_arn, instance_id, remote_ip"
)
EXFIL = (
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    8.0,
    datetime(2026, 11, 16, 2, 58, tzinfo=UTC),
    datetime(2026, 11, 16, 3, 5, tzinfo=UTC),
    ACCT,
    "ap-northeast-1",
    "AccessKey",
    "ASIAEXAMPLE000000042",
    f"arn:aws:sts::{ACCT}:assumed-role/web-app-role/i-08549a9185e2e51a7",
    "i-08549a9185e2e51a7",
    "146.70.185.36",
)


def rows(case, sql: str, **params) -> list[tuple]:
    return case.sql(sql, **params).rows()


def by_name(report) -> dict[str, tuple]:
    return {
        Path(f.path).name: (f.format, f.status, f.records_read, f.records_loaded, f.duplicates)
        for f in report.files
    }


def test_every_guardduty_shape_flattens_the_same(case, tmp_path):
    write(tmp_path / "get-findings.json", json.dumps({"Findings": [pascal(finding("gd-1"))]}, indent=2))
    write(tmp_path / "export" / "part-0.jsonl.gz", jsonl([finding("gd-2"), finding("gd-3")]), gz=True)
    write(tmp_path / "eventbridge.json", json.dumps(envelope(finding("gd-4")), indent=2))
    write(tmp_path / "archive.json", json.dumps([envelope(finding("gd-5")), envelope(finding("gd-6"))]))
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert by_name(report) == {
        "get-findings.json": ("guardduty-get-findings", "loaded", 1, 1, 0),
        "part-0.jsonl.gz": ("guardduty-findings", "loaded", 2, 2, 0),
        "eventbridge.json": ("guardduty-eventbridge", "loaded", 1, 1, 0),
        "archive.json": ("guardduty-eventbridge", "loaded", 2, 2, 0),
    }
    got = rows(case, f"SELECT {FLAT} FROM findings ORDER BY finding_id")
    assert got == [(f"gd-{i}", "guardduty", *EXFIL) for i in range(1, 7)]
    [(raw,)] = rows(case, "SELECT raw FROM findings WHERE finding_id = 'gd-4'")
    assert json.loads(raw)["detail-type"] == "GuardDuty Finding"  # raw keeps the whole envelope


def test_an_updated_finding_keeps_its_latest_version(case, tmp_path):
    write(tmp_path / "a.jsonl", jsonl([finding("gd-1", count=1), finding("gd-2")]))
    first = case.load([tmp_path / "a.jsonl"], on_problem=lambda line: None)
    assert first.loaded == 2
    later = finding("gd-1", updated="2026-11-16T09:00:00.000Z", count=40)
    later["service"]["eventLastSeen"] = "2026-11-16T08:55:00.000Z"
    write(tmp_path / "b.jsonl", jsonl([later, finding("gd-2")]))  # gd-2 unchanged
    second = case.load([tmp_path / "b.jsonl"], on_problem=lambda line: None)
    assert by_name(second)["b.jsonl"] == ("guardduty-findings", "loaded", 2, 1, 1)
    got = rows(
        case,
        "SELECT finding_id, last_seen, raw->'$.service.count', regexp_extract(source_file, '[^/]+$') "
        "FROM findings ORDER BY 1",
    )
    assert got == [
        ("gd-1", datetime(2026, 11, 16, 8, 55, tzinfo=UTC), "40", "b.jsonl"),
        ("gd-2", datetime(2026, 11, 16, 3, 5, tzinfo=UTC), "1", "a.jsonl"),
    ]
    sources = rows(case, "SELECT records_read, records_loaded, duplicates FROM sources ORDER BY path")
    assert sources == [(2, 1, 1), (2, 1, 1)]  # a.jsonl's gd-1 is now an older copy
    again = case.load([tmp_path / "a.jsonl"], on_problem=lambda line: None)
    assert again.loaded == 0 and rows(case, "SELECT count(*) FROM findings") == [(2,)]


def test_health_risk_event_names_the_exposed_key(case, tmp_path):
    write(tmp_path / "health.json", json.dumps(health_event(["AKIAJNRSY47UUVASTROP"]), indent=2))
    write(
        tmp_path / "two.json",
        json.dumps(health_event(["AKIAEXAMPLEKEY000001", "AKIAEXAMPLEKEY000002"], "x2")),
    )
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.loaded == 2 and report.rejected == 0
    got = rows(case, f"SELECT {FLAT} FROM findings ORDER BY access_key_id")
    arn = "arn:aws:health:global::event/RISK/AWS_RISK_CREDENTIALS_EXPOSED/AWS_RISK_CREDENTIALS_EXPOSED_"
    started = datetime(2026, 11, 16, 3, 23, 40, tzinfo=UTC)  # 'Mon, 16 Nov 2026 03:23:40 GMT'
    seen = datetime(2026, 11, 16, 3, 23, 41, tzinfo=UTC)
    common = ("health", "AWS_RISK_CREDENTIALS_EXPOSED", 8.0, started, seen, ACCT, "us-east-1", "AccessKey")
    assert got == [
        (f"{arn}x2#AKIAEXAMPLEKEY000001", *common, "AKIAEXAMPLEKEY000001", None, None, None),
        (f"{arn}x2#AKIAEXAMPLEKEY000002", *common, "AKIAEXAMPLEKEY000002", None, None, None),
        (f"{arn}abc123", *common, "AKIAJNRSY47UUVASTROP", None, None, None),
    ]


def test_bad_findings_are_quarantined_with_their_position(case, tmp_path):
    lines = jsonl([finding(f"gd-{i}") for i in range(5)]).splitlines()
    lines[2] = lines[2][:120]  # a record cut in half
    write(tmp_path / "cut.jsonl", "\n".join(lines) + "\n")
    odd = [finding("gd-9"), {"type": "x", "id": "y", "resource": {}, "createdAt": "never"}]
    write(tmp_path / "odd.jsonl", jsonl(odd))
    state_change = {"version": "0", "detail-type": "EC2 Instance State-change Notification",
                    "source": "aws.ec2", "detail": {"instance-id": "i-1", "state": "running"}}  # fmt: skip
    write(tmp_path / "mixed.json", json.dumps([envelope(finding("gd-8")), state_change], indent=1))
    problems: list[str] = []
    report = case.load([tmp_path], on_problem=problems.append)
    got = {k: v[1:] for k, v in by_name(report).items()}
    assert got == {
        "cut.jsonl": ("partial", 5, 4, 0),
        "odd.jsonl": ("partial", 2, 1, 0),
        "mixed.json": ("partial", 2, 1, 0),
    }
    assert report.reconciles()
    reasons = rows(
        case, "SELECT regexp_extract(source_file, '[^/]+$'), position, reason FROM rejects ORDER BY 1"
    )
    assert reasons[0][:2] == ("cut.jsonl", "record 3 (line 3)") and "invalid JSON" in reasons[0][2]
    assert reasons[1] == (
        "mixed.json",
        "record 2",
        "not a GuardDuty finding or an EventBridge GuardDuty/Health event "
        "(detail-type EC2 Instance State-change Notification)",
    )
    assert reasons[2] == ("odd.jsonl", "record 2", "finding without a parseable time")
    assert len(problems) == 3


def test_cli_loads_findings_when_asked(tmp_path):
    write(tmp_path / "ev" / "f.json", json.dumps({"Findings": [pascal(finding("gd-1"))]}))
    report = cli_load(tmp_path / "ev", tmp_path / "c.duckdb", "findings")
    assert report["by_source"]["findings"]["loaded"] == 1


def test_sample_findings(sample_case):
    import forensics

    with forensics.Case(sample_case, read_only=True) as case:
        [health] = rows(
            case,
            "SELECT access_key_id, first_seen, type FROM findings WHERE source = 'health'",
        )
        assert health == (
            "AKIAJNRSY47UUVASTROP",
            datetime(2026, 11, 16, 3, 23, 40, tzinfo=UTC),
            "AWS_RISK_CREDENTIALS_EXPOSED",
        )
        got = rows(case, "SELECT source, count(*) FROM findings GROUP BY ALL ORDER BY 1")
        assert got == [("guardduty", 6), ("health", 1)]
        [(ip, arn)] = rows(
            case,
            "SELECT remote_ip, principal_arn FROM findings WHERE type LIKE '%CredentialExfiltration%'",
        )
        assert ip == "146.70.185.36"
        assert arn == "arn:aws:sts::047391826504:assumed-role/sakura-web-app-role/i-08549a9185e2e51a7"
