"""Property-based tests of the sniffers and loaders (issue 17): for every generated input (a
CloudTrail or flow-log file cut short, with flipped bytes, nested deep, in an odd encoding, with
odd times; a billing export, GuardDuty findings or a Parquet file damaged the same ways) the
load finishes, every file's counts reconcile (read = loaded + duplicates +
rejected), and the good records loaded alongside it are all there.

Profiles (engineering notes §2): "ci", the default, runs about 50 examples per property,
derandomized (the same inputs every run) and without a deadline; set
FORENSICS_HYPOTHESIS_PROFILE=long for a longer, random run on demand:

    FORENSICS_HYPOTHESIS_PROFILE=long python -m pytest tests/ingest/test_fuzz_loaders.py

Every example loads into one case shared by the module (a new case per example would cost most
of the run), which writes no derived snapshot; each example's good file has event ids of its
own, so what it loaded is checked alone.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import forensics

from .fixtures_evidence import (
    CUR_COLUMNS,
    V2,
    csv_text,
    cur_row,
    envelope,
    finding,
    flow,
    flow_text,
    pascal,
    write_cur2_parquet,
)
from .test_cloudtrail_shapes import event

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("FORENSICS_HYPOTHESIS_PROFILE", "ci"))
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[forensics.Case, Path]]:
    root = tmp_path_factory.mktemp("fuzz")
    with forensics.Case(root / "case.duckdb") as case:
        # No derived snapshot after each example's load: no property reads one, and writing
        # it (and pointing the views back at the evidence before the next load) cost most of
        # the run; tests/vocabulary/test_derived.py checks the snapshot.
        case._write_snapshot = False  # noqa: SLF001
        yield case, root


def _good_trail(folder: Path) -> list[str]:
    """A clean trail file with event ids no other example uses; returns the ids."""
    base = next(_ids) * 1000
    recs = [event(base + i) for i in range(3)]
    (folder / "good.json").write_text(json.dumps({"Records": recs}))
    return [r["eventID"] for r in recs]


def _load_and_check(shared, files: dict[str, bytes]) -> None:
    case, root = shared
    folder = root / f"ex{next(_ids)}"
    folder.mkdir()
    good = _good_trail(folder)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    report = case.load([folder], on_problem=lambda line: None)  # must not raise
    assert report.reconciles(), [
        (f.path, f.records_read, f.records_loaded, f.duplicates, f.rejected) for f in report.files
    ]
    assert len(report.files) == len(files) + 1
    found = case.con.execute(
        "SELECT count(*) FROM cloudtrail WHERE event_id IN (SELECT unnest($ids))", {"ids": good}
    ).fetchone()[0]
    assert found == len(good)


# --- inputs ------------------------------------------------------------------------------------
TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-10-01T00:00:00Z",
            "2026-10-01T00:00:00.123Z",
            "2026-10-01T00:00:00.123456789Z",
            "2026-10-01T00:00:00+00:00",
            "2026-10-01T09:00:00+09:00",
            "2026-10-01T00:00:00",
            "2026-10-01 00:00:00",
            "2026-10-01",
            "0001-01-01T00:00:00Z",
            "1900-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-02-30T00:00:00Z",
            "2026-10-01T24:00:00Z",
            "",
            "not a time",
            "１２３",
        ]
    ),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=30),
)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


def _records(n: int, when=None, agent: str | None = None) -> list[dict]:
    """Records for generated files: the same ids in every example (strategies must not depend
    on outside state), so a later example's copy counts as a duplicate; `...` keeps the time."""
    recs = [event(500 + i) for i in range(n)]
    for r in recs:
        if when is not ...:
            r["eventTime"] = when
        if agent is not None:
            r["userAgent"] = agent
    return recs


@st.composite
def trail_bytes(draw) -> bytes:
    """A CloudTrail document as delivered (one of its shapes), maybe gzipped."""
    recs = _records(draw(st.integers(1, 4)), ..., draw(st.none() | TEXT))
    shape = draw(st.sampled_from(["records", "ndjson", "array", "pretty"]))
    if shape == "records":
        text = json.dumps({"Records": recs})
    elif shape == "ndjson":
        text = "\n".join(json.dumps(r) for r in recs) + "\n"
    elif shape == "array":
        text = json.dumps(recs)
    else:
        text = json.dumps({"Records": recs}, indent=2)
    data = text.encode()
    return gzip.compress(data, mtime=0) if draw(st.booleans()) else data


@st.composite
def damaged(draw, source) -> bytes:
    data = draw(source)
    if draw(st.booleans()) and len(data) > 1:  # cut short
        data = data[: draw(st.integers(0, len(data) - 1))]
    flips = draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4))
    buf = bytearray(data)
    for pos, value in flips:
        if buf:
            buf[pos % len(buf)] = value
    return bytes(buf)


