"""The command line as an interface (DESIGN.md "CLI"): one flag style, exit codes, limits, the
JSON documents against their versioned schemas, and the Timesketch export against the format
rules of reference/shapes-and-lakes.md §8, all on the sample incident through the real verbs."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import jsonschema
import polars as pl
import pytest
import typer
from typer.testing import CliRunner

import forensics
from forensics import output
from forensics.cli import app
from forensics.schemas import DOCUMENTS, schema

REPO = Path(__file__).resolve().parent.parent
EVIDENCE = REPO / "sample_data" / "evidence"
runner = CliRunner()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forensics", *args], capture_output=True, text=True)


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def documents(tmp_path_factory, ground_truth) -> dict[str, object]:
    """Every JSON document the CLI writes, from the sample incident, through subprocesses."""
    case = tmp_path_factory.mktemp("cli") / "case.duckdb"
    key = ground_truth["leaked_access_key"]
    docs: dict[str, object] = {}
    for name, args in {
        "load": ["load", str(EVIDENCE), "--case", str(case), "--format", "json"],
        "hunt": ["hunt", "--case", str(case), "--format", "json"],
        "investigate": ["investigate", "--case", str(case), "--access-key", key, "--format", "json"],
        "profile": ["profile", "--case", str(case), "--access-key", key, "--format", "json"],
        "budget": [
            "budget",
            "--case",
            str(case),
            "--amount",
            "1000",
            "--access-key",
            key,
            "--format",
            "json",
        ],
        "queries": ["queries", "--format", "json"],
    }.items():
        done = run(*args)
        assert done.returncode == 0, (name, done.stderr)
        docs[name] = json.loads(done.stdout)  # one document and nothing else on stdout
    docs["case"] = case
    return docs


# -- the output contract ----------------------------------------------------------------------------
def test_every_json_document_carries_schema_version_and_validates(documents) -> None:
    for name in DOCUMENTS:
        jsonschema.Draft202012Validator.check_schema(schema(name))
        doc = documents[name]
        items = doc if isinstance(doc, list) else [doc]
        assert items, name
        assert all(re.fullmatch(r"1\.\d+", item["schema_version"]) for item in items), name
        jsonschema.validate(doc, schema(name))


# What DESIGN.md says each document carries at least: the schemas may not forget them.
DESIGN_REQUIRED = {
    "load": ["schema_version", "files", "skipped_files", "rejected_files", "read", "loaded", "duplicates"]
    + ["rejected", "superseded", "by_source"],
    "hunt": ["schema_version", "account_id", "tactics", "detection", "source", "title", "severity", "tactic"]
    + ["attack", "principal_arn", "access_key_id", "source_ip", "entities", "first_seen", "last_seen"]
    + ["count", "regions", "event_ids"],
    "investigate": ["schema_version", "indicator", "principal_arn", "principals", "access_keys"]
    + ["key_first_seen", "first_use", "source_ips", "phases", "escalation_attempts", "run_instances"]
    + ["derived_credentials", "aws_quarantine", "containment", "still_running", "cost", "durations_s"]
    + ["coverage"],
    "profile": ["schema_version", "entity", "kind", "first_seen", "last_seen", "scope", "baseline"]
    + ["activity", "newly_observed", "related"],
    "budget": ["schema_version", "month", "budget", "alerts", "first_use", "aws_quarantine"],
    "queries": ["schema_version", "id", "title", "kind", "params"],
}


def _object_schema(s: dict) -> dict:
    return s["items"] if s.get("type") == "array" else s


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_document_missing_a_required_field_fails_its_schema(documents, name) -> None:
    s = schema(name)
    required = _object_schema(s)["required"]
    assert set(DESIGN_REQUIRED[name]) <= set(required)
    doc = documents[name]
    sample = json.loads(json.dumps(doc[0] if isinstance(doc, list) else doc))
    for field in required:
        broken = {k: v for k, v in sample.items() if k != field}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate([broken] if isinstance(doc, list) else broken, s)


def test_the_schemas_ship_in_the_package() -> None:
    from importlib import resources

    names = {p.name for p in resources.files("forensics.schemas").iterdir()}
    assert {f"{d}.schema.json" for d in DOCUMENTS} <= names
    assert (REPO / "forensics" / "py.typed").is_file()


# -- hunt ---------------------------------------------------------------------------------------------
def test_a_finding_carries_every_event_id_it_counts(documents, ground_truth) -> None:
    key, ip = ground_truth["leaked_access_key"], ground_truth["first_use"]["source_ip"]
    finding = next(
        f
        for f in documents["hunt"]
        if f["detection"] == "access_key_new_address" and f["access_key_id"] == key and f["source_ip"] == ip
    )
    with duckdb.connect(str(documents["case"]), read_only=True) as con:
        ids = {
            r[0]
            for r in con.execute(
                "SELECT event_id FROM cloudtrail WHERE access_key_id = ? AND source_ip = ?", [key, ip]
            ).fetchall()
        }
    assert finding["count"] == len(ids) > 1
    assert set(finding["event_ids"]) == ids and finding["event_ids_total"] == len(ids)
    # a burst counted in events lists them all too (capped at the stated limit)
    for f in documents["hunt"]:
        assert len(f["event_ids"]) == min(f["event_ids_total"], 1000)
    loop = next(f for f in documents["hunt"] if f["detection"] == "runaway_write_loop")
    assert loop["event_ids_total"] == loop["count"] > 1000 and len(loop["event_ids"]) == 1000


def test_hunt_table_shows_the_entities(documents, ground_truth) -> None:
    done = run("hunt", "--case", str(documents["case"]), "--from", "2026-11-16T02:00:00Z")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for column in ("principal", "key", "address", "regions"):
        assert column in text
    assert ground_truth["leaked_access_key"] in text
    assert "user/" + ground_truth["leaked_user"]["name"] in text
    assert all(ip in text for ip in ground_truth["attacker_ips"])
    assert "2026-11-16 02:51:43 UTC" in text and "2026-11-16T02:51:43Z" not in text


def test_launches_read_attempted_succeeded_and_new(documents) -> None:
    story = documents["investigate"]
    run_instances = story["run_instances"]
    text = output.launches_text(run_instances)
    new = set(run_instances["new_regions"]) & set(run_instances["regions"])
    assert text.startswith(
        f"attempted in {len(run_instances['attempted_regions'])} regions, "
        f"succeeded in {len(run_instances['regions'])} ({len(run_instances['instances'])} instances), "
        f"of which {len(new)} new;"
    ), text
    assert len(run_instances["attempted_regions"]) == 17 and len(run_instances["regions"]) == 13


def test_a_reload_says_already_loaded(documents) -> None:
    done = run("load", str(EVIDENCE), "--case", str(documents["case"]))
    assert done.returncode == 0, done.stderr
    assert "already loaded" in done.stdout
    assert "unknown" not in done.stdout and "Load report" not in done.stdout


# -- one flag style -----------------------------------------------------------------------------------
def test_version_and_help_for_every_argument() -> None:
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"forensics {forensics.__version__}"
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert command.help, name
        for param in command.params:
            if getattr(param, "hidden", False) or param.name == "help":
                continue
            assert getattr(param, "help", None), f"{name} {param.name} has no help"
            if any(o.startswith("--") for o in getattr(param, "opts", [])) and "--format" in param.opts:
                assert "|" in param.help, f"{name} --format lists no formats"


def test_the_same_indicator_options_on_every_verb() -> None:
    root = typer.main.get_command(app)
    for verb in ("investigate", "profile", "report", "budget"):
        opts = {o for p in root.commands[verb].params for o in getattr(p, "opts", [])}
        assert {"--case", "--access-key", "--principal", "--ip", "--instance", "--resource"} <= opts, verb
    for verb in ("investigate", "report", "hunt", "query", "profile"):
        opts = {o for p in root.commands[verb].params for o in getattr(p, "opts", [])}
        assert {"--from", "--to"} <= opts, verb
    for verb in ("load", "queries", "query", "hunt", "investigate", "profile", "budget"):
        opts = {o for p in root.commands[verb].params for o in getattr(p, "opts", [])}
        assert "--format" in opts, verb


def test_json_alias_and_format_agree() -> None:
    a, b = run("queries", "--json"), run("queries", "--format", "json")
    assert a.returncode == b.returncode == 0 and json.loads(a.stdout) == json.loads(b.stdout)
    assert "--json" not in run("queries", "--help").stdout  # a hidden alias


def test_exit_codes_and_one_line_on_stderr(sample_case, tmp_path) -> None:
    positional = run("profile", "AKIAJNRSY47UUVASTROP", "--case", str(sample_case))
    assert positional.returncode == 2 and positional.stderr.startswith("forensics: ")
    assert positional.stderr.strip().count("\n") == 0
    missing = run("profile", "--ip", "203.0.113.250", "--case", str(sample_case), "--format", "json")
    assert missing.returncode == 1 and missing.stdout == "" and "203.0.113.250" in missing.stderr
    two = run("investigate", "--case", str(sample_case), "--ip", "1.2.3.4", "--access-key", "AKIAX")
    assert two.returncode == 2 and "exactly one" in two.stderr
    fmt = run("queries", "--format", "xml")
    assert fmt.returncode == 2 and "--format" in fmt.stderr
    no_case = run("hunt")
    assert no_case.returncode == 2 and no_case.stderr.strip().count("\n") == 0 and "--case" in no_case.stderr
    scope = run("query", "access_key_first_seen", "--case", str(sample_case), "--from", "2026-11-01")
    assert scope.returncode == 2 and "--from" in scope.stderr
    parquet = run("query", "incident_timeline", "--case", str(sample_case), "--format", "parquet")
    assert parquet.returncode == 2 and "--out" in parquet.stderr


# -- query: scope, limit, formats ----------------------------------------------------------------------
def _timeline(case: Path, *args: str) -> pl.DataFrame:
    with forensics.Case(case, read_only=True) as c:
        return c.query("incident_timeline", **dict(a.split("=", 1) for a in args))


def test_query_from_to_and_indicator_are_bound(sample_case, ground_truth) -> None:
    key = ground_truth["leaked_access_key"]
    done = invoke(
        "query", "incident_timeline", "--case", str(sample_case), "--access-key", key,
        "--from", "2026-11-16T02:51:00Z", "--to", "2026-11-16T02:53:00Z", "--format", "json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    events = [r for r in rows if r["source"] == "cloudtrail"]  # flows and bills overlap the window
    assert events and all("2026-11-16T02:51:00Z" <= r["time"] <= "2026-11-16T02:53:00Z" for r in events)
    with duckdb.connect(str(sample_case), read_only=True) as con:
        calls = con.execute(
            "SELECT count(*) FROM cloudtrail WHERE access_key_id = ? AND event_time BETWEEN ? AND ?",
            [key, datetime(2026, 11, 16, 2, 51, tzinfo=UTC), datetime(2026, 11, 16, 2, 53, tzinfo=UTC)],
        ).fetchone()[0]
    assert sum(r["source"] == "cloudtrail" for r in rows) == calls


def test_query_limits_only_a_table_on_a_terminal(sample_case, monkeypatch) -> None:
    everything = invoke("query", "incident_timeline", "--case", str(sample_case), "--format", "json")
    total = len(json.loads(everything.stdout))
    assert total > output.TERMINAL_LIMIT
    piped = invoke("query", "incident_timeline", "--case", str(sample_case))
    body = piped.stdout.splitlines()
    assert len(body) == total + 3 and body[-1] == f"{total:,} rows"  # header, rule, rows, count
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    shown = invoke("query", "incident_timeline", "--case", str(sample_case))
    lines = shown.stdout.splitlines()
    assert len(lines) == output.TERMINAL_LIMIT + 3
    assert lines[-1].startswith(f"{output.TERMINAL_LIMIT} of {total:,} rows shown")
    still_all = invoke("query", "incident_timeline", "--case", str(sample_case), "--format", "json")
    assert len(json.loads(still_all.stdout)) == total
    capped = invoke(
        "query", "incident_timeline", "--case", str(sample_case), "--limit", "7", "--format", "json"
    )
    assert len(json.loads(capped.stdout)) == 7 and f"7 of {total} rows" in capped.stderr
    unlimited = invoke("query", "incident_timeline", "--case", str(sample_case), "--limit", "0")
    assert len(unlimited.stdout.splitlines()) == total + 3


def test_a_pager_friendly_table_is_one_line_per_row() -> None:
    df = pl.DataFrame(
        {"time": [datetime(2026, 11, 16, 2, 51, 43, tzinfo=UTC)], "detail": ["a\nb"], "n": [None]}
    )
    lines = output.text_table(df).splitlines()
    assert lines[0].split() == ["time", "detail", "n"]
    assert lines[2].startswith("2026-11-16 02:51:43 UTC  a b")
    assert len(lines) == 3


def test_query_csv_and_parquet_files_hold_every_row(sample_case, tmp_path) -> None:
    expected = _timeline(sample_case)
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"timeline.{fmt}"
        done = invoke(
            "query", "incident_timeline", "--case", str(sample_case), "--format", fmt, "--out", str(out)
        )
        assert done.exit_code == 0, done.output
        assert done.stdout == ""
        got = pl.read_csv(out, infer_schema=False) if fmt == "csv" else pl.read_parquet(out)
        assert got.height == expected.height and got.columns == expected.columns
    first = pl.read_csv(tmp_path / "timeline.csv", infer_schema=False).row(0, named=True)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", first["time"])


# -- Timesketch -------------------------------------------------------------------------------------------
RESERVED = {"_id", "_type", "_index", "_source", "__ts_timeline_id"}


def assert_timesketch_event(event: dict) -> None:
    """shapes-and-lakes.md §8: mandatory message, datetime (ISO 8601, explicit offset) and
    timestamp_desc; timestamp in epoch microseconds consistent with datetime; flat values."""
    assert isinstance(event["message"], str) and event["message"].strip()
    assert isinstance(event["timestamp_desc"], str) and event["timestamp_desc"].strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00", event["datetime"])
    t = datetime.fromisoformat(event["datetime"])
    assert 1700 <= t.year <= 9999
    assert int(event["timestamp"]) == int(t.timestamp() * 1_000_000)
    assert not RESERVED & set(event)
    assert all(not isinstance(v, (dict, list)) for v in event.values())


def assert_importer_leaves_it_alone(event: dict) -> None:
    """The importer client's own offline fix-up (ImportStreamer._fix_dict) finds nothing to
    add or change: message, datetime and timestamp_desc are already what Timesketch wants."""
    from timesketch_import_client.importer import ImportStreamer

    fixed = dict(event)
    ImportStreamer()._fix_dict(fixed)
    assert fixed["message"] == event["message"] and fixed["timestamp_desc"] == event["timestamp_desc"]
    assert datetime.fromisoformat(fixed["datetime"]) == datetime.fromisoformat(event["datetime"])
    assert set(fixed) == set(event)


def test_investigate_exports_the_story_for_timesketch(sample_case, ground_truth, tmp_path) -> None:
    key = ground_truth["leaked_access_key"]
    done = invoke("investigate", "--case", str(sample_case), "--access-key", key, "--format", "timesketch")
    assert done.exit_code == 0, done.output
    events = [json.loads(line) for line in done.stdout.splitlines()]
    with forensics.Case(sample_case, read_only=True) as c:
        story, frame = c.timeline(access_key=key)
    assert len(events) == frame.height == sum(p["events"] for p in story["phases"])
    for e in events:
        assert_timesketch_event(e)
        assert_importer_leaves_it_alone(e)
    first = events[0]
    fu = ground_truth["first_use"]
    assert first["datetime"] == fu["time"].replace("Z", "+00:00")
    assert first["source_ip"] == fu["source_ip"] and first["access_key_id"] == key
    assert first["phase"] == "initial_access" and fu["event_name"] in first["message"]
    assert len({k for e in events for k in e}) * 2 * 1.1 <= 1000  # Timesketch's field limit
    out = tmp_path / "story.csv"
    assert (
        invoke(
            "investigate",
            "--case",
            str(sample_case),
            "--access-key",
            key,
            "--format",
            "timesketch",
            "--out",
            str(out),
        ).exit_code
        == 0
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len(events)
    assert {"message", "datetime", "timestamp_desc"} <= set(rows[0])
    assert rows[0]["datetime"] == first["datetime"]
    bad = invoke("investigate", "--case", str(sample_case), "--access-key", key, "--format", "timesketch",
                 "--out", str(tmp_path / "story.txt"))  # fmt: skip
    assert bad.exit_code == 2


def test_query_exports_a_timeline_for_timesketch(sample_case, ground_truth, tmp_path) -> None:
    key = ground_truth["leaked_access_key"]
    out = tmp_path / "timeline.jsonl"
    done = invoke(
        "query", "incident_timeline", "--case", str(sample_case), "--access-key", key,
        "--format", "timesketch", "--out", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    frame = _timeline(sample_case, f"access_key_id={key}")
    assert len(events) == frame.height
    for e in events:
        assert_timesketch_event(e)
        assert_importer_leaves_it_alone(e)
    descs = {e["source"]: e["timestamp_desc"] for e in events}
    assert descs["cloudtrail"] == "Event Time" and descs["vpcflow"] == "Flow Start"
    assert descs["billing"] == "Usage Start"
    calls = [e for e in events if e["source"] == "cloudtrail" and e["action"] == "GetCallerIdentity"]
    first_use = next(
        c for c in calls if c["datetime"] == ground_truth["first_use"]["time"].replace("Z", "+00:00")
    )
    assert (
        first_use["access_key_id"] == key and first_use["address"] == ground_truth["first_use"]["source_ip"]
    )
    csv_out = tmp_path / "timeline.csv"
    assert invoke(
        "query", "incident_timeline", "--case", str(sample_case), "--access-key", key,
        "--format", "timesketch", "--out", str(csv_out),
    ).exit_code == 0  # fmt: skip
    import pandas as pd

    frame_csv = pd.read_csv(csv_out, dtype=str, keep_default_na=False)
    assert len(frame_csv) == len(events)
    parsed = pd.to_datetime(frame_csv["datetime"], format="mixed", utc=True)  # as the server parses
    assert parsed.notna().all()
    micros = (parsed - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(microseconds=1)
    assert (micros == frame_csv["timestamp"].astype("int64")).all()
    not_timeline = invoke(
        "query", "access_key_first_seen", "--case", str(sample_case), "--format", "timesketch"
    )
    assert not_timeline.exit_code == 2


def test_report_without_an_indicator_takes_the_hunts_top_one_and_says_which(
    sample_case, ground_truth, tmp_path
):
    out = tmp_path / "report.html"
    done = run("report", "--case", str(sample_case), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"--access-key {ground_truth['leaked_access_key']}" in done.stderr
    assert out.is_file() and ground_truth["leaked_access_key"] in out.read_text(encoding="utf-8")


def test_evidence_text_is_never_read_as_table_markup(capsys) -> None:
    finding = {
        "detection": "x", "source": "query", "title": "[bold red]pwn[/]", "severity": "high",
        "tactic": "impact", "principal_arn": "arn:aws:iam::123456789012:user/[b]eve[/b]",
        "access_key_id": None, "source_ip": None, "entities": {}, "count": 1, "regions": [],
        "first_seen": "2026-11-16T02:51:43Z",
    }  # fmt: skip
    output.print_findings([finding], "1 high")
    shown = capsys.readouterr().out
    assert "[bold red]pwn[/]" in shown and "user/[b]eve[/b]" in shown
