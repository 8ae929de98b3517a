/* ---
id: access_key_new_address
title: Access key or role session used from an address never seen with it
kind: detection
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004]
severity: high
params:
  learn_hours: {type: INTEGER, default: 24, description: "history to learn before anything is new (at most a quarter of the evidence span)"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  DESIGN.md first use: for a key with history, its earliest event from an address never seen with
  it before; for a key with no history, its first event. Long-term (AKIA) keys are judged by key;
  temporary (ASIA) credentials rotate, so they are judged by role and session name: news when the
  role has history and neither the session nor any session of the role used the network (/24)
  before (scanners and CI name every session afresh; a role's very first appearance is judged on
  whoever assumed it). One row per (identity, address) at its first event. Service names, AWS Internal, private addresses, VPC
  endpoint traffic, calls made by a service for the user, Lambda functions and instance-role
  sessions (see instance_credentials_used_elsewhere) are not judged here. Nothing is new during
  the learning period at the start of the evidence.
falsepositives: [An owner working from a new place or a new VPN exit, new CI runners]
--- */
WITH bounds AS (
    SELECT min(event_time) + least(($learn_hours * 3600) * INTERVAL 1 SECOND,
                                   (max(event_time) - min(event_time)) / 4) AS learn_end
    FROM cloudtrail
),
pairs AS (   -- one pass over the events: everything else works on these few rows
    SELECT CASE WHEN starts_with(access_key_id, 'ASIA') AND session_issuer_arn IS NOT NULL
                    THEN session_issuer_arn || '/' || coalesce(session_name, '')
                WHEN starts_with(access_key_id, 'ASIA') THEN principal_arn
                ELSE access_key_id END AS identity,
           -- the role a session belongs to (a key is its own)
           CASE WHEN starts_with(access_key_id, 'ASIA') THEN coalesce(session_issuer_arn, principal_arn)
                ELSE access_key_id END AS role_identity,
           source_ip,
           min(event_time)                 AS first_time,
           max(event_time)                 AS last_time,
           count(*)                        AS events,
           arg_min(event_id, event_time)   AS event_id,
           arg_min(event_name, event_time) AS event_name,
           arg_min(aws_region, event_time) AS region,
           arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(access_key_id, event_time) AS access_key_id,
           arg_min(user_agent, event_time) AS user_agent,
           bool_and(vpc_endpoint_id IS NOT NULL) AS via_endpoint
    FROM cloudtrail
    WHERE access_key_id IS NOT NULL AND source_is_ip AND invoked_by IS NULL
      AND coalesce(user_agent, '') NOT LIKE '%AWS_Lambda_%'
      -- instance-role sessions (named after an instance id) have their own detection
      AND NOT (coalesce(session_name, '') LIKE 'i-%' AND length(session_name) BETWEEN 10 AND 19
               AND ltrim(lower(substr(session_name, 3)), '0123456789abcdef') = '')
    GROUP BY 1, 2, 3
),
netted AS (  -- roles are judged by network (/24): scanners, NAT and service egress rotate within one
    SELECT *, CASE WHEN starts_with(access_key_id, 'ASIA') AND NOT contains(source_ip, ':')
                   THEN regexp_replace(source_ip, '\.\d+$', '.0/24') ELSE source_ip END AS net
    FROM pairs
),
identity_first AS (SELECT identity, min(first_time) AS first_any FROM pairs GROUP BY ALL),
role_first AS (SELECT role_identity, min(first_time) AS role_first_any FROM pairs GROUP BY ALL),
role_nets AS (   -- a new session name is not news from a network its role already used
    SELECT role_identity, net, min(first_time) AS net_first FROM netted GROUP BY ALL
)
SELECT
    p.first_time                    AS event_time,
    'access_key_new_address'        AS detection,
    CASE WHEN starts_with(p.identity, 'AKIA') AND f.first_any < p.first_time THEN 'high'
         ELSE 'medium' END          AS severity,
    'initial_access'                AS tactic,
    p.principal_arn,
    p.access_key_id,
    p.source_ip,
    p.region,
    p.identity                      AS resource,
    p.event_id,
    p.event_name,
    p.user_agent,
    f.first_any < p.first_time      AS identity_had_history,
    f.first_any                     AS identity_first_seen,
    p.events,
    p.last_time
FROM netted p
JOIN identity_first f USING (identity)
JOIN role_first rf ON rf.role_identity = p.role_identity
JOIN role_nets rn ON rn.role_identity = p.role_identity AND rn.net = p.net
CROSS JOIN bounds b
WHERE p.first_time >= b.learn_end
  AND (NOT starts_with(p.access_key_id, 'ASIA')   -- a key: the pair is new by construction
       OR (rf.role_first_any < p.first_time AND rn.net_first >= p.first_time))
  AND NOT p.via_endpoint
  AND NOT regexp_matches(p.source_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|127\.|169\.254\.|fd|fe80)')
  AND ($from_time::TIMESTAMPTZ IS NULL OR p.first_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR p.first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, identity
