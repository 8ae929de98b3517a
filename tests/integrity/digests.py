"""Signed CloudTrail digest chains built the way AWS documents them (acquisition-and-integrity.md §7).

`build_chain` writes log files and hourly digests under `root` in AWS's key layout and returns the
S3 objects (key, bytes, metadata) so a test can write them to disk with a manifest or upload them
to moto's S3. The signing string is composed here from the documented fields, independently of
forensics.integrity.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ACCOUNT = "111122223333"
BUCKET = "trail-bucket"
TRAIL = "org_trail.main-1"  # underscores and dots are legal in trail names
REGION = "us-east-1"


@functools.cache
def private_key(n: int = 0):
    """An RSA key pair, once per test run (n tells keys apart)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_der(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def fingerprint(key) -> str:
    return hashlib.md5(public_der(key)).hexdigest()


def key_list_json(*keys) -> str:
    """What `aws cloudtrail list-public-keys` prints for these keys (Value base64-encoded)."""
    return json.dumps(
        {
            "PublicKeyList": [
                {
                    "Value": base64.b64encode(public_der(k)).decode(),
                    "ValidityStartTime": "2026-11-01T00:00:00+00:00",
                    "ValidityEndTime": "2026-12-01T00:00:00+00:00",
                    "Fingerprint": fingerprint(k),
                }
                for k in keys
            ]
        }
    )


def sign(key, text: str) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()).hex()


@dataclass
class Obj:
    key: str
    body: bytes
    metadata: dict[str, str] = field(default_factory=dict)


def _stamp(t: datetime, seconds: bool) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ" if seconds else "%Y%m%dT%H%MZ")


def log_key(t: datetime, n: int, prefix: str = "", account: str = ACCOUNT) -> str:
    name = f"{account}_CloudTrail_{REGION}_{_stamp(t, False)}_abcdEFGH{n:08d}.json.gz"
    return f"{prefix}AWSLogs/{account}/CloudTrail/{REGION}/{t:%Y/%m/%d}/{name}"


def digest_key(end: datetime, prefix: str = "", account: str = ACCOUNT) -> str:
    name = f"{account}_CloudTrail-Digest_{REGION}_{TRAIL}_{REGION}_{_stamp(end, True)}.json.gz"
    return f"{prefix}AWSLogs/{account}/CloudTrail-Digest/{REGION}/{end:%Y/%m/%d}/{name}"


def build_chain(
    hours: int = 3,
    logs_per_hour: int = 2,
    key=None,
    start: datetime = datetime(2026, 11, 16, 1, 0, 31, tzinfo=UTC),
    prefix: str = "",
    records=None,
    claimed_key=None,
    account: str = ACCOUNT,
) -> list[Obj]:
    """Log files and one signed digest per hour; digests chained through previousDigest*.

    `records(hour, n)` gives the records of a log file (a small default otherwise);
    `claimed_key` is the key the digests name (a forger signs with `key` and names another)."""
    key = key or private_key()
    objs: list[Obj] = []
    previous: tuple[str, str, str] | None = None  # (key, sha256 of raw, signature)
    n = 0
    for h in range(hours):
        begin = start + timedelta(hours=h)
        end = begin + timedelta(hours=1)
        entries = []
        for i in range(logs_per_hour):
            n += 1
            delivered = begin + timedelta(minutes=5 + 10 * i)
            recs = (
                records(h, i)
                if records
                else [
                    {
                        "eventVersion": "1.08",
                        "eventTime": delivered.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "eventName": "GetCallerIdentity",
                        "eventSource": "sts.amazonaws.com",
                        "eventID": f"00000000-0000-0000-0000-{n:012d}",
                        "awsRegion": REGION,
                        "recipientAccountId": account,
                    }
                ]
            )
            raw = json.dumps({"Records": recs}).encode()
            k = log_key(delivered, n, prefix, account)
            objs.append(Obj(k, gzip.compress(raw)))
            entries.append(
                {
                    "s3Bucket": BUCKET,
                    "s3Object": k,
                    "hashValue": hashlib.sha256(raw).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": None,
                    "oldestEventTime": None,
                }
            )
        dkey = digest_key(end, prefix, account)
        doc = {
            "awsAccountId": account,
            "digestStartTime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "digestEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "digestS3Bucket": BUCKET,
            "digestS3Object": dkey,
            "digestPublicKeyFingerprint": fingerprint(claimed_key or key),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": None,
            "oldestEventTime": None,
            "previousDigestS3Bucket": BUCKET if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": previous[1] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[2] if previous else None,
            "logFiles": entries,
        }
        raw = json.dumps(doc).encode()
        to_sign = "\n".join(
            [
                doc["digestEndTime"],
                f"{BUCKET}/{dkey}",
                hashlib.sha256(raw).hexdigest(),
                previous[2] if previous else "null",
            ]
        )
        sig = sign(key, to_sign)
        objs.append(Obj(dkey, gzip.compress(raw), {"signature": sig, "signature-algorithm": "SHA256withRSA"}))
        previous = (dkey, hashlib.sha256(raw).hexdigest(), sig)
    return objs


def write(root: Path, objs: list[Obj], manifest: bool = True, keys=(), metadata_for=None) -> Path:
    """Write the objects under root as `acquire` lays them out, with acquisition.json (objects
    and their metadata; `metadata_for(key)` may drop or change one) and public-keys/."""
    entries = []
    for o in objs:
        p = root / o.key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(o.body)
        meta = metadata_for(o.key, o.metadata) if metadata_for else o.metadata
        entries.append(
            {
                "bucket": BUCKET,
                "key": o.key,
                "version_id": None,
                "etag": '"x"',
                "size": len(o.body),
                "metadata": meta,
                "sha256": hashlib.sha256(o.body).hexdigest(),
                "path": o.key,
            }
        )
    if manifest:
        (root / "acquisition.json").write_text(
            json.dumps(
                {
                    "kind": "forensics-acquisition",
                    "schema_version": 1,
                    "caller": {"Arn": "arn:aws:iam::111122223333:user/responder", "Account": ACCOUNT},
                    "started_at": "2026-11-17T00:00:00Z",
                    "finished_at": "2026-11-17T00:01:00Z",
                    "tool_version": "test",
                    "objects": entries,
                }
            )
        )
    if keys:
        (root / "public-keys").mkdir(exist_ok=True)
        (root / "public-keys" / f"{REGION}.json").write_text(key_list_json(*keys))
    return root
