"""CloudTrail log file integrity, offline, the way AWS documents it.

One chain per (account, delivering Region, trail, regular or backfill). The newest digest's
signature exists only in its S3 object metadata (recorded by `acquire` in acquisition.json); each
older digest's signature is the next one's `previousDigestSignature`, so an older digest is
proven through the chain even when the newest stays unverified
(reference/acquisition-and-integrity.md §3, §6).

Verdicts (DESIGN.md `sources.integrity`): valid, modified, missing, trailing-data, moved,
unverified, key-not-found, signature-invalid, unreferenced, gap.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VERDICTS = (
    "valid",
    "modified",
    "missing",
    "trailing-data",
    "moved",
    "unverified",
    "key-not-found",
    "signature-invalid",
    "unreferenced",
    "gap",
)
# worst first: an hour takes the worst verdict of its files and digests
SEVERITY = (
    "modified",
    "trailing-data",
    "missing",
    "moved",
    "signature-invalid",
    "key-not-found",
    "gap",
    "unverified",
    "unreferenced",
    "valid",
)

_ANCHOR = r"(?:^|/)(AWSLogs/(?:(o-[a-z0-9]{10,32})/)?(\d{12})/"
DIGEST_KEY = re.compile(
    _ANCHOR + r"CloudTrail-Digest/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/"
    r"\d{12}_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z0-9-]+)_(\d{8}T\d{6}Z)(_backfill)?\.json\.gz)$"
)
LOG_KEY = re.compile(
    _ANCHOR + r"CloudTrail/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/"
    r"\d{12}_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz)$"
)
_REQUIRED = (
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
)


@dataclass
class Stored:
    """One local copy of an S3 object: where it is, and what the manifest says it was."""

    path: Path
    key: str  # the S3 key (from the manifest), or the path from `AWSLogs/` on
    bucket: str | None = None  # None without a manifest: matched on the key alone
    metadata: dict[str, str] | None = None  # None: metadata not recorded (no manifest entry)


@dataclass
class FileVerdict:
    path: str | None  # local path, None when missing
    key: str
    kind: str  # log | digest
    verdict: str
    hour: str | None  # delivery hour (UTC, ISO) from the key's stamp
    chain: str | None = None
    detail: str = ""


@dataclass
class Result:
    files: list[FileVerdict] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    keys: int = 0

    def counts(self, kind: str | None = None) -> dict[str, int]:
        c = Counter(f.verdict for f in self.files if kind is None or f.kind == kind)
        return {v: c[v] for v in VERDICTS if c[v]}

    def hours(self) -> list[dict[str, Any]]:
        """One row per delivery hour: its worst verdict and its files' verdict counts."""
        by_hour: dict[str, list[str]] = defaultdict(list)
        for f in self.files:
            if f.hour:
                by_hour[f.hour].append(f.verdict)
        for g in self.gaps:
            by_hour[g["hour"]].append("gap")
        rows = []
        for hour in sorted(by_hour):
            verdicts = by_hour[hour]
            worst = min(verdicts, key=SEVERITY.index)
            rows.append({"hour": hour, "verdict": worst, "files": dict(Counter(verdicts))})
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "log_files": self.counts("log"),
            "digests": self.counts("digest"),
            "hours": self.hours(),
            "gaps": self.gaps,
            "files": [asdict(f) for f in self.files],
        }


def tail(key: str) -> str | None:
    """The key from `AWSLogs/` on: what a local copy and an S3 object share whatever the prefix."""
    i = key.find("AWSLogs/")
    if i < 0:
        return None
    if i > 0 and key[i - 1] != "/":
        return None
    return key[i:]


def _stamp_hour(stamp: str, with_seconds: bool) -> str:
    fmt = "%Y%m%dT%H%M%SZ" if with_seconds else "%Y%m%dT%H%MZ"
    t = datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
    return t.replace(minute=0, second=0).isoformat().replace("+00:00", "Z")


def read_one_member(data: bytes) -> tuple[bytes, bool]:
    """Inflate exactly one gzip member; (bytes, trailing) where trailing says bytes followed it.
    A second member appended after AWS's own must not pass as part of the file (aws-cli#10326)."""
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = d.decompress(data) + d.flush()
    if not d.eof:
        raise ValueError("truncated gzip stream")
    return out, bool(d.unused_data)


