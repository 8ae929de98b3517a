/* ---
id: instance_credentials_used_elsewhere
title: Instance-role credentials used from an address the instance does not use
kind: detection
sources: [cloudtrail]
tactic: credential_access
attack: [TA0006:T1552.005, TA0001:T1078.004]
severity: high
stratus:
  - aws.credential-access.ec2-steal-instance-credentials
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
WITH pairs AS (   -- one pass: instance sessions by instance and address
    SELECT session_issuer_arn, session_name, source_ip,
           any_value(session_name) AS instance_id,
           min(event_time) AS first_time, max(event_time) AS last_time, count(*) AS events,
           count(*) FILTER (outcome = 'denied') AS denied,
           arg_min(event_id, event_time) AS event_id, arg_min(event_name, event_time) AS event_name,
           arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(access_key_id, event_time) AS access_key_id,
           arg_min(aws_region, event_time) AS region, arg_min(user_agent, event_time) AS user_agent,
           bool_or(ec2_role_delivery = '1.0') AS imds_v1, any_value(ec2_role_delivery) AS ec2_role_delivery,
           bool_and(vpc_endpoint_id IS NOT NULL) AS via_endpoint
    FROM cloudtrail
    WHERE session_name LIKE 'i-%' AND length(session_name) BETWEEN 10 AND 19   -- an instance id, in hex
      AND ltrim(lower(substr(session_name, 3)), '0123456789abcdef') = ''
      AND source_is_ip AND invoked_by IS NULL
    GROUP BY 1, 2, 3
),
home AS (   -- when each instance's sessions first called
    SELECT session_issuer_arn, session_name, min(first_time) AS first_any FROM pairs GROUP BY ALL
),
known AS (
    SELECT p.session_issuer_arn, p.session_name, p.source_ip
    FROM pairs p JOIN home h ON h.session_name = p.session_name
                            AND h.session_issuer_arn IS NOT DISTINCT FROM p.session_issuer_arn
    WHERE p.first_time <= h.first_any + $settle_minutes * INTERVAL 1 MINUTE
),
people AS (
    SELECT DISTINCT source_ip FROM cloudtrail
    WHERE principal_type IN ('IAMUser', 'Root') AND source_is_ip AND invoked_by IS NULL
)
SELECT
    p.first_time                              AS event_time,
    'instance_credentials_used_elsewhere'     AS detection,
    CASE WHEN p.imds_v1 THEN 'critical' ELSE 'high' END AS severity,
    'credential_access'                       AS tactic,
    p.principal_arn,
    p.access_key_id,
    p.source_ip,
    p.region,
    p.instance_id                             AS resource,
    p.event_id,
    p.instance_id,
    p.event_name,
    (SELECT list_sort(list_distinct(list(c.event_name))) FROM cloudtrail c
     WHERE c.session_name = p.session_name AND c.source_ip = p.source_ip
       AND c.session_issuer_arn IS NOT DISTINCT FROM p.session_issuer_arn) AS event_names,
    p.ec2_role_delivery,
    k.source_ip IS NULL                       AS new_address,
    pe.source_ip IS NOT NULL                  AS shared_with_people,
    p.user_agent,
    p.events,
    p.denied,
    p.last_time
FROM pairs p
LEFT JOIN known k ON k.session_name = p.session_name AND k.source_ip = p.source_ip
                  AND k.session_issuer_arn IS NOT DISTINCT FROM p.session_issuer_arn
LEFT JOIN people pe ON pe.source_ip = p.source_ip
WHERE NOT p.via_endpoint
  AND NOT (p.source_ip LIKE '10.%' OR p.source_ip LIKE '192.168.%' OR p.source_ip LIKE '127.%'
           OR p.source_ip LIKE '169.254.%' OR p.source_ip LIKE 'fd%' OR p.source_ip LIKE 'fe80%'
           OR (p.source_ip LIKE '172.%' AND TRY_CAST(split_part(p.source_ip, '.', 2) AS INTEGER) BETWEEN 16 AND 31))
  AND (k.source_ip IS NULL OR pe.source_ip IS NOT NULL)
  AND ($from_time::TIMESTAMPTZ IS NULL OR p.last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR p.first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
