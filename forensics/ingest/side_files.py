"""Files that travel with evidence but are plainly not evidence: recorded as skipped, with the reason.

Asked only after every loader has declined a file, so a flow log named `.txt` or a CloudTrail
export named `README.json` is still loaded. Skipped here: documentation (README, LICENSE, `.md`,
prose `.txt`), a dataset's labels (`ExpectedSignals.json`), digests and checksum lists of a kind
no loader knows (not verified: said so), and an Iceberg table's own metadata. Anything else that
no loader recognises stays a rejected file.
"""

from __future__ import annotations

import re
from pathlib import Path

from .context import Sniff
from .evidence import EvidenceFile, looks_binary

SOURCE = "not-evidence"

_DOC_NAMES = re.compile(
    r"^(readme|licen[cs]e|copying|notice|changelog|authors|contributing)([._-].*)?$", re.I
)
_DOC_SUFFIXES = {".md", ".markdown", ".rst"}
_CHECKSUM_LINE = re.compile(
    r"^([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})(\s+\*?\S.*)?$"
    r"|^(MD5|SHA\d*)\s*\(.+\)\s*=\s*[0-9a-fA-F]+$"
)
_DIGEST_KEY = re.compile(r'"[^"]{0,40}(digest|hash|signature|checksum)[^"]{0,40}"\s*:', re.I)
_LABEL_KEYS = ('"CorrelationId"', '"EventCount"', '"AllEventIdArr"')
_DIGEST_SUFFIXES = {".sha256", ".sha1", ".sha512", ".md5", ".sig", ".asc", ".p7s"}


def sniff(f: EvidenceFile) -> Sniff | None:
    """A skip verdict for a file that is plainly not evidence, else None (it stays rejected)."""
    name = Path(f.path).name
    suffix = Path(name).suffix.lower()
    if f.compression == "none" and f.head.startswith(b"Obj\x01"):
        return _skip("avro", "Avro file (an Iceberg manifest or snapshot list), not evidence")
    if f.compression not in ("none", "gzip") or not f.head or looks_binary(f.head):
        return None
    text = f.head_text.lstrip()
    lines = [ln.strip() for ln in text.splitlines()[:50] if ln.strip()]
    if lines and all(_CHECKSUM_LINE.match(ln) for ln in lines):
        return _skip(
            "checksum-list",
            "checksum list or digest of an unknown kind, not evidence (its digests were not verified)",
            status="skipped-digest",
        )
    if text.startswith("{"):
        head = text[:8192]
        if '"format-version"' in head and '"table-uuid"' in head:
            return _skip("iceberg-metadata", "Apache Iceberg table metadata, not evidence")
        if name.lower().startswith("expectedsignals") or (
            '"Label"' in head and sum(k in head for k in _LABEL_KEYS) >= 2
        ):
            return _skip("labels", "labels of a test dataset (ExpectedSignals), not evidence")
        if _DIGEST_KEY.search(head[:2048]):
            return _skip(
                "digest",
                "digest or signature file of an unknown kind, not evidence (not verified)",
                status="skipped-digest",
            )
        return None
    if suffix in _DIGEST_SUFFIXES and f.size < 64 * 1024:
        return _skip(
            "digest", "digest or signature file, not evidence (not verified)", status="skipped-digest"
        )
    if text.startswith("["):
        return None
    if _DOC_NAMES.match(name) or suffix in _DOC_SUFFIXES or (suffix == ".txt" and _prose(text)):
        return _skip("documentation", f"documentation ({name}), not evidence")
    return None


def _prose(text: str) -> bool:
    """Mostly letters: written for people, not a log (flow records and CSV rows are mostly digits)."""
    sample = [c for c in text[:4096] if not c.isspace()]
    return bool(sample) and sum(c.isalpha() for c in sample) / len(sample) > 0.6


def _skip(kind: str, detail: str, status: str = "skipped-not-evidence") -> Sniff:
    return Sniff(f"side-file-{kind}", skip=status, detail=detail)


def load(ctx, items) -> None:  # noqa: ARG001 - every verdict of this module is a skip
    """Nothing to load: side files are settled when sniffed."""
