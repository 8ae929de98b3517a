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
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Credentials an EC2 instance gets from its metadata service carry the instance id as session
  name. Stolen (SSRF against IMDSv1, or a command run on the instance) they are replayed from
  elsewhere. Reported when a session named after an instance calls from an address that is not
  the instance's own (vocabulary instance_home_address: what its session used in its first ten
  minutes, never an address people (IAM users, root) call from), so credentials used from the
  operator's address are caught even when the instance has no history of its own. `network`,
  `new_network` (new for the role) and `baseline_hours` (the instance's history before) come
  with it. Credentials delivered by IMDSv1 (ec2RoleDelivery 1.0) make it critical.
  One row per instance and address, at the first call.
falsepositives: [Instances whose egress address changes (a new NAT gateway or Elastic IP), long-term keys configured on an instance that also has a role]
--- */
WITH elsewhere AS (   -- instance sessions by role, instance and an address not the instance's own
    SELECT s.account_id, s.identity, s.session_name, s.source_ip, s.session_first
    FROM instance_session_address s
    WHERE NOT EXISTS (SELECT 1 FROM instance_home_address h
                      WHERE h.account_id = s.account_id AND h.identity = s.identity
                        AND h.session_name = s.session_name AND h.source_ip = s.source_ip)
),
pairs AS (   -- their calls from there
    SELECT e.account_id, e.identity, e.session_name, e.source_ip,
           min(e.event_time) AS first_time, max(e.event_time) AS last_time, count(*) AS events,
           count(*) FILTER (e.denied) AS denied,
           arg_min(e.event_id, e.event_time) AS event_id, arg_min(e.event_name, e.event_time) AS event_name,
           list(e.event_id ORDER BY e.event_time, e.event_id) AS event_ids,
           list_sort(list(DISTINCT e.event_name)) AS event_names,
           arg_min(e.principal_arn, e.event_time) AS principal_arn,
           arg_min(e.access_key_id, e.event_time) AS access_key_id,
           arg_min(e.aws_region, e.event_time) AS region, arg_min(e.user_agent, e.event_time) AS user_agent,
           any_value(e.network) AS network
    FROM caller_network_event e
    SEMI JOIN elsewhere x
           ON x.account_id = e.account_id AND x.identity = e.identity
          AND x.session_name = e.session_name AND x.source_ip = e.source_ip
    WHERE e.instance_session
      -- the same rows, found sooner: this filter reaches the scan of cloudtrail
      AND e.source_ip IN (SELECT source_ip FROM elsewhere)
    GROUP BY ALL
),
people AS (   -- IAM users and root calling from those addresses
    SELECT DISTINCT account_id, source_ip FROM caller_network_event
    WHERE principal_type IN ('IAMUser', 'Root') AND source_ip IN (SELECT source_ip FROM elsewhere)
)
SELECT
    p.first_time                              AS event_time,
    'instance_credentials_used_elsewhere'     AS detection,
    CASE WHEN bool_or(d.ec2_role_delivery = '1.0') THEN 'critical' ELSE 'high' END AS severity,
    'credential_access'                       AS tactic,
    p.principal_arn,
    p.access_key_id,
    p.source_ip,
    p.region,
    p.session_name                            AS resource,
    p.event_id,
    p.event_ids,
    p.account_id,
    p.session_name                            AS instance_id,
    p.event_name,
    p.event_names,
    any_value(d.ec2_role_delivery)            AS ec2_role_delivery,
    p.network,
    coalesce(any_value(n.is_new), false)      AS new_network,
    round(date_diff('second', s.session_first, p.first_time) / 3600.0, 2) AS baseline_hours,
    pe.source_ip IS NOT NULL                  AS shared_with_people,
    p.user_agent,
    p.events,
    p.denied,
    p.last_time
FROM pairs p
JOIN elsewhere s USING (account_id, identity, session_name, source_ip)
LEFT JOIN people pe ON pe.account_id = p.account_id AND pe.source_ip = p.source_ip
LEFT JOIN identity_network n ON n.account_id = p.account_id AND n.identity = p.identity AND n.network = p.network
LEFT JOIN cloudtrail d ON d.session_name = p.session_name AND d.source_ip = p.source_ip
                      AND d.ec2_role_delivery IS NOT NULL
WHERE ($from_time::TIMESTAMPTZ IS NULL OR p.last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR p.first_time <= $to_time::TIMESTAMPTZ)
GROUP BY ALL
ORDER BY event_time
