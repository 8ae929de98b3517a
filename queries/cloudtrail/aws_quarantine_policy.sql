/* ---
id: aws_quarantine_policy
title: AWS quarantined a key it found exposed (AWSCompromisedKeyQuarantine policies)
kind: detection
sources: [cloudtrail]
tactic: aws_response
attack: [TA0001:T1078.004]
severity: high
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  When AWS finds an access key in a public place it attaches AWSCompromisedKeyQuarantine (V1 to
  V4) to the key's user, or, in older incidents, puts the inline AWSExposedCredentialPolicy_DO_NOT_REMOVE.
  Keyed on the policy, never on who attached it (the caller is undocumented). The row names the
  quarantined user (its ARN as seen elsewhere in the evidence) and who attached the policy.
  Detaching the policy later is not a quarantine, nor is an attach that was refused or failed.
  The policies are the vocabulary's (is_quarantine_call); the user's key is looked up in the
  quarantine's own account (a namesake user in another account is another user).
falsepositives: [Administrators attaching the policy by hand to contain a key]
--- */
WITH quarantine AS (
    SELECT *,
           resource_account(recipient_account_id, account_id) AS account,
           coalesce(policy_arn, json_extract_string(request_parameters, '$.policyName')) AS policy,
           coalesce(target_user_name, json_extract_string(request_parameters, '$.roleName'),
                    json_extract_string(request_parameters, '$.groupName')) AS target
    FROM cloudtrail
    WHERE is_quarantine_call(event_source, event_name, policy_arn, request_parameters)
      AND outcome = 'success'
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
users AS (   -- the quarantined user's own ARN and key, as its calls in its account show them
    SELECT identity_account(account_id, principal_arn, recipient_account_id) AS account, user_name,
           arg_max(principal_arn, event_time) AS arn, arg_max(access_key_id, event_time) AS key
    FROM cloudtrail
    WHERE principal_type = 'IAMUser' AND user_name IN (SELECT target FROM quarantine)
      AND starts_with(access_key_id, 'AKIA')
    GROUP BY ALL
)
SELECT
    q.event_time,
    'aws_quarantine_policy'    AS detection,
    'high'                     AS severity,
    'aws_response'             AS tactic,
    coalesce(u.arn, 'arn:aws:iam::' || coalesce(q.account, '') || ':user/' || q.target) AS principal_arn,
    u.key                      AS access_key_id,
    q.source_ip,
    q.aws_region               AS region,
    q.policy                   AS resource,
    q.event_id,
    q.event_name,
    q.target                   AS quarantined,
    q.policy,
    CASE WHEN q.policy LIKE '%AWSCompromisedKeyQuarantine%'
         THEN coalesce(nullif(regexp_extract(q.policy, 'AWSCompromisedKeyQuarantine(V\d+)', 1), ''), 'V1')
         ELSE 'inline' END     AS policy_version,
    coalesce(q.principal_arn, q.invoked_by, q.principal_type) AS attached_by,
    q.outcome
FROM quarantine q
LEFT JOIN users u ON u.user_name = q.target AND u.account IS NOT DISTINCT FROM q.account
ORDER BY q.event_time
