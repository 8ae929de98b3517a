/* ---
id: runaway_write_loop
title: One principal repeating the same write request thousands of times, with its cost
kind: detection
sources: [cloudtrail, billing]
tactic: impact
attack: [TA0040:T1496]
severity: medium
params:
  min_calls: {type: INTEGER, default: 1000, description: repetitions that make a loop}
  gap_hours: {type: INTEGER, default: 1, description: "a whole hour without the call ends a loop"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  A remediation function triggered by the very change it makes, or retrying a call that can never
  succeed, sends the very same request over and over and bills every invocation. One row per loop
  (one principal, one write call with identical parameters, no silent hour, at least
  min_calls calls; an application writing new objects to its bucket is not a loop) with
  its span, rate, errors and the billed cost of the function or resource it ran as (line items
  overlapping the loop whose resource id is the function's ARN in the loop's own account; lines
  without a resource id are never added). High when the loop cost money.
falsepositives: [Busy queue consumers writing the same table, heartbeats]
--- */
WITH busy AS (    -- cheap pre-filter: principals repeating one write call at all
    SELECT coalesce(session_issuer_arn, principal_arn) AS actor_id, event_name
    FROM cloudtrail
    WHERE NOT read_only AND principal_arn IS NOT NULL AND is_principal_action(principal_type)
    GROUP BY ALL
    HAVING count(*) >= $min_calls
),
candidates AS (   -- their calls, with a hash of the request (identical requests hash alike)
    SELECT c.event_time, c.event_id, c.event_name, c.aws_region, c.principal_arn, c.access_key_id,
           c.source_ip, c.outcome, c.error_code, c.user_agent, c.session_name, c.request_parameters,
           resource_account(c.recipient_account_id, c.account_id) AS account,
           coalesce(c.session_issuer_arn, c.principal_arn) AS actor_id, hash(c.request_parameters) AS target
    FROM cloudtrail c
    WHERE NOT c.read_only AND c.principal_arn IS NOT NULL AND is_principal_action(c.principal_type)
      AND c.event_name IN (SELECT event_name FROM busy)
),
repeated AS (
    SELECT c.actor_id, c.event_name, c.target
    FROM candidates c JOIN busy b USING (actor_id, event_name)
    GROUP BY ALL
    HAVING count(*) >= $min_calls
),
writes AS (
    SELECT c.* FROM candidates c JOIN repeated r USING (actor_id, event_name, target)
),
hours AS (       -- hourly counts: the islands below are found over a few rows, not every call
    SELECT actor_id, event_name, target, date_trunc('hour', event_time) AS hour, count(*) AS calls
    FROM writes GROUP BY ALL
),
marked AS (
    SELECT *, CASE WHEN hour - lag(hour) OVER w > $gap_hours * INTERVAL 1 HOUR THEN 1 ELSE 0 END AS starts
    FROM hours
    WINDOW w AS (PARTITION BY actor_id, event_name, target ORDER BY hour)
),
episodes AS (
    SELECT *, sum(starts) OVER (PARTITION BY actor_id, event_name, target ORDER BY hour
                                ROWS UNBOUNDED PRECEDING) AS episode
    FROM marked
),
long_runs AS (
    SELECT actor_id, event_name, target, episode, min(hour) AS start_hour,
           max(hour) + INTERVAL 1 HOUR AS end_hour
    FROM episodes
    GROUP BY ALL
    HAVING sum(calls) >= $min_calls
),
loops AS (
    SELECT w.actor_id, w.event_name, w.target, r.episode,
           min(w.event_time) AS first_time, max(w.event_time) AS last_time,
           arg_min(w.event_id, w.event_time) AS event_id,
           list(w.event_id ORDER BY w.event_time, w.event_id) AS event_ids,
           arg_min(w.principal_arn, w.event_time) AS principal_arn,
           arg_min(w.access_key_id, w.event_time) AS access_key_id,
           arg_min(w.source_ip, w.event_time) AS source_ip,
           arg_min(w.aws_region, w.event_time) AS region,
           arg_min(w.account, w.event_time) AS account,
           count(*) AS events,
           count(*) FILTER (w.outcome <> 'success') AS failed,
           mode(w.error_code) AS error_code,
           count(DISTINCT w.access_key_id) AS sessions,
           arg_min(w.request_parameters, w.event_time) AS request_parameters,
           -- a Lambda function runs as a role session named after the function
           CASE WHEN bool_or(w.user_agent LIKE '%AWS_Lambda_%') THEN any_value(w.session_name) END AS function_name
    FROM writes w
    JOIN long_runs r ON r.actor_id = w.actor_id AND r.event_name = w.event_name AND r.target = w.target
                    AND w.event_time >= r.start_hour AND w.event_time < r.end_hour
    GROUP BY w.actor_id, w.event_name, w.target, r.episode
),
costed AS (
    SELECT l.*, sum(b.cost) AS cost, any_value(b.currency) AS currency,
           list_sort(list_distinct(list(b.usage_type) FILTER (b.usage_type IS NOT NULL))) AS usage_types
    FROM loops l
    LEFT JOIN billing b
           ON l.function_name IS NOT NULL
          AND b.resource_id LIKE '%:' || l.account || ':function:' || l.function_name   -- its own account's
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
    coalesce(json_extract_string(request_parameters, '$.bucketName'),
             json_extract_string(request_parameters, '$.functionName'),
             json_extract_string(request_parameters, '$.tableName'),
             json_extract_string(request_parameters, '$.queueUrl'),
             json_extract_string(request_parameters, '$.roleName'),
             json_extract_string(request_parameters, '$.instanceId'),
             json_extract_string(request_parameters, '$.name'),
             'request ' || left(md5(coalesce(request_parameters::VARCHAR, '')), 12)) AS resource,
    event_id,
    event_ids,
    event_name,
    events,
    failed,
    error_code,
    sessions,
    function_name,
    round(events / greatest(date_diff('second', first_time, last_time) / 60.0, 1), 2) AS calls_per_minute,
    round(cost, 2)           AS cost,
    currency,
    usage_types,
    last_time
FROM costed
WHERE ($from_time::TIMESTAMPTZ IS NULL OR last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
