"""Which events are the intrusion's: the followed identities' events from the intrusion's
sources, never the owner's, CI's or AWS services' (`invokedBy`) on the same key (DESIGN.md,
Attribution).

An address is the intruder's when its network is new for the identity and the evidence ties it
to an intrusion: the catalogue's definition (vocabulary `identity_network`, DESIGN.md New
network and First use) read for the followed identities only, so the hunt and the story cannot
disagree. A finding naming the address ties it too. Minted credentials have no owner: all
their events from addresses are the intrusion's. Addresses the analyst names as known and
responders' principals are never the intrusion's.
"""

from __future__ import annotations

from .context import Ctx
from .pivot import Follow

# The columns every later step reads, plus `ident` (what novelty is judged on) and `fresh`.
COLUMNS = """event_time, event_id, event_name, event_source, aws_region, source_ip,
    source_is_ip, user_agent, principal_type, principal_arn, principal_id, account_id,
    recipient_account_id, user_name, access_key_id, session_issuer_arn, session_name,
    invoked_by, error_code, error_message, outcome, read_only, instance_ids, instance_type,
    target_user_name, policy_arn, created_access_key_id, request_parameters,
    response_elements, record_flags"""

# Light rows only (the JSON payloads stay in the table until the intrusion's few are chosen):
# a role session's history can be a fifth of the case.
SCOPE_SQL = """
CREATE OR REPLACE TEMP TABLE inv_scope AS
SELECT rowid AS rid, event_time, event_name, source_ip, source_is_ip, principal_arn,
       session_issuer_arn, access_key_id, invoked_by, outcome, user_agent, principal_type,
       identity_account(account_id, principal_arn, recipient_account_id) AS identity_account,
       novelty_identity(access_key_id, session_issuer_arn, principal_arn) AS novelty_identity,
       CASE WHEN list_contains(CAST($fresh_arns AS VARCHAR[]), principal_arn) THEN principal_arn
            WHEN list_contains(CAST($keys AS VARCHAR[]), access_key_id) THEN access_key_id
            ELSE principal_arn END AS ident,
       list_contains(CAST($fresh_arns AS VARCHAR[]), principal_arn)
         OR list_contains(CAST($fresh_keys AS VARCHAR[]), access_key_id) AS fresh
FROM cloudtrail
WHERE list_contains(CAST($keys AS VARCHAR[]), access_key_id)
   OR list_contains(CAST($fresh_arns AS VARCHAR[]), principal_arn)
   OR (list_contains(CAST($arns AS VARCHAR[]), principal_arn)
       AND coalesce(access_key_id, '') NOT LIKE 'AKIA%')
"""

# Per followed identity and address: is its network new for the identity (novelty judged on
# all earlier evidence), and does the evidence tie it to an intrusion? The vocabulary's views,
# with the identities bound.
SOURCES_SQL = """
WITH ev AS (
    SELECT s.ident, s.source_ip, s.identity_account AS account_id, s.novelty_identity AS identity,
           coalesce(a.network, s.source_ip) AS network, min(s.event_time) AS t, count(*) AS events
    FROM inv_scope s LEFT JOIN addresses a ON a.address = s.source_ip
    WHERE NOT s.fresh AND has_caller_network(s.source_is_ip, s.invoked_by, s.principal_type)
    GROUP BY ALL
),
nets AS (
    SELECT account_id, identity, network, first_seen, is_new, tied, baseline_hours
    FROM identity_network
    WHERE list_contains(CAST($identities AS VARCHAR[]), identity)
)
SELECT e.ident, e.source_ip, min(e.t) AS first_seen, sum(e.events) AS events,
       any_value(e.network) AS network,
       coalesce(bool_or(n.is_new AND (CAST($from AS TIMESTAMPTZ) IS NULL
                                      OR n.first_seen >= CAST($from AS TIMESTAMPTZ))), false) AS is_new,
       coalesce(bool_or(n.tied), false) AS tied,
       e.source_ip IN (SELECT remote_ip FROM findings WHERE remote_ip IS NOT NULL) AS in_finding
FROM ev e LEFT JOIN nets n USING (account_id, identity, network)
GROUP BY e.ident, e.source_ip
ORDER BY first_seen
"""

EVENTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE inv_events AS
WITH chosen AS (
    SELECT rid, ident, fresh FROM inv_scope
    -- from the intrusion's own addresses; and what credentials the intrusion minted did through
    -- a service (invokedBy: the principal's own action, DESIGN.md), which has no address to judge
    WHERE ((source_is_ip AND coalesce(invoked_by, '') = '') OR (fresh AND coalesce(invoked_by, '') <> ''))
      AND NOT list_contains(CAST($known AS VARCHAR[]), source_ip)
      AND NOT list_contains(CAST($responders AS VARCHAR[]), coalesce(principal_arn, ''))
      AND NOT list_contains(CAST($responders AS VARCHAR[]), coalesce(session_issuer_arn, ''))
      AND (fresh OR list_contains(CAST($ips AS VARCHAR[]), source_ip))
      AND (CAST($from AS TIMESTAMPTZ) IS NULL OR event_time >= CAST($from AS TIMESTAMPTZ))
      AND (CAST($to AS TIMESTAMPTZ) IS NULL OR event_time <= CAST($to AS TIMESTAMPTZ))
)
SELECT {", ".join("c." + c.strip() for c in COLUMNS.split(","))},
       s.ident, s.fresh, 'intrusion' AS actor
FROM cloudtrail c JOIN chosen s ON c.rowid = s.rid
"""


def build_scope(ctx: Ctx, follow: Follow) -> None:
    """Every event of the followed identities, whole evidence span (history counts)."""
    ctx.run(
        SCOPE_SQL,
        keys=follow.keys(),
        arns=follow.arns(),
        fresh_keys=list(follow.fresh_keys),
        fresh_arns=list(follow.fresh_arns),
    )


def source_table(ctx: Ctx) -> list[dict]:
    """One row per (identity, address): whether its network is new and tied for the identity."""
    found = ctx.rows("SELECT DISTINCT novelty_identity AS i FROM inv_scope WHERE novelty_identity NOTNULL")
    identities = [r["i"] for r in found]
    return ctx.rows(SOURCES_SQL, identities=identities, **{"from": ctx.scope.from_time})


def intrusion_addresses(ctx: Ctx, follow: Follow, sources: list[dict]) -> list[str]:
    """The intruder's addresses: seeds, plus addresses in new networks the evidence ties to an
    intrusion (or that a finding names)."""
    known = set(ctx.scope.known_ips)
    chosen = [ip for ip in follow.seed_ips if ip not in known]
    for row in sources:
        ip = row["source_ip"]
        if ip in known or ip in chosen:
            continue
        if row["is_new"] and (row["tied"] or row["in_finding"]):
            chosen.append(ip)
    return chosen


def build_events(ctx: Ctx, follow: Follow) -> tuple[list[str], str]:
    """Materialise the intrusion's events as temp table `inv_events`; return its addresses
    and how they were chosen ("sources" or, with no new marked source, "all")."""
    build_scope(ctx, follow)
    sources = source_table(ctx)
    ips = intrusion_addresses(ctx, follow, sources)
    how = "sources"
    if not ips and not follow.fresh_keys and not follow.fresh_arns:
        # No history to tell owner from intruder (a key first seen in the intrusion, or a
        # clean one): the story is every event of the indicator from an address.
        ips = sorted({r["source_ip"] for r in sources} - set(ctx.scope.known_ips))
        how = "all"
    scope = ctx.scope
    ctx.run(
        EVENTS_SQL,
        known=list(scope.known_ips),
        responders=list(scope.responders),
        ips=ips,
        **{"from": scope.from_time, "to": scope.to_time},
    )
    return ips, how
