"""The hunt: every detection in the catalogue over a case, rows folded into findings.

A detection returns one row per event (or per burst, flow stream, cost run); an analyst wants one
finding per thing that happened: per detection and per principal, key and address. GuardDuty
findings and Health events (the `findings` table, through their own detections) stay one finding
each, with `source` saying where they came from. The JSON shape is DESIGN.md's `hunt` document.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from .attack import names as attack_names
from .catalog import Query
from .errors import ForensicsError, ParameterError

if TYPE_CHECKING:
    from .case import Case

log = logging.getLogger(__name__)
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_INSTANCE = re.compile(r"^i-[0-9a-fA-F]{8,17}$")
# Detections over the findings table keep their origin as the finding's source.
_FINDING_SOURCES = {"guardduty_findings": "guardduty", "health_risk_events": "health"}
_COUNT_COLUMNS = ("events", "flows", "count")
# A finding lists at most this many event ids; `event_ids_total` says how many there are.
EVENT_IDS_LIMIT = 1000


def parse_time(value: Any) -> datetime | None:
    """A time given to the hunt: datetime, date, or ISO text (`Z`, offsets, date-only); UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        t = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(f"not a time: {value!r} (use ISO 8601, e.g. 2026-11-16T02:00:00Z)") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def iso(value: Any) -> str | None:
    """ISO 8601 UTC with `Z`, as every face prints times."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def detections(case: Case) -> list[Query]:
    """The catalogue's detections, in id order."""
    return [q for _, q in sorted(case.queries().items()) if q.kind == "detection"]


