/* ---
id: runaway_write_loop
title: One principal repeating the same write on the same target thousands of times, with its cost
kind: detection
sources: [cloudtrail, billing]
tactic: impact
attack: [TA0040:T1496]
severity: medium
params:
  min_calls: {type: INTEGER, default: 1000, description: repetitions that make a loop}
  gap_minutes: {type: INTEGER, default: 30, description: a pause this long ends a loop}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  A remediation function triggered by the very change it makes, or retrying a call that can never
  succeed, writes the same thing over and over and bills every invocation. One row per loop (one
  principal, one write call, one target, no pause of gap_minutes, at least min_calls calls) with
  its span, rate, errors and the billed cost of the function or resource it ran as (line items
  overlapping the loop whose resource id is the function's ARN). High when the loop cost money.
falsepositives: [Busy queue consumers writing the same table, heartbeats]
--- */
WITH heavy AS (   -- cheap pre-filter before any JSON is read
    SELECT coalesce(session_issuer_arn, principal_arn) AS actor_id, event_name
    FROM cloudtrail
    WHERE NOT read_only AND principal_arn IS NOT NULL AND invoked_by IS NULL
    GROUP BY ALL
    HAVING count(*) >= $min_calls
),
writes AS (
    SELECT c.event_time, c.event_id, c.event_name, c.aws_region, c.principal_arn, c.access_key_id,
           c.source_ip, c.outcome, c.error_code, c.user_agent, c.session_name,
           coalesce(c.session_issuer_arn, c.principal_arn) AS actor_id,
           coalesce(json_extract_string(c.request_parameters, '$.bucketName'),
                    json_extract_string(c.request_parameters, '$.functionName'),
                    json_extract_string(c.request_parameters, '$.tableName'),
                    json_extract_string(c.request_parameters, '$.queueUrl'),
                    json_extract_string(c.request_parameters, '$.roleName'),
                    json_extract_string(c.request_parameters, '$.instanceId'),
                    json_extract_string(c.request_parameters, '$.name'),
                    'request ' || left(md5(coalesce(c.request_parameters::VARCHAR, '')), 12)) AS target
    FROM cloudtrail c
    SEMI JOIN heavy h ON h.actor_id = coalesce(c.session_issuer_arn, c.principal_arn)
                     AND h.event_name = c.event_name
    WHERE NOT c.read_only AND c.invoked_by IS NULL
),
marked AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w > to_minutes($gap_minutes)
                   THEN 1 ELSE 0 END AS starts
    FROM writes
    WINDOW w AS (PARTITION BY actor_id, event_name, target ORDER BY event_time, event_id)
),
episodes AS (
    SELECT *, sum(starts) OVER (PARTITION BY actor_id, event_name, target ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS episode
    FROM marked
),
loops AS (
    SELECT actor_id, event_name, target, episode,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id,
           arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(access_key_id, event_time) AS access_key_id,
           arg_min(source_ip, event_time) AS source_ip,
           arg_min(aws_region, event_time) AS region,
           count(*) AS events,
           count(*) FILTER (outcome <> 'success') AS failed,
           mode(error_code) AS error_code,
           count(DISTINCT access_key_id) AS sessions,
           -- a Lambda function runs as a role session named after the function
           CASE WHEN bool_or(user_agent LIKE '%AWS_Lambda_%') THEN any_value(session_name) END AS function_name
    FROM episodes
    GROUP BY actor_id, event_name, target, episode
    HAVING count(*) >= $min_calls
),
costed AS (
    SELECT l.*, sum(b.cost) AS cost, any_value(b.currency) AS currency,
           list_sort(list_distinct(list(b.usage_type) FILTER (b.usage_type IS NOT NULL))) AS usage_types
    FROM loops l
    LEFT JOIN billing b
           ON l.function_name IS NOT NULL
          AND b.resource_id LIKE '%:function:' || l.function_name
          AND b.usage_start < l.last_time AND b.usage_end > l.first_time
    GROUP BY ALL
)
SELECT
    first_time               AS event_time,
    'runaway_write_loop'     AS detection,
    CASE WHEN coalesce(cost, 0) > 0 THEN 'high' ELSE 'medium' END AS severity,
    'impact'                 AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    target                   AS resource,
    event_id,
    event_name,
    events,
    failed,
    error_code,
    sessions,
    function_name,
    round(events / greatest(epoch(last_time - first_time) / 60, 1), 2) AS calls_per_minute,
    round(cost, 2)           AS cost,
    currency,
    usage_types,
    last_time
FROM costed
WHERE ($from_time::TIMESTAMPTZ IS NULL OR last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
