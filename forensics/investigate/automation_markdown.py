"""`--format md` for an automation story (automation.py): what set the function going, how fast it
ran, what it cost by hour, what stopped it and who, and what the evidence covers."""

from __future__ import annotations

from typing import Any

from ..escape import md_code as code
from ..escape import md_text as text
from ..timefmt import format_duration as _dur


def automation_markdown(story: dict[str, Any]) -> str:
    from .markdown import _coverage, _list, _t

    ind = story["indicator"]
    a = story["automation"]
    cost = story["cost"]
    d = story["durations_s"]
    out = [f"# Investigation: {text(ind['type'].replace('_', ' '))} {code(ind['value'])}", ""]
    out += ["## Summary", ""]
    loop = a.get("loop")
    verdict = (
        "an automation incident: the function ran away (no intruder)"
        if a["runaway"]
        else "no runaway loop in this function's own calls (busy, or quiet, but not repeating one write)"
    )
    out += [
        f"- **Function**: {code(a['function_arn'])} ({text(a['region'])}), log group {code(a['log_group'])}",
        f"- **Role**: {_list(a['roles'])}; {a['own_calls']['events']:,} calls of its own "
        f"({a['own_calls']['failed']:,} failed) in {a['own_calls']['sessions']} sessions, "
        f"{_t(a['own_calls']['first'])} to {_t(a['own_calls']['last'])}",
        f"- **Verdict**: {text(verdict)}",
        f"- **Cost**: {cost['total']:.2f} {text(cost['currency'])} (the function's and its log group's usage "
        f"lines, billed until {_t(cost['billed_until'])})",
    ]
    if cost.get("projected"):
        p = cost["projected"]
        out.append(
            f"- **Projected** (estimate, not in the total): {p['amount']:.2f} at "
            f"{p['rate_per_hour']:.2f}/hour from {_t(p['from'])} to {_t(p['to'])}"
        )
    if story["still_running"]:
        out.append(f"- **Still running at the end of the evidence**: {_list(story['still_running'])}")
    out.append("")

    out += ["## Start", ""]
    change = a["start"]["change"]
    if change:
        out.append(
            f"- {_t(change['time'])} {code(change['event_name'])} by {code(change['by'])} from "
            f"{code(change['source_ip'])}: the change that set it going "
            f"({_dur(d['start_change_to_first_call'])} before its first call)"
        )
    else:
        out.append(f"- {text(a['start']['note'])}")
    out.append(f"- First call of the run: {_t(a['start']['time'])}")
    out.append("")

    if loop:
        out += [
            "## The loop",
            "",
            f"- {loop['calls']:,} identical {code(loop['event_name'])} calls on {code(loop['resource'])} "
            f"from {_t(loop['first_call'])} to {_t(loop['last_call'])} ({_dur(d['loop'])}), "
            f"{loop['failed']:,} failed ({code(loop['error_code'])})",
            f"- Rate: {loop['calls_per_minute']} calls a minute ({loop['calls_per_hour']} an hour) in "
            f"{loop['sessions']} sessions of its role",
        ]
        inv = a["invocations"]
        if inv["total"]:
            out.append(
                f"- Invocations billed: {inv['total']:,} (at most {inv['peak_per_hour']:,} in one hour)"
            )
        out.append("")

    out += ["## Stop", ""]
    stop = a["stop"]
    if stop:
        out.append(
            f"- {_t(stop['time'])} {code(stop['event_name'])} by {code(stop['by'])} from "
            f"{code(stop['source_ip'])}: {code(stop['request'])}"
        )
        out.append(
            f"- {_dur(d['first_call_to_stop'])} after the first call; the last call was "
            f"{_dur(d['last_call_to_stop'])} before the stop"
            if (d["last_call_to_stop"] or 0) >= 0
            else f"- {_dur(d['first_call_to_stop'])} after the first call; calls went on "
            f"{_dur(-d['last_call_to_stop'])} after it"
        )
    else:
        out.append("- No change that stops the function (concurrency 0, rule disabled or deleted, trigger")
        out.append("  removed, function deleted) is in the evidence after it started.")
    out.append("")

    if cost["by_hour"]:
        out += ["## Cost by hour", "", "| hour | cost | invocations |", "|---|---:|---:|"]
        inv_by_hour = a["invocations"]["by_hour"]
        for hour, amount in list(cost["by_hour"].items())[:48]:
            out.append(f"| {_t(hour)} | {amount:.2f} | {inv_by_hour.get(hour, '')} |")
        if len(cost["by_hour"]) > 48:
            out.append(f"| and {len(cost['by_hour']) - 48} more hours | | |")
        ex = cost["excluded"]
        if any(ex.values()):
            out.append("")
            out.append("Not in the total: " + ", ".join(f"{text(k)} {v:.2f}" for k, v in ex.items() if v))
        out.append("")
    out += _coverage(story["coverage"])
    return "\n".join(out).rstrip() + "\n"
