"""The story in words: short sentences built from the investigate story's facts.

Every sentence is plain text (the page escapes it); a fact the story lacks is left out rather
than guessed, and absence is said plainly where it matters (no quarantine, no containment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..investigate.phases import ACTOR_PHASES
from ..timefmt import format_duration, format_time, relative_duration


def fmt_time(value: Any) -> str:
    """`2026-11-16 02:51:43 UTC`, or an em dash (forensics.timefmt, shared by every face)."""
    return format_time(value)


def fmt_duration(seconds: float | int | None) -> str:
    """`3627` → `1 h 0 min` (the sign dropped: say before/after with `relative_duration`)."""
    return format_duration(seconds)


def fmt_money(amount: float | None, currency: str | None = "USD") -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency or ''}".strip()


def _list(items: list[str], limit: int = 8) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _indicator(story: dict[str, Any]) -> str:
    ind = story.get("indicator") or {}
    if "type" in ind:
        return f"{str(ind['type']).replace('_', ' ')} {ind.get('value')}"
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ind.items() if v) or "the indicator"


_RESPONSE = ACTOR_PHASES


@dataclass
class Facts:
    """What the story alone does not say and the case does: the mining pools among the
    intrusion's flows (`vocab_mining_port`), its calls on data, whether data events are
    recorded at all, and where the still-running instances are."""

    pools: list[dict[str, Any]] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    data_events: int = 0
    running_regions: dict[str, str] = field(default_factory=dict)


def mining_pools(story: dict[str, Any], ports: set[int]) -> list[dict[str, Any]]:
    """The story's flows whose service port is a mining-pool port, most bytes first."""
    return [f for f in story.get("flows") or [] if f.get("port") in ports]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _subject(story: dict[str, Any]) -> str:
    ind = story.get("indicator") or {}
    kind, value = ind.get("type"), ind.get("value")
    if kind == "access_key":
        return f"Leaked access key {value}"
    if kind == "instance":
        return f"Credentials of instance {value}"
    if kind == "principal":
        return f"Credentials of {str(value).split(':', 5)[-1]}"
    if kind == "ip":
        return f"Intrusion from {value}"
    return _indicator(story)


def headline(story: dict[str, Any], facts: Facts | None = None) -> str:
    """What happened, in one line: `Leaked access key AKIA… used for crypto-mining in 13 regions`."""
    facts = facts or Facts()
    run = story.get("run_instances") or {}
    regions = run.get("regions") or []
    subject = _subject(story)
    if not story.get("first_use"):
        return f"{subject}: no intrusion found in the evidence"
    if facts.pools:
        return f"{subject} used for crypto-mining in {_n(len(regions), 'region')}"
    if run.get("instances"):
        launched = _n(len(run["instances"]), "instance")
        return f"{subject} used to launch {launched} in {_n(len(regions), 'region')}"
    touched = [d for d in facts.data if d.get("calls", 0) > (d.get("refused") or 0)]
    if touched:
        return f"{subject} used to reach data ({_list([str(d['api']) for d in touched], 4)})"
    return f"{subject} used by an intruder from {_list(story.get('source_ips') or [], 3)}"


def _findings_by_type(story: dict[str, Any], source: str) -> list[tuple[str, int, str | None]]:
    """(type, count, first seen) of the story's findings from `source`, in order of first seen."""
    out: dict[str, list[Any]] = {}
    for h in story.get("health_events") or []:
        if h.get("source") == source:
            entry = out.setdefault(str(h.get("type")), [0, h.get("first_seen")])
            entry[0] += 1
    return [(t, n, first) for t, (n, first) in out.items()]


def _seen_by(story: dict[str, Any], source: str, name: str) -> str | None:
    found = _findings_by_type(story, source)
    if not found:
        return None
    return f"{name}: " + "; ".join(
        f"{t}" + (f" × {n}" if n > 1 else "") + f" (first at {fmt_time(first)})" for t, n, first in found
    )


def _pools_text(pools: list[dict[str, Any]]) -> str:
    return _list([f"{p['remote_addr']}:{p['port']}" for p in pools], 5)


def _data_text(facts: Facts) -> str:
    if not facts.data:
        said = "no call on S3 objects, secrets or other data by the intrusion"
    else:
        said = ", ".join(
            f"{d['api']} × {d['calls']}" + (f" ({d['refused']} refused)" if d.get("refused") else "")
            for d in facts.data
        )
        if not any(d.get("data_event") for d in facts.data):
            said += "; no S3 object read or written"
    if facts.data_events:
        return said + f" (the evidence holds {facts.data_events:,} data events, so object reads would show)"
    return said + " (the evidence holds no data events: object reads would not show)"


