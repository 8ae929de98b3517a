/* ---
id: compute_code_changed
title: Code that compute runs replaced (Lambda code or layers, instance user data)
kind: detection
sources: [cloudtrail]
tactic: execution
tactics: [execution, persistence, privilege_escalation]
attack: [TA0002:T1059.009, TA0003:T1525, TA0004:T1548]
severity: medium
stratus:
  - aws.execution.ec2-user-data
  - aws.persistence.lambda-layer-extension
  - aws.persistence.lambda-overwrite-code
params:
  habit_hours: {type: INTEGER, default: 24, description: "a principal that changes code on occasions this far apart is deploying"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  The code an instance or function runs, replaced through the control plane (the vocabulary's
  changes_code): new instance user data (run as the instance's role at its next start), a
  function's code overwritten or a layer (an extension that sees every invocation) attached. The
  code then runs with the compute's role: execution for user data, persistence for Lambda, and
  privilege escalation for both. One row per call; medium when it went through, low when
  refused, failed or a dry run. A principal whose successful changes of this kind span habit_hours or
  more in the evidence is deploying: its successful changes stay silent, refused ones are
  still reported.
falsepositives: [A deployment pipeline's first run, an engineer fixing a function or a bootstrap script]
--- */
WITH calls AS (
    SELECT c.*, v.phase,
           identity_account(c.account_id, c.principal_arn, c.recipient_account_id) AS acct,
           coalesce(c.session_issuer_arn, c.principal_arn) AS actor_id
    FROM cloudtrail c
    JOIN vocab_event v ON v.api = api_of(c.event_source, c.event_name)
    WHERE changes_code(c.event_source, c.event_name, c.request_parameters)
      AND is_principal_action(c.principal_type)
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
    'compute_code_changed' AS detection,
    CASE WHEN outcome = 'success' THEN 'medium' ELSE 'low' END AS severity,
    phase AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region AS region,
    coalesce(json_extract_string(request_parameters, '$.instanceId'),
             json_extract_string(request_parameters, '$.functionName')) AS resource,
    event_id,
    -- the call's own phase first, then what else new code on compute serves (each once)
    list_concat([phase], list_filter(
        CASE WHEN event_source = 'lambda.amazonaws.com' THEN ['persistence', 'privilege_escalation']
             ELSE ['privilege_escalation'] END, lambda t: t <> phase)) AS tactics,
    event_name,
    outcome,
    error_code,
    acct AS account_id,
    json_extract_string(request_parameters, '$.layers') AS layers
FROM judged
WHERE (outcome <> 'success' OR NOT habitual)
  AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, event_id
