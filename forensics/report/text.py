"""The story in words: short sentences built from the investigate story's facts.

Every sentence is plain text (the page escapes it); a fact the story lacks is left out rather
than guessed, and absence is said plainly where it matters (no quarantine, no containment).
"""

from __future__ import annotations

from typing import Any

from ..investigate.context import iso, parse_time
from ..investigate.phases import ACTOR_PHASES


def fmt_time(value: Any) -> str:
    """ISO 8601 UTC with Z, or an em dash."""
    if value in (None, ""):
        return "—"
    return iso(parse_time(value)) or "—"


def fmt_duration(seconds: float | int | None) -> str:
    """`3627` → `1 h 0 min 27 s`; a negative span reads `… before`."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    suffix, s = (" before", -s) if s < 0 else ("", s)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    parts = [f"{days} d"] if days else []
    if days or hours:
        parts.append(f"{hours} h")
    if days or hours or minutes:
        parts.append(f"{minutes} min")
    parts.append(f"{s} s")
    return " ".join(parts) + suffix


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


def headline(story: dict[str, Any]) -> str:
    return f"Postmortem: {_indicator(story)}"


def narrative(story: dict[str, Any]) -> list[str]:
    """The story as a few paragraphs, in the order an analyst would tell it."""
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
    derived = story.get("derived_credentials") or []
    if derived:
        out.append(f"It minted {len(derived)} credential(s): {_list(derived)}.")
    out.append(_response(story))
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
            f"{fmt_duration(durations.get('first_use_to_quarantine'))} after first use"
        )
    else:
        parts.append("AWS did not quarantine the key in the evidence")
    contained = story.get("containment")
    if contained:
        by = contained.get("by") or []
        parts.append(
            f"responders contained it at {fmt_time(contained.get('time'))} "
            f"({fmt_duration(durations.get('first_use_to_containment'))} after first use"
            + (f", by {_list(by)}" if by else "")
            + ")"
        )
    else:
        parts.append("no containment by responders appears in the evidence")
    return "; ".join(parts) + "."
