/* ---
id: gpu_or_large_instances
title: GPU, accelerator or very large instances launched (or attempted)
kind: detection
sources: [cloudtrail]
tactic: impact
attack: [TA0040:T1496]
severity: high
stratus:
  - aws.execution.ec2-launch-unusual-instances
params:
  min_xlarge: {type: INTEGER, default: 12, description: "sizes from this many xlarge up (and metal) count as very large"}
  habit_hours: {type: INTEGER, default: 24, description: "a principal that launches the same type on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Miners want GPUs (p, g, inf, trn, dl families) or many cores (12xlarge and up, metal). One row
  per launch call (the vocabulary's launch and launch_spec calls: RunInstances, Spot, fleets,
  launch templates, Auto Scaling; a principal's own through CloudFormation too) naming such a type,
  whatever its outcome: a refused launch still shows intent. GPU high, large CPU medium. A
  principal that launches the same type on occasions habit_hours apart is doing its job.
falsepositives: [Machine-learning training, batch jobs, load tests]
--- */
WITH launches AS (
    SELECT *, coalesce(session_issuer_arn, principal_arn) AS actor_id,
           list_distinct(regexp_extract_all(coalesce(request_parameters::VARCHAR, '') || ' ' ||
                                            coalesce(response_elements::VARCHAR, ''),
                                            '"(?i:instanceType)"\s*:\s*"([a-z0-9-]+\.[a-z0-9]+)"', 1)) AS types,
           list_sort(list_distinct(response_instances(response_elements))) AS instances
    FROM cloudtrail
    WHERE (is_launch(event_source, event_name) OR event_has('launch_spec', event_source, event_name))
      AND is_principal_action(principal_type)
),
typed AS (
    SELECT *,
           list_filter(types, lambda t: regexp_matches(t, '^(p[0-9]|g[0-9]|gr6|inf[0-9]|trn[0-9]|dl[0-9]|f[12]\.|vt1)')) AS gpu_types,
           list_filter(types, lambda t: split_part(t, '.', 2) = 'metal'
                       OR coalesce(TRY_CAST(regexp_extract(split_part(t, '.', 2), '^(\d+)xlarge$', 1) AS INTEGER), 0) >= $min_xlarge) AS large_types
    FROM launches
),
used AS (
    SELECT actor_id, event_time, unnest(types) AS itype FROM typed WHERE outcome = 'success'
),
habit AS (
    SELECT actor_id, itype FROM used
    GROUP BY ALL
    HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
),
flagged AS (
    SELECT t.*,
           list_filter(list_distinct(list_concat(t.gpu_types, t.large_types)),
                       lambda x: NOT list_contains(coalesce(h.types, []::VARCHAR[]), x)) AS unusual
    FROM typed t
    LEFT JOIN (SELECT actor_id, list(itype) AS types FROM habit GROUP BY ALL) h USING (actor_id)
)
SELECT
    event_time,
    'gpu_or_large_instances'  AS detection,
    CASE WHEN array_length(array_intersect(unusual, gpu_types)) > 0 THEN 'high' ELSE 'medium' END AS severity,
    'impact'                  AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                AS region,
    coalesce(nullif(array_to_string(instances, ','), ''), array_to_string(unusual, ',')) AS resource,
    event_id,
    event_name,
    outcome,
    error_code,
    unusual                   AS instance_types,
    instances
FROM flagged
WHERE array_length(unusual) > 0
  AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, event_id
