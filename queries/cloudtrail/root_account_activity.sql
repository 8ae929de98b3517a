/* ---
id: root_account_activity
title: The root user at work
kind: detection
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004]
severity: high
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Root credentials should sit in a safe. Every call made with them (console or key) is reported,
  one row per address and key, at its first call; an access key created for root is critical.
  Calls root makes through a service (invokedBy: a root key created in the console carries
  signin.amazonaws.com) are root at work; events AWS records about the account
  (AwsServiceEvent) are not.
falsepositives: [The few tasks that need root (billing settings, closing the account), done with MFA]
--- */
SELECT
    min(event_time)                                   AS event_time,
    'root_account_activity'                           AS detection,
    CASE WHEN bool_or(api_of(event_source, event_name) = 'iam:CreateAccessKey' AND outcome = 'success') THEN 'critical'
         ELSE 'high' END                              AS severity,
    'initial_access'                                  AS tactic,
    any_value(principal_arn)                          AS principal_arn,
    access_key_id,
    source_ip,
    arg_min(aws_region, event_time)                   AS region,
    any_value(principal_arn)                          AS resource,
    arg_min(event_id, event_time)                     AS event_id,
    arg_min(event_name, event_time)                   AS event_name,
    list_sort(list_distinct(list(event_name)))        AS event_names,
    count(*)                                          AS events,
    count(*) FILTER (outcome = 'denied')              AS denied,
    arg_min(user_agent, event_time)                   AS user_agent,
    max(event_time)                                   AS last_time
FROM cloudtrail
WHERE principal_type = 'Root'
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
  AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
GROUP BY identity_account(account_id, principal_arn, recipient_account_id), access_key_id, source_ip
ORDER BY event_time
