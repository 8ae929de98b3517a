/* ---
id: recon_burst
title: A burst of List/Get/Describe calls, many of them denied, by one principal from one address
kind: detection
sources: [cloudtrail]
tactic: discovery
attack: [TA0007:T1580, TA0007:T1087.004, TA0007:T1069.003]
severity: medium
params:
  gap_minutes: {type: INTEGER, default: 10, description: a pause this long ends a burst}
  min_distinct: {type: INTEGER, default: 5, description: distinct read calls in the burst}
  min_denied: {type: INTEGER, default: 3, description: distinct read calls that were denied}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  A stolen key is first asked what it may do: whoami, the user's own policies and groups, the
  users, roles and buckets. A scoped key answers many of these with AccessDenied. One row per
  burst (calls of one principal from one address with no pause of gap_minutes) that made at least
  min_distinct distinct read calls of which min_denied distinct ones were denied. Consoles and
  automation read a lot too, but succeed; a misconfigured tool is denied the same one or two calls.
falsepositives: [A new tool or role tried out with too few permissions, security scanners]
--- */
WITH reads AS (
    SELECT event_time, event_id, event_name, event_source, aws_region, principal_arn,
           access_key_id, source_ip, outcome
    FROM cloudtrail
    WHERE read_only
      AND principal_arn IS NOT NULL AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
candidates AS (   -- cheap pre-filter on the few denied reads: only these pairs get sessionised
    SELECT principal_arn, source_ip
    FROM reads
    WHERE outcome = 'denied'
    GROUP BY ALL
    HAVING count(DISTINCT event_name) >= $min_denied
),
marked AS (
    SELECT r.event_time, r.event_id, r.event_name, r.aws_region, r.principal_arn, r.access_key_id,
           r.source_ip, r.outcome,
           CASE WHEN r.event_time - lag(r.event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE
                THEN 1 ELSE 0 END AS starts
    FROM reads r SEMI JOIN candidates c
         ON r.principal_arn = c.principal_arn AND r.source_ip IS NOT DISTINCT FROM c.source_ip
    WINDOW w AS (PARTITION BY r.principal_arn, r.source_ip ORDER BY r.event_time, r.event_id)
),
bursts AS (
    SELECT *, sum(starts) OVER (PARTITION BY principal_arn, source_ip ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS burst
    FROM marked
),
summary AS (
    SELECT principal_arn, source_ip, burst,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id,
           list(event_id ORDER BY event_time, event_id) AS event_ids,
           arg_min(aws_region, event_time) AS region,
           arg_min(access_key_id, event_time) AS access_key_id,
           count(*) AS events,
           count(DISTINCT event_name) AS distinct_calls,
           count(DISTINCT event_name) FILTER (outcome = 'denied') AS denied_calls,
           count(DISTINCT aws_region) AS regions,
           list_sort(list_distinct(list(event_name))) AS event_names,
           list_sort(list_distinct(list(event_name) FILTER (outcome = 'denied'))) AS denied_names
    FROM bursts
    GROUP BY principal_arn, source_ip, burst
)
SELECT
    first_time               AS event_time,
    'recon_burst'            AS detection,
    CASE WHEN denied_calls >= 2 * $min_denied THEN 'high' ELSE 'medium' END AS severity,
    'discovery'              AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    principal_arn            AS resource,
    event_id,
    event_ids,
    events,
    distinct_calls,
    denied_calls,
    regions,
    event_names,
    denied_names,
    last_time
FROM summary
WHERE distinct_calls >= $min_distinct AND denied_calls >= $min_denied
ORDER BY event_time
