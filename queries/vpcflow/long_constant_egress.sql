/* ---
id: long_constant_egress
title: A newly launched instance streaming steadily to one outside address for hours
kind: detection
sources: [vpcflow, cloudtrail]
tactic: impact
attack: [TA0040:T1496, TA0011:T1571]
severity: medium
params:
  min_hours: {type: DOUBLE, default: 2, description: how long the egress must last}
  max_cv: {type: DOUBLE, default: 0.5, description: "bytes per flow record must vary less than this (coefficient of variation)"}
  min_coverage: {type: DOUBLE, default: 0.6, description: share of the span's 10-minute slots with traffic}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Miners keep one long, small, constant connection to their pool, whatever the port. Reported for
  instances a principal launched in the evidence, in the same account (its own launches through
  CloudFormation too; not an AWS service's own, such as Auto Scaling's), when their accepted egress
  to one public address lasts min_hours or more, fills most 10-minute slots of that span, and moves
  about the same number of bytes per flow record. One row per instance, address and port.
falsepositives: [Agents, VPNs and replication streams started on new instances]
--- */
WITH launched_items AS (
    SELECT resource_account(recipient_account_id, account_id) AS account,
           unnest(json_items(json_extract(response_elements, '$.instancesSet.items'))) AS item
    FROM cloudtrail
    WHERE event_name = 'RunInstances' AND outcome = 'success' AND is_principal_action(principal_type)
),
eni_map AS (
    SELECT DISTINCT account, instance_id, json_extract_string(eni_item, '$.networkInterfaceId') AS eni
    FROM (SELECT account, json_extract_string(item, '$.instanceId') AS instance_id,
                 unnest(json_items(json_extract(item, '$.networkInterfaceSet.items'))) AS eni_item
          FROM launched_items)
),
launcher AS (   -- launches by a principal (its own through CloudFormation too), not by AWS services
    SELECT unnest(list_distinct(response_instances(response_elements))) AS instance_id,
           resource_account(recipient_account_id, account_id) AS account,
           principal_arn, access_key_id, aws_region, event_time AS launched_at
    FROM cloudtrail
    WHERE is_launch(event_source, event_name) AND is_principal_action(principal_type)
      AND outcome = 'success'
),
launched AS (
    SELECT instance_id, account, arg_min(principal_arn, launched_at) AS principal_arn,
           arg_min(access_key_id, launched_at) AS access_key_id,
           arg_min(aws_region, launched_at) AS aws_region, min(launched_at) AS launched_at
    FROM launcher GROUP BY ALL
),
egress AS (
    SELECT f.*, coalesce(f.instance_id, m.instance_id) AS inst
    FROM vpc_flows f
    LEFT JOIN eni_map m ON m.eni = f.interface_id AND f.instance_id IS NULL
                       AND (f.account_id IS NULL OR m.account = f.account_id)
    WHERE f.action = 'ACCEPT' AND f.bytes > 0
      AND is_outbound_flow(f.flow_direction, f.src_addr, f.dst_addr)
),
streams AS (
    SELECT e.inst, any_value(e.account_id) AS account_id, e.dst_addr, e.dst_port,
           min(e.start_time) AS first_time, max(e.end_time) AS last_time,
           count(*) AS flows, sum(e.bytes) AS bytes,
           count(DISTINCT floor(epoch(e.start_time) / 600.0)) AS slots,
           stddev_pop(e.bytes) / nullif(avg(e.bytes), 0) AS cv,
           any_value(e.region) AS region
    FROM egress e SEMI JOIN launched l ON l.instance_id = e.inst AND (e.account_id IS NULL OR l.account = e.account_id)
    GROUP BY e.inst, e.dst_addr, e.dst_port
)
SELECT
    s.first_time              AS event_time,
    'long_constant_egress'    AS detection,
    'medium'                  AS severity,
    'impact'                  AS tactic,
    l.principal_arn,
    l.access_key_id,
    s.dst_addr                AS source_ip,
    coalesce(s.region, l.aws_region) AS region,
    s.inst                    AS resource,
    NULL::VARCHAR             AS event_id,
    s.dst_port                AS remote_port,
    round(date_diff('second', s.first_time, s.last_time) / 3600.0, 2) AS hours,
    s.flows,
    s.bytes,
    round(s.cv, 3)            AS cv,
    l.launched_at,
    s.last_time
FROM streams s JOIN launched l ON l.instance_id = s.inst AND (s.account_id IS NULL OR l.account = s.account_id)
WHERE s.last_time - s.first_time >= ($min_hours * 3600) * INTERVAL 1 SECOND
  AND s.cv <= $max_cv
  AND s.slots >= $min_coverage * date_diff('second', s.first_time, s.last_time) / 600.0
  AND ($from_time::TIMESTAMPTZ IS NULL OR s.last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR s.first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, resource
