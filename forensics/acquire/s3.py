"""S3 evidence: every version (and delete marker) under a prefix, downloaded with its sha256.

The current copy of a key lands at `s3/<bucket>/<key>`; older versions at
`s3-versions/<bucket>/<key>/<version id>`. An object that changed since the last run is written
beside the old copy (`<name>~<etag>`), never over it. Downloads go to a `.part` file renamed when
complete, so an interruption leaves nothing half-written behind a manifest entry.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .manifest import Manifest, now_iso

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
_DAY = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")


def day_prefixes(start: datetime | None, end: datetime | None) -> list[str] | None:
    """`YYYY/MM/DD/` for every day the window touches, or None (no window: everything)."""
    if start is None or end is None:
        return None
    days, d = [], start.date()
    while d <= end.date():
        days.append(f"{d:%Y/%m/%d}/")
        d += timedelta(days=1)
    return days


def in_window_by_day(key: str, start: datetime | None, end: datetime | None) -> bool:
    """Keys with a `/YYYY/MM/DD/` folder are kept when that day is in the window; others always."""
    m = _DAY.search(key)
    if m is None or start is None or end is None:
        return True
    day = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    return start.date().isoformat() <= day <= end.date().isoformat()


def list_versions(s3: Any, bucket: str, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """('version' | 'marker', item) for everything under the prefix, newest first per key."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in page.get("Versions", []):
            yield "version", v
        for m in page.get("DeleteMarkers", []):
            yield "marker", m


def common_prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out


def fetch_prefix(
    s3: Any,
    bucket: str,
    prefix: str,
    manifest: Manifest,
    keep: Callable[[str], bool] = lambda key: True,
    on_object: Callable[[int], None] = lambda n: None,
    source: str = "s3",
) -> dict[str, int]:
    """Download every version under the prefix that `keep` accepts; returns counts."""
    counts = {"downloaded": 0, "unchanged": 0, "delete_markers": 0}
    items = [(kind, v) for kind, v in list_versions(s3, bucket, prefix) if keep(v["Key"])]
    # the current copy of a key: its newest version that is not a delete marker
    newest: dict[str, dict[str, Any]] = {}
    for kind, v in items:
        if kind == "version":
            cur = newest.get(v["Key"])
            if (
                cur is None
                or v.get("IsLatest")
                or (not cur.get("IsLatest") and v["LastModified"] > cur["LastModified"])
            ):
                newest[v["Key"]] = v
    for kind, v in items:
        if kind == "marker":
            manifest.add_marker(
                {
                    "bucket": bucket,
                    "key": v["Key"],
                    "version_id": v.get("VersionId"),
                    "last_modified": v["LastModified"],
                    "is_latest": bool(v.get("IsLatest")),
                }
            )
            counts["delete_markers"] += 1
            continue
        current = newest.get(v["Key"]) is v
        got = fetch_object(s3, bucket, v, current, manifest, source)
        counts["downloaded" if got else "unchanged"] += 1
        on_object(1)
    return counts


def fetch_object(
    s3: Any, bucket: str, v: dict[str, Any], current: bool, manifest: Manifest, source: str
) -> bool:
    """Download one version unless the manifest already holds it intact; True when downloaded."""
    key, version_id, etag = v["Key"], v.get("VersionId"), v.get("ETag")
    version_id = None if version_id in (None, "null") else version_id
    if manifest.have(bucket, key, version_id, etag):
        return False
    if current:
        rel = Path("s3") / bucket / key
    else:
        rel = Path("s3-versions") / bucket / key / (version_id or "null")
    target = manifest.out / rel
    if target.exists():
        # the key changed since the copy we hold: keep the old bytes, write the new beside them
        tag = (etag or "").strip('"')[:12] or now_iso().replace(":", "")
        rel = rel.with_name(f"{rel.name}~{tag}")
        target = manifest.out / rel
        for old in manifest.entries_for(bucket, key):
            if old.get("current"):
                old["current"] = False
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id is not None:
        kwargs["VersionId"] = version_id
    resp = s3.get_object(**kwargs)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest, size = hashlib.sha256(), 0
    with open(part, "wb") as fh:
        for chunk in resp["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fh.write(chunk)
    os.replace(part, target)
    manifest.add_object(
        {
            "source": source,
            "bucket": bucket,
            "key": key,
            "version_id": resp.get("VersionId", version_id),
            "current": current,
            "etag": resp.get("ETag", etag),
            "size": size,
            "last_modified": resp.get("LastModified", v.get("LastModified")),
            "metadata": dict(resp.get("Metadata") or {}),
            "server_side_encryption": resp.get("ServerSideEncryption"),
            "sha256": digest.hexdigest(),
            "path": rel.as_posix(),
            "downloaded_at": now_iso(),
        }
    )
    log.debug("downloaded s3://%s/%s (%d bytes)", bucket, key, size)
    return True