def run_hunt(
    case: Case,
    from_time: Any = None,
    to_time: Any = None,
    on_problem: Callable[[str], None] | None = None,
    only: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Run every detection (optionally within from/to) and return findings sorted by first_seen.

    A detection that fails in the engine does not stop the hunt: the others still run, and the
    failure is reported through `on_problem` (by default a warning on the `forensics.hunt`
    logger), naming the query.
    """
    start, end = parse_time(from_time), parse_time(to_time)
    if start and end and start > end:
        raise ParameterError("--from is after --to")
    report = on_problem or log.warning
    wanted = set(only) if only is not None else None
    findings: list[dict[str, Any]] = []
    case.cache_shared_views()  # most detections read the same case-wide definitions
    chosen = [q for q in detections(case) if wanted is None or q.id in wanted]
    rules = [q for q in chosen if q.meta.get("rule")]
    if rules:  # every single-event rule in one scan, its rows folded per rule
        findings.extend(_rule_findings(case, rules, start, end, report))
    for q in chosen:
        if q.meta.get("rule"):
            continue
        names = {p.name for p in q.params}
        params = {k: v for k, v in (("from_time", start), ("to_time", end)) if k in names and v is not None}
        try:
            rows = case.query(q.id, **params).to_dicts()
        except ForensicsError as exc:
            report(f"hunt: {exc}")
            continue
        findings.extend(fold(q, rows))
    findings.sort(key=lambda f: (f["first_seen"] or "", -SEVERITY_RANK.get(f["severity"], 0), f["detection"]))
    return findings


def _rule_findings(
    case: Case, rules: list[Query], start: Any, end: Any, report: Callable[[str], None]
) -> list[dict[str, Any]]:
    from .rules import compile_rules, load_rules

    every = load_rules()
    sql = compile_rules([every[q.id] for q in rules])
    params = {"from_time": start, "to_time": end}
    try:
        rows = case.sql(sql, **params).to_dicts()
    except ForensicsError as exc:
        report(f"hunt: rules: {exc}")
        return []
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_rule.setdefault(row["detection"], []).append(row)
    out = []
    for q in rules:
        out.extend(fold(q, by_rule.get(q.id, [])))
    return out


def fold(q: Query, rows: list[dict[str, Any]], gap_hours: float = 12) -> list[dict[str, Any]]:
    """One detection's rows as findings: grouped per principal, key and address, and split where
    a group goes quiet for gap_hours (two episodes are two findings); findings from GuardDuty or
    Health stay one each."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        if q.id in _FINDING_SOURCES:
            key: tuple = (row.get("event_id"),)
        else:
            key = (row.get("principal_arn"), row.get("access_key_id"), row.get("source_ip"))
        groups.setdefault(key, []).append(row)
    findings = []
    for group in groups.values():
        group.sort(key=_row_order)
        episode: list[dict[str, Any]] = []
        for row in group:
            if (
                episode
                and (
                    _ts(row.get("event_time"))
                    - _ts(episode[-1].get("last_time") or episode[-1].get("event_time"))
                ).total_seconds()
                > gap_hours * 3600
            ):
                findings.append(_finding(q, episode))
                episode = []
            episode.append(row)
        findings.append(_finding(q, episode))
    return findings


def _finding(q: Query, rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = sorted(rows, key=_row_order)  # ties broken by content: the same finding from any engine
    worst = max(rows, key=lambda r: SEVERITY_RANK.get(str(r.get("severity")), 0))
    first = rows[0]
    last_seen = max((_ts(r.get("last_time") or r.get("event_time")) for r in rows), default=None)
    source = _FINDING_SOURCES.get(q.id, "query")
    title = q.title
    if source != "query":
        title = str(first.get("title") or first.get("type") or q.title)
    count_col = next((c for c in _COUNT_COLUMNS if c in first and first[c] is not None), None)
    count = sum(int(r.get(count_col) or 0) for r in rows) if count_col else len(rows)
    tactic = worst.get("tactic") or q.tactic
    finding: dict[str, Any] = {
        "account_id": _account_of(rows),
        "detection": q.id,
        "source": source,
        "title": title,
        "severity": worst.get("severity") or q.severity,
        "tactic": tactic,
        "tactics": _tactics(q, rows, tactic),
        "attack": list(q.attack),
        "attack_names": attack_names(q.attack),
        "principal_arn": first.get("principal_arn"),
        "access_key_id": first.get("access_key_id"),
        "source_ip": first.get("source_ip"),
        "entities": _entities(rows),
        "first_seen": iso(first.get("event_time")),
        "last_seen": iso(last_seen) if last_seen and last_seen > datetime.min.replace(tzinfo=UTC) else None,
        "count": count,
        "regions": sorted({str(r["region"]) for r in rows if r.get("region")}),
    }
    if any("baseline_hours" in r for r in rows):  # history matters: how much there was at first
        finding["baseline_hours"] = first.get("baseline_hours")
    finding.update(_extras(q, rows))
    return finding


def _row_order(row: dict[str, Any]) -> tuple:
    """Time order, ties broken by the row's content (an engine may return tied rows, and the
    lists in them, in any order)."""
    content = json.dumps(_canonical(row), sort_keys=True, default=str)
    return (_ts(row.get("event_time")), str(row.get("event_id") or ""), content)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, float):
        return round(value, 6)
    return value


def _account_of(rows: list[dict[str, Any]]) -> str | None:
    """The account the finding's first row names (its own column, else the principal's ARN)."""
    for r in sorted(rows, key=lambda r: _ts(r.get("event_time"))):
        if r.get("account_id"):
            return str(r["account_id"])
        arn = str(r.get("principal_arn") or "")
        if arn.startswith("arn:") and len(parts := arn.split(":")) > 4 and parts[4].isdigit():
            return parts[4]
    return None


def _tactics(q: Query, rows: list[dict[str, Any]], primary: str | None) -> list[str]:
    """Every tactic the finding's behaviour serves, the primary first (DESIGN.md): a row's own
    `tactic` and `tactics` columns where the detection says them per row, else the header's."""
    per_row = [t for r in rows for t in [r.get("tactic"), *(r.get("tactics") or ())]]
    if not any("tactics" in r for r in rows):
        per_row += list(q.tactics)
    return list(dict.fromkeys(t for t in [primary, *per_row] if t))


def _entities(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    def distinct(values: Iterable[Any]) -> list[str]:
        return sorted({str(v) for v in values if v not in (None, "")})

    instances: list[Any] = []
    resources: list[Any] = []
    for r in rows:
        for col in ("instance_id", "instances"):
            value = r.get(col)
            instances.extend(value if isinstance(value, list) else [value])
        for part in str(r.get("resource") or "").split(","):
            part = part.strip()
            if part:
                (instances if _INSTANCE.match(part) else resources).append(part)
    return {
        "principals": distinct(r.get("principal_arn") for r in rows),
        "access_keys": distinct(r.get("access_key_id") for r in rows),
        "source_ips": distinct(r.get("source_ip") for r in rows),
        "instances": distinct(i for i in instances if i and _INSTANCE.match(str(i))),
        "resources": distinct(resources),
    }


def _extras(q: Query, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a detection says beyond the shared columns, summed up for the finding."""
    ids = list(
        dict.fromkeys(
            str(i)
            for r in rows
            for i in (r["event_ids"] if r.get("event_ids") is not None else [r.get("event_id")])
            if i
        )
    )
    # every event id the detection names (a burst of 34 events carries 34), up to a stated limit
    out: dict[str, Any] = {"event_ids": ids[:EVENT_IDS_LIMIT], "event_ids_total": len(ids)}
    outcomes = Counter(str(r["outcome"]) for r in rows if r.get("outcome"))
    if outcomes:
        out["outcomes"] = dict(sorted(outcomes.items()))
    names = {str(r["event_name"]) for r in rows if r.get("event_name")}
    for r in rows:
        names.update(str(n) for n in (r.get("event_names") or []))
    if names:
        out["event_names"] = sorted(names)
    errors = Counter(str(r["error_code"]) for r in rows if r.get("error_code"))
    if errors:
        out["error_codes"] = dict(sorted(errors.items()))
    if any("outcome" in r for r in rows) and any(r.get("region") for r in rows):
        out["regions_succeeded"] = sorted(
            {str(r["region"]) for r in rows if r.get("outcome") == "success" and r.get("region")}
        )
    for col in ("instance_types", "regions_attempted"):
        merged = {str(v) for r in rows for v in (r.get(col) or [])}
        if merged:
            out[col] = sorted(merged)
    costs = [float(r["cost"]) for r in rows if isinstance(r.get("cost"), (int, float))]
    if costs:
        out["cost"] = round(sum(costs), 2)
        out["currency"] = next((r.get("currency") for r in rows if r.get("currency")), None)
    if q.description:
        out["description"] = q.description
    return out


def _ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def summary(findings: list[dict[str, Any]]) -> dict[str, int]:
    """Findings per severity, most severe first."""
    counts = Counter(f["severity"] for f in findings)
    return {s: counts[s] for s in sorted(counts, key=lambda s: -SEVERITY_RANK.get(s, 0))}
