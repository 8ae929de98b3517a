"""From credentials to a report in three commands (acquire, load, report), against moto's S3 and
CloudTrail holding the sample incident laid out as AWS delivers it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import duckdb
from typer.testing import CliRunner

from forensics.cli import app
from forensics.integrity import seal

from ..conftest import SAMPLE

ACCOUNT = "047391826504"  # the sample's account (moto's caller is 123456789012)
TRAIL_BUCKET = f"sakura-audit-logs-{ACCOUNT}"
BILLING_BUCKET = "sakura-billing-exports"
ROLE = "IncidentResponder"


def _victim_session() -> boto3.Session:
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def _upload_sample() -> int:
    """The sample's CloudTrail, digests and flow logs in the trail bucket (account layout), its
    CUR in a billing bucket; Health and GuardDuty come from APIs, not S3, so they stay out."""
    victim = _victim_session()
    s3 = victim.client("s3")
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    s3.put_bucket_versioning(Bucket=TRAIL_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=BILLING_BUCKET)
    victim.client("cloudtrail").create_trail(
        Name="sakura-main-trail",
        S3BucketName=TRAIL_BUCKET,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    evidence = SAMPLE / "evidence"
    jobs = [
        (TRAIL_BUCKET, p.relative_to(evidence).as_posix(), p)
        for p in (evidence / "AWSLogs").rglob("*")
        if p.is_file()
    ]
    jobs += [
        (BILLING_BUCKET, p.relative_to(evidence / "billing").as_posix(), p)
        for p in (evidence / "billing").rglob("*")
        if p.is_file()
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda j: s3.put_object(Bucket=j[0], Key=j[1], Body=j[2].read_bytes()), jobs))
    return len(jobs)


DAY = "/2026/11/16/"  # the window: the incident's day (the other days stay in the bucket)


def _facts(case: Path, ground_truth: dict, day_only: bool) -> dict:
    """Counts of the window's CloudTrail events and flow records (by the day folder of the file
    they came from), billing rows, and the leaked key's first use from the attacker's address."""
    con = duckdb.connect(str(case), read_only=True)
    leaked, ip = ground_truth["leaked_access_key"], ground_truth["first_use"]["source_ip"]
    pattern = f"%{DAY}%" if day_only else "%"
    row = con.execute(
        """SELECT (SELECT count(*) FROM cloudtrail WHERE source_file LIKE $p),
                  (SELECT count(*) FROM vpc_flows WHERE source_file LIKE $p),
                  (SELECT count(*) FROM billing),
                  (SELECT strftime(min(event_time) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') FROM cloudtrail
                   WHERE access_key_id = $k AND source_ip = $ip)""",
        {"k": leaked, "ip": ip, "p": pattern},
    ).fetchone()
    con.close()
    return dict(zip(("cloudtrail", "vpc_flows", "billing", "first_use"), row, strict=True))


def test_acquire_load_report_against_moto(aws, tmp_path: Path, sample_case: Path, ground_truth: dict):

    uploaded = _upload_sample()
    out = tmp_path / "evidence"
    runner = CliRunner()
    run = runner.invoke(
        app,
        [
            "acquire",
            "--out",
            str(out),
            "--from",
            "2026-11-16T00:00:00Z",
            "--to",
            "2026-11-16T12:00:00Z",
            "--account",
            ACCOUNT,
            "--role-name",
            ROLE,
            "--s3",
            f"s3://{BILLING_BUCKET}/cur/",
            "--s3",
            f"s3://{TRAIL_BUCKET}/AWSLogs/{ACCOUNT}/vpcflowlogs/",
            "--format",
            "json",
        ],
    )
    assert run.exit_code == 0, run.output
    # moto's in-process server prints its own notes on stdout; our document is the last line
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    manifest = json.loads((out / "acquisition.json").read_text())
    assert summary["seal"] == seal(out / "acquisition.json")
    assert summary["caller"]["Account"] == "123456789012"  # who acquired: the responder's identity
    assert manifest["runs"][0]["accounts"] == [ACCOUNT] and manifest["runs"][0]["role_name"] == ROLE
    keys = [o["key"] for o in manifest["objects"]]
    assert summary["counts"]["objects_downloaded"] == len(keys) < uploaded
    # only the window's day folders (and the billing export, which has none)
    assert all(DAY in k or "/CloudTrail" not in k and "vpcflowlogs" not in k for k in keys)
    assert any("CloudTrail-Digest" in k for k in keys) and any("sakura-hourly-cur" in k for k in keys)
    digests = [o for o in manifest["objects"] if "CloudTrail-Digest" in o["key"]]
    assert digests and all(o["version_id"] for o in digests)  # versioned bucket: ids kept
    for o in manifest["objects"][:50]:
        assert o["sha256"] == __import__("hashlib").sha256((out / o["path"]).read_bytes()).hexdigest()
    # moto has neither ListPublicKeys nor Health: said, not fatal
    assert any("ListPublicKeys" in p for p in summary["problems"])

    case = tmp_path / "case.duckdb"
    run = runner.invoke(app, ["load", str(out), "--case", str(case), "--json"])
    assert run.exit_code == 0, run.output
    got, expected = _facts(case, ground_truth, False), _facts(sample_case, ground_truth, True)
    assert got == expected and got["cloudtrail"] > ground_truth["counts"]["cloudtrail_events"]["intrusion"]
    assert got["first_use"] == ground_truth["first_use"]["time"]
    con = duckdb.connect(str(case), read_only=True)
    custody = con.execute("SELECT value FROM case_meta WHERE key LIKE 'acquisition:%'").fetchall()
    con.close()
    assert json.loads(custody[0][0])["seal"] == summary["seal"]

    report = tmp_path / "report.html"
    run = runner.invoke(
        app,
        [
            "report",
            "--case",
            str(case),
            "--access-key",
            ground_truth["leaked_access_key"],
            "--out",
            str(report),
        ],
    )
    assert run.exit_code == 0, run.output
    html = report.read_text()
    assert ground_truth["leaked_access_key"] in html
    assert summary["seal"] in html  # chain of custody in the evidence section
