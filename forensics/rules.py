"""Single-event rules as data: `queries/rules/<family>.yaml`, evaluated in one scan of `cloudtrail`.

A rule is one behaviour that a single CloudTrail record shows: an event source and name (written
as IAM writes actions, `s3:PutBucketPolicy`), an outcome, and a predicate on the request. Stateful
detections (first use, bursts, sequences) stay `.sql` files; these are the many simple ones, kept
as data so that the whole set costs one pass over the evidence, not one per rule.

    rules:
      - id: s3_bucket_policy_public          # unique across the catalogue
        title: ...
        tactics: [exfiltration, ...]         # DESIGN.md phase names, the primary first
        attack: [TA0010:T1537]               # TA:T pairs, checked against the pinned ATT&CK table
        severity: high                       # what the behaviour is, when it succeeded
        severity_when: [{when: SQL, severity: low}]   # first match wins, before the base
        severity_if_new: medium              # when the actor or its address is new (see below)
        events: [s3:PutBucketPolicy]
        outcome: success                     # success (default) | any: refused or failed attempts
                                             # count too, at low severity
        where: SQL predicate over the cloudtrail row (`req`: request_parameters as text,
               `acct`: the account the resource belongs to)
        resource: SQL expression naming what was touched (default: the request's usual naming
                  parameter, `default_resource`)
        description: ...
        falsepositives: [...]
        tests: [fixture cases, as in <id>.tests.yaml: records that fire, near misses that do not]

`compile_rules` turns any set of rules into one SELECT: the scan is gated on the rules' event
sources and names, each record joins the rules of its call, and a CASE on the rule id applies
that rule's predicate; every matching row is tagged with the rule id and carries the detections'
shared leading columns. Each rule is also a catalogue entry of its own (`forensics query ID`),
whose SQL is the same compiler applied to that one rule.

Novelty (severity_if_new) uses the vocabulary's definitions: the address is new when the event's
network is new for its identity (`identity_network.is_new`, DESIGN.md New network) and the event
falls within a day of that network's first use; the actor is new when this is the first time the
acting identity (`actor_of`) shows the behaviour and it has at least a day of history before it
(with less, novelty is unknown, and unknown is not new).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import ForensicsError

SEVERITIES = ("info", "low", "medium", "high", "critical")
PHASES = (
    "initial_access", "execution", "discovery", "credential_access", "privilege_escalation",
    "persistence", "defense_evasion", "lateral_movement", "exfiltration", "impact", "aws_response",
    "containment",
)  # fmt: skip
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_API = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
_KEYS = {
    "id", "title", "tactics", "attack", "severity", "severity_when", "severity_if_new", "events",
    "outcome", "where", "resource", "description", "falsepositives", "tests", "stratus",
}  # fmt: skip
# What a rule touched when it does not say: the request's usual naming parameters, in order.
DEFAULT_RESOURCE = (
    "bucketName", "keyId", "dBInstanceIdentifier", "dBClusterIdentifier", "functionName",
    "roleName", "userName", "groupName", "name", "ruleName", "alarmNames", "detectorId",
    "networkAclId", "routeTableId", "vpcPeeringConnectionId", "internetGatewayId", "instanceId",
    "projectName", "secretId", "domainName", "cluster", "webACLArn", "resourceArn", "arn",
)  # fmt: skip


# The cloudtrail columns a rule's expressions may use: all but the whole record (`raw`) and the
# envelope, which would cost the scan their decompression for every row group the gate touches.
COLUMNS = (
    "event_time", "event_id", "event_name", "event_source", "aws_region", "source_ip",
    "source_is_ip", "user_agent", "principal_type", "principal_arn", "principal_id", "account_id",
    "user_name", "access_key_id", "session_issuer_arn", "session_issuer_type", "session_name",
    "mfa_authenticated", "ec2_role_delivery", "invoked_by", "error_code", "error_message", "outcome",
    "read_only", "event_type", "event_category", "recipient_account_id", "vpc_endpoint_id",
    "instance_ids", "instance_type", "target_user_name", "policy_arn", "created_access_key_id",
    "request_parameters", "response_elements",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    tactics: tuple[str, ...]
    attack: tuple[str, ...]
    severity: str
    events: tuple[str, ...]
    family: str
    path: str
    outcome: str = "success"
    where: str | None = None
    resource: str | None = None
    severity_when: tuple[tuple[str, str], ...] = ()
    severity_if_new: str | None = None
    description: str = ""
    falsepositives: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def tactic(self) -> str:
        return self.tactics[0]


def rules_dir() -> Path:
    from .catalog import queries_dir

    return queries_dir() / "rules"


def _fail(path: Path, rule_id: Any, message: str) -> None:
    raise ForensicsError(f"rule {rule_id!r}: {message}", path=str(path))


def parse_rule(spec: dict[str, Any], family: str, path: Path) -> Rule:
    rid = spec.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        _fail(path, rid, "id must be lower_snake_case")
    unknown = set(spec) - _KEYS
    if unknown:
        _fail(path, rid, f"unknown keys {sorted(unknown)}")
    for key in ("title", "tactics", "attack", "severity", "events", "description"):
        if not spec.get(key):
            _fail(path, rid, f"{key} is required")
    tactics = tuple(spec["tactics"])
    if bad := [t for t in tactics if t not in PHASES]:
        _fail(path, rid, f"tactics {bad} are not phase names")
    sev = [spec["severity"], spec.get("severity_if_new") or "info"]
    sev += [w.get("severity") for w in spec.get("severity_when") or ()]
    if bad := [s for s in sev if s not in SEVERITIES]:
        _fail(path, rid, f"severities {bad} are not {SEVERITIES}")
    if bad := [e for e in spec["events"] if not _API.match(str(e))]:
        _fail(path, rid, f"events {bad} are not service:EventName")
    if spec.get("outcome", "success") not in ("success", "any"):
        _fail(path, rid, "outcome is success or any")
    if bad := [a for a in spec["attack"] if not re.fullmatch(r"TA\d{4}:T\d{4}(\.\d{3})?", str(a))]:
        _fail(path, rid, f"attack ids {bad} are not TA0000:T0000[.000]")
    tests = spec.get("tests") or []
    if not any(t.get("fires", True) for t in tests) or not any(not t.get("fires", True) for t in tests):
        _fail(path, rid, "tests need a case that fires and a near miss that does not")
    return Rule(
        id=rid,
        title=str(spec["title"]).strip(),
        tactics=tactics,
        attack=tuple(spec["attack"]),
        severity=spec["severity"],
        events=tuple(spec["events"]),
        family=family,
        path=str(path),
        outcome=spec.get("outcome", "success"),
        where=(spec.get("where") or "").strip() or None,
        resource=(spec.get("resource") or "").strip() or None,
        severity_when=tuple((w["when"].strip(), w["severity"]) for w in spec.get("severity_when") or ()),
        severity_if_new=spec.get("severity_if_new"),
        description=" ".join(str(spec["description"]).split()),
        falsepositives=tuple(spec.get("falsepositives") or ()),
        meta=spec,
    )


@lru_cache(maxsize=4)
def _load(root: str) -> tuple[dict[str, Rule], dict[str, dict[str, Any]]]:
    rules: dict[str, Rule] = {}
    families: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(root).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        family = path.stem
        families[family] = {k: v for k, v in doc.items() if k != "rules"}
        for spec in doc.get("rules") or []:
            rule = parse_rule(spec, family, path)
            if rule.id in rules:
                _fail(path, rule.id, "duplicate rule id")
            rules[rule.id] = rule
    return rules, families


def load_rules() -> dict[str, Rule]:
    """Every rule by id (empty when the installation has no rules folder)."""
    root = rules_dir()
    return dict(_load(str(root))[0]) if root.is_dir() else {}


def suite(rule_id: str) -> dict[str, Any]:
    """A rule's fixtures in the shape of a `<id>.tests.yaml`: the family's actors and defaults,
    the rule's own cases."""
    rules, families = _load(str(rules_dir()))
    rule = rules[rule_id]
    fam = families.get(rule.family, {})
    return {
        "actors": fam.get("actors") or {},
        "defaults": fam.get("defaults") or {},
        "cases": list(rule.meta.get("tests") or []),
    }


