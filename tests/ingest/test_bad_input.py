"""Bad input gets a clear error, is quarantined with file and position, and loses nothing else."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from .test_cloudtrail_shapes import event, write


def problems_of(case):
    return case.sql("SELECT source_file, position, reason FROM rejects ORDER BY ALL").rows()


def test_truncated_gzip_salvages_records_before_the_break(case, tmp_path):
    good = tmp_path / "good.json.gz"
    write(good, json.dumps({"Records": [event(i) for i in range(50)]}), gz=True)
    body = "\n".join(json.dumps(event(i)) for i in range(100, 200))
    full = gzip.compress(body.encode(), mtime=0)
    bad = tmp_path / "cut.jsonl.gz"
    bad.write_bytes(full[: len(full) * 2 // 3])
    lines = []
    report = case.load([tmp_path], on_problem=lines.append)
    assert report.reconciles()
    cut = next(f for f in report.files if f.path == str(bad))
    assert cut.status == "partial"
    assert 30 < cut.records_loaded < 100  # whole records before the break are kept
    assert cut.rejected == 1  # the record cut in half
    assert cut.records_read == cut.records_loaded + cut.rejected
    assert report.loaded == 50 + cut.records_loaded
    assert any("truncated gzip" in line for line in lines)
    assert all(str(bad) in line for line in lines), lines


def test_invalid_json_line_is_quarantined_with_its_line_number(case, tmp_path):
    body = [json.dumps(event(i)) for i in range(5)]
    body[2] = '{"eventVersion": "1.08", "eventTime": oops'
    path = write(tmp_path / "events.jsonl", "\n".join(body))
    report = case.load([path], on_problem=lambda line: None)
    f = report.files[0]
    assert (f.records_read, f.records_loaded, f.rejected, f.status) == (5, 4, 1, "partial")
    [(source, position, reason)] = problems_of(case)
    assert source == str(path) and position.startswith("line 3 ") and "invalid JSON" in reason


def test_records_document_cut_short(case, tmp_path):
    text = json.dumps({"Records": [event(i) for i in range(10)]})
    path = write(tmp_path / "cut.json", text[: len(text) - 300])
    report = case.load([path], on_problem=lambda line: None)
    f = report.files[0]
    assert f.records_loaded == 9 and f.rejected == 1 and report.reconciles()


def test_files_that_are_not_evidence_are_rejected_whole(case, tmp_path):
    write(tmp_path / "empty.json", "")
    write(tmp_path / "other.json", json.dumps({"name": "not cloudtrail", "values": [1, 2]}))
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 40)
    write(tmp_path / "notes.txt", "meeting notes, nothing to see")
    write(tmp_path / "ok.json", json.dumps({"Records": [event(1)]}))
    lines = []
    report = case.load([tmp_path], on_problem=lines.append)
    status = {Path(f.path).name: (f.status, f.detail) for f in report.files}
    assert status["empty.json"] == ("rejected", "empty file")
    assert status["other.json"][0] == "rejected" and "JSON document" in status["other.json"][1]
    assert status["blob.bin"][0] == "rejected" and "binary" in status["blob.bin"][1]
    # prose is plainly not evidence: skipped with the reason, not rejected (issue 17)
    assert status["notes.txt"] == ("skipped-not-evidence", "documentation (notes.txt), not evidence")
    assert status["ok.json"][0] == "loaded"
    assert report.loaded == 1 and report.reconciles()
    assert len(problems_of(case)) == 3 and len(lines) == 3


def test_a_record_without_time_is_rejected_not_dropped(case, tmp_path):
    timeless = event(2)
    del timeless["eventTime"]
    path = write(tmp_path / "t.json", json.dumps({"Records": [event(1), timeless, "junk"]}))
    report = case.load([path], on_problem=lambda line: None)
    f = report.files[0]
    assert (f.records_read, f.records_loaded, f.rejected) == (3, 1, 2)
    assert all("eventTime" in reason for _, _, reason in problems_of(case))


def test_one_bad_file_does_not_slow_or_spoil_its_batch(case, tmp_path):
    for i in range(20):
        write(
            tmp_path / f"f{i:02d}.json.gz",
            json.dumps({"Records": [event(i * 10 + j) for j in range(10)]}),
            gz=True,
        )
    (tmp_path / "f07.json.gz").write_bytes(gzip.compress(b'{"Records": [{"eventTime": "2026', mtime=0))
    report = case.load([tmp_path], on_problem=lambda line: None)
    assert report.loaded == 190 and report.reconciles()
    bad = next(f for f in report.files if f.path.endswith("f07.json.gz"))
    assert bad.status == "rejected" and bad.rejected == 1, bad


def test_a_zip_with_a_broken_deflate_stream_is_rejected_not_fatal(case, tmp_path):
    """Found by the billing property test: a flipped byte inside a zip member's deflate data made
    the sniffer raise zlib.error and the whole load stop. Now the file is rejected with the
    reason and the good file beside it loads."""
    import zipfile

    write(tmp_path / "good.json", json.dumps({"Records": [event(i) for i in range(4)]}))
    bad = tmp_path / "cur.csv.zip"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("r-1.csv", "identity/LineItemId,lineItem/UnblendedCost\n" + "li-1,0.5\n" * 500)
    data = bytearray(bad.read_bytes())
    data[45] ^= 0xFF  # inside the member's compressed data (its local header is 30 + 7 bytes)
    bad.write_bytes(bytes(data))
    lines = []
    report = case.load([tmp_path], on_problem=lines.append)
    assert report.reconciles()
    assert report.loaded == 4
    broken = next(f for f in report.files if f.path == str(bad))
    assert broken.status == "rejected" and broken.records_loaded == 0
    assert any(str(bad) in line for line in lines), lines
