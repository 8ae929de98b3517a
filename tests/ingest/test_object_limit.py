"""The reader's object-size limit follows the files (a far larger one is slow), and a file bigger
than its size hint says still loads whole."""

from __future__ import annotations

import gzip
import json

from forensics.ingest.evidence import inspect
from forensics.ingest.tabular import MIN_OBJECT_BYTES, json_object_limit

from .test_cloudtrail_shapes import event, write

MIB = 1024 * 1024


def big_records_document(n_events: int, padding: int) -> str:
    """A CloudTrail S3 document whose records carry `padding` bytes of request each."""
    return json.dumps(
        {"Records": [event(i, requestParameters={"pad": "x" * padding}) for i in range(n_events)]}
    )


def test_gzip_trailer_gives_the_decompressed_size(tmp_path):
    text = json.dumps({"Records": [event(i) for i in range(20)]})
    f = inspect(write(tmp_path / "a.json.gz", text, gz=True))
    assert f.compression == "gzip" and f.content_size == len(text.encode())
    plain = inspect(write(tmp_path / "b.json", text))
    assert plain.content_size == plain.size == len(text.encode())


def test_limit_is_the_default_for_small_files_and_grows_by_powers_of_two(tmp_path):
    small = inspect(write(tmp_path / "s.json.gz", json.dumps({"Records": [event(1)]}), gz=True))
    assert json_object_limit([small]) == MIN_OBJECT_BYTES == 16 * MIB
    big = inspect(write(tmp_path / "b.json.gz", big_records_document(30, 700_000), gz=True))
    assert 16 * MIB < big.content_size < 32 * MIB
    assert json_object_limit([small, big]) == 32 * MIB


def test_document_larger_than_16_mib_loads_in_the_batch(case, tmp_path, monkeypatch):
    from forensics.ingest import cloudtrail

    def no_salvage(*args):  # the reader must take it; the record-by-record path would hide a miss
        raise AssertionError(f"salvaged: {args[1][0].path}")

    monkeypatch.setattr(cloudtrail, "_salvage_one", no_salvage)
    write(tmp_path / "big.json.gz", big_records_document(30, 700_000), gz=True)
    write(tmp_path / "small.json.gz", json.dumps({"Records": [event(i) for i in range(100, 105)]}), gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.reconciles() and report.loaded == 35 and report.rejected == 0
    assert {f.status for f in report.files} == {"loaded"}


def test_size_hint_that_lies_loses_nothing(case, tmp_path):
    """Concatenated gzip members: the trailer names only the last member's size, so the batch
    limit is too small; the reader fails on the file, and the salvage path loads all of it."""
    text = big_records_document(30, 700_000).encode()
    cut = len(text) - 100
    data = gzip.compress(text[:cut], mtime=0) + gzip.compress(text[cut:], mtime=0)
    path = tmp_path / "two-members.json.gz"
    path.write_bytes(data)
    assert inspect(path).content_size == 100
    report = case.load([path], on_problem=lambda line: None)
    assert report.reconciles()
    [f] = report.files
    assert (f.records_read, f.records_loaded, f.rejected) == (30, 30, 0)
    pads = case.sql("SELECT count(*) AS n FROM cloudtrail WHERE len(raw::VARCHAR) > 700000").rows()
    assert pads == [(30,)]


def test_batch_out_of_memory_is_split_and_the_file_still_loads(case, tmp_path, monkeypatch):
    """Under a memory cap too small for the reader, the batch is split and the file that does not
    fit goes through the salvage path: slower, but every record is loaded."""
    from forensics import connection

    monkeypatch.setattr(connection, "LOAD_MEMORY_LIMIT", "24MB")
    write(tmp_path / "big.json.gz", big_records_document(30, 700_000), gz=True)
    write(tmp_path / "small.json.gz", json.dumps({"Records": [event(i) for i in range(100, 105)]}), gz=True)
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.reconciles() and report.loaded == 35 and report.rejected == 0
