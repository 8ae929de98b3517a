"""CloudTrail Lake query results through the CLI: the CSV a query delivers to S3 (header row = the
SELECT's columns, AWS's documented names), the JSON of `get-query-results` (QueryResultRows of
one-entry maps), and the sign file beside them. `eventJson` is the record; typed rows are rebuilt
and flagged; rows without enough to rebuild are rejected with the reason."""

from __future__ import annotations

import csv
import gzip
import io
import json

from .test_cloudtrail_shapes import ACCT, event
from .test_evidence_faults import case_consistent, digests, load, rows

QUERY = "AWSLogs/012345678901/CloudTrail-Lake/Query/2026/10/01/0f7a5f2c-query"


def _lake_time(rec: dict) -> str:
    return rec["eventTime"].replace("T", " ").replace("Z", ".000")  # how Lake prints a timestamp


def _csv(header: list[str], body: list[list[str | None]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in r] for r in body])
    return gzip.compress(out.getvalue().encode(), mtime=0)


def _tree(root):
    folder = root / QUERY
    folder.mkdir(parents=True)
    (root / "trail").mkdir()
    (root / "trail" / "t.json").write_text(json.dumps({"Records": [event(0)]}))
    # SELECT eventJson: the records themselves (event 0 is the trail's too)
    (folder / "result_1.csv.gz").write_bytes(_csv(["eventJson"], [[json.dumps(event(i))] for i in (0, 1, 2)]))
    # typed columns only (userIdentity's fields selected one by one)
    typed = [
        "eventID",
        "eventTime",
        "eventName",
        "eventSource",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "readOnly",
        "recipientAccountId",
        "arn",
        "accessKeyId",
        "type",
        "requestParameters",
    ]

    def row(rec: dict, **over) -> list[str | None]:
        ui = rec["userIdentity"]
        values = {
            "eventID": rec["eventID"],
            "eventTime": _lake_time(rec),
            "eventName": rec["eventName"],
            "eventSource": rec["eventSource"],
            "awsRegion": rec["awsRegion"],
            "sourceIPAddress": rec["sourceIPAddress"],
            "userAgent": rec["userAgent"],
            "errorCode": rec.get("errorCode"),
            "readOnly": "false",
            "recipientAccountId": ACCT,
            "arn": ui["arn"],
            "accessKeyId": ui["accessKeyId"],
            "type": ui["type"],
            "requestParameters": json.dumps({"userName": "backdoor"}),
        }
        values.update(over)
        return [values[c] for c in typed]

    create = event(3, eventName="CreateUser", eventSource="iam.amazonaws.com", errorCode="AccessDenied")
    no_identity = row(event(4), arn=None, accessKeyId=None, type=None)
    no_time = row(event(5), eventTime=None)
    (folder / "result_2.csv.gz").write_bytes(_csv(typed, [row(create), no_identity, no_time]))
    sign = {
        "version": "1.0",
        "region": "us-east-1",
        "files": [{"fileHashValue": "ab" * 32, "fileName": "result_1.csv.gz"}],
        "hashAlgorithm": "SHA-256",
        "signatureAlgorithm": "SHA256withRSA",
        "hashSignature": "cd" * 64,
        "publicKeyFingerprint": "ef" * 16,
        "queryCompleteTime": "2026-10-01 01:00:00.000",
    }
    (folder / "result_sign.json").write_text(json.dumps(sign))
    # aws cloudtrail get-query-results: one row with eventJson, one typed, values all strings
    rec6, rec7 = event(6), event(7)
    api = {
        "QueryStatus": "FINISHED",
        "QueryStatistics": {"ResultsCount": 2, "TotalResultsCount": 2, "BytesScanned": 1024},
        "QueryResultRows": [
            [{"eventJson": json.dumps(rec6)}],
            [
                {"eventID": rec7["eventID"]},
                {"eventTime": _lake_time(rec7)},
                {"eventName": rec7["eventName"]},
                {"eventSource": rec7["eventSource"]},
                {"awsRegion": rec7["awsRegion"]},
                {"recipientAccountId": ACCT},
                {"userIdentity": json.dumps({"arn": rec7["userIdentity"]["arn"], "type": "IAMUser"})},
            ],
        ],
    }
    (root / "get-query-results.json").write_text(json.dumps(api, indent=2))


def test_cloudtrail_lake_results_load_rebuilt_or_whole(tmp_path):
    ev = tmp_path / "ev"
    _tree(ev)
    before = digests(ev)
    case = tmp_path / "c.duckdb"

    report, stderr = load(case, ev)

    # trail 1 + eventJson 3 (one the trail's) + typed 3 (two unusable) + API 2
    assert (report["read"], report["loaded"], report["duplicates"], report["rejected"]) == (9, 6, 1, 2)
    assert report["skipped_files"] == 1
    lines = [ln for ln in stderr.splitlines() if "CloudTrail Lake row without eventJson" in ln]
    assert len(lines) == 2
    assert (
        "result_2.csv.gz (row 2)" in lines[0] and "lacks identity: the record cannot be rebuilt" in lines[0]
    )
    assert "result_2.csv.gz (row 3)" in lines[1] and "lacks time" in lines[1]
    got = {
        r[0]: r[1:]
        for r in rows(
            case,
            "SELECT right(event_id, 1), delivery, record_flags, principal_arn, access_key_id, outcome, "
            "read_only, target_user_name, event_time::VARCHAR, raw ->> '$.eventVersion' FROM cloudtrail",
        )
    }
    assert got["0"][0] == "trail"
    for n in "126":  # eventJson: the record itself, unflagged
        assert got[n][0] == "cloudtrail-lake" and got[n][1] == [] and got[n][8] == "1.09", n
    arn = f"arn:aws:iam::{ACCT}:user/dev"
    assert got["3"][:7] == (
        "cloudtrail-lake",
        ["typed from CloudTrail Lake"],
        arn,
        "AKIAEXAMPLE000000001",
        "denied",
        False,
        "backdoor",
    )
    assert got["3"][7] == "2026-10-01 00:00:03+00"
    assert got["7"][:3] == ("cloudtrail-lake", ["read_only derived", "typed from CloudTrail Lake"], arn)
    status = dict(rows(case, "SELECT regexp_extract(path, '[^/]+$'), status FROM sources"))
    assert status["result_sign.json"] == "skipped-digest"
    assert (status["result_2.csv.gz"], status["get-query-results.json"]) == ("partial", "loaded")
    assert digests(ev) == before
    case_consistent(case)
