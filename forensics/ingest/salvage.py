"""Record-by-record recovery of a file DuckDB's reader refused.

Used only for the one bad file of a batch: decompress what is there (a truncated gzip still holds
whole records before the break), then decode value by value, resynchronising at the next line
after a broken one. Returns what parsed and, for the rest, where and why.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from .evidence import ZIP_ERRORS, EvidenceFile
from .tabular import LIMIT_HINT, MAX_DOCUMENT_BYTES, MIB, single_document

Problem = tuple[str, str, str]  # (position, reason, excerpt)

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[\s,]*")


def read_text(path: str, limit: int | None = None) -> tuple[str, list[Problem]]:
    """The file's text, decompressed as far as the data goes.

    Python holds the whole text (and the records decoded from it), so a file that inflates beyond
    `limit` (default `MAX_DOCUMENT_BYTES`) is not decompressed at all: one problem says why. A
    gzip stream is first inflated without keeping anything, to measure it (a gzip trailer's size
    can lie); a zip member's declared size bounds what is read from it.
    """
    limit = MAX_DOCUMENT_BYTES if limit is None else limit
    if (over := inflates_beyond(path, limit)) is not None:
        return "", [("byte 0", over, "")]
    data = Path(path).read_bytes()
    problems: list[Problem] = []
    if data[:2] == b"\x1f\x8b":
        out = bytearray()
        pos = 0
        while pos < len(data):
            decomp = zlib.decompressobj(wbits=31)
            try:
                out += decomp.decompress(data[pos:])
            except zlib.error as exc:
                problems.append((f"byte {pos}", f"corrupt gzip stream: {exc}", ""))
                break
            if not decomp.eof:
                problems.append(
                    (
                        f"byte {len(data)}",
                        f"truncated gzip: stream ends after {len(data)} bytes "
                        f"({len(out)} bytes decompressed); records before the break kept",
                        "",
                    )
                )
                break
            consumed = len(data) - pos - len(decomp.unused_data)
            pos += consumed
            if not decomp.unused_data.strip(b"\x00"):
                break
        data = bytes(out)
    elif data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                data = b"".join(zf.read(m) for m in zf.infolist() if not m.is_dir())
        except ZIP_ERRORS as exc:
            problems.append(("byte 0", f"corrupt zip archive: {exc}", ""))
            data = b""
    return data.decode("utf-8", errors="replace").lstrip("\ufeff"), problems


def too_large(f: EvidenceFile, options: dict) -> str | None:
    """Why a single-document JSON file is refused before it is read, None if it is not: the
    gzip trailer or zip directory declares more than `MAX_DOCUMENT_BYTES` and inflating it
    (nothing kept) confirms it. (A cut-short gzip's "trailer" is any four bytes: measured, it
    loads as before. A bomb whose trailer lies small is caught by the salvage, which measures.)"""
    if not single_document(options) or f.content_size <= MAX_DOCUMENT_BYTES:
        return None
    return inflates_beyond(f.path, MAX_DOCUMENT_BYTES)


def inflates_beyond(path: str, limit: int) -> str | None:
    """Why the file is too big for Python to decode whole (None when it is not): its inflated
    size beyond `limit`, measured in 1 MiB steps with nothing kept."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
        if magic[:2] == b"\x1f\x8b":
            fh.seek(0)
            inflated = _gzip_inflated(fh, limit)
            size = Path(path).stat().st_size
        elif magic == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(path) as zf:
                    inflated = sum(m.file_size for m in zf.infolist() if not m.is_dir())
            except ZIP_ERRORS:
                return None  # read_text says what is wrong with it
            size = Path(path).stat().st_size
        else:
            inflated = size = Path(path).stat().st_size
    if inflated <= limit:
        return None
    grown = f" (over {inflated // size:,} times its {size:,} bytes)" if inflated != size else ""
    return (
        f"{'inflates to' if grown else 'is'} more than {limit // MIB:,} MiB{grown}: over the limit "
        f"for a file held whole in memory (a single JSON document, or a file the reader refused); "
        f"{LIMIT_HINT}"
    )


def _gzip_inflated(fh: BinaryIO, limit: int) -> int:
    """Bytes the file's gzip members inflate to, counted until just past `limit`."""
    inflated = 0
    decomp = zlib.decompressobj(wbits=31)
    pending = b""
    while inflated <= limit:
        if not pending and not (pending := fh.read(1 << 20)):
            break
        try:
            inflated += len(decomp.decompress(pending, 1 << 20))
        except zlib.error:
            break  # corrupt, or padding after the last member: read_text says which
        pending = decomp.unconsumed_tail
        if decomp.eof:  # the next member, if any
            pending, decomp = decomp.unused_data, zlib.decompressobj(wbits=31)
    return inflated


class _LineCounter:
    """Line numbers for increasing offsets, without rescanning the text each time."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def iter_values(text: str, start: int = 0, stop_at_bracket: bool = False):
    """Yield (pos, value) or (pos, JSONDecodeError) for consecutive JSON values from `start`."""
    pos = start
    n = len(text)
    while True:
        pos = _WS.match(text, pos).end()
        if pos >= n or (stop_at_bracket and text[pos] == "]"):
            return
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield pos, exc
            nl = text.find("\n", pos)
            if nl < 0:
                return
            pos = nl + 1
            continue
        yield pos, value
        pos = end


def _excerpt(text: str, pos: int) -> str:
    return text[pos : pos + 200]


def salvage_records(path: str, shape: str) -> tuple[list[tuple[str, str]], list[Problem], int]:
    """Recover CloudTrail records: ([(position, raw json)], problems, broken records counted)."""
    text, problems = read_text(path)
    records: list[tuple[str, str]] = []
    broken = 0
    if not text.strip():
        if not problems:
            problems.append(("byte 0", "no JSON content after decompression", ""))
        return records, problems, 0

    key = {"records": "Records", "records_lines": "Records", "lookup": "Events"}.get(shape)
    containers: list[tuple[int, bool]]  # (offset, inside an array)
    if key:
        containers = [(m.end(), True) for m in re.finditer(rf'"{key}"\s*:\s*\[', text)]
        if not containers:
            problems.append(("byte 0", f"no {key} array found", _excerpt(text, 0)))
            return records, problems, 0
    elif text.lstrip().startswith("["):
        containers = [(text.index("[") + 1, True)]
    else:
        containers = [(0, False)]

    lines = _LineCounter(text)
    for offset, in_array in containers:
        for pos, value in iter_values(text, offset, stop_at_bracket=in_array):
            where = f"line {lines.at(pos)} byte {pos}"
            if isinstance(value, json.JSONDecodeError):
                broken += 1
                reason = f"invalid JSON: {value.msg}"
                if pos + value.pos - pos >= len(text) - 1 or value.msg.startswith("Unterminated"):
                    reason = f"invalid JSON (record cut short): {value.msg}"
                problems.append((where, reason, _excerpt(text, pos)))
                continue
            if key == "Events" and isinstance(value, dict):
                inner = value.get("CloudTrailEvent")
                value = json.loads(inner) if isinstance(inner, str) and _valid(inner) else inner
            if not isinstance(value, dict):
                broken += 1
                problems.append((where, "not a JSON object", _excerpt(text, pos)))
                continue
            records.append((f"record {len(records) + broken}", json.dumps(value)))
    return records, problems, broken


def _valid(s: str) -> bool:
    try:
        json.loads(s)
    except ValueError:
        return False
    return True