@given(data=damaged(trail_bytes()))
@PROFILE
def test_damaged_cloudtrail_files(shared, data):
    _load_and_check(shared, {"damaged.json": data})


@given(when=TIMES)
@PROFILE
def test_any_event_time(shared, when):
    recs = _records(2, when)
    _load_and_check(shared, {"times.json": json.dumps({"Records": recs}).encode()})


@given(
    depth=st.integers(1, 3000),
    where=st.sampled_from(["requestParameters", "top", "array"]),
)
@PROFILE
def test_deep_nesting(shared, depth, where):
    recs = _records(1)
    nested = "[" * depth + "]" * depth
    if where == "requestParameters":
        text = json.dumps({"Records": recs}).replace('{"maxResults": 5}', '{"x": ' + nested + "}")
    elif where == "top":
        text = '{"Records": [' + nested + ", " + json.dumps(recs[0]) + "]}"
    else:
        text = nested
    _load_and_check(shared, {"nested.json": text.encode()})


@given(
    encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "latin-1", "utf-32"]),
    agent=st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=20),
    gz=st.booleans(),
)
@PROFILE
def test_odd_encodings(shared, encoding, agent, gz):
    text = json.dumps({"Records": _records(2, ..., agent)}, ensure_ascii=False)
    data = text.encode(encoding)
    _load_and_check(shared, {"encoded.json": gzip.compress(data, mtime=0) if gz else data})


@st.composite
def flow_bytes(draw) -> bytes:
    recs = [flow(i) for i in range(draw(st.integers(1, 5)))]
    fields = V2.split()
    data = flow_text(recs, fields).encode()
    return gzip.compress(data, mtime=0) if draw(st.booleans()) else data


@given(data=damaged(flow_bytes()), extra=st.lists(TEXT, max_size=3))
@PROFILE
def test_damaged_flow_logs(shared, data, extra):
    assume(data)
    tail = "".join(line + "\n" for line in extra).encode()
    _load_and_check(shared, {"flows.log": data + (tail if data[:2] != b"\x1f\x8b" else b"")})


# --- billing, findings and Parquet (each damaged the same ways) ------------------------------
@st.composite
def cur_csv_bytes(draw) -> bytes:
    """A legacy CUR CSV whose cost, time and account cells may hold anything, maybe compressed."""
    rows = [
        cur_row(
            i,
            draw(st.sampled_from(["0.25", "1e3", "-0.5", "", "NaN", "1,5"]) | TEXT),
            **{"lineItem/UsageStartDate": draw(st.sampled_from(["2026-11-01T00:00:00Z"]) | TEXT)},
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    data = csv_text(rows, CUR_COLUMNS).encode()
    packing = draw(st.sampled_from(["plain", "gzip", "zip"]))
    if packing == "gzip":
        return gzip.compress(data, mtime=0)
    if packing == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("r-1.csv", data)
        return out.getvalue()
    return data


@st.composite
def findings_bytes(draw) -> bytes:
    """GuardDuty findings as an export list, an EventBridge envelope or PascalCase CLI output."""
    recs = [
        finding(f"f{i}", updated=draw(st.sampled_from(["2026-11-16T03:10:00.000Z"]) | TEXT))
        for i in range(draw(st.integers(1, 3)))
    ]
    shape = draw(st.sampled_from(["list", "envelope", "cli"]))
    if shape == "envelope":
        doc: object = envelope(recs[0])
    elif shape == "cli":
        doc = {"Findings": [pascal(r) for r in recs]}
    else:
        doc = recs
    return json.dumps(doc).encode()


def _cur2_parquet_bytes(tmp: Path, cost: float) -> bytes:
    path = write_cur2_parquet(
        tmp / f"p{next(_ids)}.parquet",
        [("2026-11-16 03:00:00", "011111111111", "APN1-BoxUsage:t3.micro", "ap-northeast-1",
          None, "i-0aaa", cost, {"user:Name": "x"})],
    )  # fmt: skip
    return path.read_bytes()


@given(data=damaged(cur_csv_bytes()), name=st.sampled_from(["cur.csv", "cur.csv.gz", "cur.csv.zip"]))
@PROFILE
def test_damaged_billing_exports(shared, data, name):
    _load_and_check(shared, {name: data})


@given(data=damaged(findings_bytes()))
@PROFILE
def test_damaged_findings(shared, data):
    _load_and_check(shared, {"guardduty-findings.json": data})


@given(
    cost=st.floats(allow_nan=True, allow_infinity=True),
    cut=st.none() | st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
)
@PROFILE
def test_damaged_parquet(shared, tmp_path_factory, cost, cut, flips):
    buf = bytearray(_cur2_parquet_bytes(tmp_path_factory.mktemp("pq"), cost))
    if cut is not None:
        buf = buf[: cut % len(buf)]
    for pos, value in flips:
        if buf:
            buf[pos % len(buf)] = value
    _load_and_check(shared, {"data.parquet": bytes(buf)})