# -- the compiler ------------------------------------------------------------------------------
def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _resource(rule: Rule) -> str:
    return rule.resource or "default_resource"


def _default_resource() -> str:
    parts = ", ".join(f"json_extract_string(c.request_parameters, '$.{k}')" for k in DEFAULT_RESOURCE)
    return f"coalesce({parts}, c.event_name)"


def _severity(rule: Rule) -> str:
    failed = "info" if rule.severity == "info" else "low"
    arms = [f"WHEN outcome <> 'success' THEN {_lit(failed)}"]
    arms += [f"WHEN ({when}) THEN {_lit(sev)}" for when, sev in rule.severity_when]
    if rule.severity_if_new:
        arms.append(f"WHEN new_actor OR new_address THEN {_lit(rule.severity_if_new)}")
    return f"CASE {' '.join(arms)} ELSE {_lit(rule.severity)} END"


def _case(rules: list[Rule], expr: Any) -> str:
    arms = "\n".join(f"        WHEN {_lit(r.id)} THEN {expr(r)}" for r in rules)
    return f"CASE rule_id\n{arms}\n    END"


def compile_rules(rules: list[Rule]) -> str:
    """One SELECT over `cloudtrail` evaluating every rule given (DuckDB SQL on the vocabulary;
    `$from_time`/`$to_time` select what is reported, novelty reads all earlier evidence)."""
    if not rules:
        raise ForensicsError("no rules to compile")
    pairs = sorted({(r.id, e) for r in rules for e in r.events})
    sources = sorted({e.split(":")[0] + ".amazonaws.com" for _, e in pairs})
    names = sorted({e.split(":")[1] for _, e in pairs})
    values = ",\n        ".join(f"({_lit(rid)}, {_lit(api)})" for rid, api in pairs)

    def match(r: Rule) -> str:
        cond = "outcome = 'success'" if r.outcome == "success" else "outcome <> 'dry_run'"
        return f"({cond}) AND ({r.where or 'true'})"

    return f"""WITH rule_event (rule_id, api) AS (
    VALUES
        {values}
),
gated AS (   -- the one scan: only the calls some rule names, made by principals
    SELECT {", ".join("c." + col for col in COLUMNS)},
           api_of(c.event_source, c.event_name) AS api,
           CAST(c.request_parameters AS VARCHAR) AS req,
           CAST(c.response_elements AS VARCHAR) AS resp,
           resource_account(c.recipient_account_id, c.account_id) AS acct,
           identity_account(c.account_id, c.principal_arn, c.recipient_account_id) AS id_acct,
           actor_of(c.session_issuer_arn, c.principal_arn) AS actor,
           {_default_resource()} AS default_resource
    FROM cloudtrail c
    WHERE c.event_source IN ({", ".join(map(_lit, sources))})
      AND c.event_name IN ({", ".join(map(_lit, names))})
      AND is_principal_action(c.principal_type)
),
matched AS (
    SELECT g.*, r.rule_id
    FROM gated g JOIN rule_event r ON r.api = g.api
    WHERE {_case(rules, match)}
),
actor_history AS (   -- when each acting identity first appears anywhere in the evidence
    SELECT identity_account(account_id, principal_arn, recipient_account_id) AS id_acct,
           actor_of(session_issuer_arn, principal_arn) AS actor, min(event_time) AS first_seen
    FROM cloudtrail
    WHERE actor_of(session_issuer_arn, principal_arn) IN (SELECT actor FROM matched)
    GROUP BY 1, 2
),
judged AS (
    SELECT m.*,
           coalesce(
               m.event_time >= h.first_seen + INTERVAL 1 DAY
               AND m.event_time = min(m.event_time) OVER (PARTITION BY m.rule_id, m.id_acct, m.actor),
               false) AS new_actor,
           coalesce(n.is_new AND m.event_time < n.first_seen + INTERVAL 1 DAY, false) AS new_address
    FROM matched m
    LEFT JOIN actor_history h ON h.id_acct = m.id_acct AND h.actor = m.actor
    LEFT JOIN addresses a ON a.address = m.source_ip
    LEFT JOIN identity_network n
           ON has_caller_network(m.source_is_ip, m.invoked_by, m.principal_type)
          AND n.account_id = m.id_acct
          AND n.identity = novelty_identity(m.access_key_id, m.session_issuer_arn, m.principal_arn)
          AND n.network = coalesce(a.network, m.source_ip)
)
SELECT
    event_time,
    rule_id AS detection,
    {_case(rules, _severity)} AS severity,
    {_case(rules, lambda r: _lit(r.tactic))} AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region AS region,
    {_case(rules, _resource)} AS resource,
    event_id,
    event_name,
    outcome,
    error_code,
    id_acct AS account_id,
    new_actor,
    new_address
FROM judged
WHERE ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, event_id, detection"""


@lru_cache(maxsize=2)
def _combined(root: str) -> str:
    return compile_rules(list(_load(root)[0].values()))


def combined_sql() -> str:
    """Every rule in one SELECT (what the hunt runs)."""
    return _combined(str(rules_dir()))


def as_queries() -> dict[str, Any]:
    """Each rule as a catalogue entry (kind detection, `meta["rule"]` set), its SQL the compiler's
    output for that rule alone."""
    from .catalog import Param, Query

    out = {}
    for r in load_rules().values():
        out[r.id] = Query(
            id=r.id,
            title=r.title,
            kind="detection",
            sources=("cloudtrail",),
            sql=compile_rules([r]),
            path=f"{r.path}#{r.id}",
            tactic=r.tactic,
            tactics=r.tactics,
            attack=r.attack,
            severity=r.severity,
            params=(Param("from_time", "TIMESTAMPTZ"), Param("to_time", "TIMESTAMPTZ")),
            description=r.description,
            falsepositives=r.falsepositives,
            meta={**{k: v for k, v in r.meta.items() if k != "tests"}, "rule": True, "family": r.family},
        )
    return out
