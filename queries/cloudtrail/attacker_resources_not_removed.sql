/* ---
id: attacker_resources_not_removed
title: What the intruder created and nobody removed (instances still running, users and keys left)
kind: detection
sources: [cloudtrail]
tactic: containment
attack: [TA0040:T1496, TA0003:T1136.003]
severity: high
params:
  gap_minutes: {type: INTEGER, default: 15, description: launches this close together form one wave}
  min_regions: {type: INTEGER, default: 3}
  grace_minutes: {type: INTEGER, default: 60}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Responders miss things: a region nobody looked at keeps mining, a backdoor key stays active.
  Instances count as the intruder's when their launch was part of a multi-region wave
  (min_regions within gap_minutes of each other) or went to a region the account did not use
  (DESIGN.md); IAM users and access keys count when they were created from an address that was
  refused IAM writes (the same hands that probed for escalation). Reported when the evidence
  never shows them removed (the vocabulary's containment or teardown calls naming them: the
  intruder's own teardown removes them too, as defense evasion), as of the end of the evidence.
  Region use is the vocabulary's (region_use, per account); where it is unknown (less than a day
  of evidence) no region counts as unused. Users and keys are matched in their own account.
falsepositives: [Resources removed after the evidence was exported, or by a path not logged here]
--- */
WITH launches AS (
    SELECT event_time, event_id, aws_region, principal_arn, access_key_id, source_ip,
           resource_account(recipient_account_id, account_id) AS account,
           actor_of(session_issuer_arn, principal_arn) AS actor_id, instance_type,
           list_distinct(response_instances(response_elements)) AS instances
    FROM cloudtrail
    WHERE (is_launch(event_source, event_name) OR api_of(event_source, event_name) = 'ec2:CreateFleet')
      AND outcome = 'success' AND is_principal_action(principal_type)
),
attempts AS (
    SELECT event_time, aws_region, actor_of(session_issuer_arn, principal_arn) AS actor_id
    FROM cloudtrail
    WHERE is_launch(event_source, event_name) AND is_principal_action(principal_type)
),
wave AS (   -- launches with attempts in min_regions regions around them
    SELECT l.event_id
    FROM launches l JOIN attempts a
      ON a.actor_id = l.actor_id
     AND a.event_time BETWEEN l.event_time - $gap_minutes * INTERVAL 1 MINUTE AND l.event_time + $gap_minutes * INTERVAL 1 MINUTE
    GROUP BY l.event_id
    HAVING count(DISTINCT a.aws_region) >= $min_regions
),
suspect_instances AS (
    SELECT l.*, unnest(l.instances) AS instance_id,
           l.event_id IN (SELECT event_id FROM wave) AS in_wave,
           region_use_known(l.account, l.event_time)
           AND (u.first_use IS NULL OR u.first_use > l.event_time - $grace_minutes * INTERVAL 1 MINUTE) AS unused_region
    FROM launches l LEFT JOIN region_use u ON u.account_id = l.account AND u.region = l.aws_region
),
removals AS (   -- what the evidence shows removed or disabled, by whoever
    SELECT resource_account(recipient_account_id, account_id) AS account,
           list_concat(coalesce(instance_ids, []),
                       [json_extract_string(request_parameters, '$.accessKeyId')],
                       CASE WHEN api_of(event_source, event_name) = 'iam:DeleteUser' THEN [target_user_name] END) AS removed
    FROM cloudtrail
    WHERE (event_has('containment', event_source, event_name) OR event_has('teardown', event_source, event_name))
      AND api_of(event_source, event_name) IN ('ec2:TerminateInstances', 'iam:DeleteAccessKey', 'iam:DeleteUser')
      AND outcome = 'success'
),
removed AS (
    SELECT DISTINCT account, unnest(removed) AS resource_id FROM removals
),
probers AS (   -- addresses refused IAM writes
    SELECT DISTINCT principal_arn, source_ip FROM cloudtrail
    WHERE event_source = 'iam.amazonaws.com' AND NOT read_only AND outcome = 'denied'
),
iam_created AS (
    SELECT c.event_time, c.event_id, c.aws_region, c.principal_arn, c.access_key_id, c.source_ip,
           c.event_name, resource_account(c.recipient_account_id, c.account_id) AS account,
           CASE WHEN c.event_name = 'CreateUser' THEN c.target_user_name ELSE c.created_access_key_id END AS created
    FROM cloudtrail c SEMI JOIN probers p ON p.principal_arn = c.principal_arn AND p.source_ip = c.source_ip
    WHERE api_of(c.event_source, c.event_name) IN ('iam:CreateUser', 'iam:CreateAccessKey')
      AND c.outcome = 'success'
),
evidence_end AS (SELECT max(event_time) AS t FROM cloudtrail),
leftovers AS (
    SELECT s.event_time, s.event_id, s.aws_region, s.principal_arn, s.access_key_id, s.source_ip,
           s.instance_id AS resource, 'instance' AS kind, s.instance_type,
           CASE WHEN s.in_wave AND s.unused_region THEN 'multi-region wave, unused region'
                WHEN s.in_wave THEN 'multi-region wave' ELSE 'unused region' END AS why
    FROM suspect_instances s
    WHERE (s.in_wave OR s.unused_region)
      AND NOT EXISTS (SELECT 1 FROM removed r WHERE r.resource_id = s.instance_id
                                                AND r.account IS NOT DISTINCT FROM s.account)
    UNION ALL
    SELECT i.event_time, i.event_id, i.aws_region, i.principal_arn, i.access_key_id, i.source_ip,
           i.created, CASE WHEN i.event_name = 'CreateUser' THEN 'iam user' ELSE 'access key' END,
           NULL, 'created from an address refused IAM writes'
    FROM iam_created i
    WHERE i.created IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM removed r WHERE r.resource_id = i.created
                                                AND r.account IS NOT DISTINCT FROM i.account)
)
SELECT
    l.event_time,
    'attacker_resources_not_removed'  AS detection,
    'high'                            AS severity,
    'containment'                     AS tactic,
    l.principal_arn,
    l.access_key_id,
    l.source_ip,
    l.aws_region                      AS region,
    l.resource,
    l.event_id,
    l.kind,
    l.instance_type,
    l.why,
    e.t                               AS still_present_at
FROM leftovers l CROSS JOIN evidence_end e
WHERE ($from_time::TIMESTAMPTZ IS NULL OR l.event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR l.event_time <= $to_time::TIMESTAMPTZ)
ORDER BY l.event_time, l.resource
