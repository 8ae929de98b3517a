/* ---
id: launch_in_unused_region
title: Compute launched in a region the account did not use
kind: detection
sources: [cloudtrail, billing]
tactic: impact
attack: [TA0040:T1496, TA0005:T1535]
severity: high
params:
  grace_minutes: {type: INTEGER, default: 60, description: "use within this long before the launch does not make a region used (the intruder's own preparations)"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  DESIGN.md used region (the vocabulary's region_use view): one where, before the launch, the same
  account (the one the events were delivered for) made a successful write other than through a
  global service (IAM, STS's global endpoint, Organizations, CloudFront, Route 53, Support, Health
  and kin log in us-east-1), or was billed. Another account of the organisation using a region
  says nothing about this one. A launch (the vocabulary's launch calls, attempts included, and
  launches a principal made through CloudFormation or Auto Scaling) in any other region is where
  a miner hides. Use in the grace_minutes before the launch is the intruder's preparations (key
  pairs, security groups), not use. With less than a day of the account's evidence (trail or
  billing) before the launch, region use is unknown, never "unused": such launches are reported
  at low severity with region_use 'unknown'. baseline_hours is the account's evidence before the
  launch.
falsepositives: [Expansion into a new region, disaster-recovery set-up]
--- */
WITH launches AS (
    SELECT *, resource_account(recipient_account_id, account_id) AS account,
           list_sort(list_distinct(response_instances(response_elements))) AS instances
    FROM cloudtrail
    WHERE is_launch(event_source, event_name)
      AND is_principal_action(principal_type)
      AND aws_region IS NOT NULL
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
judged AS (
    SELECT l.*, u.first_write, u.first_billed,
           region_use_known(l.account, l.event_time) AS use_known,
           greatest(0, date_diff('second', least(coalesce(e.first_event, e.first_billed),
                                                      coalesce(e.first_billed, e.first_event)), l.event_time) / 3600.0) AS baseline_hours
    FROM launches l
    LEFT JOIN region_use u ON u.account_id = l.account AND u.region = l.aws_region
    LEFT JOIN account_evidence e ON e.account_id = l.account
    WHERE u.first_use IS NULL OR u.first_use > l.event_time - $grace_minutes * INTERVAL 1 MINUTE
)
SELECT
    event_time,
    'launch_in_unused_region'  AS detection,
    CASE WHEN NOT use_known THEN 'low'
         WHEN outcome = 'success' THEN 'high' ELSE 'medium' END AS severity,
    'impact'                   AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                 AS region,
    nullif(array_to_string(instances, ','), '') AS resource,
    event_id,
    event_name,
    outcome,
    error_code,
    account                    AS account_id,
    invoked_by,
    instances,
    instance_type,
    CASE WHEN use_known THEN 'unused' ELSE 'unknown' END AS region_use,
    -- rounded as a decimal: a double's half (54 s = 0.015 h) rounds alike on every engine
    CAST(round(CAST(baseline_hours AS DECIMAL(18, 6)), 2) AS DOUBLE) AS baseline_hours,
    first_write                AS first_regional_write,
    first_billed
FROM judged
ORDER BY event_time, event_id
