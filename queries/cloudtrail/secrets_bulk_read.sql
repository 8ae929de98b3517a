/* ---
id: secrets_bulk_read
title: Secrets, decrypted parameters, Windows passwords or user data read in bulk
kind: detection
sources: [cloudtrail]
tactic: credential_access
attack: [TA0006:T1555.006, TA0006:T1552.005, TA0006:T1552.001]
severity: high
stratus:
  - aws.credential-access.ec2-get-password-data
  - aws.credential-access.secretsmanager-batch-retrieve-secrets
  - aws.credential-access.secretsmanager-retrieve-secrets
  - aws.credential-access.ssm-retrieve-securestring-parameters
  - aws.discovery.ec2-download-user-data
params:
  gap_minutes: {type: INTEGER, default: 10, description: a pause this long ends a burst}
  min_targets: {type: INTEGER, default: 5, description: distinct secrets, parameters or instances read}
  min_denied: {type: INTEGER, default: 3, description: refused reads that make a burst suspect on their own}
  habit_hours: {type: INTEGER, default: 24, description: "a principal that reads this way on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Harvesting credentials the account stores: Secrets Manager GetSecretValue over many secrets or
  BatchGetSecretValue, SSM parameters read with decryption, EC2 GetPasswordData, and instance user
  data (DescribeInstanceAttribute userData, where bootstrap secrets hide). One row per burst of a
  principal from one address reading at least min_targets distinct items, any batch or by-path
  decrypting read, or refused min_targets times (probing). Principals that read this way on
  occasions habit_hours apart (applications at start-up) are doing their job. The reads are the
  vocabulary's `secret_read` events; reads made through a service for a principal (invokedBy)
  count, AWS services' own do not.
falsepositives: [Deployment tools and applications loading their configuration, backup of secrets]
--- */
WITH reads AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip, outcome,
           actor_of(session_issuer_arn, principal_arn) AS actor_id,
           CASE event_name
             WHEN 'GetSecretValue' THEN [json_extract_string(request_parameters, '$.secretId')]
             WHEN 'BatchGetSecretValue' THEN coalesce(json_strings(json_extract(request_parameters, '$.secretIdList')), ['(batch)'])
             WHEN 'GetParameters' THEN coalesce(json_strings(json_extract(request_parameters, '$.names')), [])
             WHEN 'GetParameter' THEN [json_extract_string(request_parameters, '$.name')]
             WHEN 'GetParametersByPath' THEN [json_extract_string(request_parameters, '$.path')]
             ELSE [json_extract_string(request_parameters, '$.instanceId')]
           END AS targets,
           event_name IN ('BatchGetSecretValue', 'GetParametersByPath') AS bulk,
           attacker_phase(event_source, event_name, true, NULL) AS phase
    FROM cloudtrail
    WHERE event_has('secret_read', event_source, event_name)
      -- a parameter is a secret only when decrypted; instance attributes only as user data
      AND CASE event_source
            WHEN 'ssm.amazonaws.com' THEN lower(json_extract_string(request_parameters, '$.withDecryption')) = 'true'
            WHEN 'ec2.amazonaws.com' THEN event_name <> 'DescribeInstanceAttribute'
                                          OR json_extract_string(request_parameters, '$.attribute') = 'userData'
            ELSE true END
      AND is_principal_action(principal_type) AND principal_arn IS NOT NULL
),
candidates AS (   -- an application re-reading its few parameters never needs the windows below
    SELECT actor_id, source_ip FROM reads
    GROUP BY ALL
    HAVING array_length(list_distinct(flatten(list(targets)))) >= $min_targets OR bool_or(bulk)
        OR count(*) FILTER (outcome = 'denied') >= $min_denied
),
marked AS (
    SELECT r.*, CASE WHEN r.event_time - lag(r.event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE THEN 1 ELSE 0 END AS starts
    FROM reads r SEMI JOIN candidates c ON c.actor_id = r.actor_id AND c.source_ip IS NOT DISTINCT FROM r.source_ip
    WINDOW w AS (PARTITION BY r.actor_id, r.source_ip ORDER BY r.event_time, r.event_id)
),
bursts AS (
    SELECT *, sum(starts) OVER (PARTITION BY actor_id, source_ip ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS burst
    FROM marked
),
summary AS (
    SELECT actor_id, source_ip, burst,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id, arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(access_key_id, event_time) AS access_key_id, arg_min(aws_region, event_time) AS region,
           count(*) AS events,
           count(*) FILTER (outcome = 'denied') AS denied,
           count(*) FILTER (outcome = 'success') AS succeeded,
           bool_or(bulk AND outcome = 'success') AS bulk,
           list_sort(list_distinct(flatten(list(targets)))) AS targets,
           list_sort(list_distinct(list(event_name))) AS event_names,
           list_sort(list_distinct(list(phase))) AS phases
    FROM bursts
    GROUP BY actor_id, source_ip, burst
),
qualified AS (
    SELECT * FROM summary
    WHERE array_length(targets) >= $min_targets OR bulk OR denied >= $min_targets
       OR (denied >= $min_denied AND denied = events)
),
habit AS (   -- the same principal qualifying on occasions far apart
    SELECT actor_id FROM qualified GROUP BY ALL
    HAVING max(first_time) - min(first_time) >= $habit_hours * INTERVAL 1 HOUR
)
SELECT
    first_time             AS event_time,
    'secrets_bulk_read'    AS detection,
    CASE WHEN succeeded > 0 THEN 'high' ELSE 'medium' END AS severity,
    'credential_access'    AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    array_to_string(array_slice(targets, 1, 5), ',') || CASE WHEN array_length(targets) > 5 THEN ',...' ELSE '' END AS resource,
    event_id,
    -- user data read is discovery too (DESIGN.md, Phase names)
    list_concat(['credential_access'], list_filter(phases, lambda t: t <> 'credential_access')) AS tactics,
    events,
    succeeded,
    denied,
    array_length(targets)  AS distinct_targets,
    event_names,
    last_time
FROM qualified
WHERE actor_id NOT IN (SELECT actor_id FROM habit)
  AND ($from_time::TIMESTAMPTZ IS NULL OR last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
