/* ---
id: user_data_read
title: Instance user data read across many instances
kind: detection
sources: [cloudtrail]
tactic: discovery
tactics: [discovery, credential_access]
attack: [TA0007:T1580, TA0006:T1552.005]
severity: medium
stratus:
  - aws.discovery.ec2-download-user-data
params:
  gap_minutes: {type: INTEGER, default: 10, description: a pause this long ends a burst}
  min_instances: {type: INTEGER, default: 3, description: distinct instances whose user data a burst asks for}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  DescribeInstanceAttribute for userData (the vocabulary's reads_user_data) over at least
  min_instances distinct instances in one burst of a principal (pauses under gap_minutes):
  an intruder learning what the instances run and looking for the secrets bootstrap scripts
  carry. One row per burst; medium when any read went through, low when every one was refused
  (the attempt still shows what the caller was after). An engineer opening one instance's user
  data stays silent.
falsepositives: [Inventory and configuration-audit tools, migration scripts]
--- */
WITH reads AS (
    SELECT *,
           identity_account(account_id, principal_arn, recipient_account_id) AS acct,
           coalesce(session_issuer_arn, principal_arn) AS actor_id,
           json_extract_string(request_parameters, '$.instanceId') AS instance
    FROM cloudtrail
    WHERE reads_user_data(event_source, event_name, request_parameters)
      AND is_principal_action(principal_type)
),
marked AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE
                   THEN 1 ELSE 0 END AS starts
    FROM reads
    WINDOW w AS (PARTITION BY acct, actor_id ORDER BY event_time, event_id)
),
bursts AS (
    SELECT *, sum(starts) OVER (PARTITION BY acct, actor_id ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS burst
    FROM marked
),
summary AS (
    SELECT acct, actor_id, burst,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id,
           arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(access_key_id, event_time) AS access_key_id,
           arg_min(source_ip, event_time) AS source_ip,
           arg_min(aws_region, event_time) AS region,
           count(*) AS events,
           count(*) FILTER (outcome = 'success') AS succeeded,
           count(*) FILTER (outcome = 'denied') AS denied,
           list_sort(list_distinct(list(instance) FILTER (instance IS NOT NULL))) AS instances
    FROM bursts
    GROUP BY acct, actor_id, burst
)
SELECT
    first_time AS event_time,
    'user_data_read' AS detection,
    CASE WHEN succeeded > 0 THEN 'medium' ELSE 'low' END AS severity,
    'discovery' AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    array_to_string(instances, ',') AS resource,
    event_id,
    last_time,
    events,
    succeeded,
    denied,
    instances,
    acct AS account_id
FROM summary
WHERE array_length(instances) >= $min_instances
  AND ($from_time::TIMESTAMPTZ IS NULL OR first_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, event_id
