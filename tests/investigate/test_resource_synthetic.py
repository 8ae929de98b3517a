"""Automation incidents on a small made-up account, fed through the real loader: a function set
going by an EventBridge rule (its targets name the function) and stopped by disabling the rule,
with its log group's billing; near misses: a busy function that writes new objects (no loop, a
reserved concurrency of 5 that stops nothing) and a quiet function deleted (stopped, never looped)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import forensics
from forensics.investigate import api

from ..ingest.fixtures_evidence import csv_text, cur_row

ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "us-east-1"
RUNTIME_UA = "Boto3/1.40.4 md/Botocore#1.40.4 exec-env/AWS_Lambda_python3.12 Botocore/1.40.4"
CONSOLE_UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/141.0.0.0"
SOURCES = {"events": "events.amazonaws.com", "lambda": "lambda.amazonaws.com", "s3": "s3.amazonaws.com"}
RULE = "sync-on-change"


def fn_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{REGION}:{account}:function:{name}"


def z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOOP_FROM = T0 + timedelta(minutes=2)
LOOP_CALLS = 1200
LOOP_STEP = timedelta(seconds=2)
DISABLED = T0 + timedelta(minutes=50)
DELETED = T0 + timedelta(hours=1)


def person(name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper():0<17}"[:21],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": f"AKIA{name.upper():0<16}"[:20],
        "userName": name,
    }


def function_session(name: str) -> dict[str, Any]:
    role = f"{name}-role"
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{name.upper()[:6]}:{name}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": f"ASIA{name.upper().replace('-', ''):0<16}"[:20],
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }


class Records:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def add(self, when: datetime, service: str, name: str, who: dict, ip: str, ua: str, params: dict) -> None:
        self.records.append(
            {
                "eventVersion": "1.09",
                "userIdentity": who,
                "eventTime": z(when),
                "eventSource": SOURCES[service],
                "eventName": name,
                "awsRegion": REGION,
                "sourceIPAddress": ip,
                "userAgent": ua,
                "requestParameters": params,
                "responseElements": None,
                "requestID": str(uuid.uuid4()),
                "eventID": str(uuid.uuid5(uuid.NAMESPACE_OID, f"automation-{len(self.records)}")),
                "readOnly": False,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": ACCOUNT,
                "eventCategory": "Management",
            }
        )

    def write(self, root: Path) -> None:
        folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / REGION
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{ACCOUNT}_CloudTrail_{REGION}_20260302T0900Z_automation.json").write_text(
            json.dumps({"Records": self.records})
        )


def lambda_line(
    n: int, start: str, resource: str, usage: str, cost: str, amount: str = "1", **over: str
) -> dict:
    end = start[:14] + "59:59Z"
    return cur_row(
        n,
        cost,
        account=over.pop("account", ACCOUNT),
        period="2026-03",
        **{
            "identity/TimeInterval": f"{start}/{end}",
            "lineItem/UsageStartDate": start,
            "lineItem/UsageEndDate": end,
            "lineItem/ProductCode": over.pop("product", "AWSLambda"),
            "lineItem/UsageType": usage,
            "lineItem/Operation": "Invoke",
            "lineItem/ResourceId": resource,
            "lineItem/UsageAmount": amount,
            "product/region": REGION,
            "product/instanceType": "",
            **over,
        },
    )


LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/ddb-sync"
# (usage type, hour, cost, amount, resource) of the looping function and its log group
LOOP_LINES = [
    ("USE1-Lambda-GB-Second", "2026-03-02T09:00:00Z", "3.0", "180000", fn_arn("ddb-sync")),
    ("USE1-Request", "2026-03-02T09:00:00Z", "0.25", "1200", fn_arn("ddb-sync")),
    ("USE1-Lambda-GB-Second", "2026-03-02T10:00:00Z", "1.0", "60000", fn_arn("ddb-sync")),
    ("USE1-DataProcessing-Bytes", "2026-03-02T09:00:00Z", "0.5", "1", LOG_GROUP),
]  # fmt: skip
EXPECTED_TOTAL = 3.0 + 0.25 + 1.0 + 0.5


@pytest.fixture(scope="module")
def automation_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("automation")
    ev = root / "evidence"
    r = Records()
    alice, bob = person("alice"), person("bob")
    r.add(T0, "events", "PutRule", alice, "198.51.100.7", CONSOLE_UA, {"name": RULE, "state": "ENABLED"})
    r.add(
        T0 + timedelta(minutes=1),
        "events",
        "PutTargets",
        alice,
        "198.51.100.7",
        CONSOLE_UA,
        {"rule": RULE, "targets": [{"id": "1", "arn": fn_arn("ddb-sync")}]},
    )
    loop_fn = function_session("ddb-sync")
    for i in range(LOOP_CALLS):
        r.add(
            LOOP_FROM + i * LOOP_STEP,
            "s3",
            "PutBucketTagging",
            loop_fn,
            "3.80.1.1",
            RUNTIME_UA,
            {"bucketName": "sync-bucket", "Tagging": {"TagSet": [{"Key": "synced", "Value": "yes"}]}},
        )
    r.add(DISABLED, "events", "DisableRule", bob, "203.0.113.9", CONSOLE_UA, {"name": RULE})
    busy = function_session("report-gen")
    for i in range(LOOP_CALLS):  # busy, but every request is new: not a loop
        r.add(
            T0 + i * LOOP_STEP,
            "s3",
            "PutObject",
            busy,
            "3.80.1.2",
            RUNTIME_UA,
            {"bucketName": "reports", "key": f"daily/{i}.csv"},
        )
    r.add(
        T0 + timedelta(minutes=45),
        "lambda",
        "PutFunctionConcurrency20171031",
        bob,
        "203.0.113.9",
        CONSOLE_UA,
        {"functionName": "report-gen", "reservedConcurrentExecutions": 5},
    )
    quiet = function_session("old-job")
    for i in range(3):
        r.add(
            T0 - timedelta(hours=1, minutes=i),
            "s3",
            "PutObject",
            quiet,
            "3.80.1.3",
            RUNTIME_UA,
            {"bucketName": "x"},
        )
    r.add(
        DELETED,
        "lambda",
        "DeleteFunction20150331",
        bob,
        "203.0.113.9",
        CONSOLE_UA,
        {"functionName": "old-job"},
    )
    r.write(ev)
    lines = [
        lambda_line(i, hour, res, usage, cost, amount)
        for i, (usage, hour, cost, amount, res) in enumerate(LOOP_LINES)
    ]
    lines += [
        # the same function's tax (apart), its usage before the rule and days after the stop, and a
        # same-named function in another account: none in the incident's total
        lambda_line(
            10, "2026-03-02T09:00:00Z", fn_arn("ddb-sync"), "USE1-Lambda-GB-Second", "0.4", LineItemType="Tax"
        ),
        lambda_line(11, "2026-03-01T09:00:00Z", fn_arn("ddb-sync"), "USE1-Lambda-GB-Second", "0.7"),
        lambda_line(12, "2026-03-05T09:00:00Z", fn_arn("ddb-sync"), "USE1-Lambda-GB-Second", "0.9"),
        lambda_line(
            13,
            "2026-03-02T09:00:00Z",
            fn_arn("ddb-sync", OTHER),
            "USE1-Lambda-GB-Second",
            "99",
            account=OTHER,
        ),
    ]
    for line in lines:
        if "LineItemType" in line:
            line["lineItem/LineItemType"] = line.pop("LineItemType")
    (ev / "billing").mkdir(parents=True)
    (ev / "billing" / "cur-2026-03.csv").write_text(csv_text(lines))
    path = root / "case.duckdb"
    with forensics.Case(path) as case:
        report = case.load([ev], on_problem=lambda line: None)
    assert report.rejected == 0
    return path


def story(path: Path, **indicator: str) -> dict:
    with forensics.Case(path, read_only=True) as case:
        return api.investigate(case.con, **indicator)


def test_a_rule_set_it_going_and_disabling_the_rule_stopped_it(automation_case: Path) -> None:
    s = story(automation_case, resource=fn_arn("ddb-sync"))
    a = s["automation"]
    assert a["runaway"] is True
    assert a["loop"]["calls"] == LOOP_CALLS and a["loop"]["event_name"] == "PutBucketTagging"
    assert a["start"]["change"]["event_name"] == "PutTargets"
    assert a["start"]["change"]["by"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert a["start"]["change"]["time"] == z(T0 + timedelta(minutes=1))
    assert s["durations_s"]["start_change_to_first_call"] == 60
    assert a["stop"]["event_name"] == "DisableRule"
    assert a["stop"]["by"] == f"arn:aws:iam::{ACCOUNT}:user/bob"
    assert a["stop"]["time"] == z(DISABLED)
    last = LOOP_FROM + (LOOP_CALLS - 1) * LOOP_STEP
    assert a["last_call"] == z(last)
    assert s["durations_s"]["last_call_to_stop"] == (DISABLED - last).total_seconds()
    assert s["still_running"] == []


def test_the_cost_is_the_functions_and_its_log_groups_lines_in_the_incident(automation_case: Path) -> None:
    s = story(automation_case, resource=fn_arn("ddb-sync"))
    cost = s["cost"]
    assert cost["total"] == pytest.approx(EXPECTED_TOTAL)
    assert cost["by_hour"] == pytest.approx({"2026-03-02T09:00:00Z": 3.75, "2026-03-02T10:00:00Z": 1.0})
    assert cost["excluded"]["tax"] == pytest.approx(0.4)
    assert cost["billed_until"] == "2026-03-02T11:00:00Z"
    assert s["automation"]["invocations"]["total"] == 1200


def test_the_role_reaches_the_same_story(automation_case: Path) -> None:
    by_fn = story(automation_case, resource=fn_arn("ddb-sync"))
    by_role = story(automation_case, principal=f"arn:aws:iam::{ACCOUNT}:role/ddb-sync-role")
    assert by_role["automation"] == by_fn["automation"]


def test_a_busy_function_writing_new_objects_is_no_loop_and_concurrency_5_stops_nothing(
    automation_case: Path,
) -> None:
    a = story(automation_case, resource=fn_arn("report-gen"))["automation"]
    assert a["runaway"] is False and a["loop"] is None
    assert a["own_calls"]["events"] == LOOP_CALLS
    assert a["stop"] is None
    assert [(c["event_name"], c["effect"]) for c in a["changes"]] == [
        ("PutFunctionConcurrency20171031", "start")
    ]


def test_a_deleted_function_that_never_looped(automation_case: Path) -> None:
    s = story(automation_case, resource=fn_arn("old-job"))
    a = s["automation"]
    assert a["runaway"] is False and a["loop"] is None
    assert a["stop"]["event_name"] == "DeleteFunction20150331" and a["stop"]["time"] == z(DELETED)
    assert s["still_running"] == [] and s["cost"]["total"] == 0
