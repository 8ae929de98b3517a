/* ---
id: access_key_first_seen
title: First appearance and first use of each access key
kind: summary
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004]
severity: info
params:
  access_key_id: {type: VARCHAR, default: null, description: only this key (all keys when null)}
description: >
  Key first seen (DESIGN.md): the earliest event of each access key in the evidence, with the
  address, its network, user agent, region and call it came with, and `baseline_hours`: the
  history its identity (the key; for temporary keys the issuing role) had before. Beside it the
  key's first use (vocabulary key_first_use): the earliest event from a new network the evidence
  ties to an intrusion, or the first event when nothing is tied (`separable` false: owner and
  intruder cannot be told apart). A leaked long-term key whose first appearance is recent, or
  whose first use is far from its first appearance, is where a timeline starts.
falsepositives: [New keys created by their owners]
--- */
WITH keys AS (
    SELECT identity_account(account_id, principal_arn, recipient_account_id) AS account_id,
           access_key_id,
           any_value(novelty_identity(access_key_id, session_issuer_arn, principal_arn)) AS identity,
           min(event_time)                        AS first_seen,
           arg_min(source_ip, {'t': event_time, 'e': event_id}) AS source_ip,
           arg_min(user_agent, {'t': event_time, 'e': event_id}) AS user_agent,
           arg_min(aws_region, {'t': event_time, 'e': event_id}) AS aws_region,
           arg_min(event_name, {'t': event_time, 'e': event_id}) AS event_name,
           arg_min(principal_arn, {'t': event_time, 'e': event_id}) AS principal_arn,
           max(event_time)                        AS last_seen,
           count(*)                               AS events
    FROM cloudtrail
    WHERE access_key_id IS NOT NULL
      AND ($access_key_id IS NULL OR access_key_id = $access_key_id)
    GROUP BY ALL
),
identity_first AS (
    SELECT account_id, identity, min(identity_first) AS identity_first
    FROM identity_network GROUP BY ALL
)
SELECT
    k.access_key_id,
    -- AKIA: long-term IAM user key; ASIA: temporary STS session credentials
    CASE WHEN starts_with(k.access_key_id, 'AKIA') THEN 'long-term'
         WHEN starts_with(k.access_key_id, 'ASIA') THEN 'temporary'
         ELSE 'other' END                                   AS key_kind,
    k.account_id,
    k.first_seen,
    k.source_ip,
    coalesce(a.network, k.source_ip)                        AS network,
    -- rounded as decimals: a double's half rounds alike on every engine
    CAST(round(CAST(greatest(coalesce(date_diff('second', i.identity_first, k.first_seen), 0), 0) / 3600.0
                    AS DECIMAL(18, 6)), 2) AS DOUBLE)   AS baseline_hours,
    k.user_agent,
    k.aws_region,
    k.event_name,
    k.principal_arn,
    k.last_seen,
    k.events,
    f.time                                                  AS first_use_time,
    f.source_ip                                             AS first_use_source_ip,
    f.network                                               AS first_use_network,
    CAST(round(CAST(f.baseline_hours AS DECIMAL(18, 6)), 2) AS DOUBLE) AS first_use_baseline_hours,
    f.separable,
    f.basis                                                 AS first_use_basis
FROM keys k
LEFT JOIN addresses a ON a.address = k.source_ip
LEFT JOIN identity_first i ON i.account_id = k.account_id AND i.identity = k.identity
LEFT JOIN key_first_use f ON f.account_id = k.account_id AND f.access_key_id = k.access_key_id
ORDER BY k.first_seen, k.access_key_id
