"""The deterministic sample incident: evidence files as AWS delivers them, plus the ground truth.

A Tokyo web shop's account; two weeks of ordinary work; then a developer's PowerUser access key
leaks to GitHub and is used within minutes to mine cryptocurrency in every default region, until
AWS quarantines the key and the team cleans up (missing one region). Two unrelated events hide
in the weeks before: a runaway auto-remediation Lambda and an SSRF that leaks instance-role
credentials. `forensics sample OUTDIR [--seed N] [--scale N]` calls `generate_sample`.

Only the standard library is used, and nothing depends on the clock or the machine: the same
seed and scale give byte-identical files. ``scale`` multiplies the CloudTrail baseline only; the
incident, the side cases, flow logs, billing and notices stay exactly as at scale 1.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .aws_notices import guardduty_findings, health_event, write_notices
from .baseline import Baseline
from .billing_lines import build_rows
from .billing_writer import write_cur
from .clock import HOUR, INCIDENT_DAY
from .cloudtrail_writer import CloudTrailWriter
from .incident import PUSH_TIME, build_incident
from .readme import write_readme
from .resources import epoch, launched_instances
from .side_cases import build_side_cases
from .truth import TruthObserver
from .truth_report import build_truth
from .vpcflow_writer import write_flow_logs
from .world import ACCOUNT_ID, build_world

__all__ = ["generate_sample"]

Notable = dict[int, list[tuple[int, str, dict[str, Any]]]]


def _by_hour(*stories: dict[str, list[dict[str, Any]]]) -> Notable:
    """The incident's and side cases' records, filed by the hour they happened in."""
    hours: Notable = {}
    for story in stories:
        for category, events in sorted(story.items()):
            for event in events:
                t = epoch(event["eventTime"])
                hours.setdefault(t - t % HOUR, []).append((t, category, event))
    return hours


def generate_sample(outdir: str | Path, seed: int = 7, scale: int = 1) -> dict[str, Any]:
    """Write the evidence tree under outdir/evidence/ and outdir/ground_truth.json; return the
    ground truth. An existing outdir/evidence/ is replaced, so runs never mix."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    out = Path(outdir)
    evidence = out / "evidence"
    if evidence.exists():
        shutil.rmtree(evidence)
    evidence.mkdir(parents=True)

    world = build_world(seed)
    incident = build_incident(world, seed)
    side = build_side_cases(world, seed)
    baseline = Baseline(world, seed)
    notable = _by_hour(incident.events, side.events)
    observer = TruthObserver(world.tanaka.access_key, world.tanaka.arn, INCIDENT_DAY)
    trail = CloudTrailWriter(evidence, seed)
    observe = observer.observe
    for hour in baseline.hours():
        routine = list(baseline.events(hour, scale))
        for t, event, _ in routine:
            observe(t, "baseline", event)
        special = notable.get(hour, [])
        for t, category, event in special:
            observe(t, category, event)
        trail.write_hour(hour, routine, [(t, event) for t, _, event in special])
    trail.write_digests()

    story_events = [e for events in incident.events.values() for e in events]
    instances = launched_instances(story_events)
    rows = build_rows(world, baseline.asg_instances(), instances.values(), side.invocations)
    billing_files = write_cur(evidence, rows, seed)
    flow_files, flow_records = write_flow_logs(evidence, world, instances, seed)
    health = health_event(world, seed)
    findings = guardduty_findings(world, seed, incident.events["intrusion"], side.events["ssrf"], instances)
    notice_files = write_notices(evidence, health, findings)

    cloudtrail_events = sum(observer.counts.values())
    finding_count = sum(len(items) for items in findings.values())
    files = {
        "cloudtrail": trail.files,
        "cloudtrail_digest": trail.digests,
        "vpcflowlogs": flow_files,
        "billing": len(billing_files),
        "health": 1,
        "guardduty": len(notice_files) - 1,
    }
    files["total"] = sum(files.values())
    counts = {
        "cloudtrail_events": {"total": cloudtrail_events, **dict(sorted(observer.counts.items()))},
        "baseline_events_per_scale": observer.counts["baseline"] // scale,
        "events_per_source": {
            "cloudtrail": cloudtrail_events,
            "vpcflowlogs": flow_records,
            "billing": len(rows),
            "health": 1,
            "guardduty": finding_count,
        },
        "files": files,
    }
    truth = build_truth(
        observer,
        account=ACCOUNT_ID,
        user_name=world.tanaka.name,
        push_time=PUSH_TIME,
        rows=rows,
        intents=incident.intents,
        health=health,
        findings=findings,
        counts=counts,
        seed=seed,
        scale=scale,
    )
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    write_readme(out, truth)
    return truth
