"""`--format md`: the story as an analyst reads it, in the order things happened, with the
numbers that matter and what the evidence cannot show."""

from __future__ import annotations

from typing import Any

from ..escape import md_code as code
from ..escape import md_text as text
from ..timefmt import format_duration as _dur
from ..timefmt import format_relative, format_time

# Every value from the evidence (names, agents, types, policies, regions: what an intruder
# could have typed) is written through `code` or `text`; numbers and our own words are not.


def _t(value: Any, missing: str | None = None) -> str:
    """A time in the one human format; text that is not a time is escaped like any evidence."""
    return text(format_time(value) if missing is None else format_time(value, missing))


def _list(items: list[Any], limit: int = 12) -> str:
    shown = [code(i) for i in items[:limit]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more if shown else "none"


def story_markdown(story: dict[str, Any]) -> str:
    """A readable account of `investigate`'s story."""
    if story.get("kind") == "automation":
        from .automation_markdown import automation_markdown

        return automation_markdown(story)
    ind = story["indicator"]
    first = story.get("first_use") or {}
    run = story["run_instances"]
    out = [f"# Investigation: {text(ind['type'].replace('_', ' '))} {code(ind['value'])}", ""]
    out += ["## Summary", ""]
    if not first:
        out += ["No activity attributable to an intrusion was found for this indicator.", ""]
    else:
        out += [
            f"- **Principal**: {code(story['principal_arn'])}"
            + (f" (and {len(story['principals']) - 1} more)" if len(story["principals"]) > 1 else ""),
            f"- **Access keys**: {_list(story['access_keys'])}; key first seen {_t(story['key_first_seen'])}",
            f"- **First use**: {_t(first['time'])} from {code(first['source_ip'])} "
            f"({text(first['event_name'])} in {text(first['region'])}), "
            f"user agent {code(first['user_agent'])}",
            f"- **Intruder addresses**: {_list(story['source_ips'])}",
        ]
        d = story["durations_s"]
        out += [
            f"- **First launch** {_dur(d['first_use_to_run_instances'])} after first use; "
            f"**AWS quarantine** after {_dur(d['first_use_to_quarantine'])}; "
            f"**containment** after {_dur(d['first_use_to_containment'])}",
        ]
        cost = story["cost"]
        out.append(
            f"- **Incident cost**: {cost['total']:.2f} {text(cost['currency'])}"
            + ("" if cost["total"] else " (no billed resource linked)")
        )
        if story["still_running"]:
            out.append(f"- **Still running at the end of the evidence**: {_list(story['still_running'])}")
        out.append("")
    if story["derived_credentials"]:
        out += ["## Credentials the intrusion minted", ""]
        for d in story["derivations"]:
            out.append(
                f"- {_t(d['time'])} {code(d['event_name'])} by {code(d['by'])} → {code(d['credential'])}"
                + (f" (user {code(d['user_name'])})" if d.get("user_name") else "")
            )
        out.append("")
    out += _phases(story)
    esc = story["escalation_attempts"]
    if esc["total"]:
        out += [
            "## Privilege escalation attempts",
            "",
            f"{esc['total']} attempts ({esc['denied']} denied, {esc['succeeded']} succeeded, "
            f"{esc['failed']} failed): {_list(esc['event_names'])}",
            "",
        ]
    out += _impact(run, story)
    out += _response(story)
    out += _coverage(story["coverage"])
    return "\n".join(out).rstrip() + "\n"


def _phases(story: dict[str, Any]) -> list[str]:
    if not story["phases"]:
        return []
    out = [
        "## Phases",
        "",
        "| phase | start | end | events | denied | notable calls |",
        "|---|---|---|---:|---:|---|",
    ]
    for p in story["phases"]:
        out.append(
            f"| {text(p['phase'])} | {_t(p['start'])} | {_t(p['end'])} | {p['events']} | "
            f"{p['denied']} | {', '.join(text(n) for n in p['notable'])} |"
        )
    return out + [""]


def _impact(run: dict[str, Any], story: dict[str, Any]) -> list[str]:
    if not run["attempted_regions"]:
        return []
    out = [
        "## Launches",
        "",
        f"- Attempted in {len(run['attempted_regions'])} regions, succeeded in "
        f"{len(run['regions'])}"
        + (
            f", of which {len(set(run['regions']) & set(run['new_regions']))} new"
            if run["new_regions"] is not None
            else ""
        )
        + f": {_list(run['regions'], 20)}",
        f"- Failed regions: {_list(run['failed_regions'], 20)}; "
        f"{run['failed_calls']} refused calls "
        f"({', '.join(f'{text(k)} ×{v}' for k, v in run['error_codes'].items()) or 'none'})",
        "- New regions (never used before first use), attempted: "
        + (
            _list(run["new_regions"], 20)
            if run["new_regions"] is not None
            else "unknown (less than a day of evidence before first use)"
        ),
        f"- {len(run['instances'])} instances: "
        + ", ".join(f"{code(t)} ×{n}" for t, n in run["instance_types"].items()),
        "",
    ]
    if story.get("flows"):
        out += [
            "Top flows of those instances:",
            "",
            "| remote | port | bytes | flows |",
            "|---|---:|---:|---:|",
        ]
        for f in story["flows"][:10]:
            out.append(f"| {text(f['remote_addr'])} | {text(f['port'])} | {f['bytes']:,} | {f['flows']} |")
        out.append("")
    cost = story["cost"]
    if cost["by_region"]:
        out += [
            "Cost by region: "
            + ", ".join(
                f"{text(r)} {v:.2f}" for r, v in sorted(cost["by_region"].items(), key=lambda kv: -kv[1])
            ),
            "",
        ]
    return out


def _response(story: dict[str, Any]) -> list[str]:
    out = ["## Response", ""]
    q = story.get("aws_quarantine")
    out.append(
        f"- AWS quarantine: {code(q['policy'])} at {_t(q['time'])}"
        if q
        else "- AWS quarantine: none in the evidence"
    )
    for h in story.get("health_events") or []:
        out.append(f"- {text(h['source'])} finding {code(h['type'])} at {_t(h['first_seen'])}")
    c = story.get("containment")
    if c:
        names = sorted({e["event_name"] for e in c["events"]})
        out.append(
            f"- Containment from {_t(c['time'])} by {_list(c['by'])}: "
            f"{len(c['events'])} calls ({', '.join(text(n) for n in names)})"
        )
    else:
        out.append("- Containment: no responder action on the intrusion's resources found")
    return out + [""]


def _coverage(cov: dict[str, Any]) -> list[str]:
    out = [
        "## Evidence coverage",
        "",
        f"CloudTrail from {_t(cov['from'])} to {_t(cov['to'])}, accounts {_list(cov['accounts'])}, "
        f"{len(cov['regions'])} regions.",
        "",
    ]
    for name, src in cov["sources"].items():
        out.append(
            f"- {text(name)}: {src['records']:,} records in {src['files']:,} files"
            + (f", {_t(src['from'])} to {_t(src['to'])}" if src["from"] else "")
        )
    if cov["gaps"]:
        out += ["", 'Gaps (what "not found" may hide):', ""]
        for g in cov["gaps"][:20]:
            span = f" {_t(g['from'])} to {_t(g['to'])}" if g.get("from") else ""
            out.append(f"- {text(g['kind'])}{span}: {text(g['detail'])}")
        if len(cov["gaps"]) > 20:
            out.append(f"- and {len(cov['gaps']) - 20} more")
    return out + [""]


def profile_markdown(prof: dict[str, Any]) -> str:
    """A profile as text: seen, activity, what is new against the baseline, related."""
    out = [
        f"# Profile: {text(prof['kind'].replace('_', ' '))} {code(prof['entity'])}",
        "",
        f"- First seen {_t(prof['first_seen'])}, last seen {_t(prof['last_seen'])}",
        f"- Scope {_t(prof['scope']['from'])} to {_t(prof['scope']['to'])} "
        f"({prof['events']['in_scope']} of {prof['events']['total']} events)",
        f"- Baseline {_t(prof['baseline']['from'])} to {_t(prof['baseline']['to'])} "
        f"({prof['baseline']['days']} of {prof['baseline']['requested_days']} days available)",
        "",
        "## Newly observed in scope",
        "",
    ]
    for label, items in prof["newly_observed"].items():
        out.append(f"- {text(label.replace('_', ' '))}: {_list([i['value'] for i in items], 8)}")
    out += [
        "",
        "## Activity",
        "",
        "| bucket | calls | succeeded | failed | denied |",
        "|---|---:|---:|---:|---:|",
    ]
    for a in prof["activity"]:
        out.append(f"| {_t(a['bucket'])} | {a['calls']} | {a['succeeded']} | {a['failed']} | {a['denied']} |")
    out += ["", "## Related", ""]
    for col, items in prof["related"].items():
        out.append(
            f"- {text(col)}: "
            + (", ".join(f"{code(i['value'])} ({i['events']})" for i in items[:8]) or "none")
        )
    if prof["flows"]:
        out += ["", "## Flows", "", "| remote | port | bytes out | bytes in |", "|---|---:|---:|---:|"]
        for f in prof["flows"][:15]:
            out.append(
                f"| {text(f['remote_addr'])} | {text(f['port'])} | {f['bytes_out']:,} | {f['bytes_in']:,} |"
            )
    return "\n".join(out) + "\n"


def budget_markdown(rep: dict[str, Any]) -> str:
    out = [
        f"# Budget replay: {rep['month']}, budget {rep['budget']:.2f} {rep['currency']}",
        "",
        f"Month-to-date spend {rep['month_to_date']:.2f} {rep['currency']} over "
        f"{rep['billed_hours']} billed hours ({rep['granularity']} billing); "
        f"Budgets' evaluation lag {_dur(rep['lag_hours'] * 3600)}.",
        "",
    ]
    if rep.get("function"):
        out.append(
            f"A budget on {code(rep['function'])} alone (its and its log group's lines); "
            f"its run began {_t(rep['run_start'])}, stopped {_t(rep['stopped'], 'never')}."
        )
        out.append("")
    if rep["first_use"]:
        out.append(f"First use {_t(rep['first_use'])}; AWS quarantine {_t(rep['aws_quarantine'])}.")
        out.append("")
    since = "after run start" if rep.get("function") else "after first use"
    out += [
        f"| threshold | amount | crossed in hour | fires | with lag | {since} |",
        "|---:|---:|---|---|---|---|",
    ]
    for a in rep["alerts"]:
        after = a["after_run_start_with_lag_s"] if rep.get("function") else a["after_first_use_with_lag_s"]
        out.append(
            f"| {a['threshold_pct']}% | {a['amount']:.2f} | {_t(a['crossed_hour'], '—')} | "
            f"{_t(a['fires_at'], 'never')} | {_t(a['fires_at_with_lag'], 'never')} | "
            f"{format_relative(after)} |"
        )
    return "\n".join(out) + "\n"
