/* ---
id: explicit_deny_after_quarantine
title: Calls refused by an explicit deny after AWS quarantined the key's user
kind: detection
sources: [cloudtrail]
tactic: aws_response
attack: [TA0001:T1078.004]
severity: medium
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  After a quarantine policy is attached, calls of the quarantined user that it covers fail with
  "explicit deny in an identity-based policy": the intruder's script still running (launches, new
  keys, bucket listing) and sometimes the owner. One row per principal, key and address, with the
  refused calls; the quarantine each follows is named. High when the refused calls include
  launches or IAM writes (someone is still trying to spend or persist). The quarantine is the
  vocabulary's (is_quarantine_call, succeeded); its user is matched in its own account.
falsepositives: [The key's owner, unaware, carrying on with routine calls]
--- */
WITH quarantine AS (
    SELECT resource_account(recipient_account_id, account_id) AS account,
           coalesce(target_user_name, json_extract_string(request_parameters, '$.roleName')) AS target,
           min(event_time) AS quarantined_at,
           arg_min(coalesce(policy_arn, json_extract_string(request_parameters, '$.policyName')), event_time) AS policy
    FROM cloudtrail
    WHERE is_quarantine_call(event_source, event_name, policy_arn, request_parameters)
      AND outcome = 'success'
      AND api_of(event_source, event_name) NOT IN ('iam:AttachGroupPolicy', 'iam:PutGroupPolicy')
    GROUP BY ALL
),
refused AS (
    SELECT c.*, q.quarantined_at, q.policy
    FROM cloudtrail c
    JOIN quarantine q ON c.user_name = q.target
                     AND identity_account(c.account_id, c.principal_arn, c.recipient_account_id)
                         IS NOT DISTINCT FROM q.account
                     AND c.event_time > q.quarantined_at
    WHERE c.outcome = 'denied' AND c.error_message ILIKE '%explicit deny%'
      AND ($from_time::TIMESTAMPTZ IS NULL OR c.event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR c.event_time <= $to_time::TIMESTAMPTZ)
)
SELECT
    min(event_time)                               AS event_time,
    'explicit_deny_after_quarantine'              AS detection,
    CASE WHEN bool_or(is_launch(event_source, event_name)
                      OR api_of(event_source, event_name) IN ('ec2:StartInstances', 'lambda:CreateFunction20150331')
                      OR (event_source = 'iam.amazonaws.com' AND NOT read_only))
         THEN 'high' ELSE 'medium' END            AS severity,
    'aws_response'                                AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    arg_min(aws_region, event_time)               AS region,
    any_value(policy)                             AS resource,
    arg_min(event_id, event_time)                 AS event_id,
    list(event_id ORDER BY event_time, event_id)            AS event_ids,
    list_sort(list_distinct(list(event_name)))    AS event_names,
    count(*)                                      AS events,
    list_sort(list_distinct(list(aws_region)))    AS regions,
    any_value(quarantined_at)                     AS quarantined_at,
    arg_min(user_agent, event_time)               AS user_agent,
    max(event_time)                               AS last_time
FROM refused
GROUP BY principal_arn, access_key_id, source_ip
ORDER BY event_time
