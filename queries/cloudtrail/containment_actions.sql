/* ---
id: containment_actions
title: "Containment - keys disabled or deleted, users removed, instances of others terminated"
kind: detection
sources: [cloudtrail]
tactic: containment
attack: []
severity: info
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  What responders did, by whom and when: access keys set Inactive or deleted, passwords and users
  deleted, deny-all or revoke-sessions policies, power detached from a user, and resources that
  another principal created (instances, key pairs, security groups, launch templates, fleets,
  Auto Scaling groups) terminated or deleted, plus functions throttled to zero concurrency. Acting
  on one's own key or instance is housekeeping and stays out; so do AWS services (Auto Scaling
  scaling in). One row per call, failures included (a security group still in use).
falsepositives: [Administrators rotating other users' keys, offboarding, clean-up of test resources]
--- */
WITH made AS (   -- who made each resource the evidence shows being made
    SELECT unnest(instance_ids) AS resource_id, event_time,
           coalesce(session_issuer_arn, principal_arn) AS creator
    FROM cloudtrail
    WHERE event_name IN ('RunInstances', 'RunScheduledInstances') AND outcome = 'success'
    UNION ALL
    SELECT unnest(regexp_extract_all(response_elements::VARCHAR, '"(i-[0-9a-fA-F]{8,17})"', 1)), event_time,
           coalesce(session_issuer_arn, principal_arn)
    FROM cloudtrail
    WHERE event_name = 'CreateFleet' AND outcome = 'success'
    UNION ALL
    SELECT coalesce(json_extract_string(response_elements, '$.groupId'),
                    json_extract_string(response_elements, '$.keyName'),
                    json_extract_string(response_elements, '$.CreateLaunchTemplateResponse.launchTemplate.launchTemplateId')),
           event_time, coalesce(session_issuer_arn, principal_arn)
    FROM cloudtrail
    WHERE event_name IN ('CreateSecurityGroup', 'CreateKeyPair', 'ImportKeyPair', 'CreateLaunchTemplate')
      AND outcome = 'success'
),
created AS (
    SELECT resource_id, arg_min(creator, event_time) AS creator FROM made
    WHERE resource_id IS NOT NULL GROUP BY ALL
),
actions AS (
    SELECT *, coalesce(session_issuer_arn, principal_arn) AS actor_id,
           split_part(event_source, '.', 1) || ':' || event_name AS api,
           coalesce(instance_ids,
                    [coalesce(json_extract_string(request_parameters, '$.groupId'),
                              json_extract_string(request_parameters, '$.keyName'),
                              json_extract_string(request_parameters, '$.DeleteLaunchTemplateRequest.LaunchTemplateId'),
                              json_extract_string(request_parameters, '$.launchTemplateId'))]) AS targets
    FROM cloudtrail
    WHERE event_name IN ('AttachRolePolicy', 'AttachUserPolicy', 'CancelSpotInstanceRequests',
                         'DeleteAccessKey', 'DeleteAutoScalingGroup', 'DeleteFleets',
                         'DeleteFunction20150331', 'DeleteKeyPair', 'DeleteLaunchTemplate',
                         'DeleteLoginProfile', 'DeleteSecurityGroup', 'DeleteUser',
                         'DeleteUserPolicy', 'DetachUserPolicy',
                         'PutFunctionConcurrency20171031', 'PutRolePolicy', 'PutUserPolicy',
                         'RemoveUserFromGroup', 'StopInstances', 'TerminateInstances',
                         'UpdateAccessKey')
      AND event_source IN ('autoscaling.amazonaws.com', 'ec2.amazonaws.com', 'iam.amazonaws.com',
                           'lambda.amazonaws.com')
      AND invoked_by IS NULL AND coalesce(principal_type, '') <> 'AWSService'
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
judged AS (
    SELECT a.*,
           CASE
             WHEN a.api IN ('iam:UpdateAccessKey')
                 THEN json_extract_string(a.request_parameters, '$.status') = 'Inactive'
                      AND coalesce(a.target_user_name, a.user_name) <> coalesce(a.user_name, '')
             WHEN a.api IN ('iam:DeleteAccessKey', 'iam:DeleteLoginProfile', 'iam:DetachUserPolicy',
                            'iam:DeleteUserPolicy', 'iam:RemoveUserFromGroup')
                 THEN coalesce(a.target_user_name, a.user_name) <> coalesce(a.user_name, '')
                      AND NOT coalesce(a.policy_arn LIKE '%AWSCompromisedKeyQuarantine%', false)
             WHEN a.api = 'iam:DeleteUser' THEN true
             WHEN a.api IN ('iam:AttachUserPolicy', 'iam:AttachRolePolicy')
                 THEN coalesce(a.policy_arn LIKE '%/AWSDenyAll', false)
             WHEN a.api IN ('iam:PutUserPolicy', 'iam:PutRolePolicy')
                 THEN json_extract_string(a.request_parameters, '$.policyName') = 'AWSRevokeOlderSessions'
                      OR NOT url_decode(coalesce(json_extract_string(a.request_parameters, '$.policyDocument'), 'Allow')) ILIKE '%allow%'
             WHEN a.api = 'lambda:PutFunctionConcurrency20171031'
                 THEN json_extract_string(a.request_parameters, '$.reservedConcurrentExecutions') = '0'
             WHEN a.api = 'lambda:DeleteFunction20150331' THEN false
             ELSE EXISTS (SELECT 1 FROM created c
                          WHERE list_contains(a.targets, c.resource_id) AND c.creator <> a.actor_id)
           END AS is_containment
    FROM actions a
)
SELECT
    event_time,
    'containment_actions'   AS detection,
    CASE WHEN outcome = 'success' THEN 'info' ELSE 'low' END AS severity,
    'containment'           AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region              AS region,
    coalesce(json_extract_string(request_parameters, '$.accessKeyId'),
             nullif(array_to_string(list_sort(list_filter(targets, lambda t: t IS NOT NULL)), ','), ''),
             json_extract_string(request_parameters, '$.functionName'),
             target_user_name, policy_arn) AS resource,
    event_id,
    event_name,
    outcome,
    error_code,
    coalesce(target_user_name, json_extract_string(request_parameters, '$.roleName')) AS target_user
FROM judged
WHERE is_containment
ORDER BY event_time, event_id
