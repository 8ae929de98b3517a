/* ---
id: get_caller_identity_new_address
title: GetCallerIdentity with a long-term key from an address new to the key
kind: detection
sources: [cloudtrail]
tactic: discovery
attack: [TA0007:T1087.004, TA0043:T1589.001]
severity: medium
params:
  new_within_minutes: {type: INTEGER, default: 60, description: how long after the address first appears the call counts}
  learn_hours: {type: INTEGER, default: 24, description: "history learnt first (at most a quarter of the evidence span)"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  "Whose key is this?" needs no permission and cannot be denied, which makes it the first call of
  whoever finds a key (and of secret scanners validating it). Reported when an AKIA key calls it
  from an address it had not used before, within new_within_minutes of that address appearing.
falsepositives: [The owner checking a profile from a new network]
--- */
WITH bounds AS (
    SELECT min(event_time) + least(($learn_hours * 3600) * INTERVAL 1 SECOND,
                                   (max(event_time) - min(event_time)) / 4) AS learn_end
    FROM cloudtrail
),
pairs AS (
    SELECT access_key_id, source_ip, min(event_time) AS pair_first
    FROM cloudtrail
    WHERE starts_with(access_key_id, 'AKIA') AND source_is_ip AND invoked_by IS NULL
    GROUP BY ALL
),
calls AS (
    SELECT c.event_time, c.event_id, c.principal_arn, c.access_key_id, c.source_ip, c.aws_region,
           c.user_agent, p.pair_first
    FROM cloudtrail c
    JOIN pairs p ON c.access_key_id = p.access_key_id AND c.source_ip = p.source_ip
    CROSS JOIN bounds b
    WHERE c.event_name = 'GetCallerIdentity'
      AND p.pair_first >= b.learn_end
      AND c.event_time <= p.pair_first + $new_within_minutes * INTERVAL 1 MINUTE
      AND ($from_time::TIMESTAMPTZ IS NULL OR c.event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR c.event_time <= $to_time::TIMESTAMPTZ)
)
SELECT
    min(event_time)                        AS event_time,
    'get_caller_identity_new_address'      AS detection,
    'medium'                               AS severity,
    'discovery'                            AS tactic,
    any_value(principal_arn)               AS principal_arn,
    access_key_id,
    source_ip,
    arg_min(aws_region, event_time)        AS region,
    access_key_id                          AS resource,
    arg_min(event_id, event_time)          AS event_id,
    any_value(pair_first)                  AS address_first_seen,
    arg_min(user_agent, event_time)        AS user_agent,
    count(*)                               AS events,
    max(event_time)                        AS last_time
FROM calls
GROUP BY access_key_id, source_ip
ORDER BY event_time
