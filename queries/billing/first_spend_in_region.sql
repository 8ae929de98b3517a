/* ---
id: first_spend_in_region
title: The first money ever spent in a region
kind: detection
sources: [billing, cloudtrail]
tactic: impact
attack: [TA0040:T1496, TA0005:T1535]
severity: medium
params:
  learn_hours: {type: INTEGER, default: 24, description: "spend this early in the bill is history, not news (at most a quarter of its span)"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  The qb-queries "unauthorized compute" idea: the first usage line item with a cost for an account
  in a region, once that account's bill has history (learn_hours of it; another account's bill is
  not this one's history). One row per account and region, with what was billed in that
  first hour, the total since, and, when the resources are instances the CloudTrail evidence saw
  launched, who launched them. High when the first spend is compute (BoxUsage, SpotUsage).
falsepositives: [A team starting to use a new region, global services billed to a region for the first time]
--- */
WITH bounds AS (   -- each account's own bill: its history starts with its first line
    SELECT account_id,
           min(usage_start) + least(($learn_hours * 3600) * INTERVAL 1 SECOND,
                                    (max(usage_end) - min(usage_start)) / 4) AS learn_end
    FROM billing
    WHERE is_aws_line(provider)
    GROUP BY ALL
),
lines AS (
    SELECT * FROM billing
    WHERE cost > 0 AND region IS NOT NULL AND region NOT IN ('', 'global')
      AND is_usage_line(line_item_type, provider)
),
firsts AS (
    SELECT account_id, region, min(usage_start) AS first_time, sum(cost) AS total_cost,
           max(usage_end) AS last_time, any_value(currency) AS currency
    FROM lines GROUP BY ALL
),
first_lines AS (
    SELECT f.account_id, f.region, f.first_time, f.total_cost, f.last_time, f.currency,
           list_sort(list_distinct(list(l.usage_type))) AS usage_types,
           list_sort(list_distinct(list(l.resource_id) FILTER (l.resource_id IS NOT NULL AND l.resource_id <> ''))) AS resources,
           sum(l.cost) AS first_hour_cost,
           bool_or(regexp_matches(l.usage_type, '(BoxUsage|SpotUsage|DedicatedUsage|HostUsage)')) AS compute
    FROM firsts f
    JOIN lines l ON l.account_id IS NOT DISTINCT FROM f.account_id AND l.region = f.region
                AND l.usage_start = f.first_time
    GROUP BY ALL
),
launcher AS (   -- instances a principal launched (its own through CloudFormation too), per account
    SELECT unnest(list_distinct(response_instances(response_elements))) AS instance_id,
           resource_account(recipient_account_id, account_id) AS account,
           principal_arn, access_key_id, source_ip, event_time
    FROM cloudtrail
    WHERE is_launch(event_source, event_name) AND is_principal_action(principal_type)
      AND outcome = 'success'
),
linked AS (
    SELECT f.*, arg_min(la.principal_arn, la.event_time) AS principal_arn,
           arg_min(la.access_key_id, la.event_time) AS access_key_id,
           arg_min(la.source_ip, la.event_time) AS source_ip
    FROM first_lines f
    LEFT JOIN launcher la ON list_contains(f.resources, la.instance_id)
                         AND (f.account_id IS NULL OR la.account = f.account_id)
    GROUP BY ALL
)
SELECT
    first_time               AS event_time,
    'first_spend_in_region'  AS detection,
    CASE WHEN compute THEN 'high' ELSE 'medium' END AS severity,
    'impact'                 AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    coalesce(nullif(array_to_string(resources, ','), ''), array_to_string(usage_types, ',')) AS resource,
    NULL::VARCHAR            AS event_id,
    linked.account_id,
    usage_types,
    resources,
    round(first_hour_cost, 4) AS first_hour_cost,
    round(total_cost, 2)     AS total_cost,
    currency,
    last_time
FROM linked JOIN bounds b ON b.account_id IS NOT DISTINCT FROM linked.account_id
WHERE first_time >= b.learn_end
  AND ($from_time::TIMESTAMPTZ IS NULL OR first_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, region
