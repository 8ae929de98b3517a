"""From one indicator to the identities to follow, and on to the credentials they minted.

An identity is what novelty is judged on (DESIGN.md): a long-term key (`AKIA…`) by itself, a
temporary key by its principal (role and session name). Credentials the intrusion minted are
"fresh": they have no owner history, so everything they do from an address is the intrusion's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import IndicatorNotFoundError
from .context import Ctx

INSTANCE_RE = r"i-[0-9a-fA-F]{8,17}"


@dataclass
class Follow:
    """The identities an investigation follows, and why."""

    indicator: dict[str, str]
    hist_keys: list[str] = field(default_factory=list)  # AKIA keys with an owner's history
    hist_arns: list[str] = field(default_factory=list)  # principals (sessions) with history
    fresh_keys: list[str] = field(default_factory=list)  # minted by the intrusion
    fresh_arns: list[str] = field(default_factory=list)  # users/sessions the intrusion created
    seed_ips: list[str] = field(default_factory=list)  # addresses known to be the intruder's
    derived: list[dict[str, str]] = field(default_factory=list)  # what minted what

    def keys(self) -> list[str]:
        return sorted(set(self.hist_keys) | set(self.fresh_keys))

    def arns(self) -> list[str]:
        return sorted(set(self.hist_arns) | set(self.fresh_arns))


def resolve(
    ctx: Ctx,
    access_key: str | None = None,
    principal: str | None = None,
    ip: str | None = None,
    instance: str | None = None,
) -> Follow:
    """The seed identities of one indicator; IndicatorNotFoundError when the case lacks it."""
    given = {
        k: v
        for k, v in (("access_key", access_key), ("principal", principal), ("ip", ip), ("instance", instance))
        if v
    }
    if len(given) != 1:
        raise ValueError("give exactly one indicator: access_key, principal, ip or instance")
    kind, value = next(iter(given.items()))
    value = value.strip()
    follow = Follow({"type": kind, "value": value})
    if kind == "access_key":
        _from_key(ctx, follow, value)
    elif kind == "principal":
        _from_principal(ctx, follow, value)
    elif kind == "ip":
        _from_ip(ctx, follow, value)
    else:
        _from_instance(ctx, follow, value)
    return follow


def _add_identities(follow: Follow, rows: list[dict]) -> None:
    for row in rows:
        key, arn = row["access_key_id"], row["principal_arn"]
        if key and key.startswith("AKIA"):
            if key not in follow.hist_keys:
                follow.hist_keys.append(key)
        elif arn and arn not in follow.hist_arns:
            follow.hist_arns.append(arn)


def _from_key(ctx: Ctx, follow: Follow, key: str) -> None:
    rows = ctx.rows(
        "SELECT DISTINCT access_key_id, principal_arn FROM cloudtrail WHERE access_key_id = $k",
        k=key,
    )
    if rows:
        _add_identities(follow, rows)
        return
    # A key minted in the evidence but never used: the story is its minter's.
    minters = ctx.rows(
        """SELECT DISTINCT access_key_id, principal_arn, source_ip,
                  has_caller_network(source_is_ip, invoked_by, principal_type) AS caller_network
           FROM cloudtrail
           WHERE event_has('minting', event_source, event_name) AND outcome = 'success'
             AND (created_access_key_id = $k
                  OR json_extract_string(response_elements, '$.credentials.accessKeyId') = $k
                  OR json_extract_string(response_elements, '$.roleCredentials.accessKeyId') = $k)""",
        k=key,
    )
    if not minters:
        raise IndicatorNotFoundError(f"access key {key} has no CloudTrail event in the case")
    _add_identities(follow, minters)
    _add_seeds(follow, minters)


def _from_principal(ctx: Ctx, follow: Follow, arn: str) -> None:
    rows = ctx.rows(
        """SELECT DISTINCT access_key_id, principal_arn FROM cloudtrail
           WHERE principal_arn = $a OR session_issuer_arn = $a""",
        a=arn,
    )
    if not rows:
        raise IndicatorNotFoundError(f"principal {arn} has no CloudTrail event in the case")
    _add_identities(follow, rows)


def _from_ip(ctx: Ctx, follow: Follow, ip: str) -> None:
    rows = ctx.rows(
        """SELECT DISTINCT access_key_id, principal_arn FROM cloudtrail
           WHERE source_ip = $ip AND principal_arn IS NOT NULL""",
        ip=ip,
    )
    if rows:
        _add_identities(follow, rows)
        follow.seed_ips.append(ip)
        return
    # An address only the network saw (a pool, a download host): pivot through the instances
    # that talked to it (by instance id, or through their interfaces), to whoever launched them.
    instances = []
    if ctx.has_rows("vpc_flows"):
        instances = [
            r["instance_id"]
            for r in ctx.rows(
                """SELECT DISTINCT coalesce(v.instance_id, l.instance_id) AS instance_id
                   FROM vpc_flows v LEFT JOIN instance_interface l
                     ON v.interface_id = l.interface_id
                    AND coalesce(v.account_id, l.account_id) = l.account_id
                   WHERE (v.src_addr = $ip OR v.dst_addr = $ip)
                     AND coalesce(v.instance_id, l.instance_id) LIKE 'i-%'
                   ORDER BY 1""",
                ip=ip,
            )
        ]
    for inst in instances:
        _launchers(ctx, follow, inst)
    if not (follow.hist_keys or follow.hist_arns):
        raise IndicatorNotFoundError(f"address {ip} is not in the case's CloudTrail or flows")


def _add_seeds(follow: Follow, rows: list[dict]) -> None:
    """The callers' own addresses (never a service's acting for them: DESIGN.md)."""
    for row in rows:
        if row["caller_network"] and row["source_ip"] not in follow.seed_ips:
            follow.seed_ips.append(row["source_ip"])


def _launchers(ctx: Ctx, follow: Follow, instance: str) -> bool:
    rows = ctx.rows(
        """SELECT DISTINCT access_key_id, principal_arn, source_ip,
                  has_caller_network(source_is_ip, invoked_by, principal_type) AS caller_network
           FROM cloudtrail
           WHERE event_has('launch', event_source, event_name) AND outcome = 'success'
             AND is_principal_action(principal_type)
             AND (list_contains(instance_ids, $i)
                  OR contains(CAST(response_elements AS VARCHAR), $i))""",
        i=instance,
    )
    _add_identities(follow, rows)
    _add_seeds(follow, rows)
    return bool(rows)


def _from_instance(ctx: Ctx, follow: Follow, instance: str) -> None:
    launched = _launchers(ctx, follow, instance)
    # The instance's own role credentials: sessions named after it, judged on their history.
    sessions = ctx.rows(
        """SELECT DISTINCT NULL AS access_key_id, principal_arn FROM cloudtrail
           WHERE session_name = $i AND principal_arn IS NOT NULL""",
        i=instance,
    )
    _add_identities(follow, sessions)
    if not launched and not sessions:
        raise IndicatorNotFoundError(f"instance {instance}: no CloudTrail launch or role session names it")


def minted(ctx: Ctx) -> list[dict[str, str]]:
    """Credentials and users the attributed events (temp table inv_events) created: the
    vocabulary's minting calls, and users (whose later keys and sessions are the intrusion's)."""
    return ctx.rows(
        """WITH m AS (SELECT *, api_of(event_source, event_name) AS api FROM inv_events
                      WHERE outcome = 'success'
                        AND (event_has('minting', event_source, event_name)
                             OR api_of(event_source, event_name) = 'iam:CreateUser'))
           SELECT event_time, event_name, event_id, access_key_id AS by_key,
                  CASE WHEN api = 'iam:CreateAccessKey'
                       THEN coalesce(created_access_key_id,
                                     json_extract_string(response_elements, '$.accessKey.accessKeyId'))
                       ELSE coalesce(json_extract_string(response_elements, '$.credentials.accessKeyId'),
                                     json_extract_string(response_elements,
                                                         '$.roleCredentials.accessKeyId'))
                  END AS key,
                  CASE WHEN api = 'iam:CreateAccessKey'
                       THEN coalesce(json_extract_string(response_elements,
                                                         '$.accessKey.userName'),
                                     target_user_name, user_name)
                       WHEN api = 'iam:CreateUser' THEN target_user_name END AS user_name,
                  CASE WHEN api = 'iam:CreateUser'
                       THEN json_extract_string(response_elements, '$.user.arn')
                       ELSE coalesce(json_extract_string(response_elements, '$.assumedRoleUser.arn'),
                                     json_extract_string(response_elements, '$.federatedUser.arn'))
                  END AS arn
           FROM m
           ORDER BY event_time, event_id"""
    )


# DESIGN.md, Acting for a principal: a stack's resources belong to whoever made the CreateStack
# or UpdateStack that precedes them. For each of the intrusion's stack calls, the events
# CloudFormation made for the same principal (`invokedBy`, or the stack's service role) after it
# and before that principal's next stack call, and AWS's own events that name the stack, within
# a day (a stack that has not settled in a day is not what these events are).
STACK_SQL = """
WITH ours AS (
    SELECT event_time AS t, principal_arn AS creator,
           json_extract_string(request_parameters, '$.roleARN') AS role_arn,
           json_extract_string(request_parameters, '$.stackName') AS stack_name,
           coalesce(json_extract_string(response_elements, '$.stackId'),
                    json_extract_string(request_parameters, '$.stackName')) AS stack_id,
           resource_account(recipient_account_id, account_id) AS account
    FROM inv_events
    WHERE outcome = 'success'
      AND api_of(event_source, event_name) IN ('cloudformation:CreateStack', 'cloudformation:UpdateStack')
),
calls AS (   -- every stack call, the owner's too: a resource belongs to the nearest one before it
    SELECT event_time AS t, principal_arn AS creator,
           json_extract_string(request_parameters, '$.roleARN') AS role_arn
    FROM cloudtrail
    WHERE event_source = 'cloudformation.amazonaws.com' AND outcome = 'success'
      AND event_name IN ('CreateStack', 'UpdateStack')
),
cand AS (
    SELECT rowid AS rid, event_id, event_time, principal_arn, session_issuer_arn, principal_type,
           invoked_by, CAST(request_parameters AS VARCHAR) AS params,
           resource_account(recipient_account_id, account_id) AS account
    FROM cloudtrail
    WHERE event_time >= (SELECT min(t) FROM ours)
      AND event_time <= (SELECT max(t) FROM ours) + INTERVAL 1 DAY
      AND (invoked_by = 'cloudformation.amazonaws.com' OR is_service_event(principal_type))
      AND event_source <> 'cloudformation.amazonaws.com'
      AND (CAST($to AS TIMESTAMPTZ) IS NULL OR event_time <= CAST($to AS TIMESTAMPTZ))
)
SELECT DISTINCT c.rid FROM cand c JOIN ours s
  ON c.account = s.account AND c.event_time >= s.t AND c.event_time <= s.t + INTERVAL 1 DAY
