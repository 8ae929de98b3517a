"""Find evidence files, fingerprint them (sha256) and read a decompressed head for format sniffing.

Evidence is only ever opened for reading.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HEAD_BYTES = 64 * 1024


@dataclass
class EvidenceFile:
    """One evidence file as the loaders see it."""

    path: str
    size: int
    sha256: str
    compression: str  # none | gzip | zip | parquet
    head: bytes = field(repr=False)  # first HEAD_BYTES, decompressed

    @property
    def head_text(self) -> str:
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff")


def walk(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield every file under the given files and folders (recursively, sorted, symlinks followed)."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=True):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _gzip_head(path: Path) -> bytes:
    """Decompress up to HEAD_BYTES; a truncated stream yields what is there."""
    out = bytearray()
    decomp = zlib.decompressobj(wbits=31)
    with open(path, "rb") as fh:
        while len(out) < HEAD_BYTES:
            chunk = fh.read(16 * 1024)
            if not chunk:
                break
            try:
                out += decomp.decompress(chunk, HEAD_BYTES - len(out))
            except zlib.error:
                break
    return bytes(out[:HEAD_BYTES])


def _zip_head(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if not members:
                return b""
            with zf.open(members[0]) as fh:
                return fh.read(HEAD_BYTES)
    except (zipfile.BadZipFile, OSError):
        return b""


def inspect(path: Path) -> EvidenceFile:
    """Fingerprint a file and read its head, without modifying it."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        compression, head = "gzip", _gzip_head(path)
    elif magic == b"PK\x03\x04":
        compression, head = "zip", _zip_head(path)
    elif magic == b"PAR1":
        compression, head = "parquet", magic
    else:
        with open(path, "rb") as fh:
            compression, head = "none", fh.read(HEAD_BYTES)
    return EvidenceFile(path=str(path), size=size, sha256=sha256_of(path), compression=compression, head=head)


def looks_binary(head: bytes) -> bool:
    """True for content that is not text (NUL bytes or mostly non-printable)."""
    if not head:
        return False
    if b"\x00" in head[:4096]:
        return True
    sample = head[:4096]
    text_chars = bytes(range(32, 127)) + b"\n\r\t\f\b"
    nontext = sum(1 for b in sample if b not in text_chars and b < 128)
    return nontext / len(sample) > 0.1


def json_layout(text: str) -> str:
    """DuckDB's JSON `format` for a file: newline_delimited when its first line is a whole
    document (fast, parallel), unstructured for pretty-printed or multi-line documents."""
    first_line = text.lstrip().split("\n", 1)[0].strip()
    if first_line in ("{", "[") or first_line.endswith(("{", "[", ",")):
        return "unstructured"
    return "newline_delimited"
