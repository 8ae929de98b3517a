"""`acquisition.json`: who acquired what, when, and the bytes of every object as they arrived.

Written atomically after every few objects, so an interrupted acquisition resumes from it; its
own SHA-256 is the seal `acquire` prints and `load` records.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..integrity import MANIFEST_KIND, MANIFEST_NAME, seal

SCHEMA_VERSION = 1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Manifest:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out / MANIFEST_NAME
        if self.path.is_file():
            self.doc: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            if self.doc.get("kind") != MANIFEST_KIND:
                raise ValueError(f"{self.path} is not an acquisition manifest")
        else:
            # "kind" first: `load` recognises the manifest from the head of the file
            self.doc = {
                "kind": MANIFEST_KIND,
                "schema_version": SCHEMA_VERSION,
                "runs": [],
                "objects": [],
                "delete_markers": [],
                "api": [],
                "state": {},
                "problems": [],
            }
        self._index = {self._id(o): o for o in self.doc["objects"]}
        self._markers = {(m["bucket"], m["key"], m["version_id"]) for m in self.doc["delete_markers"]}
        self._unsaved = 0

    @staticmethod
    def _id(o: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
        return (o["bucket"], o["key"], o.get("version_id"), o.get("etag"))

    def have(self, bucket: str, key: str, version_id: str | None, etag: str | None) -> dict[str, Any] | None:
        """The entry of an object already downloaded intact (its local file still has its sha256
        size), else None."""
        entry = self._index.get((bucket, key, version_id, etag))
        if entry is None:
            return None
        local = self.out / entry["path"]
        if not local.is_file() or local.stat().st_size != entry["size"]:
            return None
        return entry

    def entries_for(self, bucket: str, key: str) -> list[dict[str, Any]]:
        return [o for o in self.doc["objects"] if o["bucket"] == bucket and o["key"] == key]

    def add_object(self, entry: dict[str, Any]) -> None:
        old = self._index.get(self._id(entry))
        if old is not None:
            self.doc["objects"].remove(old)
        self.doc["objects"].append(entry)
        self._index[self._id(entry)] = entry
        self._dirty()

    def add_marker(self, marker: dict[str, Any]) -> None:
        k = (marker["bucket"], marker["key"], marker["version_id"])
        if k not in self._markers:
            self._markers.add(k)
            self.doc["delete_markers"].append(marker)
            self._dirty()

    def add_api(self, entry: dict[str, Any]) -> None:
        self.doc["api"].append(entry)
        self._dirty()

    def problem(self, line: str) -> None:
        self.doc["problems"].append({"time": now_iso(), "problem": line})

    def _dirty(self) -> None:
        self._unsaved += 1
        if self._unsaved >= 25:
            self.save()

    def save(self) -> str:
        """Write atomically; returns the seal (the file's sha256)."""
        self.out.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.out, prefix=".acquisition.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.doc, fh, indent=1, default=str)
        os.replace(tmp, self.path)
        self._unsaved = 0
        return seal(self.path)
