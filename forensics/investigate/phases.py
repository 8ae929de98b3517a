"""Each event in one phase (DESIGN.md, Phase names): AWS's and responders' actions by who made
them (`aws_response`, `containment`, set where `inv_response` is built), the intruder's by the
vocabulary's `attacker_phase` over the call's effect (`escalation_effect`), except that the
first-use event opens the story as initial access. No list of event names lives here."""

from __future__ import annotations

from typing import Any

from .context import Ctx, iso

# DESIGN.md's phase names in story order: the one Python copy (figures order lanes by it); a
# test holds it equal to DESIGN.md's list.
PHASES = [
    "initial_access",
    "execution",
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

# The phases given by who acted (AWS, responders), not by the call.
ACTOR_PHASES = ("aws_response", "containment")

# The effect of each call (escalation, persistence or NULL) and its phase. The columns are the
# macros' inputs; events a service made for the principal (`invoked_by`) are phased like the
# principal's own.
EFFECT_SQL = """escalation_effect(e.event_source, e.event_name, e.principal_type, e.user_name,
                                 e.account_id, e.policy_arn, e.request_parameters)"""

CLASSIFY_SQL = f"""
CREATE OR REPLACE TEMP TABLE inv_events AS
WITH x AS (SELECT e.*, {EFFECT_SQL} AS effect FROM inv_events e)
SELECT x.*,
       CASE WHEN x.event_id = $first_id THEN 'initial_access'
            ELSE attacker_phase(x.event_source, x.event_name, x.read_only, x.effect) END AS phase
FROM x
"""


def classify(ctx: Ctx, first_event_id: str | None) -> None:
    """Add `effect` and `phase` columns to inv_events (which must carry event_source,
    event_name, read_only, principal_type, user_name, account_id, policy_arn and
    request_parameters)."""
    ctx.run(CLASSIFY_SQL, first_id=first_event_id)


SUMMARY_SQL = """
WITH all_ev AS (   -- implausible times stay counted but never bound a phase's span
    SELECT phase, CASE WHEN time_plausible(record_flags) THEN event_time END AS event_time,
           event_name, outcome
    FROM inv_events
    UNION ALL
    SELECT phase, CASE WHEN time_plausible(record_flags) THEN event_time END AS event_time,
           event_name, outcome
    FROM inv_response
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
