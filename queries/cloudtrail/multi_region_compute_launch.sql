/* ---
id: multi_region_compute_launch
title: Compute launched (or attempted) across many regions in a short window
kind: detection
sources: [cloudtrail]
tactic: impact
attack: [TA0040:T1496, TA0005:T1578.002]
severity: high
params:
  gap_minutes: {type: INTEGER, default: 15, description: a pause this long ends a wave}
  min_regions: {type: INTEGER, default: 3}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Miners launch in every region they can within minutes: the vocabulary's launch calls
  (RunInstances, Spot requests and fleets, CreateFleet, Auto Scaling groups, Lightsail instances).
  One row per launch call of a wave (one principal, no pause of gap_minutes) that touched at least
  min_regions regions, with its outcome and error (vCPU limits, capacity, account verification and
  denials prove intent), the instances granted and their types, and the wave's attempted and
  succeeded regions. A launch a principal makes through a service (CloudFormation, invokedBy)
  is its own; calls an AWS service makes as itself (identity AWSService) are not waves.
falsepositives: [Planned multi-region deployments, disaster-recovery drills]
--- */
WITH launches AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip,
           outcome, error_code,
           coalesce(session_issuer_arn, principal_arn) AS actor_id,
           list_sort(list_distinct(response_instances(response_elements))) AS instances,
           list_distinct(regexp_extract_all(coalesce(request_parameters::VARCHAR, '') || ' ' ||
                                            coalesce(response_elements::VARCHAR, ''),
                                            '"(?i:instanceType|bundleId)"\s*:\s*"([a-z0-9-]+\.?[a-z0-9_]+)"', 1)) AS instance_types
    FROM cloudtrail
    WHERE is_launch(event_source, event_name)
      AND is_principal_action(principal_type)
      AND principal_arn IS NOT NULL
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
marked AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE
                   THEN 1 ELSE 0 END AS starts
    FROM launches
    WINDOW w AS (PARTITION BY actor_id ORDER BY event_time, event_id)
),
waves AS (
    SELECT *, sum(starts) OVER (PARTITION BY actor_id ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS wave
    FROM marked
),
wave_stats AS (
    SELECT actor_id, wave,
           count(DISTINCT aws_region) AS regions,
           list_sort(list_distinct(list(aws_region))) AS regions_attempted,
           coalesce(list_sort(list_distinct(list(aws_region) FILTER (outcome = 'success'))), []) AS regions_succeeded,
           min(event_time) AS wave_start, max(event_time) AS wave_end
    FROM waves
    GROUP BY actor_id, wave
    HAVING count(DISTINCT aws_region) >= $min_regions
)
SELECT
    w.event_time,
    'multi_region_compute_launch'  AS detection,
    CASE WHEN w.outcome = 'success' THEN 'high' ELSE 'medium' END AS severity,
    'impact'                       AS tactic,
    w.principal_arn,
    w.access_key_id,
    w.source_ip,
    w.aws_region                   AS region,
    nullif(array_to_string(w.instances, ','), '') AS resource,
    w.event_id,
    w.event_name,
    w.outcome,
    w.error_code,
    w.instances,
    w.instance_types,
    s.regions                      AS wave_regions,
    s.regions_attempted,
    s.regions_succeeded,
    s.wave_start,
    s.wave_end
FROM waves w
JOIN wave_stats s USING (actor_id, wave)
ORDER BY w.event_time, w.event_id
