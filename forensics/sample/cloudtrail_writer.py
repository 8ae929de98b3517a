"""Writes records into the S3 tree a trail delivers:

    AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz

One file per region per five minutes while something beyond the routine happens in that region,
one per hour otherwise (so the tree stays small at any scale). Records inside a file are in no
particular order, as AWS delivers them. A few hourly digest files are written for the incident
day, as real trees have them (loaders must skip them).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clock import HOUR, INCIDENT_DAY, day_path, iso, stamp
from .ids import Ids, derive
from .world import ACCOUNT_ID, LOG_BUCKET, TRAIL_HOME_REGION, TRAIL_NAME

BUSY_BUCKET = 300
DIGEST_REGIONS = ("ap-northeast-1", "us-east-1")
DIGEST_HOURS = range(INCIDENT_DAY, INCIDENT_DAY + 12 * HOUR, HOUR)
TimedEvent = tuple[int, dict[str, Any]]
TimedText = tuple[int, dict[str, Any], str]


def write_gzip(path: Path, payload: bytes) -> None:
    """Deterministic gzip: no timestamp, no file name in the header. Large files (scaled-up
    benchmarks) use the fastest level: compression is most of the writing time there."""
    level = 6 if len(payload) < 1 << 20 else 1
    try:
        raw = open(path, "wb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = open(path, "wb")  # noqa: SIM115
    with raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="", compresslevel=level) as gz:
        gz.write(payload)


@dataclass
class LogFile:
    region: str
    delivered: int
    key: str
    sha256: str  # of the uncompressed content, as digests record it
    oldest: int
    newest: int


class CloudTrailWriter:
    """Groups records into delivery files and writes them."""

    def __init__(self, evidence: Path, seed: int) -> None:
        self.evidence = evidence
        self.seed = seed
        self.files = 0
        self.digests = 0
        self._for_digest: list[LogFile] = []

    def write_hour(self, hour: int, routine: list[TimedText], notable: list[TimedEvent]) -> None:
        """Write one hour of records; regions with notable records get five-minute files.
        Routine records come as (time, record, JSON text), notable ones as (time, record)."""
        busy = {event["awsRegion"] for _, event in notable}
        groups: dict[tuple[str, int], list[tuple[int, str]]] = {}
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        every = [(t, event, text) for t, event, text in routine]
        every += [(t, event, dumps(event)) for t, event in notable]
        for t, event, text in every:
            region = event["awsRegion"]
            delivered = t - t % BUSY_BUCKET + BUSY_BUCKET if region in busy else hour + HOUR
            groups.setdefault((region, delivered), []).append((t, text))
        for (region, delivered), timed_texts in sorted(groups.items()):
            self._write_file(region, delivered, timed_texts)

    def _write_file(self, region: str, delivered: int, timed_texts: list[tuple[int, str]]) -> None:
        ids = Ids(derive(self.seed, "cloudtrail-file", region, delivered))
        texts = [text for _, text in timed_texts]
        ids.rng.shuffle(texts)
        name = f"{ACCOUNT_ID}_CloudTrail_{region}_{stamp(delivered)}_{ids.alnum(16)}.json.gz"
        key = f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{region}/{day_path(delivered)}/{name}"
        payload = ('{"Records":[' + ",".join(texts) + "]}").encode()
        write_gzip(self.evidence / key, payload)
        self.files += 1
        if region in DIGEST_REGIONS and DIGEST_HOURS.start < delivered <= DIGEST_HOURS.stop:
            times = [t for t, _ in timed_texts]
            digest = hashlib.sha256(payload).hexdigest()
            self._for_digest.append(LogFile(region, delivered, key, digest, min(times), max(times)))

    def write_digests(self) -> None:
        """Hourly digest files for the incident day in the two regions the company uses."""
        for region in DIGEST_REGIONS:
            previous: tuple[str, str] | None = None
            for hour in DIGEST_HOURS:
                end = hour + HOUR
                files = [f for f in self._for_digest if f.region == region and hour < f.delivered <= end]
                ids = Ids(derive(self.seed, "digest", region, hour))
                name = (
                    f"{ACCOUNT_ID}_CloudTrail-Digest_{region}_{TRAIL_NAME}_"
                    f"{TRAIL_HOME_REGION}_{stamp(end)[:-1]}{iso(end)[17:19]}Z.json.gz"
                )
                key = f"AWSLogs/{ACCOUNT_ID}/CloudTrail-Digest/{region}/{day_path(end)}/{name}"
                doc: dict[str, Any] = {
                    "awsAccountId": ACCOUNT_ID,
                    "digestStartTime": iso(hour),
                    "digestEndTime": iso(end),
                    "digestS3Bucket": LOG_BUCKET,
                    "digestS3Object": key,
                    "digestPublicKeyFingerprint": ids.hex(32),
                    "digestSignatureAlgorithm": "SHA256withRSA",
                    "newestEventTime": iso(max((f.newest for f in files), default=end)),
                    "oldestEventTime": iso(min((f.oldest for f in files), default=hour)),
                    "previousDigestS3Bucket": LOG_BUCKET if previous else None,
                    "previousDigestS3Object": previous[0] if previous else None,
                    "previousDigestHashValue": previous[1] if previous else None,
                    "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                    "previousDigestSignature": ids.hex(512) if previous else None,
                    "logFiles": [
                        {
                            "s3Bucket": LOG_BUCKET,
                            "s3Object": f.key,
                            "hashValue": f.sha256,
                            "hashAlgorithm": "SHA-256",
                            "newestEventTime": iso(f.newest),
                            "oldestEventTime": iso(f.oldest),
                        }
                        for f in files
                    ],
                }
                payload = json.dumps(doc, separators=(",", ":")).encode()
                write_gzip(self.evidence / key, payload)
                previous = (key, hashlib.sha256(payload).hexdigest())
                self.digests += 1
