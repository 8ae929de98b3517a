/* ---
id: cost_spike_by_region_hour
title: Hourly cost in a region far above the account's own baseline there
kind: detection
sources: [billing]
tactic: impact
attack: [TA0040:T1496]
severity: medium
params:
  factor: {type: DOUBLE, default: 3.0, description: how many times the baseline an hour must cost}
  min_cost: {type: DOUBLE, default: 1.0, description: ignore hours cheaper than this (currency of the bill)}
  baseline_days: {type: INTEGER, default: 7, description: hours of the same region this far back form the baseline}
  recent_hours: {type: INTEGER, default: 24, description: "the latest hours are left out of the baseline, so a spike does not hide itself"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Usage line items (the vocabulary's is_usage_line: tax, credits, refunds and fees apart) are
  spread evenly over the hours they cover (daily Lambda or S3 lines become 24 hourly shares),
  summed per account, region and hour, and compared with the median hour of the same account and
  region over the preceding baseline_days (another account's spend there is not its baseline) (leaving out the last recent_hours, so a spike does not become
  its own baseline). A region with no earlier spend has a baseline of zero. Runs of
  consecutive anomalous hours in a region form one row, with the total, the peak hour, the
  baseline and the usage type that cost most. Billing lags CloudTrail by hours: use it for scope
  and impact, not for the first alert. High when the peak is ten times the baseline and the
  region never cost the account anything before, or the peak is at least ten times min_cost
  above the baseline (a single on-demand hour over a nearly idle account stays medium).
falsepositives: [Planned load tests, batch jobs, new workloads]
--- */
WITH lines AS (
    SELECT coalesce(account_id, '') AS account_id, region, usage_start, cost, usage_type, resource_id, currency,
           greatest(1, ceil(date_diff('second', usage_start, usage_end) / 3600.0))::BIGINT AS hours
    FROM billing
    WHERE cost > 0 AND region IS NOT NULL AND region NOT IN ('', 'global')
      AND is_usage_line(line_item_type, provider)
),
spread AS (
    SELECT l.account_id, l.region,
           date_trunc('hour', l.usage_start) + l.h * INTERVAL 1 HOUR AS hour,
           l.cost / l.hours AS cost, l.usage_type, l.resource_id, l.currency
    FROM (SELECT *, unnest(generate_series(0, hours - 1)) AS h FROM lines) l
),
by_type AS (
    SELECT account_id, region, hour, usage_type, sum(cost) AS cost,
           count(DISTINCT resource_id) AS resources, any_value(currency) AS currency
    FROM spread GROUP BY ALL
),
hourly AS (
    SELECT account_id, region, hour, sum(cost) AS cost, arg_min(usage_type, {'c': -cost, 'u': usage_type}) AS top_usage_type,
           sum(resources) AS resources, any_value(currency) AS currency
    FROM by_type GROUP BY ALL
),
scored AS (   -- the baseline is the same account's own hours in the region
    SELECT h.account_id, h.region, h.hour, h.cost, h.top_usage_type, h.resources, h.currency,
           coalesce(median(p.cost), 0) AS baseline, count(p.cost) AS baseline_hours
    FROM hourly h
    LEFT JOIN hourly p ON p.account_id = h.account_id AND p.region = h.region
                      AND p.hour < h.hour - $recent_hours * INTERVAL 1 HOUR
                      AND p.hour >= h.hour - $baseline_days * INTERVAL 1 DAY
    GROUP BY ALL
),
anomalous AS (
    SELECT * FROM scored
    WHERE cost >= $min_cost AND cost >= $factor * baseline
      AND ($from_time::TIMESTAMPTZ IS NULL OR hour >= date_trunc('hour', $from_time::TIMESTAMPTZ))
      AND ($to_time::TIMESTAMPTZ IS NULL OR hour <= $to_time::TIMESTAMPTZ)
),
runs AS (
    SELECT *, sum(starts) OVER (PARTITION BY account_id, region ORDER BY hour ROWS UNBOUNDED PRECEDING) AS run
    FROM (SELECT *, CASE WHEN hour - lag(hour) OVER (PARTITION BY account_id, region ORDER BY hour) > INTERVAL 1 HOUR
                         THEN 1 ELSE 0 END AS starts
          FROM anomalous)
)
SELECT
    min(hour)                        AS event_time,
    'cost_spike_by_region_hour'      AS detection,
    -- high: ten times the baseline, and either a region that never cost this account anything
    -- before or an excess worth a miner's hour (ten times min_cost): one on-demand hour of a
    -- mid-size instance over a nearly idle account's median is news, not an incident
    CASE WHEN max(cost) >= 10 * greatest(max(baseline), $min_cost / 10)
              AND (max(baseline_hours) = 0 OR max(cost) - max(baseline) >= 10 * $min_cost)
         THEN 'high' ELSE 'medium' END AS severity,
    'impact'                         AS tactic,
    NULL::VARCHAR                    AS principal_arn,
    NULL::VARCHAR                    AS access_key_id,
    NULL::VARCHAR                    AS source_ip,
    region,
    arg_min(top_usage_type, {'c': -cost, 'h': hour}) AS resource,
    NULL::VARCHAR                    AS event_id,
    nullif(account_id, '')           AS account_id,
    count(*)                         AS hours,
    round(sum(cost), 2)              AS cost,
    round(max(cost), 2)              AS peak_hour_cost,
    arg_min(hour, {'c': -cost, 'h': hour}) AS peak_hour,
    round(max(baseline), 4)          AS baseline,
    max(baseline_hours)              AS baseline_hours,
    any_value(currency)              AS currency,
    max(hour) + INTERVAL 1 HOUR      AS last_time
FROM runs
GROUP BY account_id, region, run
ORDER BY event_time, region, account_id
