/* ---
id: mining_pool_flows
title: Instances talking to mining-pool ports
kind: detection
sources: [vpcflow, cloudtrail]
tactic: impact
attack: [TA0040:T1496, TA0011:T1571]
severity: high
params:
  ports: {type: "INTEGER[]", default: null, description: "Stratum and pool ports to look for; NULL means the vocabulary's (vocab_mining_port: Falco's miner_ports, without the web ports 25, 80, 443, 8000-8888)"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Accepted outbound flows from one of our interfaces to a public address on a Stratum or pool port.
  One row per instance (or interface when the flow log has no instance-id), pool address and port,
  with the first and last flow, flows, packets and bytes. The instance is tied to whoever launched
  it in the same account (launch responses name instance and interface ids), so the row carries
  that principal and key. source_ip is the pool's address. A port alone is weak evidence; the launch
  link and steady flows make it strong.
falsepositives: [Services that really listen on these ports (some game servers, Bitcoin nodes you run)]
--- */
WITH launched_items AS (
    SELECT resource_account(c.recipient_account_id, c.account_id) AS account,
           unnest(json_items(json_extract(c.response_elements, '$.instancesSet.items'))) AS item
    FROM cloudtrail c
    WHERE c.event_name = 'RunInstances' AND c.outcome = 'success'
),
eni_map AS (   -- interface -> instance, from the launch responses (RunInstances names them)
    SELECT DISTINCT account, instance_id, json_extract_string(eni_item, '$.networkInterfaceId') AS eni
    FROM (SELECT account, json_extract_string(item, '$.instanceId') AS instance_id,
                 unnest(json_items(json_extract(item, '$.networkInterfaceSet.items'))) AS eni_item
          FROM launched_items)
),
launcher AS (  -- instance -> who launched it (any launch call, a principal's own through a service too)
    SELECT unnest(list_distinct(response_instances(response_elements))) AS instance_id,
           resource_account(recipient_account_id, account_id) AS account,
           principal_arn, access_key_id, aws_region, event_time AS launched_at, event_id
    FROM cloudtrail
    WHERE is_launch(event_source, event_name) AND is_principal_action(principal_type)
      AND outcome = 'success'
),
pool AS (
    SELECT f.*, coalesce(f.instance_id, m.instance_id) AS inst
    FROM vpc_flows f
    LEFT JOIN eni_map m ON m.eni = f.interface_id AND f.instance_id IS NULL
                       AND (f.account_id IS NULL OR m.account = f.account_id)
    WHERE f.action = 'ACCEPT'
      AND (CASE WHEN $ports::INTEGER[] IS NULL THEN f.dst_port IN (SELECT port FROM vocab_mining_port)
                ELSE list_contains($ports::INTEGER[], f.dst_port) END)
      AND is_outbound_flow(f.flow_direction, f.src_addr, f.dst_addr)
      AND ($from_time::TIMESTAMPTZ IS NULL OR f.end_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR f.start_time <= $to_time::TIMESTAMPTZ)
),
grouped AS (
    -- per account (two accounts may name the same instance); the first interface and region
    -- seen, ties by name: the same row on every engine
    SELECT coalesce(inst, interface_id) AS resource, account_id,
           min(inst) AS instance_id,
           arg_min(interface_id, {'t': start_time, 'i': interface_id}) AS interface_id, dst_addr, dst_port,
           arg_min(region, {'t': start_time, 'r': region}) AS region,
           min(start_time) AS first_time, max(end_time) AS last_time,
           count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
    FROM pool
    GROUP BY coalesce(inst, interface_id), account_id, dst_addr, dst_port
)
SELECT
    g.first_time            AS event_time,
    'mining_pool_flows'     AS detection,
    'high'                  AS severity,
    'impact'                AS tactic,
    l.principal_arn,
    l.access_key_id,
    g.dst_addr              AS source_ip,
    coalesce(g.region, l.aws_region) AS region,
    g.resource,
    NULL::VARCHAR           AS event_id,
    g.account_id,
    g.instance_id,
    g.interface_id,
    g.dst_port              AS remote_port,
    g.flows,
    g.packets,
    g.bytes,
    l.launched_at,
    g.last_time
FROM grouped g
LEFT JOIN (SELECT instance_id, account, arg_min(principal_arn, {'t': launched_at, 'e': event_id}) AS principal_arn,
                  arg_min(access_key_id, {'t': launched_at, 'e': event_id}) AS access_key_id,
                  arg_min(aws_region, {'t': launched_at, 'e': event_id}) AS aws_region,
                  min(launched_at) AS launched_at
           FROM launcher GROUP BY ALL) l
       ON l.instance_id = g.instance_id AND (g.account_id IS NULL OR l.account = g.account_id)
ORDER BY event_time, resource
