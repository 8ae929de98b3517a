/* ---
id: security_group_open_to_world
title: A security group opened to the whole internet
kind: detection
sources: [cloudtrail]
tactic: persistence
attack: [TA0003:T1133, TA0005:T1562.007]
severity: medium
stratus:
  - aws.exfiltration.ec2-security-group-open-port-22-ingress
params:
  web_ports: {type: "INTEGER[]", default: [80, 443], description: ports that may face the world}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  AuthorizeSecurityGroupIngress with 0.0.0.0/0 or ::/0: the way in to a miner or a backdoor.
  Remote administration (22, 3389) or every port is high; other ports medium; rules that open
  only web ports (web_ports) are ordinary and stay silent. The EC2 console's launch wizard puts
  SSH or RDP from anywhere on the group it creates for a new instance (`launch-wizard-N`, its
  description "launch-wizard-N created <time>"): a real exposure, but the console's routine
  default, so medium (column console_launch_wizard), in the same account only.
falsepositives: [Bastion hosts, temporary debugging rules, the console's launch wizard (medium)]
--- */
WITH calls AS (
    SELECT *, request_parameters::VARCHAR AS req
    FROM cloudtrail
    WHERE api_of(event_source, event_name) IN ('ec2:AuthorizeSecurityGroupIngress', 'ec2:ModifySecurityGroupRules')
      AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
wizard_groups AS (   -- groups the console's launch wizard made (name and description are its own)
    SELECT DISTINCT resource_account(recipient_account_id, account_id) AS acct,
           json_extract_string(response_elements, '$.groupId') AS group_id
    FROM cloudtrail
    WHERE api_of(event_source, event_name) = 'ec2:CreateSecurityGroup' AND outcome = 'success'
      AND regexp_matches(coalesce(json_extract_string(request_parameters, '$.groupName'), ''),
                         '^launch-wizard-\d+$')
      AND starts_with(coalesce(json_extract_string(request_parameters, '$.groupDescription'), ''),
                      json_extract_string(request_parameters, '$.groupName') || ' created ')
),
open AS (
    SELECT *,
           list_transform(regexp_extract_all(req, '"(?i:fromPort)"\s*:\s*(-?\d+)', 1), lambda x: x::INTEGER) AS from_ports,
           list_transform(regexp_extract_all(req, '"(?i:toPort)"\s*:\s*(-?\d+)', 1), lambda x: x::INTEGER) AS to_ports,
           regexp_matches(req, '"(?i:ipProtocol)"\s*:\s*"-1"') AS all_protocols
    FROM calls
    WHERE regexp_matches(req, '"(?i:cidrIp(v6)?)"\s*:\s*"[0-9a-fA-F.:]*/0"')
),
judged AS (
    SELECT o.*, w.group_id IS NOT NULL AS console_launch_wizard
    FROM open o
    LEFT JOIN wizard_groups w
      ON w.acct IS NOT DISTINCT FROM resource_account(o.recipient_account_id, o.account_id)
     AND w.group_id = json_extract_string(o.request_parameters, '$.groupId')
)
SELECT
    event_time,
    'security_group_open_to_world'  AS detection,
    CASE WHEN console_launch_wizard THEN 'medium'
         WHEN all_protocols OR array_length(array_intersect(from_ports, [22, 3389, 0, -1])) > 0
              OR array_length(array_intersect(to_ports, [65535])) > 0
              -- the i-th rule's ports (array_slice(l, i, i)[1]: 1-based in every engine)
              OR array_length(list_filter(generate_series(1, array_length(from_ports)),
                  lambda i: array_slice(from_ports, i, i)[1] <= 22 AND array_slice(to_ports, i, i)[1] >= 22)) > 0
         THEN 'high' ELSE 'medium' END AS severity,
    'persistence'                   AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                      AS region,
    coalesce(json_extract_string(request_parameters, '$.groupId'),
             json_extract_string(request_parameters, '$.groupName')) AS resource,
    event_id,
    ['persistence', 'defense_evasion']  AS tactics,   -- a way in, and a firewall opened
    outcome,
    from_ports,
    to_ports,
    all_protocols,
    console_launch_wizard
FROM judged
WHERE all_protocols
   OR array_length(from_ports) = 0
   OR array_length(list_filter(generate_series(1, array_length(from_ports)),
                   lambda i: NOT (array_slice(from_ports, i, i)[1] = array_slice(to_ports, i, i)[1]
                                  AND list_contains($web_ports::INTEGER[], array_slice(from_ports, i, i)[1])))) > 0
ORDER BY event_time
