"""Goodlog: every detection over the sample incident; each hit must be the incident's (as the
ground truth tells it) or a known false positive with a reason (known_fps.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import forensics
from forensics.hunt import detections, iso

KNOWN_FPS = yaml.safe_load((Path(__file__).parent / "known_fps.yaml").read_text())["known_fps"] or []


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _row_time(row: dict[str, Any]) -> datetime:
    t = row["event_time"]
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class Incident:
    """What ground_truth.json says belongs to the stories the sample tells."""

    def __init__(self, gt: dict[str, Any]):
        self.gt = gt
        self.key = gt["leaked_access_key"]
        self.user = gt["leaked_user"]["arn"]
        self.first_use = _t(gt["first_use"]["time"])
        self.ips = set(gt["attacker_ips"]) | {gt["exfiltration"]["outside_ip"]}
        self.instances = {i for ids in gt["instances"].values() for i in ids}
        ex, loop, co = gt["exfiltration"], gt["lambda_loop"], gt["containment"]
        self.exfil = {ex["session_arn"], ex["access_key"]}
        self.loop = (loop["session_arn"], loop["function"], _t(loop["start"]) - timedelta(hours=1),
                     _t(loop["end"]) + timedelta(hours=1))  # fmt: skip
        self.responder = (co["responder_principal_arn"], _t(co["start"]), _t(co["end"]) + timedelta(hours=1))
        self.regions = set(gt["regions_touched"])
        self.gd_types = {t for types in gt["guardduty_findings"].values() for t in types}

    def explains(self, row: dict[str, Any]) -> bool:
        t = _row_time(row)
        who = {row.get("principal_arn"), row.get("access_key_id")}
        text = " ".join(str(v) for v in row.values() if isinstance(v, (str, list)))
        if {self.key, self.user} & who and t >= self.first_use - timedelta(minutes=1):
            return True  # the intrusion, AWS's quarantine of the key and what followed
        if row.get("source_ip") in self.ips or self.exfil & who:
            return True
        arn, function, start, end = self.loop
        if start <= t <= end and (arn in who or function in text):
            return True
        responder, c_start, c_end = self.responder
        if responder in who and c_start <= t <= c_end:
            return True
        if any(i in text for i in self.instances):
            return True
        if row.get("type") in self.gd_types or row["detection"] == "health_risk_events":
            return True
        if row.get("principal_arn") is None and row.get("region") in self.regions:
            # billing: the attack's hours, or the runaway Lambda's day in the home region
            return t >= self.first_use - timedelta(hours=1) or start <= t <= end
        return False


def _known(row: dict[str, Any]) -> dict[str, Any] | None:
    for fp in KNOWN_FPS:
        if fp["detection"] == row["detection"] and all(
            str(row.get(k)) == str(v) for k, v in fp["match"].items()
        ):
            return fp
    return None


@pytest.fixture(scope="module")
def hits(sample_case: Path) -> dict[str, list[dict[str, Any]]]:
    with forensics.Case(sample_case, read_only=True) as case:
        return {q.id: case.query(q.id).to_dicts() for q in detections(case)}


def test_no_detection_fires_on_the_benign_background(hits, ground_truth) -> None:
    incident = Incident(ground_truth)
    unexplained = [
        f"{r['detection']} at {iso(r['event_time'])}: "
        f"{r.get('principal_arn')} {r.get('source_ip')} {r.get('resource')}"
        for rows in hits.values()
        for r in rows
        if not incident.explains(r) and _known(r) is None
    ]
    assert not unexplained, "benign activity flagged:\n" + "\n".join(unexplained)


def test_every_known_false_positive_still_happens(hits) -> None:
    """A listed false positive that no longer occurs is a stale excuse: remove it."""
    rows = [r for rs in hits.values() for r in rs]
    stale = [fp for fp in KNOWN_FPS if not any(_known(r) is fp for r in rows)]
    assert not stale, f"known_fps.yaml entries that match nothing: {stale}"
    assert all(fp.get("reason") for fp in KNOWN_FPS), "every known false positive needs a reason"
