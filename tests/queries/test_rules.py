"""Single-event rules (queries/rules/*.yaml): the one-scan SELECT over every rule gives each rule's
fixtures the same verdict as the rule alone; rules are validated when loaded; the hunt, the
catalogue and the CLI treat them as detections."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import forensics
from forensics import catalog, rules
from forensics.catalog import Query
from forensics.dialects import translate
from forensics.errors import ForensicsError
from forensics.fixtures import check, load_suite, run_case, write_evidence
from forensics.hunt import run_hunt

RULES = rules.load_rules()


def _cases() -> list:
    out = []
    for rid in sorted(RULES):
        for i, case in enumerate(rules.suite(rid)["cases"]):
            out.append(pytest.param(rid, i, id=f"{rid}: {case.get('name', i)}"))
    return out


def test_the_catalogue_holds_the_rule_families_of_issue_13() -> None:
    families = {r.family for r in RULES.values()}
    wanted = {"s3", "kms", "rds", "network", "detection_services", "identity", "execution", "data_access"}
    assert wanted <= families
    assert len(RULES) >= 77
    queries = catalog.catalog()
    assert set(RULES) <= set(queries) and all(queries[r].meta.get("rule") for r in RULES)


@pytest.mark.parametrize(("rule_id", "index"), _cases())
def test_one_scan_of_every_rule_gives_each_case_its_verdict(rule_id: str, index: int) -> None:
    """The combined SELECT (what the hunt runs), its rows of this rule only, against the case."""
    suite = rules.suite(rule_id)
    case = suite["cases"][index]
    df, problems = run_case(rule_id, case, suite, sql=rules.combined_sql())
    assert not problems
    fails = check(df.filter(df["detection"] == rule_id), case)
    assert not fails, "\n".join(fails)


def test_combined_sql_is_one_gated_scan() -> None:
    sql = rules.combined_sql()
    assert sql.count("FROM cloudtrail c") == 1  # the gate; actor_history reads only matched actors
    for r in RULES.values():
        for api in r.events:
            assert f"'{r.id}', '{api}'" in sql


@pytest.mark.parametrize("dialect", ["spark", "trino"])
def test_the_one_scan_translates_to_other_engines(dialect: str) -> None:
    sql = rules.combined_sql()
    q = Query(id="rules", title="rules", kind="detection", sources=("cloudtrail",), sql=sql, path="")
    text = translate(q, dialect)
    # no DuckDB `$name` parameter is left (a JSON path '$.x' or a regex's escaped \\$ is text)
    assert "rule_event" in text and not re.search(r"(?<![\\'])\$[A-Za-z_]", text)


def _family(tmp_path: Path, **change) -> Path:
    rule = {
        "id": "x_rule", "title": "t", "tactics": ["impact"], "attack": ["TA0040:T1485"],
        "severity": "low", "events": ["kms:DisableKey"], "description": "d",
        "tests": [{"name": "f", "cloudtrail": []}, {"name": "n", "fires": False, "cloudtrail": []}],
    }  # fmt: skip
    rule.update(change)
    path = tmp_path / "fam.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tactics": ["collection"]}, "not phase names"),
        ({"severity": "urgent"}, "severities"),
        ({"events": ["DisableKey"]}, "service:EventName"),
        ({"attack": ["T1485"]}, "TA0000:T0000"),
        ({"outcome": "denied"}, "outcome"),
        ({"wher": "true"}, "unknown keys"),
        ({"tests": [{"name": "f", "cloudtrail": []}]}, "near miss"),
    ],
)
def test_a_malformed_rule_is_refused_when_loaded(tmp_path: Path, change: dict, message: str) -> None:
    path = _family(tmp_path, **change)
    spec = yaml.safe_load(path.read_text())["rules"][0]
    with pytest.raises(ForensicsError, match=message):
        rules.parse_rule(spec, "fam", path)


def _case_with(records_case: dict, suite: dict, tmp_path: Path) -> forensics.Case:
    folder = tmp_path / "evidence"
    write_evidence(folder, records_case, suite, seed="hunt")
    case = forensics.Case(":memory:")
    case.load([folder], on_problem=pytest.fail)
    return case


def test_hunt_reports_rule_findings_with_the_shared_json_fields(tmp_path: Path) -> None:
    suite = rules.suite("s3_bucket_policy_public")
    firing = suite["cases"][0]
    with _case_with(firing, suite, tmp_path) as case:
        findings = [f for f in run_hunt(case) if f["detection"] == "s3_bucket_policy_public"]
    [f] = findings
    assert f["severity"] == "high" and f["tactic"] == "exfiltration"
    assert f["tactics"][0] == "exfiltration" and "defense_evasion" in f["tactics"]
    assert f["attack"] == ["TA0010:T1537", "TA0009:T1530"]
    assert f["account_id"] == "111122223333"
    assert f["entities"]["resources"] == ["data-bkt"]
    assert f["entities"]["principals"] == ["arn:aws:iam::111122223333:user/mallory"]
    assert f["source"] == "query" and f["count"] == 1


def test_hunt_only_runs_the_rules_asked_for(tmp_path: Path) -> None:
    suite = rules.suite("kms_key_disabled")
    with _case_with(suite["cases"][0], suite, tmp_path) as case:
        assert run_hunt(case, only=["s3_acl_public"]) == []
        assert [f["detection"] for f in run_hunt(case, only=["kms_key_disabled"])] == ["kms_key_disabled"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forensics", *args], capture_output=True, text=True)


def test_cli_lists_and_runs_rules_by_id(tmp_path: Path) -> None:
    listed = _run("queries", "--json")
    assert listed.returncode == 0, listed.stderr
    ids = {q["id"] for q in json.loads(listed.stdout)}
    assert {"kms_key_disabled", "security_logging_impaired"} <= ids
    suite = rules.suite("kms_key_disabled")
    path = tmp_path / "c.duckdb"
    folder = tmp_path / "ev"
    write_evidence(folder, suite["cases"][0], suite, seed="cli")
    with forensics.Case(path) as c:
        c.load([folder], on_problem=pytest.fail)
    ran = _run("query", "kms_key_disabled", "--case", str(path), "--format", "json")
    assert ran.returncode == 0, ran.stderr
    rows = json.loads(ran.stdout)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert [r["detection"] for r in rows] == ["kms_key_disabled"]


def test_novelty_raises_everyday_changes_only_for_a_new_actor(tmp_path: Path) -> None:
    """A principal with days of history doing a low rule's change for the first time is new
    (medium); the same principal doing it again the next day is habitual (low); a principal with
    under a day of history is unknown, not new (low)."""
    suite = rules.suite("eventbridge_rule_disabled")

    def disable(actor: str, at: str, name: str) -> dict:
        return {"api": "events:DisableRule", "actor": actor, "at": at, "params": {"name": name}}

    case = {
        "cloudtrail": [
            {"api": "sts:GetCallerIdentity", "actor": "admin", "at": "2026-03-01 08:00:00"},
            disable("admin", "2026-03-03 09:00:00", "a"),
            disable("admin", "2026-03-04 09:00:00", "b"),
            disable("outsider", "2026-03-04 09:00:00", "c"),
        ]
    }
    df, problems = run_case("eventbridge_rule_disabled", case, suite)
    assert not problems
    got = {(r["resource"], r["severity"]) for r in df.to_dicts()}
    assert got == {("a", "medium"), ("b", "low"), ("c", "low")}


def test_load_suite_reads_a_rules_own_tests() -> None:
    q = catalog.catalog()["kms_key_disabled"]
    assert q.path.endswith("kms.yaml#kms_key_disabled")
    assert load_suite(q.path)["cases"] == rules.suite("kms_key_disabled")["cases"]