def glance(story: dict[str, Any], facts: Facts | None = None) -> list[tuple[str, str, str]]:
    """The first screen's answers: (question, answer, tone), tone `bad`, `ok` or `info`."""
    facts = facts or Facts()
    out: list[tuple[str, str, str]] = []
    first = story.get("first_use") or {}
    durations = story.get("durations_s") or {}
    running = story.get("still_running") or []
    contained = story.get("containment") or {}
    where = sorted({facts.running_regions.get(i) or "?" for i in running})
    if running:
        lead = (
            f"Not fully: responders began containment at {fmt_time(contained.get('time'))}, but "
            if contained
            else "No: "
        )
        out.append(
            (
                "Contained?",
                lead + f"{len(running)} instance(s) the intrusion launched are still running at the "
                f"end of the evidence ({_list(running)} in {_list(where)}).",
                "bad",
            )
        )
    elif contained:
        out.append(
            (
                "Contained?",
                f"Yes: responders contained it at {fmt_time(contained.get('time'))} "
                f"({relative_duration(durations.get('first_use_to_containment'), 'first use')}); "
                "no instance it launched is still running.",
                "ok",
            )
        )
    else:
        out.append(("Contained?", "No containment by responders appears in the evidence.", "bad"))

    run = story.get("run_instances") or {}
    did = []
    if run.get("instances") or run.get("attempted_regions"):
        attempted = run.get("attempted_regions") or []
        did.append(
            f"launched {len(run.get('instances') or [])} instance(s): {len(attempted)} region(s) "
            f"attempted, {len(run.get('regions') or [])} succeeded, {len(run.get('new_regions') or [])} "
            "never used by the account before"
        )
    if facts.pools:
        miners = sorted({i for p in facts.pools for i in p.get("instances") or []})
        did.append(f"mined: {len(miners)} instance(s) talked to mining pools {_pools_text(facts.pools)}")
    esc = story.get("escalation_attempts") or {}
    if esc.get("total"):
        did.append(f"tried privilege escalation {esc['total']} time(s) ({esc.get('succeeded', 0)} succeeded)")
    if story.get("derived_credentials"):
        did.append(f"minted {len(story['derived_credentials'])} credential(s)")
    did.append("data: " + _data_text(facts))
    summary = "; ".join(did) + "."
    out.append(("What did the intruder do?", summary[:1].upper() + summary[1:], "info"))

    cost = story.get("cost") or {}
    if cost.get("total") is not None and not cost.get("by_region"):
        out.append(
            ("Cost so far", "No line item of the intrusion's resources in the billing evidence.", "info")
        )
    elif cost.get("total") is not None:
        cost_text = (
            f"{fmt_money(cost['total'], cost.get('currency'))} billed to the intrusion's resources "
            f"in {len(cost.get('by_region') or {})} region(s)"
        )
        if running:
            cost_text += f", still accruing while {len(running)} instance(s) run"
        out.append(("Cost so far", cost_text + ".", "bad" if running else "info"))

    seen = []
    quarantine = story.get("aws_quarantine") or {}
    if quarantine.get("time"):
        seen.append(
            f"AWS quarantined the key at {fmt_time(quarantine['time'])} "
            f"({str(quarantine.get('policy') or '').rsplit('/', 1)[-1]}), "
            f"{relative_duration(durations.get('first_use_to_quarantine'), 'first use')}"
        )
    else:
        seen.append("AWS did not quarantine the key in the evidence")
    for source, name in (("guardduty", "GuardDuty"), ("health", "AWS Health")):
        said = _seen_by(story, source, name)
        seen.append(said or f"{name}: no finding names the intrusion")
    out.append(("How AWS and GuardDuty saw it", "; ".join(seen) + ".", "info"))

    if first.get("time"):
        steps = [f"First use {fmt_time(first['time'])} from {first.get('source_ip') or '?'}"]
        for key, what in (
            ("first_use_to_run_instances", "first instance"),
            ("first_use_to_quarantine", "AWS quarantine"),
            ("first_use_to_containment", "containment"),
        ):
            if durations.get(key) is not None:
                steps.append(f"{what} after {fmt_duration(durations[key])}")
        ends = [p.get("end") for p in story.get("phases") or [] if p.get("phase") not in _RESPONSE]
        last = max((e for e in ends if e), default=None)
        if last:
            steps.append(f"the intruder's last call {fmt_time(last)}")
        out.append(("How long", "; ".join(steps) + ".", "info"))
    return out


