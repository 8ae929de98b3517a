"""Interruption and resume, changed and deleted objects, and digests acquired with their metadata,
against moto's S3 and CloudTrail."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3
import pytest

from forensics import Case
from forensics.acquire import Options, acquire
from forensics.acquire import s3 as s3mod
from forensics.hunt import parse_time

from ..integrity.digests import BUCKET, build_chain, private_key

CALLER = "123456789012"  # moto's default account: the trail is the caller's own


def _setup(versioned: bool) -> list:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    boto3.client("cloudtrail").create_trail(Name="main", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    objs = build_chain(hours=3, logs_per_hour=3, account=CALLER)
    for o in objs:
        s3.put_object(Bucket=BUCKET, Key=o.key, Body=o.body, Metadata=o.metadata)
    return objs


def _opts(out: Path) -> Options:
    return Options(
        out=out,
        start=parse_time("2026-11-16T01:00:00Z"),
        end=parse_time("2026-11-16T04:00:00Z"),
        regions=["us-east-1"],
        guardduty=False,
        health=False,
    )


def test_interrupted_acquisition_resumes_fetching_only_what_is_missing(aws, tmp_path: Path, monkeypatch):
    objs = _setup(versioned=False)
    out = tmp_path / "ev"
    real = s3mod.fetch_object
    calls = {"n": 0}

    def dies_on_the_fifth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(s3mod, "fetch_object", dies_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        acquire(_opts(out))
    first = json.loads((out / "acquisition.json").read_text())
    assert len(first["objects"]) == 4  # saved on the way out, nothing half-written
    assert not list(out.rglob("*.part"))
    monkeypatch.setattr(s3mod, "fetch_object", real)

    summary = acquire(_opts(out))
    assert summary.counts["objects_downloaded"] == len(objs) - 4
    assert summary.counts["objects_unchanged"] == 4
    manifest = json.loads((out / "acquisition.json").read_text())
    assert len(manifest["objects"]) == len(objs) and len(manifest["runs"]) == 2
    # digests carry their S3 metadata, lower-cased: the newest digest's signature lives only there
    digest = next(o for o in manifest["objects"] if "Digest" in o["key"])
    assert set(digest["metadata"]) == {"signature", "signature-algorithm"}

    # a third run finds nothing new
    assert acquire(_opts(out)).counts["objects_downloaded"] == 0


def test_changed_object_is_written_beside_the_old_copy(aws, tmp_path: Path):
    objs = _setup(versioned=False)
    out = tmp_path / "ev"
    acquire(_opts(out))
    log = next(o for o in objs if "_CloudTrail_" in o.key)
    tampered = gzip.compress(gzip.decompress(log.body).replace(b"GetCallerIdentity", b"GetCallerIdentitx"))
    boto3.client("s3").put_object(Bucket=BUCKET, Key=log.key, Body=tampered)
    summary = acquire(_opts(out))
    assert summary.counts["objects_downloaded"] == 1
    original = out / "s3" / BUCKET / log.key
    assert original.read_bytes() == log.body  # never overwritten
    beside = [p for p in original.parent.iterdir() if p.name.startswith(original.name + "~")]
    assert len(beside) == 1 and beside[0].read_bytes() == tampered
    objects = json.loads((out / "acquisition.json").read_text())["objects"]
    entries = [o for o in objects if o["key"] == log.key]
    assert len(entries) == 2


def test_versions_and_delete_markers_are_kept_and_verified(aws, tmp_path: Path):
    objs = _setup(versioned=True)
    s3 = boto3.client("s3")
    deleted = [o for o in objs if "_CloudTrail_" in o.key][1]
    s3.delete_object(Bucket=BUCKET, Key=deleted.key)  # a delete marker over the log
    out = tmp_path / "ev"
    summary = acquire(_opts(out))
    manifest = json.loads((out / "acquisition.json").read_text())
    assert summary.counts["delete_markers"] == 1
    assert [m["key"] for m in manifest["delete_markers"]] == [deleted.key]
    # the deleted log's bytes are still acquired (its last version), and the chain proves it
    assert (out / "s3" / BUCKET / deleted.key).read_bytes() == deleted.body
    (out / "public-keys").mkdir(exist_ok=True)
    from ..integrity.digests import key_list_json

    (out / "public-keys" / "us-east-1.json").write_text(key_list_json(private_key()))
    case = tmp_path / "case.duckdb"
    with Case(case) as c:
        c.load([out], on_problem=lambda line: None)
        verdicts = dict(c.con.execute("SELECT integrity, count(*) FROM sources GROUP BY 1").fetchall())
    assert verdicts.get("valid") == len(objs)  # 9 logs and 3 digests, newest signed by its metadata


def test_organization_layout_with_a_key_prefix_and_only_the_window(aws, tmp_path: Path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    boto3.client("cloudtrail").create_trail(
        Name="org-trail", S3BucketName=BUCKET, S3KeyPrefix="org-trails", IsOrganizationTrail=True
    )
    inside = build_chain(hours=2, account=CALLER)
    outside = build_chain(hours=1, account=CALLER, start=parse_time("2026-11-20T05:00:31Z"))
    other = build_chain(hours=1, account="210987654321")  # another member account: not asked for
    for o in inside + outside + other:
        s3.put_object(
            Bucket=BUCKET, Key="org-trails/" + o.key.replace("AWSLogs/", "AWSLogs/o-aa11bb22cc/"), Body=o.body
        )
    out = tmp_path / "ev"
    summary = acquire(_opts(out))
    keys = sorted(o["key"] for o in json.loads((out / "acquisition.json").read_text())["objects"])
    expected = sorted("org-trails/" + o.key.replace("AWSLogs/", "AWSLogs/o-aa11bb22cc/") for o in inside)
    assert keys == expected and summary.counts["trails"] == 1
