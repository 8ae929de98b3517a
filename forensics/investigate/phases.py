"""Each event in one phase (DESIGN.md): AWS's and responders' actions by who made them, the
attacker's by the most specific match, first match wins in the order below."""

from __future__ import annotations

from typing import Any

from . import names
from .context import Ctx, iso

PHASES = [
    "initial_access",
    "discovery",
    "credential_access",
    "privilege_escalation",
    "persistence",
    "defense_evasion",
    "lateral_movement",
    "exfiltration",
    "impact",
    "aws_response",
    "containment",
]

READ_PREFIXES = "^(Describe|List|Get|Head|Lookup|Search|Scan|Check|Batch[A-Z][a-z]+Get)"
_V = "CAST(${} AS VARCHAR[])"

# Precedence: the front door, then what hides, escalates or persists (rarest, most telling),
# then credentials, movement, data, impact; whatever only reads is discovery.
CLASSIFY_SQL = f"""
CREATE OR REPLACE TEMP TABLE inv_events AS
SELECT e.*, CASE
    WHEN e.event_id = $first_id OR list_contains({_V.format("initial")}, e.event_name)
        THEN 'initial_access'
    WHEN list_contains({_V.format("evasion")}, e.event_name) THEN 'defense_evasion'
    WHEN list_contains({_V.format("escalation")}, e.event_name) THEN 'privilege_escalation'
    WHEN list_contains({_V.format("other_user")}, e.event_name)
         AND coalesce(e.target_user_name, e.user_name) <> coalesce(e.user_name, '')
        THEN 'privilege_escalation'
    WHEN list_contains({_V.format("persistence")}, e.event_name) THEN 'persistence'
    WHEN list_contains({_V.format("credential")}, e.event_name) THEN 'credential_access'
    WHEN list_contains({_V.format("lateral")}, e.event_name) THEN 'lateral_movement'
    WHEN list_contains({_V.format("exfiltration")}, e.event_name) THEN 'exfiltration'
    WHEN list_contains({_V.format("impact")}, e.event_name) THEN 'impact'
    WHEN coalesce(e.read_only, true) OR regexp_matches(e.event_name, $reads)
        THEN 'discovery'
    ELSE 'impact' END AS phase
FROM inv_events e
"""


def classify(ctx: Ctx, first_event_id: str | None) -> None:
    """Add a `phase` column to inv_events."""
    ctx.run(
        CLASSIFY_SQL,
        first_id=first_event_id,
        initial=names.INITIAL_ACCESS,
        evasion=names.DEFENSE_EVASION,
        escalation=names.PRIVILEGE_ESCALATION,
        other_user=names.OTHER_USER_ESCALATION,
        persistence=names.PERSISTENCE,
        credential=names.CREDENTIAL_ACCESS,
        lateral=names.LATERAL_MOVEMENT,
        exfiltration=names.EXFILTRATION,
        impact=names.IMPACT,
        reads=READ_PREFIXES,
    )


SUMMARY_SQL = """
WITH all_ev AS (
    SELECT phase, event_time, event_name, outcome FROM inv_events
    UNION ALL
    SELECT phase, event_time, event_name, outcome FROM inv_response
),
by_name AS (
    SELECT phase, event_name, count(*) AS n, min(event_time) AS t FROM all_ev GROUP BY ALL
)
SELECT a.phase, min(a.event_time) AS start, max(a.event_time) AS "end", count(*) AS events,
       count(*) FILTER (WHERE a.outcome = 'denied') AS denied,
       (SELECT list(b.event_name ORDER BY b.n DESC, b.t, b.event_name)
        FROM by_name b WHERE b.phase = a.phase) AS names
FROM all_ev a GROUP BY a.phase ORDER BY start, a.phase
"""


def summary(ctx: Ctx, notable: int = 6) -> list[dict[str, Any]]:
    """One entry per phase present, in order of start: start, end, events, denied, notable."""
    out = []
    for row in ctx.rows(SUMMARY_SQL):
        out.append(
            {
                "phase": row["phase"],
                "start": iso(row["start"]),
                "end": iso(row["end"]),
                "events": row["events"],
                "denied": row["denied"],
                "notable": list(row["names"][:notable]),
            }
        )
    return out
