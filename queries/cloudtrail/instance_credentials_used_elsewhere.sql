/* ---
id: instance_credentials_used_elsewhere
title: Instance-role credentials used from an address the instance does not use
kind: detection
sources: [cloudtrail]
tactic: credential_access
attack: [TA0006:T1552.005, TA0001:T1078.004]
severity: high
params:
  settle_minutes: {type: INTEGER, default: 60, description: "the addresses an instance's sessions use in their first minutes are its own"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Credentials an EC2 instance gets from its metadata service carry the instance id as session
  name. Stolen through SSRF (IMDSv1 needs no token) they are replayed from elsewhere. Reported
  when a session named after an instance calls from a public address other than the ones that
  instance's sessions used in their first settle_minutes, or from an address that people (IAM
  users, root) also call from; never through a VPC endpoint. Credentials delivered by IMDSv1
  (ec2RoleDelivery 1.0) make it critical. One row per instance and address, at the first call.
falsepositives: [Instances whose egress address changes (a new NAT gateway or Elastic IP), long-term keys configured on an instance that also has a role]
--- */
WITH inst AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip,
           source_is_ip, vpc_endpoint_id, ec2_role_delivery, user_agent, outcome,
           coalesce(session_issuer_arn, '') || '/' || session_name AS identity, session_name
    FROM cloudtrail
    WHERE session_name LIKE 'i-%' AND length(session_name) BETWEEN 10 AND 19   -- an instance id, in hex
      AND ltrim(lower(substr(session_name, 3)), '0123456789abcdef') = ''
      AND invoked_by IS NULL
),
home AS (
    SELECT identity, min(event_time) AS first_any FROM inst WHERE source_is_ip GROUP BY ALL
),
known AS (
    SELECT i.identity, i.source_ip
    FROM inst i JOIN home h USING (identity)
    WHERE i.source_is_ip AND i.event_time <= h.first_any + $settle_minutes * INTERVAL 1 MINUTE
    GROUP BY ALL
),
people AS (
    SELECT DISTINCT source_ip FROM cloudtrail
    WHERE source_is_ip AND principal_type IN ('IAMUser', 'Root') AND invoked_by IS NULL
),
suspect AS (
    SELECT i.*, k.source_ip IS NULL AS new_address, p.source_ip IS NOT NULL AS shared_with_people
    FROM inst i
    LEFT JOIN known k ON k.identity = i.identity AND k.source_ip = i.source_ip
    LEFT JOIN people p ON p.source_ip = i.source_ip
    WHERE i.source_is_ip AND i.vpc_endpoint_id IS NULL
      AND NOT regexp_matches(i.source_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|127\.|169\.254\.|fd|fe80)')
      AND (k.source_ip IS NULL OR p.source_ip IS NOT NULL)
      AND ($from_time::TIMESTAMPTZ IS NULL OR i.event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR i.event_time <= $to_time::TIMESTAMPTZ)
)
SELECT
    min(event_time)                           AS event_time,
    'instance_credentials_used_elsewhere'     AS detection,
    CASE WHEN bool_or(ec2_role_delivery = '1.0') THEN 'critical' ELSE 'high' END AS severity,
    'credential_access'                       AS tactic,
    arg_min(principal_arn, event_time)        AS principal_arn,
    arg_min(access_key_id, event_time)        AS access_key_id,
    source_ip,
    arg_min(aws_region, event_time)           AS region,
    any_value(session_name)                   AS resource,
    arg_min(event_id, event_time)             AS event_id,
    any_value(session_name)                   AS instance_id,
    arg_min(event_name, event_time)           AS event_name,
    list_sort(list_distinct(list(event_name))) AS event_names,
    any_value(ec2_role_delivery)              AS ec2_role_delivery,
    bool_or(new_address)                      AS new_address,
    bool_or(shared_with_people)               AS shared_with_people,
    arg_min(user_agent, event_time)           AS user_agent,
    count(*)                                  AS events,
    count(*) FILTER (outcome = 'denied')      AS denied,
    max(event_time)                           AS last_time
FROM suspect
GROUP BY identity, source_ip
ORDER BY event_time
