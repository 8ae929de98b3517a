/* ---
id: instance_os_access
title: Commands, shells or SSH keys sent into instances through the control plane
kind: detection
sources: [cloudtrail]
tactic: execution
tactics: [execution, lateral_movement]
attack: [TA0002:T1651, TA0008:T1021.004, TA0008:T1021.008]
severity: medium
stratus:
  - aws.execution.ssm-send-command
  - aws.execution.ssm-start-session
  - aws.lateral-movement.ec2-instance-connect
  - aws.lateral-movement.ec2-serial-console-send-ssh-public-key
  - aws.credential-access.ec2-steal-instance-credentials
params:
  habit_hours: {type: INTEGER, default: 24, description: "a principal that reaches instances this way on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Code run on existing compute without touching its network: SSM SendCommand, StartSession and
  ResumeSession, ECS Exec, and SSH keys pushed through EC2 Instance Connect or the serial console
  (the calls tagged instance_access in the event vocabulary; the row's tactic is the call's
  phase: execution, or lateral_movement for pushed keys). One row per call; medium when it
  went through, low when refused or failed. A principal whose successful calls of this kind
  span habit_hours or more in the evidence is doing its job (administrators, patching): its
  successful calls stay silent, its refused ones are still reported.
  Calls made through a service for the principal (console, invokedBy) count.
falsepositives: [Administrators and patch automation using Session Manager or Instance Connect for the first time]
--- */
WITH calls AS (
    SELECT c.*, v.phase,
           identity_account(c.account_id, c.principal_arn, c.recipient_account_id) AS acct,
           coalesce(c.session_issuer_arn, c.principal_arn) AS actor_id
    FROM cloudtrail c
    JOIN vocab_event v ON v.api = api_of(c.event_source, c.event_name)
    WHERE list_contains(v.tags, 'instance_access') AND is_principal_action(c.principal_type)
),
habit AS (   -- successful calls on occasions habit_hours apart: the principal's job
    SELECT acct, actor_id FROM calls WHERE outcome = 'success'
    GROUP BY ALL
    HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
),
judged AS (
    SELECT c.*, h.actor_id IS NOT NULL AS habitual
    FROM calls c LEFT JOIN habit h ON h.acct = c.acct AND h.actor_id = c.actor_id
)
SELECT
    event_time,
    'instance_os_access' AS detection,
    CASE WHEN outcome = 'success' THEN 'medium' ELSE 'low' END AS severity,
    phase AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region AS region,
    coalesce(json_extract_string(request_parameters, '$.instanceId'),
             json_extract_string(request_parameters, '$.target'),
             nullif(array_to_string(json_strings(json_extract(request_parameters, '$.instanceIds')), ','), ''),
             json_extract_string(request_parameters, '$.task'),
             json_extract_string(request_parameters, '$.sessionId')) AS resource,
    event_id,
    [phase] AS tactics,
    event_name,
    outcome,
    error_code,
    acct AS account_id,
    coalesce(json_extract_string(request_parameters, '$.documentName'),
             json_extract_string(request_parameters, '$.instanceOSUser')) AS detail
FROM judged
WHERE (outcome <> 'success' OR NOT habitual)
  AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, event_id