WHERE c.event_id NOT IN (SELECT event_id FROM inv_events)
  AND (
      -- AWS's or CloudFormation's call naming the stack (its ARN, or its name as a value)
      (s.stack_id IS NOT NULL AND contains(c.params, s.stack_id))
      OR (s.stack_name IS NOT NULL AND contains(c.params, '"' || s.stack_name || '"'))
      -- CloudFormation acting for the creator, or through the stack's service role, with no
      -- later stack call by the same principal in between
      OR (c.invoked_by = 'cloudformation.amazonaws.com'
          AND (c.principal_arn = s.creator OR c.session_issuer_arn = s.role_arn)
          AND NOT EXISTS (SELECT 1 FROM calls k
                          WHERE k.t > s.t AND k.t <= c.event_time
                            AND (k.creator = c.principal_arn
                                 OR k.role_arn = c.session_issuer_arn)))
  )
"""


def stack_events(ctx: Ctx) -> int:
    """Add to inv_events what the intrusion's CloudFormation stacks made (users, keys,
    instances: followed like its own); returns how many events were added."""
    from .attribution import COLUMNS  # attribution imports this module

    if not ctx.scalar(
        """SELECT count(*) FROM inv_events WHERE outcome = 'success'
           AND api_of(event_source, event_name) IN ('cloudformation:CreateStack',
                                                    'cloudformation:UpdateStack')"""
    ):
        return 0
    rids = [r["rid"] for r in ctx.rows(STACK_SQL, to=ctx.scope.to_time)]
    if not rids:
        return 0
    ctx.run(
        f"""INSERT INTO inv_events BY NAME
            SELECT {COLUMNS}, principal_arn AS ident, true AS fresh, 'intrusion' AS actor
            FROM cloudtrail WHERE list_contains(CAST($rids AS BIGINT[]), rowid)""",
        rids=rids,
    )
    return len(rids)


def follow_minted(follow: Follow, found: list[dict]) -> bool:
    """Add what was minted to the followed set; True when something new was added."""
    grew = False
    for row in found:
        key, arn = row["key"], row["arn"]
        if row["event_name"] == "CreateUser":  # a user: its keys and sessions are followed
            if arn and arn not in follow.fresh_arns:
                follow.fresh_arns.append(arn)
                grew = True
        elif key and key not in follow.fresh_keys and key not in follow.hist_keys:
            follow.fresh_keys.append(key)
            grew = True
        if key or arn:
            entry = {
                "time": row["event_time"],
                "event_name": row["event_name"],
                "credential": key or arn,
                "by": row["by_key"],
                "user_name": row["user_name"],
                "arn": arn,
            }
            if entry not in follow.derived:
                follow.derived.append(entry)
    return grew
