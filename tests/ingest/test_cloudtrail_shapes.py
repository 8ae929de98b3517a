"""Every CloudTrail export shape, recognised by content, in one call over one mixed tree."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

ACCT = "012345678901"


def event(n: int, **extra) -> dict:
    rec = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{ACCT}:user/dev",
            "accountId": ACCT,
            "accessKeyId": "AKIAEXAMPLE000000001",
            "userName": "dev",
        },
        "eventTime": f"2026-10-01T00:00:{n % 60:02d}Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "ap-northeast-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"maxResults": 5},
        "responseElements": None,
        "requestID": f"req-{n}",
        "eventID": f"00000000-0000-0000-0000-{n:012d}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCT,
        "eventCategory": "Management",
    }
    rec.update(extra)
    return rec


def write(path: Path, text: str, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def mixed_tree(root: Path) -> dict[str, int]:
    """One folder holding every shape; returns the event ids each shape contributes."""
    s3 = root / "AWSLogs" / ACCT / "CloudTrail" / "ap-northeast-1" / "2026" / "10" / "01"
    write(
        s3 / f"{ACCT}_CloudTrail_ap-northeast-1_20261001T0000Z_abcdefgh12345678.json.gz",
        json.dumps({"Records": [event(i) for i in range(0, 5)]}),
        gz=True,
    )
    org = root / "AWSLogs" / "o-abc123def4" / ACCT / "CloudTrail" / "us-east-1" / "2026" / "10" / "01"
    write(org / "org.json.gz", json.dumps({"Records": [event(i) for i in range(5, 8)]}), gz=True)
    write(root / "exports" / "pretty.json", json.dumps({"Records": [event(8)]}, indent=2))
    write(root / "exports" / "array.json", json.dumps([event(i) for i in range(9, 12)], indent=1))
    write(root / "exports" / "events.ndjson", "\n".join(json.dumps(event(i)) for i in range(12, 15)))
    write(
        root / "exports" / "batches.jsonl",
        "\n".join(json.dumps({"Records": [event(i), event(i + 1)]}) for i in (15, 17)),
    )
    lookup = {
        "Events": [
            {
                "EventId": event(i)["eventID"],
                "EventName": "DescribeInstances",
                "CloudTrailEvent": json.dumps(event(i)),
            }
            for i in range(19, 21)
        ],
        "NextToken": None,
    }
    write(root / "exports" / "lookup-events.json", json.dumps(lookup, indent=2))
    logstash = []
    for i in range(21, 23):
        rec = event(i)
        rec["@timestamp"] = rec.pop("eventTime").replace("Z", ".000Z")
        rec["@version"] = "1"
        logstash.append(json.dumps(rec))
    write(root / "siem" / "logstash.json", "\n".join(logstash))
    insight = event(
        23,
        eventType="AwsCloudTrailInsight",
        eventCategory="Insight",
        insightDetails={"state": "Start", "eventName": "RunInstances", "eventSource": "ec2.amazonaws.com"},
    )
    del insight["eventName"]
    write(
        root / "AWSLogs" / ACCT / "CloudTrail-Insight" / "i.json.gz",
        json.dumps({"Records": [insight]}),
        gz=True,
    )
    digest = {
        "awsAccountId": ACCT,
        "digestStartTime": "2026-10-01T00:00:00Z",
        "digestEndTime": "2026-10-01T01:00:00Z",
        "logFiles": [],
    }
    write(root / "AWSLogs" / ACCT / "CloudTrail-Digest" / "d.json.gz", json.dumps(digest), gz=True)
    return {"events": 24}


def test_every_shape_loads_in_one_call(case, tmp_path):
    mixed_tree(tmp_path)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.reconciles()
    assert (report.read, report.loaded, report.duplicates, report.rejected) == (24, 24, 0, 0)
    formats = {Path(f.path).name: (f.format, f.status) for f in report.files}
    assert formats["d.json.gz"] == ("cloudtrail-digest", "skipped-digest")
    assert formats["lookup-events.json"] == ("cloudtrail-lookup-events", "loaded")
    assert formats["logstash.json"] == ("cloudtrail-logstash", "loaded")
    assert formats["array.json"] == ("cloudtrail-array", "loaded")
    got = case.sql("SELECT time_source, count(*) n FROM cloudtrail GROUP BY ALL ORDER BY 1")
    assert got.rows() == [("@timestamp", 2), ("eventTime", 22)]
    insight = case.sql("SELECT event_name, event_category FROM cloudtrail WHERE event_category='Insight'")
    assert insight.rows() == [("RunInstances", "Insight")]


def test_lookup_events_record_is_the_inner_event(case, tmp_path):
    mixed_tree(tmp_path)
    case.load([tmp_path / "exports" / "lookup-events.json"])
    rows = case.sql("SELECT event_id, raw->>'$.eventID' AS inner_id, access_key_id FROM cloudtrail")
    assert rows.height == 2
    assert all(a == b for a, b in zip(rows["event_id"], rows["inner_id"], strict=True))
    assert set(rows["access_key_id"]) == {"AKIAEXAMPLE000000001"}


def test_raw_keeps_every_field(case, tmp_path):
    rec = event(1, someFutureField={"nested": [1, 2, 3]}, addendum={"reason": "DELIVERY_DELAY"})
    write(tmp_path / "one.json", json.dumps({"Records": [rec]}))
    case.load([tmp_path])
    raw = json.loads(case.sql("SELECT raw::VARCHAR AS r FROM cloudtrail")["r"][0])
    assert raw == rec


def test_duplicates_across_files_and_accounts(case, tmp_path):
    write(tmp_path / "a.json", json.dumps({"Records": [event(1), event(2)]}))
    write(tmp_path / "b.json", json.dumps({"Records": [event(2), event(3)]}))
    other = event(3, recipientAccountId="999999999999")  # same eventID, other recipient: kept
    write(tmp_path / "c.json", json.dumps({"Records": [other]}))
    report = case.load([tmp_path])
    assert (report.read, report.loaded, report.duplicates) == (5, 4, 1)
    assert report.reconciles()


def test_same_content_under_another_path_is_recorded_not_reloaded(case, tmp_path):
    write(tmp_path / "a" / "x.json", json.dumps({"Records": [event(1)]}))
    write(tmp_path / "b" / "copy.json", json.dumps({"Records": [event(1)]}))
    report = case.load([tmp_path])
    statuses = sorted(f.status for f in report.files)
    assert statuses == ["loaded", "skipped-already-loaded"]
    assert case.sql("SELECT count(*) n FROM sources")["n"][0] == 2


def test_evidence_is_not_modified(case, tmp_path):
    mixed_tree(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    stats = {p: p.stat().st_mtime_ns for p in before}
    case.load([tmp_path])
    assert {p: p.read_bytes() for p in before} == before
    assert {p: p.stat().st_mtime_ns for p in before} == stats
    hashes = dict(case.sql("SELECT path, sha256 FROM sources").rows())
    import hashlib

    for p, data in before.items():
        assert hashes[str(p)] == hashlib.sha256(data).hexdigest()


def test_outcome_follows_the_design_definitions(case, tmp_path):
    recs = [
        event(1, errorCode="AccessDenied", errorMessage="User: x is not authorized to perform: iam:GetUser"),
        event(2, errorCode="Client.UnauthorizedOperation", errorMessage="You are not authorized"),
        event(3, errorCode="Client.DryRunOperation", errorMessage="Request would have succeeded"),
        event(4, errorCode="Client.VcpuLimitExceeded", errorMessage="You have requested more vCPU"),
        event(
            5, errorCode="InvalidAction", errorMessage="... with an explicit deny in an identity-based policy"
        ),
        event(6),
    ]
    write(tmp_path / "o.json", json.dumps({"Records": recs}))
    case.load([tmp_path])
    got = dict(case.sql("SELECT request_id, outcome FROM cloudtrail").rows())
    assert got == {
        "req-1": "denied",
        "req-2": "denied",
        "req-3": "dry_run",
        "req-4": "failed",
        "req-5": "denied",
        "req-6": "success",
    }


def test_source_filter_leaves_other_evidence_for_later(case, tmp_path):
    write(tmp_path / "ct.json", json.dumps({"Records": [event(1)]}))
    write(
        tmp_path / "flows.log",
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
        "start end action log-status\n"
        "2 012345678901 eni-0a1b2c3d 10.0.0.5 203.0.113.9 443 51000 6 10 8400 1790000000 1790000060 "
        "ACCEPT OK\n",
    )
    first = case.load([tmp_path], source="cloudtrail")
    statuses = {Path(f.path).name: f.status for f in first.files}
    assert statuses == {"ct.json": "loaded", "flows.log": "skipped-other-source"}
    assert case.sql("SELECT count(*) n FROM rejects")["n"][0] == 0
    later = case.load([tmp_path])
    assert {Path(f.path).name: f.status for f in later.files}["flows.log"] == "loaded"


def test_an_empty_records_file_is_shown_empty_not_rejected(case, tmp_path):
    write(tmp_path / "quiet-hour.json.gz", json.dumps({"Records": []}), gz=True)
    write(tmp_path / "busy.json.gz", json.dumps({"Records": [event(1)]}), gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    quiet = next(f for f in report.files if f.path.endswith("quiet-hour.json.gz"))
    assert (quiet.status, quiet.records_read, quiet.rejected) == ("loaded", 0, 0)
    assert quiet.detail == "no records in file"
    assert case.sql("SELECT count(*) n FROM rejects")["n"][0] == 0


def test_instance_ids_from_create_fleet_in_either_json_rendering(case, tmp_path):
    """CreateFleet names its instances under fleetInstanceSet; AWS renders a lone item as an
    object and several as a list, at both levels."""
    one = {"item": {"instanceIds": {"item": "i-0aaaaaaaaaaaaaaa1"}, "lifecycle": "spot"}}
    many = {
        "item": [
            {"instanceIds": {"item": ["i-0bbbbbbbbbbbbbbb1", "i-0bbbbbbbbbbbbbbb2"]}},
            {"instanceIds": {"item": ["i-0bbbbbbbbbbbbbbb3"]}},
        ]
    }
    records = [
        event(n, eventName="CreateFleet", responseElements={"CreateFleetResponse": {"fleetInstanceSet": s}})
        for n, s in ((1, one), (2, many))
    ]
    case.load([write(tmp_path / "fleet.json", json.dumps({"Records": records}))])
    ids = case.sql("SELECT list_sort(instance_ids) AS ids FROM cloudtrail ORDER BY event_time")
    got = ids["ids"].to_list()
    assert got == [
        ["i-0aaaaaaaaaaaaaaa1"],
        ["i-0bbbbbbbbbbbbbbb1", "i-0bbbbbbbbbbbbbbb2", "i-0bbbbbbbbbbbbbbb3"],
    ]


def test_instance_ids_from_an_instances_set_of_one_item_or_many(case, tmp_path):
    """AWS's XML rendered as JSON gives instancesSet.items as an object when there is one: its
    instance is named all the same (the definition the lake views share, vocabulary/fields.sql)."""
    lone = {"instancesSet": {"items": {"instanceId": "i-0ccccccccccccccc1"}}}
    many = {
        "instancesSet": {
            "items": [{"instanceId": "i-0ccccccccccccccc2"}, {"instanceId": "i-0ccccccccccccccc3"}]
        }
    }
    records = [
        event(1, eventName="RunInstances", responseElements=lone),
        event(2, eventName="TerminateInstances", requestParameters=many),
        event(3, eventName="DescribeInstances", requestParameters={"instancesSet": {"items": []}}),
    ]
    case.load([write(tmp_path / "sets.json", json.dumps({"Records": records}))])
    ids = case.sql("SELECT list_sort(instance_ids) AS ids FROM cloudtrail ORDER BY event_time")
    assert ids["ids"].to_list() == [
        ["i-0ccccccccccccccc1"],
        ["i-0ccccccccccccccc2", "i-0ccccccccccccccc3"],
        None,
    ]
