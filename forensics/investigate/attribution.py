"""Which events are the intrusion's: the followed identities' events from the intrusion's
sources (address and user agent), never the owner's, CI's or AWS services' (`invokedBy`) on the
same key (DESIGN.md, Attribution).

An address is the intruder's when it is new to the identity (first seen after the identity's
first event, and inside the analyst's window) and it shows an intruder's mark: a user-agent
family the identity never used before, a denied call, a sensitive call (escalation, launches,
credential reads, defense evasion), or a finding naming it. Minted credentials have no owner:
all their events from addresses are the intrusion's. Addresses the analyst names as known and
responders' principals are never the intrusion's.
"""

from __future__ import annotations

from .context import Ctx
from .names import SENSITIVE
from .pivot import Follow

# The columns every later step reads, plus `ident` (what novelty is judged on) and `fresh`.
COLUMNS = """event_time, event_id, event_name, event_source, aws_region, source_ip,
    source_is_ip, user_agent, principal_type, principal_arn, principal_id, account_id,
    recipient_account_id, user_name, access_key_id, session_issuer_arn, session_name,
    invoked_by, error_code, error_message, outcome, read_only, instance_ids, instance_type,
    target_user_name, policy_arn, created_access_key_id, request_parameters,
    response_elements"""

# The product token of a user agent ("aws-cli/1.16.312", "Boto3/1.26.137"): the owner's CLI
# writes the command into every agent string, so whole strings are always "new".
UA_FAMILY = "coalesce(nullif(regexp_extract(user_agent, '^\\[?([^\\s\\]]+)', 1), ''), '-')"

# Light rows only (the JSON payloads stay in the table until the intrusion's few are chosen):
# a role session's history can be a fifth of the case.
SCOPE_SQL = """
CREATE OR REPLACE TEMP TABLE inv_scope AS
SELECT rowid AS rid, event_time, event_name, source_ip, source_is_ip, principal_arn,
       session_issuer_arn, access_key_id, invoked_by, outcome, user_agent,
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

# Per identity and address: is it new, and does it carry an intruder's mark?
SOURCES_SQL = f"""
WITH by_agent AS (
    SELECT ident, source_ip, user_agent, min(event_time) AS t, count(*) AS events,
           count(*) FILTER (WHERE outcome = 'denied') AS denied,
           count(*) FILTER (WHERE list_contains(CAST($sensitive AS VARCHAR[]), event_name)
                              AND outcome <> 'denied') AS sensitive
    FROM inv_scope
    WHERE NOT fresh AND coalesce(invoked_by, '') = '' AND source_is_ip
    GROUP BY ALL
),
ev AS (SELECT *, {UA_FAMILY} AS ua_family FROM by_agent),
ident_first AS (SELECT ident, min(event_time) AS t0 FROM inv_scope GROUP BY ident),
fam_first AS (SELECT ident, ua_family, min(t) AS f0 FROM ev GROUP BY ALL),
addr AS (
    SELECT ident, source_ip, min(t) AS a0, sum(events) AS events, sum(denied) AS denied,
           sum(sensitive) AS sensitive, list(DISTINCT ua_family) AS families
    FROM ev GROUP BY ALL
)
SELECT a.ident, a.source_ip, a.a0 AS first_seen, a.events, a.denied, a.sensitive,
       a.a0 > f.t0 AND (CAST($from AS TIMESTAMPTZ) IS NULL
                        OR a.a0 >= CAST($from AS TIMESTAMPTZ)) AS is_new,
       EXISTS (SELECT 1 FROM fam_first u
               WHERE u.ident = a.ident AND list_contains(a.families, u.ua_family)
                 AND u.f0 >= a.a0 AND u.f0 > f.t0) AS new_agent,
       a.source_ip IN (SELECT remote_ip FROM findings WHERE remote_ip IS NOT NULL) AS in_finding
FROM addr a JOIN ident_first f USING (ident)
ORDER BY a.a0
"""

EVENTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE inv_events AS
WITH chosen AS (
    SELECT rid, ident, fresh FROM inv_scope
    WHERE source_is_ip AND coalesce(invoked_by, '') = ''
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
    """One row per (identity, address) with the marks that decide attribution."""
    return ctx.rows(SOURCES_SQL, sensitive=SENSITIVE, **{"from": ctx.scope.from_time})


def intrusion_addresses(ctx: Ctx, follow: Follow, sources: list[dict]) -> list[str]:
    """The intruder's addresses: seeds, plus new addresses carrying an intruder's mark."""
    known = set(ctx.scope.known_ips)
    chosen = [ip for ip in follow.seed_ips if ip not in known]
    for row in sources:
        ip = row["source_ip"]
        if ip in known or ip in chosen:
            continue
        marked = row["new_agent"] or row["denied"] or row["sensitive"] or row["in_finding"]
        if row["is_new"] and marked:
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
