/* ---
id: quota_region_sweep
title: Service-quota, region or other reconnaissance checks swept across many regions
kind: detection
sources: [cloudtrail]
tactic: discovery
attack: [TA0007:T1580, TA0040:T1496]
severity: medium
params:
  gap_minutes: {type: INTEGER, default: 5, description: a pause this long ends a sweep}
  min_regions: {type: INTEGER, default: 5}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Before a mass launch a miner asks how many vCPUs each region allows (GetServiceQuota, quota
  L-1216C47A) and which regions are enabled (DescribeRegions); a spammer reads each region's SES
  quota. The calls are the vocabulary's recon reads of regional services. One row per sweep by a
  principal from one address over at least min_regions regions; high from ten regions on. The
  console's own fan-out reads other Describe calls, not quotas.
falsepositives: [Capacity-planning or inventory tools that read quotas in every region]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip,
           json_extract_string(request_parameters, '$.quotaCode') AS quota_code
    FROM cloudtrail
    WHERE event_has('recon', event_source, event_name)
      AND NOT is_global_source(event_source)   -- who-am-I and IAM reads log in us-east-1 only
      AND principal_arn IS NOT NULL AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
marked AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE
                   THEN 1 ELSE 0 END AS starts
    FROM calls
    WINDOW w AS (PARTITION BY principal_arn, source_ip ORDER BY event_time, event_id)
),
sweeps AS (
    SELECT *, sum(starts) OVER (PARTITION BY principal_arn, source_ip ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS sweep
    FROM marked
),
summary AS (
    SELECT principal_arn, source_ip, sweep,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id,
           list(event_id ORDER BY event_time, event_id) AS event_ids,
           arg_min(aws_region, event_time) AS region,
           arg_min(access_key_id, event_time) AS access_key_id,
           count(*) AS events,
           count(DISTINCT aws_region) AS regions,
           list_sort(list_distinct(list(aws_region))) AS region_list,
           list_sort(list_distinct(list(event_name))) AS event_names,
           list_sort(list_distinct(list(quota_code) FILTER (quota_code IS NOT NULL))) AS quota_codes
    FROM sweeps
    GROUP BY principal_arn, source_ip, sweep
)
SELECT
    first_time             AS event_time,
    'quota_region_sweep'   AS detection,
    CASE WHEN regions >= 10 THEN 'high' ELSE 'medium' END AS severity,
    'discovery'            AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    principal_arn          AS resource,
    event_id,
    event_ids,
    events,
    regions,
    region_list,
    event_names,
    quota_codes,
    last_time
FROM summary
WHERE regions >= $min_regions
ORDER BY event_time
