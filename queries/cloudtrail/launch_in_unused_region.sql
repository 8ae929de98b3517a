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
  DESIGN.md used region: one where, before the launch, the account made a successful write other
  than through a global service (IAM, STS's global endpoint, Organizations, CloudFront, Route 53,
  Support, Health and kin log in us-east-1), or was billed. A launch (RunInstances and kin,
  attempts included) in any other region is where a miner hides. Writes in the grace_minutes
  before the launch are the intruder's preparations (key pairs, security groups), not use.
falsepositives: [Expansion into a new region, disaster-recovery set-up]
--- */
WITH launches AS (
    SELECT *, list_sort(list_distinct(regexp_extract_all(coalesce(response_elements::VARCHAR, ''),
                                               '"(i-[0-9a-fA-F]{8,17})"', 1))) AS instances
    FROM cloudtrail
    WHERE event_name IN ('CreateAutoScalingGroup', 'CreateFleet', 'CreateInstances',
                         'CreateInstancesFromSnapshot', 'RequestSpotFleet',
                         'RequestSpotInstances', 'RunInstances', 'RunScheduledInstances')
      AND event_source IN ('autoscaling.amazonaws.com', 'ec2.amazonaws.com',
                           'lightsail.amazonaws.com')
      AND invoked_by IS NULL AND coalesce(principal_type, '') <> 'AWSService'
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
writes AS (   -- first successful regional write per region
    SELECT aws_region AS region, min(event_time) AS first_use
    FROM cloudtrail
    WHERE NOT read_only AND outcome = 'success'
      AND coalesce(event_type, 'AwsApiCall') IN ('AwsApiCall', 'AwsConsoleAction')
      AND event_source NOT IN ('iam.amazonaws.com', 'sts.amazonaws.com',
            'organizations.amazonaws.com', 'cloudfront.amazonaws.com', 'route53.amazonaws.com',
            'route53domains.amazonaws.com', 'support.amazonaws.com', 'health.amazonaws.com',
            'globalaccelerator.amazonaws.com', 'waf.amazonaws.com', 'budgets.amazonaws.com',
            'ce.amazonaws.com', 'cur.amazonaws.com', 'account.amazonaws.com',
            'signin.amazonaws.com', 'billingconsole.amazonaws.com', 'billing.amazonaws.com',
            'artifact.amazonaws.com', 'trustedadvisor.amazonaws.com', 'pricing.amazonaws.com',
            'shield.amazonaws.com', 'notifications.amazonaws.com', 'freetier.amazonaws.com',
            'sso.amazonaws.com', 'iam-identity-center.amazonaws.com',
            'access-analyzer-global.amazonaws.com')
    GROUP BY ALL
),
billed AS (
    SELECT region, min(usage_start) AS first_use FROM billing WHERE cost > 0 GROUP BY ALL
)
SELECT
    l.event_time,
    'launch_in_unused_region'  AS detection,
    CASE WHEN l.outcome = 'success' THEN 'high' ELSE 'medium' END AS severity,
    'impact'                   AS tactic,
    l.principal_arn,
    l.access_key_id,
    l.source_ip,
    l.aws_region               AS region,
    nullif(array_to_string(l.instances, ','), '') AS resource,
    l.event_id,
    l.event_name,
    l.outcome,
    l.error_code,
    l.instances,
    l.instance_type,
    w.first_use                AS first_regional_write,
    b.first_use                AS first_billed
FROM launches l
LEFT JOIN writes w ON w.region = l.aws_region
LEFT JOIN billed b ON b.region = l.aws_region
WHERE (w.first_use IS NULL OR w.first_use > l.event_time - $grace_minutes * INTERVAL 1 MINUTE)
  AND (b.first_use IS NULL OR b.first_use > l.event_time - $grace_minutes * INTERVAL 1 MINUTE)
ORDER BY l.event_time, l.event_id
