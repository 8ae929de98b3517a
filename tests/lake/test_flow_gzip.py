"""`lake build`'s check that a local flow-log gzip was read to its end (Spark stops silently at a
break). The trailer names only the last member's length, so a whole file of several members
(Firehose, concatenated deliveries) must not be called cut short; a cut file must be."""

from __future__ import annotations

import gzip
from pathlib import Path

from forensics.lake.flows import _gzip_problem, _gzip_reads_to_end

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
    "action log-status\n"
)
LINE = (
    "2 111122223333 eni-0a1b2c3d 10.0.0.5 45.9.148.108 49152 3333 6 20 4000 1763262000 1763262060 ACCEPT OK\n"
)


def _text(n: int) -> str:
    return HEADER + LINE * n


def _write(path: Path, *members: str) -> Path:
    path.write_bytes(b"".join(gzip.compress(m.encode()) for m in members))
    return path


def _problem(path: Path, text: str) -> str | None:
    lines = text.count("\n")
    return _gzip_problem(str(path), lines, len(text.encode()))


def test_a_file_of_several_members_is_whole(tmp_path: Path) -> None:
    first, second = _text(500), LINE * 3
    path = _write(tmp_path / "two.log.gz", first, second)
    assert _gzip_reads_to_end(str(path))
    assert _problem(path, first + second) is None


def test_zero_padding_after_the_last_member_is_whole(tmp_path: Path) -> None:
    path = _write(tmp_path / "pad.log.gz", _text(10))
    path.write_bytes(path.read_bytes() + b"\0" * 512)
    assert _gzip_reads_to_end(str(path))


def test_a_cut_file_is_reported_with_the_lines_read(tmp_path: Path) -> None:
    text = _text(2000)
    whole = gzip.compress(text.encode())
    path = tmp_path / "cut.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    assert not _gzip_reads_to_end(str(path))
    read = text[: len(text) // 3]  # what Spark kept before the break (any count)
    problem = _problem(path, read)
    assert (
        problem
        == f"gzip stream corrupt or cut short: {read.count(chr(10))} line(s) before the break were read"
    )


def test_a_corrupt_second_member_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.log.gz", _text(50))
    path.write_bytes(path.read_bytes() + b"\x1f\x8b\x08\x00garbage that is not deflate")
    assert not _gzip_reads_to_end(str(path))
