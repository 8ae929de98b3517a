"""Find evidence files, fingerprint them (sha256) and read a decompressed head for format sniffing.

Evidence is only ever opened for reading.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HEAD_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024
_DECODER = json.JSONDecoder()


@dataclass
class EvidenceFile:
    """One evidence file as the loaders see it."""

    path: str
    size: int
    sha256: str
    compression: str  # none | gzip | zip | parquet
    head: bytes = field(repr=False)  # first HEAD_BYTES, decompressed
    content_size: int = -1  # decompressed bytes (gzip trailer, zip directory; -1 when unknown)
    # offsets after the start where a gzip member header could begin (a few; a hint, checked by
    # inflating: a second member in a trail file is data appended to what CloudTrail wrote)
    gzip_magic_at: tuple[int, ...] = ()

    @property
    def head_text(self) -> str:
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff")


def walk(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield every file under the given files and folders (recursively, sorted, symlinks followed).

    A link that leads back to a folder being walked (a loop) is yielded itself, not followed,
    and so is a dangling link or a folder that cannot be listed: `inspect` then raises
    `Unreadable` with the reason, and the load records it as one rejected path.
    """
    for p in paths:
        path = Path(p)
        if path.is_dir():
            yield from _walk_dir(path, ())
        elif path.exists() or path.is_symlink():
            yield path
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")


def _walk_dir(folder: Path, above: tuple[tuple[int, int], ...]) -> Iterator[Path]:
    try:
        st = folder.stat()
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        yield folder  # inspect says why
        return
    here = (*above, (st.st_dev, st.st_ino))
    subdirs = []
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False  # a link that cannot be resolved: inspect says why
        if is_dir:
            subdirs.append(entry)
        else:
            yield Path(entry.path)
    for entry in subdirs:
        try:
            st = os.stat(entry.path)
        except OSError:
            yield Path(entry.path)
            continue
        if (st.st_dev, st.st_ino) in here:
            yield Path(entry.path)  # a loop: inspect reports it
        else:
            yield from _walk_dir(Path(entry.path), here)


class Unreadable(OSError):
    """A path under the evidence folder that is not a readable file (its reason is the message)."""


def _unreadable_reason(path: Path, exc: OSError | None) -> str:
    if path.is_symlink():
        target = os.readlink(path)
        if exc is not None and exc.errno == errno.ELOOP:
            return f"symbolic link loop ({path.name} -> {target}): not followed"
        if not path.exists():
            return f"dangling symbolic link to {target}: nothing to read"
        if path.is_dir():
            return f"symbolic link loop ({path.name} -> {target}, a folder above it): not followed"
    if path.is_dir():
        return f"folder could not be listed: {exc.strerror if exc else 'not a file'}"
    return f"cannot be read: {exc.strerror or exc}" if exc else "not a regular file"


def _gzip_head(start: bytes) -> bytes:
    """Decompress up to HEAD_BYTES from the file's first bytes; a stream broken inside them
    yields what decompresses before the break. (Deflate expands at most ~1000x, so the first
    MiB always holds a whole head.)"""
    out = bytearray()
    decomp = zlib.decompressobj(wbits=31)
    for i in range(0, len(start), 16 * 1024):
        try:
            out += decomp.decompress(start[i : i + 16 * 1024], HEAD_BYTES - len(out))
        except zlib.error:
            break
        if len(out) >= HEAD_BYTES or decomp.eof:
            break
    return bytes(out[:HEAD_BYTES])


# What a damaged zip raises on open or read: a bad directory, a broken deflate stream, a flipped
# compression method (NotImplementedError), the encryption flag (RuntimeError), a cut file.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


def _zip_head(path: Path) -> tuple[bytes, int]:
    """The first member's head, and the members' inflated size as the archive declares it
    (zipfile never reads a member past its declared size: a bound a bomb cannot lie past)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if not members:
                return b"", 0
            with zf.open(members[0]) as fh:
                return fh.read(HEAD_BYTES), sum(m.file_size for m in members)
    except ZIP_ERRORS:
        return b"", -1


def inspect(path: Path, known: Container[tuple[str, str]] = ()) -> EvidenceFile:
    """Fingerprint a file and read its head in one pass over it, without modifying it.

    A file whose (path, sha256) is in `known` was judged by an earlier load: its head is not
    decompressed (a reload of a large tree is mostly this).
    """
    digest = hashlib.sha256()
    start, tail, size = b"", b"", 0
    magic_at: list[int] = []
    path = Path(path)
    if path.is_dir():
        raise Unreadable(_unreadable_reason(path, None))
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                if not size:
                    start = chunk
                digest.update(chunk)
                if start[:2] == _GZIP_MEMBER[:2] and len(magic_at) < _MAGIC_KEPT:
                    _find_members(tail[-2:] + chunk, size - len(tail[-2:]), magic_at)
                size += len(chunk)
                tail = (tail + chunk[-4:])[-4:]
    except OSError as exc:
        raise Unreadable(_unreadable_reason(path, exc)) from exc
    content_size = size
    sha256 = digest.hexdigest()
    if (str(path), sha256) in known:
        start = start[:4]
    if start[:2] == b"\x1f\x8b":
        compression, head = "gzip", _gzip_head(start)
        # ISIZE, the decompressed size modulo 4 GiB the member records last. A hint only: with
        # concatenated members or a cut-short file it is wrong, the reader fails on that file,
        # and the salvage path takes it, so nothing is lost.
        content_size = int.from_bytes(tail, "little") if size >= 18 else -1
    elif start[:4] == b"PK\x03\x04":
        compression, (head, content_size) = "zip", _zip_head(path)
    elif start[:4] == b"PAR1":
        compression, head = "parquet", start[:4]
    else:
        compression, head = "none", start[:HEAD_BYTES]
    return EvidenceFile(
        path=str(path),
        size=size,
        sha256=sha256,
        compression=compression,
        head=head,
        content_size=content_size,
        gzip_magic_at=tuple(magic_at),
    )


_GZIP_MEMBER = b"\x1f\x8b\x08"
_MAGIC_KEPT = 8


def _find_members(buf: bytes, base: int, found: list[int]) -> None:
    """Offsets (> 0) of a gzip member header in `buf`, which starts at file offset `base`."""
    i = buf.find(_GZIP_MEMBER, 1 if base <= 0 else 0)
    while i >= 0 and len(found) < _MAGIC_KEPT:
        if base + i > 0 and base + i not in found:
            found.append(base + i)
        i = buf.find(_GZIP_MEMBER, i + 1)


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
    # documents concatenated with no separator (as Firehose writes them to S3): unstructured
    # reads them one after another; a first line longer than the head cannot tell
    try:
        _, end = _DECODER.raw_decode(first_line)
    except ValueError:
        return "newline_delimited"
    return "unstructured" if first_line[end:].strip() else "newline_delimited"
