/* ---
id: access_key_first_seen
title: First appearance of each access key
kind: summary
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004]
severity: info
params:
  access_key_id: {type: VARCHAR, default: null, description: only this key (all keys when null)}
description: >
  Key first seen (DESIGN.md): the earliest event of each access key in the evidence, with the
  address, user agent, region and call it came with. A leaked long-term (AKIA) key whose first
  appearance is recent, or from an address the owner never uses, is where a timeline starts.
falsepositives: [New keys created by their owners]
--- */
SELECT
    access_key_id,
    -- AKIA: long-term IAM user key; ASIA: temporary STS session credentials
    CASE WHEN starts_with(access_key_id, 'AKIA') THEN 'long-term'
         WHEN starts_with(access_key_id, 'ASIA') THEN 'temporary'
         ELSE 'other' END                                   AS key_kind,
    min(event_time)                                         AS first_seen,
    arg_min(source_ip, event_time)                          AS source_ip,
    arg_min(user_agent, event_time)                         AS user_agent,
    arg_min(aws_region, event_time)                         AS aws_region,
    arg_min(event_name, event_time)                         AS event_name,
    arg_min(principal_arn, event_time)                      AS principal_arn,
    max(event_time)                                         AS last_seen,
    count(*)                                                AS events
FROM cloudtrail
WHERE access_key_id IS NOT NULL
  AND ($access_key_id IS NULL OR access_key_id = $access_key_id)
GROUP BY access_key_id
ORDER BY first_seen, access_key_id
