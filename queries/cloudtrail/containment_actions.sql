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
  Auto Scaling groups) terminated or deleted, plus functions throttled to zero concurrency.
  Containment is judged by actor (DESIGN.md, Attribution): acting on one's own key, on a user,
  key or instance one made oneself (the intruder's teardown of what it made is defense evasion)
  is not containment; neither are AWS services' own calls nor AWS's quarantine (aws_response).
  The calls are the vocabulary's `containment` events and policies that only take away
  (is_containing_policy); who made what is the vocabulary's resource_creator, per account. One
  row per call, failures included (a security group still in use).
falsepositives: [Administrators rotating other users' keys, offboarding, clean-up of test resources]
--- */
WITH actions AS (
    SELECT *,
           actor_of(session_issuer_arn, principal_arn) AS actor_id,
           resource_account(recipient_account_id, account_id) AS account,
           api_of(event_source, event_name) AS api,
           json_extract_string(request_parameters, '$.accessKeyId') AS target_key,
           coalesce(instance_ids,
                    [coalesce(json_extract_string(request_parameters, '$.groupId'),
                              json_extract_string(request_parameters, '$.keyName'),
                              json_extract_string(request_parameters, '$.DeleteLaunchTemplateRequest.LaunchTemplateId'),
                              json_extract_string(request_parameters, '$.launchTemplateId'),
                              json_extract_string(request_parameters, '$.roleName'))]) AS targets
    FROM (   -- the same rows, found sooner: only calls by a name either test below can pass
             -- reach them (this filter reaches the scan of cloudtrail)
        SELECT * FROM cloudtrail
        WHERE event_name IN (SELECT split_part(v.api, ':', 2) FROM vocab_event v
                             WHERE list_contains(v.tags, 'containment')
                             UNION ALL
                             SELECT * FROM (VALUES ('AttachUserPolicy'), ('AttachRolePolicy'),
                                                   ('PutUserPolicy'), ('PutRolePolicy')) n(name))
    ) cloudtrail
    WHERE (event_has('containment', event_source, event_name)
           OR (api_of(event_source, event_name) IN ('iam:AttachUserPolicy', 'iam:AttachRolePolicy',
                                                    'iam:PutUserPolicy', 'iam:PutRolePolicy')
               AND is_containing_policy(policy_arn, request_parameters)
               AND NOT is_quarantine_call(event_source, event_name, policy_arn, request_parameters)))
      AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
judged AS (
    SELECT a.*,
           -- the actor made the user or key it acts on: its own teardown
           EXISTS (SELECT 1 FROM resource_creator rc
                   WHERE rc.account_id IS NOT DISTINCT FROM a.account AND rc.creator = a.actor_id
                     AND (rc.resource_id = a.target_key OR rc.resource_id = a.target_user_name
                          OR list_contains(a.targets, rc.resource_id))) AS own_making,
           CASE
             WHEN a.api = 'iam:UpdateAccessKey'
                 THEN json_extract_string(a.request_parameters, '$.status') = 'Inactive'
                      AND NOT acts_on_self(a.user_name, a.request_parameters)
             WHEN a.api IN ('iam:DeleteAccessKey', 'iam:DeleteLoginProfile', 'iam:DetachUserPolicy',
                            'iam:DeleteUserPolicy', 'iam:RemoveUserFromGroup')
                 THEN NOT acts_on_self(a.user_name, a.request_parameters)
                      AND NOT is_quarantine_call(a.event_source, replace(a.event_name, 'Detach', 'Attach'),
                                                 a.policy_arn, a.request_parameters)
             WHEN a.api IN ('iam:DeleteUser', 'iam:DeleteRole') THEN true
             WHEN a.api IN ('iam:AttachUserPolicy', 'iam:AttachRolePolicy', 'iam:PutUserPolicy', 'iam:PutRolePolicy')
                 THEN NOT acts_on_self(a.user_name, a.request_parameters)
             WHEN a.api = 'lambda:PutFunctionConcurrency20171031'
                 THEN json_extract_string(a.request_parameters, '$.reservedConcurrentExecutions') = '0'
             WHEN a.api = 'lambda:DeleteFunction20150331' THEN false
             -- EC2 and Auto Scaling: resources another principal made, in the same account
             ELSE EXISTS (SELECT 1 FROM resource_creator rc
                          WHERE rc.account_id IS NOT DISTINCT FROM a.account
                            AND list_contains(a.targets, rc.resource_id) AND rc.creator <> a.actor_id)
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
    coalesce(target_key,
             nullif(array_to_string(list_sort(list_filter(targets, lambda t: t IS NOT NULL)), ','), ''),
             json_extract_string(request_parameters, '$.functionName'),
             target_user_name, policy_arn) AS resource,
    event_id,
    event_name,
    outcome,
    error_code,
    coalesce(target_user_name, json_extract_string(request_parameters, '$.roleName')) AS target_user
FROM judged
WHERE is_containment AND NOT own_making
ORDER BY event_time, event_id
