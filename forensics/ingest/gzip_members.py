"""A CloudTrail log file as delivered to S3 is one gzip member. Bytes after it (a second member, or
anything else) were not written by CloudTrail: evidence of tampering (engineering-notes.md §9).
The first member is loaded, what follows is rejected with that reason and kept out of the case.
Other shapes (Firehose objects, CloudWatch Logs payloads) legitimately hold many members and are
not checked here.
"""

from __future__ import annotations

import zlib

import pyarrow as pa

from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile

CHUNK = 1024 * 1024
REASON = "bytes after the first gzip member (possible tampering)"

# The first member's {"Records": [...]} as cloudtrail_sql's relation; $path is bound.
FIRST_MEMBER_SQL = """
    SELECT $path AS source_file, 'record ' || (i + 1) AS source_position, rec AS raw,
           NULL::JSON AS envelope
    FROM (SELECT unnest(recs) AS rec, unnest(range(len(recs))) AS i
          FROM (SELECT CAST(doc AS JSON) -> '$.Records[*]' AS recs FROM gz_first_member))"""


def trailing_offset(f: EvidenceFile) -> int | None:
    """Where data after the first gzip member starts, or None (one member, or zero padding).

    Only files where a member header was seen past the start are inflated (the hint comes from
    the fingerprinting pass), so ordinary trail files cost nothing more."""
    if f.compression != "gzip" or not f.gzip_magic_at:
        return None
    end = _first_member(f.path)[0]
    if end is None or end >= f.size:
        return None
    with open(f.path, "rb") as fh:
        fh.seek(end)
        rest = fh.read(CHUNK)
        while rest and not rest.strip(b"\x00"):
            rest = fh.read(CHUNK)
    return end if rest else None


def _first_member(path: str) -> tuple[int | None, bytes]:
    """(offset where the first member ends, its inflated bytes); None when it does not end."""
    decomp = zlib.decompressobj(wbits=31)
    out = bytearray()
    consumed = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            out += decomp.decompress(chunk)
            if decomp.eof:
                return consumed + len(chunk) - len(decomp.unused_data), bytes(out)
            consumed += len(chunk)
    return None, bytes(out)


def load_first_member(
    ctx: LoadContext, item: tuple[EvidenceFile, Sniff], stage_and_insert, replaced_cb
) -> bool:
    """Load the first member's records through CloudTrail's own insert; reject the rest as one unit.

    False (nothing done) when the first member is not a whole JSON document: then the members
    are one stream cut in pieces by its writer, not data appended to a delivered file."""
    f, s = item
    end, data = _first_member(f.path)
    rest_bytes = f.size - (end or f.size)
    ctx.con.register("gz_first_member", pa.table({"doc": [data.decode("utf-8", errors="replace")]}))
    try:
        (whole,) = ctx.con.execute("SELECT json_valid(doc) FROM gz_first_member").fetchall()[0]
        if not whole:
            return False
        mark = len(ctx.pending_rejects)
        ctx.con.execute("BEGIN TRANSACTION")
        try:
            counts, replaced = stage_and_insert(
                ctx, FIRST_MEMBER_SQL, s.options["delivery"], {"path": f.path}
            )
            read, rejected, loaded = counts.get(f.path, (0, 0, 0))
            reason = f"{REASON}: {rest_bytes} bytes from byte {end} not loaded"
            ctx.reject(f.path, f"byte {end}", reason)
            o = outcome_for(f, s.format, "loaded", "cloudtrail")
            o.settle(read + 1, loaded, rejected + 1, reason)
            ctx.record([o])
            ctx.con.execute("COMMIT")
        except Exception:
            ctx.con.execute("ROLLBACK")
            del ctx.pending_rejects[mark:]
            raise
    finally:
        ctx.con.unregister("gz_first_member")
    replaced_cb(ctx, replaced)
    return True