def signing_string(digest: dict[str, Any], raw: bytes) -> str:
    """[CV] step D: end time, bucket/key, hex SHA-256 of the uncompressed digest, previous
    signature (the text `null` for a starting digest), joined by newlines."""
    previous = digest.get("previousDigestSignature")
    return "\n".join(
        [
            str(digest["digestEndTime"]),
            f"{digest['digestS3Bucket']}/{digest['digestS3Object']}",
            hashlib.sha256(raw).hexdigest(),
            "null" if previous is None else str(previous),
        ]
    )


def _signature_ok(key: Any, signature_hex: str, text: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(bytes.fromhex(signature_hex), text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class _Digest:
    stored: Stored
    chain: str
    stamp: str
    hour: str
    raw: bytes | None = None
    doc: dict[str, Any] | None = None
    problem: str = ""  # why it could not be read


def verify(stored: list[Stored], keys: dict[str, Any]) -> Result:
    """Verdicts for every CloudTrail log file and digest among `stored`, with gaps per chain."""
    result = Result(keys=len(keys))
    by_obj: dict[tuple[str | None, str], Stored] = {}
    by_tail: dict[str, Stored] = {}
    chains: dict[str, list[_Digest]] = defaultdict(list)
    logs: dict[str, Stored] = {}  # by tail
    for s in stored:
        t = tail(s.key)
        if t is None:
            continue
        by_obj[(s.bucket, s.key)] = s
        by_tail.setdefault(t, s)
        m = DIGEST_KEY.search(t)
        if m:
            org, account, region, _, trail, home, stamp, backfill = m.groups()[1:]
            chain = f"{org + '/' if org else ''}{account}/{region}/{trail}@{home}"
            chain += " backfill" if backfill else ""
            chains[chain].append(_Digest(s, chain, stamp, _stamp_hour(stamp, True)))
        elif LOG_KEY.search(t):
            logs[t] = s

    def find(bucket: str | None, key: str | None) -> Stored | None:
        if not key:
            return None
        hit = by_obj.get((bucket, key))
        if hit is not None:
            return hit
        t = tail(key)
        return by_tail.get(t) if t else None

    referenced: set[str] = set()
    for chain, digests in sorted(chains.items()):
        digests.sort(key=lambda d: d.stamp, reverse=True)  # newest first, as CloudTrail's walk
        for d in digests:
            _read_digest(d)
        # The signature that proves each digest: its own metadata, else the newer digest's link.
        carried: dict[int, str] = {}  # id(digest) -> previousDigestSignature of a proven newer one
        for i, d in enumerate(digests):
            verdict, detail = _judge_digest(d, keys, carried.get(id(d)))
            result.files.append(
                FileVerdict(str(d.stored.path), d.stored.key, "digest", verdict, d.hour, chain, detail)
            )
            doc = d.doc
            if doc is None:
                continue
            trusted = verdict == "valid"
            for entry in doc.get("logFiles") or []:
                referenced.add(tail(str(entry.get("s3Object", ""))) or "")
                result.files.append(
                    _judge_log(entry, find(entry.get("s3Bucket"), entry.get("s3Object")), trusted, chain)
                )
            prev_key = doc.get("previousDigestS3Object")
            older = digests[i + 1] if i + 1 < len(digests) else None
            if prev_key is None:
                if older is not None:
                    result.gaps.append(_gap(chain, older, d, "chain restarts: no previous digest"))
                continue
            prev = find(doc.get("previousDigestS3Bucket"), prev_key)
            prev_digest = next((o for o in digests[i + 1 :] if o.stored is prev), None)
            if prev_digest is None:
                result.files.append(
                    FileVerdict(
                        None,
                        str(prev_key),
                        "digest",
                        "missing",
                        _key_hour(prev_key),
                        chain,
                        "the next digest names it; no copy was acquired",
                    )
                )
                if older is not None:
                    result.gaps.append(_gap(chain, older, d, f"previous digest missing: {prev_key}"))
                continue
            if prev_digest is not older:
                result.gaps.append(
                    _gap(chain, prev_digest, d, "digests between these two are not in the chain")
                )
            if prev_digest.raw is None:  # the link proves it whatever the newer one's verdict
                continue
            if hashlib.sha256(prev_digest.raw).hexdigest() != doc.get("previousDigestHashValue"):
                prev_digest.problem = "its SHA-256 differs from previousDigestHashValue in the next digest"
                continue
            carried[id(prev_digest)] = str(doc.get("previousDigestSignature"))

    for t, s in sorted(logs.items()):
        if t not in referenced:
            result.files.append(
                FileVerdict(
                    str(s.path),
                    s.key,
                    "log",
                    "unreferenced",
                    _key_hour(s.key),
                    None,
                    "no digest in the evidence lists this log file",
                )
            )
    return result


def _read_digest(d: _Digest) -> None:
    try:
        data = d.stored.path.read_bytes()
        raw, trailing = read_one_member(data)
        if trailing:
            d.problem = "bytes follow the digest's gzip stream"
        d.raw = raw
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        d.doc = doc
    except (OSError, ValueError, zlib.error, EOFError, gzip.BadGzipFile) as exc:
        d.problem = d.problem or f"invalid format: {exc}"


def _judge_digest(d: _Digest, keys: dict[str, Any], carried: str | None) -> tuple[str, str]:
    if d.doc is None:
        return "signature-invalid", d.problem
    if d.problem:
        return ("trailing-data" if "follow" in d.problem else "modified"), d.problem
    doc = d.doc
    missing = [f for f in _REQUIRED if f not in doc]
    if missing:
        return "signature-invalid", f"invalid format: no {', '.join(missing)}"
    where_key = tail(d.stored.key)
    if tail(str(doc["digestS3Object"])) != where_key or (
        d.stored.bucket is not None and doc["digestS3Bucket"] != d.stored.bucket
    ):
        return "moved", f"it says it is s3://{doc['digestS3Bucket']}/{doc['digestS3Object']}"
    own = (d.stored.metadata or {}).get("signature")
    if own and carried and own.lower() != carried.lower():
        return (
            "signature-invalid",
            "its metadata signature differs from the next digest's previousDigestSignature",
        )
    signature = own or carried
    if not signature:
        why = (
            "no metadata signature recorded"
            if d.stored.metadata is None
            else "its S3 metadata has no signature"
        )
        return "unverified", f"{why}, and no verified newer digest vouches for it"
    fingerprint = str(doc["digestPublicKeyFingerprint"]).lower()
    key = keys.get(fingerprint)
    if key is None:
        return "key-not-found", f"no public key with fingerprint {fingerprint} was given"
    if not _signature_ok(key, signature, signing_string(doc, d.raw or b"")):
        return "signature-invalid", f"SHA256withRSA signature does not verify with key {fingerprint}"
    how = "its own S3 metadata signature" if own else "the signature the next digest carries"
    return "valid", f"signed by {fingerprint} ({how})"


def _judge_log(entry: dict[str, Any], s: Stored | None, trusted: bool, chain: str) -> FileVerdict:
    key = str(entry.get("s3Object", ""))
    hour = _key_hour(key)
    if s is None:
        return FileVerdict(
            None, key, "log", "missing", hour, chain, "listed in a digest; no copy was acquired"
        )
    path = str(s.path)
    try:
        raw, trailing = read_one_member(s.path.read_bytes())
    except (OSError, ValueError, zlib.error, EOFError) as exc:
        return FileVerdict(path, key, "log", "modified", hour, chain, f"not one readable gzip stream: {exc}")
    if hashlib.sha256(raw).hexdigest() != str(entry.get("hashValue", "")).lower():
        why = "" if trusted else " (the digest's own signature is not proven)"
        return FileVerdict(
            path, key, "log", "modified", hour, chain, f"SHA-256 differs from the digest's hashValue{why}"
        )
    if trailing:
        return FileVerdict(path, key, "log", "trailing-data", hour, chain, "bytes follow the gzip stream")
    if not trusted:
        return FileVerdict(
            path, key, "log", "unverified", hour, chain, "matches a digest whose signature is not proven"
        )
    return FileVerdict(path, key, "log", "valid", hour, chain, "")


def _key_hour(key: str) -> str | None:
    t = tail(key) or ""
    m = DIGEST_KEY.search(t)
    if m:
        return _stamp_hour(m.group(8), True)
    m = LOG_KEY.search(t)
    if m:
        return _stamp_hour(m.group(6), False)
    return None


def _gap(chain: str, older: _Digest, newer: _Digest, why: str) -> dict[str, Any]:
    start = (older.doc or {}).get("digestEndTime")
    end = (newer.doc or {}).get("digestStartTime")
    return {"chain": chain, "from": start, "to": end, "hour": newer.hour, "detail": why}
