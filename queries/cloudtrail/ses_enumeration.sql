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
  min_distinct: {type: INTEGER, default: 1, description: distinct SES discovery calls}
  habit_hours: {type: INTEGER, default: 24, description: "a principal that checks on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Leaked keys are often tried for email first: GetSendQuota, GetAccountSendingEnabled,
  ListIdentities, GetIdentityVerificationAttributes, SES v2 GetAccount (the vocabulary's
  `mail_check` events). One row per check by a principal from one address: a single quota or
  identity check is enough (low), several distinct calls medium, a denied one (the quarantine
  policy denies GetSendQuota and ListIdentities) or checks in several regions high. An
  application that checks its quota on occasions at least habit_hours apart is doing its job.
falsepositives: [Mail-sending applications at start-up, SES dashboards]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip,
           outcome, actor_of(session_issuer_arn, principal_arn) AS actor_id
    FROM cloudtrail
    WHERE event_source IN ('ses.amazonaws.com', 'email.amazonaws.com')
      AND event_has('mail_check', 'ses.amazonaws.com', event_name)
      AND principal_arn IS NOT NULL AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
habit AS (
    SELECT actor_id FROM calls WHERE outcome = 'success'
    GROUP BY ALL HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
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
    SELECT principal_arn, source_ip, n, any_value(actor_id) AS actor_id,
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
    CASE WHEN denied > 0 OR regions > 1 THEN 'high'
         WHEN distinct_calls > 1 THEN 'medium' ELSE 'low' END AS severity,
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
WHERE (distinct_calls >= $min_distinct AND actor_id NOT IN (SELECT actor_id FROM habit)) OR denied > 0
ORDER BY event_time
