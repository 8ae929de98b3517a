"""LookupEvents, GuardDuty and ListPublicKeys (not in moto 5.2) with botocore's own Stubber, fed
AWS's documented response shapes: pagination, throttling and our own retry, resume by time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from forensics import Case
from forensics.acquire import api
from forensics.acquire.manifest import Manifest
from forensics.integrity.keys import load_key_files

from ..integrity.digests import fingerprint, private_key, public_der

START = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def _client(service: str):
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


class FakeTime:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def clock(self) -> float:
        return self.now


def _event(n: int, t: datetime) -> dict:
    record = {
        "eventVersion": "1.08",
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeRegions",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "45.155.205.107",
        "userIdentity": {
            "type": "IAMUser",
            "accessKeyId": "AKIAEXAMPLEKEY000001",
            "accountId": "123456789012",
        },
        "eventID": f"11111111-2222-3333-4444-{n:012d}",
        "readOnly": True,
        "recipientAccountId": "123456789012",
    }
    return {
        "EventId": record["eventID"],
        "EventName": "DescribeRegions",
        "ReadOnly": "true",
        "AccessKeyId": "AKIAEXAMPLEKEY000001",
        "EventTime": t,
        "EventSource": "ec2.amazonaws.com",
        "Username": "dev",
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }


def test_lookup_events_paginates_paces_retries_and_loads(tmp_path: Path):
    ct = _client("cloudtrail")
    fake = FakeTime()
    pacer = api.Pacer(api.LOOKUP_INTERVAL_S, sleep=fake.sleep, clock=fake.clock)
    first = {"StartTime": START, "EndTime": END, "MaxResults": 50}
    with Stubber(ct) as stub:
        stub.add_client_error(
            "lookup_events", "ThrottlingException", "Rate exceeded", 400, expected_params=first
        )
        stub.add_response(
            "lookup_events",
            {
                "Events": [_event(3, END - timedelta(hours=1)), _event(2, END - timedelta(hours=2))],
                "NextToken": "t1",
            },
            expected_params=first,
        )
        stub.add_response(
            "lookup_events",
            {"Events": [_event(1, END - timedelta(hours=3))]},
            expected_params={**first, "NextToken": "t1"},
        )
        manifest = Manifest(tmp_path / "ev")
        assert api.lookup_events(ct, "123456789012", "us-east-1", START, END, manifest, pacer) == 3
        stub.assert_no_pending_responses()
    assert pacer.throttled == 1
    # never two calls within half a second: 2 requests/second per Region
    assert all(s >= api.LOOKUP_INTERVAL_S - 1e-9 for s in fake.sleeps) and len(fake.sleeps) >= 2
    pages = sorted((tmp_path / "ev" / "api" / "cloudtrail-lookup").rglob("*.json"))
    assert len(pages) == 2
    # done: a second run asks nothing (an unexpected call would raise UnStubbedResponseError)
    with Stubber(ct):
        assert api.lookup_events(ct, "123456789012", "us-east-1", START, END, manifest, pacer) == 0
    with Case(tmp_path / "case.duckdb") as c:
        c.load([tmp_path / "ev"], on_problem=lambda line: None)
        rows = c.con.execute("SELECT delivery, count(*) FROM cloudtrail GROUP BY 1").fetchall()
    assert rows == [("lookup", 3)]


def test_lookup_events_resumes_by_time_after_an_interruption(tmp_path: Path):
    ct = _client("cloudtrail")
    fake = FakeTime()
    pacer = api.Pacer(api.LOOKUP_INTERVAL_S, sleep=fake.sleep, clock=fake.clock)
    oldest = END - timedelta(hours=2)
    manifest = Manifest(tmp_path / "ev")
    with Stubber(ct) as stub:
        stub.add_response(
            "lookup_events",
            {"Events": [_event(3, END - timedelta(hours=1)), _event(2, oldest)], "NextToken": "t1"},
        )
        stub.add_client_error("lookup_events", "AccessDeniedException", "session expired", 400)
        with pytest.raises(ClientError):
            api.lookup_events(ct, "123456789012", "us-east-1", START, END, manifest, pacer)
    with Stubber(ct) as stub:
        # the second run starts where the first stopped: nothing newer than the oldest event fetched
        stub.add_response(
            "lookup_events",
            {"Events": [_event(2, oldest), _event(1, oldest - timedelta(hours=1))]},
            expected_params={"StartTime": START, "EndTime": oldest, "MaxResults": 50},
        )
        assert api.lookup_events(ct, "123456789012", "us-east-1", START, END, manifest, pacer) == 2
        stub.assert_no_pending_responses()


def _finding(n: int) -> dict:
    return {
        "AccountId": "123456789012",
        "Arn": f"arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f{n}",
        "CreatedAt": "2026-11-16T03:00:00.000Z",
        "Id": f"f{n}",
        "Region": "us-east-1",
        "Resource": {
            "ResourceType": "AccessKey",
            "AccessKeyDetails": {"AccessKeyId": "AKIAEXAMPLEKEY000001"},
        },
        "SchemaVersion": "2.0",
        "Severity": 8.0,
        "Type": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
        "UpdatedAt": "2026-11-16T04:00:00.000Z",
        "Title": "EC2 instance querying a bitcoin domain",
        "Service": {
            "Count": 3,
            "EventFirstSeen": "2026-11-16T03:00:00.000Z",
            "EventLastSeen": "2026-11-16T04:00:00.000Z",
        },
    }


def test_guardduty_every_detector_paginated(tmp_path: Path):
    gd = _client("guardduty")
    fake = FakeTime()
    pacer = api.Pacer(0.1, sleep=fake.sleep, clock=fake.clock)
    crit = {"Criterion": {"updatedAt": {"GreaterThanOrEqual": int(START.timestamp() * 1000)}}}
    with Stubber(gd) as stub:
        stub.add_response("list_detectors", {"DetectorIds": ["d1"], "NextToken": "n"}, {})
        stub.add_client_error("list_detectors", "TooManyRequestsException", "slow down", 429)
        stub.add_response("list_detectors", {"DetectorIds": ["d2"]}, {"NextToken": "n"})
        stub.add_response(
            "list_findings",
            {"FindingIds": ["f1", "f2"], "NextToken": "p"},
            {"DetectorId": "d1", "MaxResults": 50, "FindingCriteria": crit},
        )
        stub.add_response(
            "list_findings",
            {"FindingIds": ["f3"]},
            {"DetectorId": "d1", "MaxResults": 50, "FindingCriteria": crit, "NextToken": "p"},
        )
        stub.add_response(
            "get_findings",
            {"Findings": [_finding(1), _finding(2), _finding(3)]},
            {"DetectorId": "d1", "FindingIds": ["f1", "f2", "f3"]},
        )
        stub.add_response(
            "list_findings",
            {"FindingIds": []},
            {"DetectorId": "d2", "MaxResults": 50, "FindingCriteria": ANY},
        )
        manifest = Manifest(tmp_path / "ev")
        assert api.guardduty_findings(gd, "123456789012", "us-east-1", START, manifest, pacer) == 3
        stub.assert_no_pending_responses()
    with Case(tmp_path / "case.duckdb") as c:
        c.load([tmp_path / "ev"], on_problem=lambda line: None)
        got = c.con.execute("SELECT finding_id, source FROM findings ORDER BY 1").fetchall()
    assert got == [("f1", "guardduty"), ("f2", "guardduty"), ("f3", "guardduty")]


def test_public_keys_are_stored_for_verify(tmp_path: Path):
    ct = _client("cloudtrail")
    key = private_key()
    with Stubber(ct) as stub:
        stub.add_response(
            "list_public_keys",
            {
                "PublicKeyList": [
                    {
                        "Value": public_der(key),  # boto3 hands back raw DER bytes
                        "ValidityStartTime": START,
                        "ValidityEndTime": START + timedelta(days=30),
                        "Fingerprint": fingerprint(key),
                    }
                ]
            },
            {"StartTime": START, "EndTime": ANY},
        )
        manifest = Manifest(tmp_path / "ev")
        assert api.public_keys(ct, "us-east-1", START, END, manifest) == 1
    keys = load_key_files([tmp_path / "ev" / "public-keys" / "us-east-1.json"])
    assert list(keys) == [fingerprint(key)]


def test_health_without_a_support_plan_is_a_problem_not_a_failure(tmp_path: Path):
    health = _client("health")
    with Stubber(health) as stub:
        stub.add_client_error("describe_events", "SubscriptionRequiredException", "no support plan", 400)
        manifest = Manifest(tmp_path / "ev")
        assert api.health_events(health, "123456789012", START, END, manifest) is None
    assert "support" in manifest.doc["problems"][0]["problem"]


def test_policy_lists_read_only_actions():
    from typer.testing import CliRunner

    from forensics.cli import app

    run = CliRunner().invoke(app, ["acquire", "--policy"])
    assert run.exit_code == 0
    actions = [a for s in json.loads(run.stdout)["Statement"] for a in s["Action"]]
    assert "cloudtrail:LookupEvents" in actions and "s3:GetObjectVersion" in actions
    assert not [a for a in actions if a.split(":")[1].startswith(("Put", "Delete", "Create", "Update"))]
