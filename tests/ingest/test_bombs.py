"""Gzip and zip bombs (issue 17), through the CLI: a file that inflates to a gigabyte is rejected
with the limit in its reason, before it is inflated into memory (peak RSS of the load measured in
a child process); the rest of the load is kept and the counts reconcile. Files that stream are
never limited: with the limit lowered, NDJSON CloudTrail, flow logs and a CUR CSV far larger than
it load in full, while a single JSON document over it is refused.

The bombs are 1-5 MB on disk and written without compressing a gigabyte: one deflate block of
spaces, flushed so that it stands alone, repeated 1024 times.
"""

from __future__ import annotations

import gzip
import json
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from .fixtures_evidence import V2, csv_text, cur_row, flow, flow_text, write
from .test_cloudtrail_shapes import event
from .test_evidence_faults import digests, rows

MIB = 1 << 20
GIB_BLOCKS = 1024  # 1 MiB blocks: each bomb inflates to just over 1 GiB
HEAD = b'{"Records": [' + json.dumps(event(900)).encode() + b", "
TAIL = json.dumps(event(901)).encode() + b"]}"


def _deflate_bomb(blocks: int) -> tuple[bytes, int, int]:
    """A raw deflate stream of HEAD, `blocks` MiB of spaces, TAIL: (stream, crc32, size)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(HEAD) + c.flush(zlib.Z_FULL_FLUSH)
    spaces = b" " * MIB
    one = c.compress(spaces) + c.flush(zlib.Z_FULL_FLUSH)  # stands alone after a full flush
    tail = c.compress(TAIL) + c.flush()
    crc = zlib.crc32(HEAD)
    for _ in range(blocks):
        crc = zlib.crc32(spaces, crc)
    crc = zlib.crc32(TAIL, crc)
    return head + one * blocks + tail, crc, len(HEAD) + blocks * MIB + len(TAIL)


def gzip_bomb(path: Path, blocks: int = GIB_BLOCKS) -> Path:
    """One honest gzip member (its trailer states the true size, modulo 4 GiB)."""
    stream, crc, size = _deflate_bomb(blocks)
    header = b"\x1f\x8b\x08\x00" + b"\x00" * 4 + b"\x00\xff"
    path.write_bytes(header + stream + struct.pack("<II", crc, size & 0xFFFFFFFF))
    return path


def multi_member_bomb(path: Path, blocks: int = GIB_BLOCKS) -> Path:
    """Many small gzip members (as Firehose writes): the last trailer states only its own size,
    so the file's declared size lies and only inflating it tells."""
    member = gzip.compress(b" " * MIB, compresslevel=9, mtime=0)
    path.write_bytes(gzip.compress(HEAD, mtime=0) + member * blocks + gzip.compress(TAIL, mtime=0))
    return path


def zip_bomb(path: Path, blocks: int = GIB_BLOCKS) -> Path:
    """A zip of one CloudTrail document padded to 1 GiB (declared truthfully)."""
    stream, crc, size = _deflate_bomb(blocks)
    name = b"CloudTrail.json"
    common = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0, crc, len(stream), size)
    local = b"PK\x03\x04" + common + struct.pack("<HH", len(name), 0) + name
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + common
        + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0)
        + name
    )
    offset = len(local) + len(stream)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), offset, 0)
    path.write_bytes(local + stream + central + end)
    return path


MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "forensics", *sys.argv[1:]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "peak": peak}))
"""


def load_measured(case: Path, *paths: Path, env: dict | None = None) -> tuple[dict, str, int]:
    """Load through the CLI in a child process: (report, stderr, the child's peak RSS in bytes)."""
    import os

    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "load", *map(str, paths), "--case", str(case), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    out = json.loads(done.stdout)
    assert out["code"] == 0, out["stderr"]
    assert "Traceback" not in out["stderr"]
    report = json.loads(out["stdout"])
    assert report["read"] == report["loaded"] + report["duplicates"] + report["rejected"]
    return report, out["stderr"], out["peak"]


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> Path:
    ev = tmp_path_factory.mktemp("bombs")
    gzip_bomb(ev / "111_CloudTrail_us-east-1_bomb.json.gz")
    multi_member_bomb(ev / "firehose-bomb.json.gz")
    zip_bomb(ev / "trail-export.zip")
    (ev / "good.json").write_text(json.dumps({"Records": [event(i) for i in range(3)]}))
    write(ev / "flows.log", flow_text([flow(i) for i in range(4)], V2.split()))
    return ev


def test_bombs_are_rejected_with_the_limit_in_bounded_memory(tmp_path, bombs):
    assert all(p.stat().st_size < 6 * MIB for p in bombs.iterdir())
    before = digests(bombs)
    case = tmp_path / "c.duckdb"

    report, stderr, peak = load_measured(case, bombs)

    # the rest of the load is kept
    assert report["by_source"]["vpcflow"]["loaded"] == 4
    assert rows(case, "SELECT count(*) FROM cloudtrail WHERE event_id LIKE '%00000000000_'") == [(3,)]
    assert rows(case, "SELECT count(*) FROM cloudtrail WHERE event_id LIKE '%0090_'") == [(0,)]
    assert report["rejected_files"] == 3
    lines = stderr.splitlines()
    for name in ("111_CloudTrail_us-east-1_bomb.json.gz", "firehose-bomb.json.gz", "trail-export.zip"):
        mine = [ln for ln in lines if name in ln]
        assert len(mine) == 1, (name, stderr)  # one reason each, naming the limit and its knob
        said = r"inflates to more than 512 MiB \(over [\d,]{3,} times its [\d,]+ bytes\): over the limit"
        assert re.search(said + " for a file held whole in memory", mine[0]), mine[0]
        assert "FORENSICS_MAX_DOCUMENT_MB" in mine[0]
    status = dict(rows(case, "SELECT path, status FROM sources"))
    assert status[str(bombs / "firehose-bomb.json.gz")] == "rejected"
    assert status[str(bombs / "trail-export.zip")] == "rejected"
    # nothing inflated a gigabyte into memory (before: 30 s and 3.3 GB for the two gzip bombs)
    assert peak < 450 * MIB, f"peak RSS {peak / MIB:.0f} MiB"
    assert digests(bombs) == before


def test_files_that_stream_are_not_limited(tmp_path):
    """With the limit lowered to 1 MiB, files that inflate to several times it load in full
    (NDJSON, flow logs, a CUR CSV stream; only whole documents are held), and a single JSON
    document over it is refused with the limit in its reason."""
    ev = tmp_path / "ev"
    pad = "x" * 900
    ndjson = "\n".join(json.dumps(event(i, userAgent=f"agent-{pad}")) for i in range(1_200)) + "\n"
    write(ev / "export.ndjson.gz", ndjson, gz=True)
    flows = [flow(i, srcport=i % 60_000) for i in range(16_000)]
    write(ev / "flows.log.gz", flow_text(flows, V2.split()), gz=True)
    cur = [cur_row(i, f"{i % 7}.25") for i in range(8_000)]
    write(ev / "cur" / "billing-00001.csv.gz", csv_text(cur), gz=True)
    doc = json.dumps({"Records": [event(20_000 + i, userAgent=f"agent-{pad}") for i in range(1_000)]})
    write(ev / "111_CloudTrail_us-east-1_big.json.gz", doc, gz=True)
    sizes = {p.name: len(gzip.decompress(p.read_bytes())) for p in ev.rglob("*.gz")}
    assert all(size > MIB for size in sizes.values()), sizes

    report, stderr, _ = load_measured(tmp_path / "c.duckdb", ev, env={"FORENSICS_MAX_DOCUMENT_MB": "1"})

    assert report["by_source"]["cloudtrail"]["loaded"] == 1_200
    assert report["by_source"]["vpcflow"]["loaded"] == 16_000
    assert report["by_source"]["billing"]["loaded"] == 8_000
    assert report["rejected_files"] == 1
    (line,) = [ln for ln in stderr.splitlines() if "_big.json.gz" in ln]
    assert "more than 1 MiB (over " in line
