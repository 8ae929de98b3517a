/* ---
id: ses_enumeration
title: SES sending quota and identity checks (can this account send spam?)
kind: detection
sources: [cloudtrail]
tactic: discovery
attack: [TA0007:T1580, TA0042:T1585.002]
severity: medium
params:
  gap_minutes: {type: INTEGER, default: 30, description: a pause this long ends a check}
  min_distinct: {type: INTEGER, default: 2, description: distinct SES discovery calls}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Leaked keys are often tried for email first: GetSendQuota, GetAccountSendingEnabled,
  ListIdentities, GetIdentityVerificationAttributes, SES v2 GetAccount. One row per check by a
  principal from one address with at least min_distinct different such calls, or any denied one
  (the quarantine policy denies GetSendQuota and ListIdentities). An application that sends mail
  reads its quota alone.
falsepositives: [Mail-sending applications at start-up, SES dashboards]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip,
           outcome
    FROM cloudtrail
    WHERE event_source IN ('ses.amazonaws.com', 'email.amazonaws.com')
      AND event_name IN ('GetSendQuota', 'GetSendStatistics', 'GetAccountSendingEnabled',
                         'ListIdentities', 'GetIdentityVerificationAttributes',
                         'ListVerifiedEmailAddresses', 'GetAccount', 'ListEmailIdentities',
                         'GetEmailIdentity', 'ListConfigurationSets')
      AND principal_arn IS NOT NULL AND invoked_by IS NULL
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
marked AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE
                   THEN 1 ELSE 0 END AS starts
    FROM calls
    WINDOW w AS (PARTITION BY principal_arn, source_ip ORDER BY event_time, event_id)
),
checks AS (
    SELECT *, sum(starts) OVER (PARTITION BY principal_arn, source_ip ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS n
    FROM marked
),
summary AS (
    SELECT principal_arn, source_ip, n,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id,
           arg_min(aws_region, event_time) AS region,
           arg_min(access_key_id, event_time) AS access_key_id,
           count(*) AS events,
           count(DISTINCT event_name) AS distinct_calls,
           count(*) FILTER (outcome = 'denied') AS denied,
           count(DISTINCT aws_region) AS regions,
           list_sort(list_distinct(list(event_name))) AS event_names
    FROM checks
    GROUP BY principal_arn, source_ip, n
)
SELECT
    first_time          AS event_time,
    'ses_enumeration'   AS detection,
    CASE WHEN denied > 0 OR regions > 1 THEN 'high' ELSE 'medium' END AS severity,
    'discovery'         AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    principal_arn       AS resource,
    event_id,
    events,
    distinct_calls,
    denied,
    regions,
    event_names,
    last_time
FROM summary
WHERE distinct_calls >= $min_distinct OR denied > 0
ORDER BY event_time
