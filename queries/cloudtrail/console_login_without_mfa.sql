/* ---
id: console_login_without_mfa
title: Successful console sign-in without MFA by an IAM user or root
kind: detection
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004]
severity: medium
stratus:
  - aws.initial-access.console-login-without-mfa
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  A password alone opened the console (additionalEventData.MFAUsed is not Yes). Root without MFA
  is high. Federated and SSO sign-ins are left out: their MFA happens at the identity provider.
  Failed sign-ins are not successes and stay silent.
falsepositives: [Accounts that have not rolled out MFA yet, break-glass users]
--- */
SELECT
    event_time,
    'console_login_without_mfa'     AS detection,
    CASE WHEN principal_type = 'Root' THEN 'high' ELSE 'medium' END AS severity,
    'initial_access'                AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                      AS region,
    coalesce(user_name, principal_arn) AS resource,
    event_id,
    principal_type,
    user_agent,
    json_extract_string(raw, '$.additionalEventData.MFAUsed') AS mfa_used
FROM cloudtrail
WHERE api_of(event_source, event_name) = 'signin:ConsoleLogin'
  AND outcome = 'success'
  AND principal_type IN ('IAMUser', 'Root')
  AND coalesce(json_extract_string(response_elements, '$.ConsoleLogin'), 'Success') = 'Success'
  AND coalesce(json_extract_string(raw, '$.additionalEventData.MFAUsed'), 'No') <> 'Yes'
  AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
