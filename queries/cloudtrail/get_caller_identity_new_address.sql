/* ---
id: get_caller_identity_new_address
title: GetCallerIdentity with a long-term key from a network new to the key
kind: detection
sources: [cloudtrail]
tactic: discovery
attack: [TA0007:T1087.004, TA0043:T1589.001]
severity: medium
params:
  new_within_minutes: {type: INTEGER, default: 60, description: how long after the network first appears the call counts}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  "Whose key is this?" needs no permission and cannot be denied, which makes it the first call of
  whoever finds a key (and of secret scanners validating it). Reported when an AKIA key calls it
  from a network new to the key (DESIGN.md New network, vocabulary identity_network), within
  new_within_minutes of that network appearing. Medium with a day of the key's history before
  the network appeared (`baseline_hours`), low with less; never silent for short evidence.
falsepositives: [The owner checking a profile from a new network]
--- */
SELECT
    min(e.event_time)                      AS event_time,
    'get_caller_identity_new_address'      AS detection,
    CASE WHEN any_value(n.baseline_hours) >= 24 THEN 'medium' ELSE 'low' END AS severity,
    'discovery'                            AS tactic,
    any_value(e.principal_arn)             AS principal_arn,
    e.access_key_id,
    arg_min(e.source_ip, e.event_time)     AS source_ip,
    arg_min(e.aws_region, e.event_time)    AS region,
    e.access_key_id                        AS resource,
    arg_min(e.event_id, e.event_time)      AS event_id,
    e.account_id,
    e.network,
    round(any_value(n.baseline_hours), 2)  AS baseline_hours,
    any_value(n.first_seen)                AS address_first_seen,
    arg_min(e.user_agent, e.event_time)    AS user_agent,
    count(*)                               AS events,
    max(e.event_time)                      AS last_time
FROM caller_network_event e
JOIN identity_network n USING (account_id, identity, network)
WHERE e.event_name = 'GetCallerIdentity' AND e.event_source = 'sts.amazonaws.com'
  AND starts_with(e.access_key_id, 'AKIA')
  AND n.is_new
  AND e.event_time <= n.first_seen + $new_within_minutes * INTERVAL 1 MINUTE
  AND ($from_time::TIMESTAMPTZ IS NULL OR e.event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR e.event_time <= $to_time::TIMESTAMPTZ)
GROUP BY e.account_id, e.access_key_id, e.network
ORDER BY event_time
