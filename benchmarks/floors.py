"""The floors our loader is measured against, each run in its own process by run.py.

(a) DuckDB's plain `read_json` with an explicit column spec into a file table: flat top-level
    columns, nested parts as JSON, no other normalisation. This is what our loader builds on.
(b) What an analyst would hand-write: a Python gzip + orjson loop into a Polars frame.
(c) Decompression alone: `zcat` of every file to /dev/null on both cores (see run.py).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

FLAT = [
    "eventVersion",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "sharedEventID",
    "vpcEndpointId",
    "eventCategory",
    "apiVersion",
    "sessionCredentialFromConsole",
]
NESTED = [
    "userIdentity",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "resources",
    "serviceEventDetails",
    "tlsDetails",
    "insightDetails",
    "addendum",
]


def smallest_object_limit(tree: str) -> int:
    """The least `maximum_object_size` (a power of two, DuckDB's 16 MiB default at least) that
    holds the largest file, read from the gzip trailers. Far more than needed costs the reader
    dearly (every file gets a buffer that size), so the floor gets the limit that fits."""
    largest = 0
    for path in Path(tree).rglob("*.json.gz"):
        with open(path, "rb") as fh:
            fh.seek(-4, 2)
            largest = max(largest, int.from_bytes(fh.read(4), "little"))
    limit = 16 * 1024 * 1024
    while limit <= largest:
        limit *= 2
    return limit


def duckdb_floor(tree: str, db: str) -> int:
    import duckdb

    spec = ", ".join([f'"{k}" VARCHAR' for k in FLAT] + [f'"{k}" JSON' for k in NESTED])
    con = duckdb.connect(db)
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""CREATE TABLE cloudtrail AS
        SELECT r.* FROM (
            SELECT unnest(Records) AS r
            FROM read_json($glob, columns = {{'Records': 'STRUCT({spec})[]'}}, records = true,
                           format = 'newline_delimited', maximum_object_size = $limit))""",
        {"glob": f"{tree}/**/*.json.gz", "limit": smallest_object_limit(tree)},
    )
    con.execute("CHECKPOINT")
    (n,) = con.execute("SELECT count(*) FROM cloudtrail").fetchall()[0]
    con.close()
    return n


def python_loop(tree: str) -> int:
    import orjson
    import polars as pl

    columns: dict[str, list] = {k: [] for k in FLAT + NESTED}
    for path in sorted(Path(tree).rglob("*.json.gz")):
        if "CloudTrail-Digest" in path.parts:
            continue
        with gzip.open(path, "rb") as fh:
            doc = orjson.loads(fh.read())
        for rec in doc.get("Records", []):
            for k in FLAT:
                v = rec.get(k)
                columns[k].append(None if v is None else str(v))
            for k in NESTED:
                v = rec.get(k)
                columns[k].append(None if v is None else orjson.dumps(v).decode())
    frame = pl.DataFrame(columns)
    return frame.height


if __name__ == "__main__":
    which, *args = sys.argv[1:]
    n = {"duckdb_floor": duckdb_floor, "python_loop": python_loop}[which](*args)
    print(n)
