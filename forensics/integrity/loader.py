"""The acquisition's own files in an evidence folder: recognised and skipped by `load` (they are
chain of custody, not evidence records); `forensics.integrity.after_load` reads them."""

from __future__ import annotations

from ..ingest.context import LoadContext, Sniff
from ..ingest.evidence import EvidenceFile

SOURCE = "custody"


def sniff(f: EvidenceFile) -> Sniff | None:
    if f.compression == "parquet":
        return None
    head = f.head_text[:4096]
    if '"kind": "forensics-acquisition"' in head:
        return Sniff(
            "acquisition-manifest", skip="skipped-manifest", detail="acquisition manifest (chain of custody)"
        )
    if head.lstrip().startswith("{") and '"PublicKeyList"' in head:
        return Sniff(
            "cloudtrail-public-keys", skip="skipped-manifest", detail="CloudTrail public keys (for verify)"
        )
    return None


def load(ctx: LoadContext, items: list) -> None:  # every file it recognises is skipped
    raise AssertionError("custody files are skipped, never loaded")
