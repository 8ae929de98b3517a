"""Evidence integrity: CloudTrail digest validation offline, and the acquisition's chain of custody.

`verify_paths` finds the digests and log files under evidence folders, maps each local file to its
S3 object through the acquisition manifest (`acquisition.json`, written by `forensics acquire`)
when there is one, and judges them (see `chain`). `record` writes the verdicts into the case's
`sources.integrity`; `load` does it itself when the folder it loads holds a manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb

from ..errors import ForensicsError
from .chain import VERDICTS, Result, Stored, tail, verify
from .keys import load_key_files

MANIFEST_NAME = "acquisition.json"
MANIFEST_KIND = "forensics-acquisition"
KEYS_DIR = "public-keys"  # acquire stores `list-public-keys` JSON here, one file per Region

__all__ = [
    "MANIFEST_KIND",
    "MANIFEST_NAME",
    "VERDICTS",
    "Result",
    "custody",
    "find_manifest",
    "record",
    "seal",
    "verify_paths",
]


def seal(path: str | os.PathLike[str]) -> str:
    """The manifest's own SHA-256: printed by `acquire`, recorded by `load`."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ForensicsError(f"{path}: not an acquisition manifest ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != MANIFEST_KIND:
        raise ForensicsError(f"{path}: not an acquisition manifest (no kind {MANIFEST_KIND!r})")
    return doc


def find_manifest(paths: Iterable[str | os.PathLike[str]]) -> Path | None:
    """The acquisition.json at the top of one of the given folders (or given itself)."""
    for p in paths:
        p = Path(p)
        if p.is_file() and p.name == MANIFEST_NAME:
            return p
        if p.is_dir() and (p / MANIFEST_NAME).is_file():
            return p / MANIFEST_NAME
    return None


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for p in paths:
        if p.is_dir():
            for root, _dirs, names in os.walk(p):
                for n in names:
                    yield Path(root) / n
        elif p.is_file():
            yield p


def stored_files(paths: list[Path], manifest: Path | None) -> list[Stored]:
    """Every CloudTrail file under `paths`, with its S3 identity from the manifest when known."""
    known: dict[str, dict[str, Any]] = {}
    if manifest is not None:
        doc = read_manifest(manifest)
        base = manifest.parent
        for obj in doc.get("objects", []):
            if obj.get("path") and obj.get("current", True):  # older versions: kept, not judged
                known[os.path.realpath(base / obj["path"])] = obj
    out = []
    for f in _files(paths):
        if "AWSLogs" not in f.parts:
            continue
        obj = known.get(os.path.realpath(f))
        if obj is not None:
            out.append(Stored(f, obj["key"], obj.get("bucket"), dict(obj.get("metadata") or {})))
        else:
            key = tail(f.as_posix())
            if key is not None:
                out.append(Stored(f, key))
    return out


def verify_paths(
    paths: list[str | os.PathLike[str]],
    key_files: Iterable[str | os.PathLike[str]] = (),
    manifest: str | os.PathLike[str] | None = None,
) -> Result:
    """Judge every CloudTrail digest and log file under `paths`.

    Keys come from the given `list-public-keys` files and from the `public-keys/` folder beside
    the manifest; signatures of the newest digests from the manifest's object metadata."""
    roots = [Path(p) for p in paths]
    for r in roots:
        if not r.exists():
            raise ForensicsError(f"{r}: no such file or folder")
    found = Path(manifest) if manifest else find_manifest(roots)
    files = [Path(k) for k in key_files]
    if found is not None and (found.parent / KEYS_DIR).is_dir():
        files += sorted((found.parent / KEYS_DIR).glob("*.json"))
    keys = load_key_files(files)
    return verify(stored_files(roots, found), keys)


def record(con: duckdb.DuckDBPyConnection, result: Result) -> int:
    """Write each file's verdict into `sources.integrity` (matched on the real path); returns
    how many rows were updated."""
    rows = con.execute("SELECT DISTINCT path FROM sources").fetchall()
    by_real = {os.path.realpath(p): p for (p,) in rows}
    updates = [
        (f.verdict, by_real[os.path.realpath(f.path)])
        for f in result.files
        if f.path and os.path.realpath(f.path) in by_real
    ]
    if updates:
        con.executemany("UPDATE sources SET integrity = ? WHERE path = ?", updates)
    return len(updates)


def record_custody(con: duckdb.DuckDBPyConnection, manifest: Path) -> dict[str, Any]:
    """Keep who acquired the evidence, when, and the manifest's seal, in `case_meta`."""
    doc = read_manifest(manifest)
    entry = {
        "manifest": str(manifest),
        "seal": seal(manifest),
        "acquired_by": (doc.get("caller") or {}).get("Arn"),
        "account": (doc.get("caller") or {}).get("Account"),
        "started_at": doc.get("started_at"),
        "finished_at": doc.get("finished_at"),
        "tool_version": doc.get("tool_version"),
        "objects": len(doc.get("objects", [])),
    }
    con.execute(
        "INSERT OR REPLACE INTO case_meta VALUES (?, ?)", [f"acquisition:{entry['seal']}", json.dumps(entry)]
    )
    return entry


def after_load(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | os.PathLike[str]],
    on_problem: Callable[[str], None] = lambda line: None,
) -> Result | None:
    """`load`'s step: when a loaded folder holds acquisition.json, record its seal and, when the
    folder holds CloudTrail digests, every file's verdict (keys from its `public-keys/`)."""
    manifest = find_manifest(list(paths))
    if manifest is None:
        return None
    try:
        record_custody(con, manifest)
        result = verify_paths([manifest.parent], manifest=manifest)
    except ForensicsError as exc:  # the evidence is loaded; only its verdicts are missing
        on_problem(f"integrity not recorded: {exc}")
        return None
    if any(f.kind == "digest" for f in result.files):
        record(con, result)
    return result


def custody(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Chain of custody rows for the report: each acquisition (who, when, seal) with the
    integrity verdict counts of the case's files."""
    entries = [
        json.loads(v)
        for (v,) in con.execute(
            "SELECT value FROM case_meta WHERE key LIKE 'acquisition:%' ORDER BY value"
        ).fetchall()
    ]
    counts = integrity_counts(con)
    return [{**e, "integrity": counts} for e in entries] or (
        [{"manifest": None, "seal": None, "acquired_by": None, "integrity": counts}] if counts else []
    )


def integrity_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """{verdict: file count} over the case's files that were verified."""
    try:
        rows = con.execute(
            "SELECT integrity, count(*) FROM sources WHERE integrity IS NOT NULL GROUP BY 1"
        ).fetchall()
    except duckdb.BinderException:  # a case opened read-only before its upgrade
        return {}
    got = dict(rows)
    return {v: got[v] for v in VERDICTS if v in got}
