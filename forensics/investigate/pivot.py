"""From one indicator to the identities to follow, and on to the credentials they minted.

An identity is what novelty is judged on (DESIGN.md): a long-term key (`AKIA…`) by itself, a
temporary key by its principal (role and session name). Credentials the intrusion minted are
"fresh": they have no owner history, so everything they do from an address is the intrusion's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import IndicatorNotFoundError
from .context import Ctx
from .names import LAUNCH_CALLS, MINTING

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
        """SELECT DISTINCT access_key_id, principal_arn, source_ip, source_is_ip, invoked_by
           FROM cloudtrail
           WHERE list_contains(CAST($minting AS VARCHAR[]), event_name) AND outcome = 'success'
             AND (created_access_key_id = $k
                  OR json_extract_string(response_elements, '$.credentials.accessKeyId') = $k)""",
        minting=MINTING,
        k=key,
    )
    if not minters:
        raise IndicatorNotFoundError(f"access key {key} has no CloudTrail event in the case")
    _add_identities(follow, minters)
    for row in minters:
        if row["source_is_ip"] and not row["invoked_by"] and row["source_ip"] not in follow.seed_ips:
            follow.seed_ips.append(row["source_ip"])


def _from_principal(ctx: Ctx, follow: Follow, arn: str) -> None:
    rows = ctx.rows(
        """SELECT DISTINCT access_key_id, principal_arn FROM cloudtrail
           WHERE (principal_arn = $a OR session_issuer_arn = $a)
             AND coalesce(invoked_by, '') = ''""",
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
    # that talked to it, to whoever launched them.
    instances = []
    if ctx.has_rows("vpc_flows"):
        instances = [
            r["instance_id"]
            for r in ctx.rows(
                """SELECT DISTINCT instance_id FROM vpc_flows
               WHERE (src_addr = $ip OR dst_addr = $ip) AND instance_id LIKE 'i-%'
               ORDER BY 1""",
                ip=ip,
            )
        ]
    for inst in instances:
        _launchers(ctx, follow, inst)
    if not (follow.hist_keys or follow.hist_arns):
        raise IndicatorNotFoundError(f"address {ip} is not in the case's CloudTrail or flows")


def _launchers(ctx: Ctx, follow: Follow, instance: str) -> bool:
    rows = ctx.rows(
        """SELECT DISTINCT access_key_id, principal_arn, source_ip, source_is_ip, invoked_by
           FROM cloudtrail
           WHERE list_contains(CAST($launch AS VARCHAR[]), event_name) AND outcome = 'success'
             AND (list_contains(instance_ids, $i)
                  OR contains(CAST(response_elements AS VARCHAR), $i))""",
        launch=LAUNCH_CALLS,
        i=instance,
    )
    rows = [r for r in rows if r["source_is_ip"] and not r["invoked_by"]]
    _add_identities(follow, rows)
    for row in rows:
        if row["source_ip"] not in follow.seed_ips:
            follow.seed_ips.append(row["source_ip"])
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
    """Credentials and users the attributed events (temp table inv_events) created."""
    return ctx.rows(
        """SELECT event_time, event_name, event_id, access_key_id AS by_key,
                  CASE WHEN event_name = 'CreateAccessKey' THEN created_access_key_id
                       ELSE json_extract_string(response_elements, '$.credentials.accessKeyId')
                  END AS key,
                  CASE WHEN event_name = 'CreateAccessKey'
                       THEN coalesce(json_extract_string(response_elements,
                                                         '$.accessKey.userName'),
                                     target_user_name, user_name)
                       WHEN event_name = 'CreateUser' THEN target_user_name END AS user_name,
                  CASE WHEN event_name = 'CreateUser'
                       THEN json_extract_string(response_elements, '$.user.arn')
                       WHEN event_name LIKE 'AssumeRole%'
                       THEN json_extract_string(response_elements, '$.assumedRoleUser.arn')
                       WHEN event_name = 'GetFederationToken'
                       THEN json_extract_string(response_elements, '$.federatedUser.arn')
                  END AS arn
           FROM inv_events
           WHERE outcome = 'success' AND (list_contains(CAST($minting AS VARCHAR[]), event_name)
                                          OR event_name = 'CreateUser')
           ORDER BY event_time, event_id""",
        minting=MINTING,
    )


def follow_minted(follow: Follow, found: list[dict]) -> bool:
    """Add what was minted to the followed set; True when something new was added."""
    grew = False
    for row in found:
        key, arn = row["key"], row["arn"]
        if row["event_name"] == "CreateUser":
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
