"""Verdicts reach the case: `load` of an acquired folder, `verify --case`, investigate's coverage."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from forensics import Case
from forensics.cli import app
from forensics.integrity import seal
from forensics.investigate.context import Ctx, Scope
from forensics.investigate.coverage import coverage

from .digests import build_chain, key_list_json, private_key, write


def _case_verdicts(case: Path) -> dict[str, str]:
    con = duckdb.connect(str(case), read_only=True)
    rows = con.execute("SELECT path, integrity FROM sources WHERE path LIKE '%.json.gz'").fetchall()
    con.close()
    return {Path(p).name: v for p, v in rows}


def test_load_of_an_acquired_folder_records_verdicts_and_seal(tmp_path: Path):
    objs = build_chain(hours=2)
    ev = write(tmp_path / "ev", objs, keys=[private_key()])
    victim = next(o for o in objs if "_CloudTrail_" in o.key)
    (ev / victim.key).write_bytes(b"\x1f\x8b" + victim.body[2:-8] + b"\0" * 8)  # a corrupted copy
    case = tmp_path / "case.duckdb"
    with Case(case) as c:
        report = c.load([ev], on_problem=lambda line: None)
        statuses = {Path(o.path).name: o.status for o in report.files}
        assert statuses["acquisition.json"] == "skipped-manifest"
        assert statuses["us-east-1.json"] == "skipped-manifest"  # public-keys/
        meta = c.con.execute("SELECT value FROM case_meta WHERE key LIKE 'acquisition:%'").fetchall()
        assert len(meta) == 1
        entry = json.loads(meta[0][0])
        assert entry["seal"] == seal(ev / "acquisition.json")
        assert entry["acquired_by"] == "arn:aws:iam::111122223333:user/responder"
    verdicts = _case_verdicts(case)
    assert verdicts[victim.key.rsplit("/", 1)[-1]] == "modified"
    assert sorted(verdicts.values()).count("valid") == 5  # 3 other logs and 2 digests


def test_verify_case_updates_an_existing_case_and_coverage_counts_it(tmp_path: Path):
    objs = build_chain(hours=2)
    ev = write(tmp_path / "ev", objs, manifest=False)
    keys = tmp_path / "keys.json"
    keys.write_text(key_list_json(private_key()))
    case = tmp_path / "case.duckdb"
    with Case(case) as c:
        c.load([ev], on_problem=lambda line: None)
    assert set(_case_verdicts(case).values()) == {None}  # no manifest: load does not verify
    run = CliRunner().invoke(
        app, ["verify", str(ev), "--public-key", str(keys), "--case", str(case), "--format", "json"]
    )
    assert run.exit_code == 0, run.output
    doc = json.loads(run.stdout)
    assert doc["schema_version"] == 1 and doc["counts"] == {"valid": 3, "unverified": 3}
    assert doc["case_rows_updated"] == 6
    verdicts = _case_verdicts(case)
    assert sorted(verdicts.values()) == ["unverified"] * 3 + ["valid"] * 3
    with Case(case, read_only=True) as c:
        ctx = Ctx(c.con, Scope())
        cov = coverage(ctx, {}, None)
        ctx.close()
    assert cov["integrity"] == {"unverified": 3, "valid": 3}


def test_verify_table_output_and_usage_errors(tmp_path: Path):
    ev = write(tmp_path / "ev", build_chain(hours=1), keys=[private_key()])
    run = CliRunner().invoke(app, ["verify", str(ev)])
    assert run.exit_code == 0 and "3 valid" in run.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    run = CliRunner().invoke(app, ["verify", str(empty)])
    assert run.exit_code == 2 and "no CloudTrail digests" in run.stderr