def narrative(story: dict[str, Any], facts: Facts | None = None) -> list[str]:
    """The story as a few paragraphs, in the order an analyst would tell it."""
    facts = facts or Facts()
    out = []
    first = story.get("first_use") or {}
    who = story.get("principal_arn") or "an unknown principal"
    keys = story.get("access_keys") or []
    opening = f"The investigation started from {_indicator(story)}, which belongs to {who}"
    if keys:
        opening += f" (access keys: {_list(keys)})"
    if story.get("key_first_seen"):
        opening += f"; the key was first seen in the evidence at {fmt_time(story['key_first_seen'])}"
    out.append(opening + ".")
    if first.get("time"):
        sentence = (
            f"The intrusion's first use was at {fmt_time(first['time'])}: "
            f"{first.get('event_name') or 'a call'} in {first.get('region') or '?'} from "
            f"{first.get('source_ip') or '?'}"
        )
        if first.get("user_agent"):
            sentence += f" with user agent “{first['user_agent']}”"
        ips = story.get("source_ips") or []
        out.append(sentence + f". It acted from {len(ips)} address(es): {_list(ips)}.")
    attacker = [p for p in story.get("phases") or [] if p.get("phase") not in _RESPONSE]
    if attacker:
        out.append(
            "Its events by phase: "
            + "; ".join(
                f"{str(p['phase']).replace('_', ' ')} {p.get('events', 0)}"
                + (f" ({p['denied']} denied)" if p.get("denied") else "")
                for p in attacker
            )
            + "."
        )
    esc = story.get("escalation_attempts") or {}
    if esc.get("total"):
        out.append(
            f"It attempted privilege escalation {esc['total']} time(s): {esc.get('denied', 0)} "
            f"denied, {esc.get('succeeded', 0)} succeeded, {esc.get('dry_run', 0)} dry runs, "
            f"{esc.get('failed', 0)} other failures ({_list(esc.get('event_names') or [])})."
        )
    run = story.get("run_instances") or {}
    instances = run.get("instances") or []
    if instances or run.get("attempted_regions"):
        regions = run.get("regions") or []
        text = f"It launched {len(instances)} instance(s) in {len(regions)} region(s) ({_list(regions, 20)})"
        new = run.get("new_regions") or []
        if new:
            text += f"; it touched {len(new)} region(s) the account had never used ({_list(new, 20)})"
        codes = run.get("error_codes") or {}
        if run.get("failed_calls"):
            text += (
                f"; {run['failed_calls']} launch call(s) failed "
                f"({', '.join(f'{k} × {v}' for k, v in sorted(codes.items()))})"
            )
        failed = run.get("failed_regions") or []
        if failed:
            text += f"; in {_list(failed)} no launch succeeded"
        types = run.get("instance_types") or {}
        if types:
            text += ". Types: " + ", ".join(f"{v} × {k}" for k, v in sorted(types.items()))
        out.append(text + ".")
    if facts.pools:
        out.append(
            "The instances mined: VPC flow logs show "
            + "; ".join(
                f"{len(p.get('instances') or [])} instance(s) talking to {p['remote_addr']} on port "
                f"{p['port']} ({p.get('flows', 0):,} flows, {p.get('bytes', 0):,} bytes, "
                f"{fmt_time(p.get('first'))} to {fmt_time(p.get('last'))})"
                for p in facts.pools
            )
            + ", ports of mining pools."
        )
    derived = story.get("derived_credentials") or []
    if derived:
        out.append(f"It minted {len(derived)} credential(s): {_list(derived)}.")
    out.append(_response(story))
    guard = _seen_by(story, "guardduty", "GuardDuty reported")
    out.append(
        (guard + ".")
        if guard
        else "No GuardDuty finding names the intrusion's keys, principals or instances."
    )
    running = story.get("still_running") or []
    if running:
        out.append(
            f"Still running at the end of the evidence: {len(running)} instance(s) "
            f"({_list(running)}). Terminate them and check their regions' bills."
        )
    cost = story.get("cost") or {}
    if cost.get("total") is not None:
        out.append(f"Incident cost billed so far: {fmt_money(cost['total'], cost.get('currency'))}.")
    return [p for p in out if p]


def _response(story: dict[str, Any]) -> str:
    durations = story.get("durations_s") or {}
    quarantine = story.get("aws_quarantine")
    parts = []
    if quarantine:
        parts.append(
            f"AWS quarantined the key at {fmt_time(quarantine.get('time'))} "
            f"({quarantine.get('policy') or 'quarantine policy'}), "
            f"{relative_duration(durations.get('first_use_to_quarantine'), 'first use')}"
        )
    else:
        parts.append("AWS did not quarantine the key in the evidence")
    contained = story.get("containment")
    if contained:
        by = contained.get("by") or []
        parts.append(
            f"responders contained it at {fmt_time(contained.get('time'))} "
            f"({relative_duration(durations.get('first_use_to_containment'), 'first use')}"
            + (f", by {_list(by)}" if by else "")
            + ")"
        )
    else:
        parts.append("no containment by responders appears in the evidence")
    return "; ".join(parts) + "."
