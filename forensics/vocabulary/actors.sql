-- Who acts, who made what, and what a call does to it: the definitions behind containment by
-- actor (DESIGN.md, Attribution: the intruder deleting its own keys or instances is defense
-- evasion, not containment) and the grants the detections grade.

-- The identity that acts: a role session by its role, anyone else by its ARN.
CREATE OR REPLACE TEMP MACRO actor_of(session_issuer_arn, principal_arn) AS
    coalesce(session_issuer_arn, principal_arn);

-- A grant of admin, or of a way to it: an admin policy or document, or an admin group.
CREATE OR REPLACE TEMP MACRO grants_admin(policy_arn, request_parameters) AS
    grants_escalation(policy_arn, policy_document(request_parameters))
    OR names_admin_group(request_parameters);

-- A policy that only takes away (a responder's AWSDenyAll, a revoke-sessions or deny-only
-- inline policy): attaching it contains, it never grants.
CREATE OR REPLACE TEMP MACRO is_containing_policy(policy_arn, request_parameters) AS
    coalesce(regexp_matches(policy_arn, ':policy/AWSDenyAll$'), false)
    OR is_deny_only(policy_document(request_parameters));

-- Who made each resource the evidence shows being made, per account (resource_account): EC2
-- instances, security groups, key pairs and launch templates, IAM users, roles and access keys,
-- CloudTrail trails (by ARN). The
-- maker is the acting identity (actor_of), whether it called directly or through a service
-- (invokedBy); the earliest making wins.
CREATE OR REPLACE TEMP VIEW resource_creator AS
WITH made AS (
    SELECT resource_account(recipient_account_id, account_id) AS account_id,
           unnest(coalesce(instance_ids, [])) AS resource_id, event_time, event_id,
           actor_of(session_issuer_arn, principal_arn) AS creator
    FROM cloudtrail
    WHERE is_launch(event_source, event_name) AND outcome = 'success'
      AND is_principal_action(principal_type)
    UNION ALL
    SELECT resource_account(recipient_account_id, account_id),
           unnest(response_instances(response_elements)),
           event_time, event_id, actor_of(session_issuer_arn, principal_arn)
    FROM cloudtrail
    WHERE api_of(event_source, event_name) = 'ec2:CreateFleet' AND outcome = 'success'
      AND is_principal_action(principal_type)
    UNION ALL
    SELECT resource_account(recipient_account_id, account_id),
           CASE api_of(event_source, event_name)
               WHEN 'ec2:CreateSecurityGroup' THEN json_extract_string(response_elements, '$.groupId')
               WHEN 'ec2:CreateKeyPair' THEN json_extract_string(response_elements, '$.keyName')
               WHEN 'ec2:ImportKeyPair' THEN json_extract_string(response_elements, '$.keyName')
               WHEN 'ec2:CreateLaunchTemplate'
                   THEN json_extract_string(response_elements,
                                            '$.CreateLaunchTemplateResponse.launchTemplate.launchTemplateId')
               WHEN 'iam:CreateUser' THEN target_user_name
               WHEN 'iam:CreateRole' THEN json_extract_string(request_parameters, '$.roleName')
               WHEN 'iam:CreateAccessKey' THEN created_access_key_id
               WHEN 'cloudtrail:CreateTrail' THEN json_extract_string(response_elements, '$.trailARN')
           END,
           event_time, event_id, actor_of(session_issuer_arn, principal_arn)
    FROM cloudtrail
    WHERE api_of(event_source, event_name) IN ('ec2:CreateSecurityGroup', 'ec2:CreateKeyPair',
                                               'ec2:ImportKeyPair', 'ec2:CreateLaunchTemplate',
                                               'iam:CreateUser', 'iam:CreateRole', 'iam:CreateAccessKey',
                                               'cloudtrail:CreateTrail')
      AND outcome = 'success' AND is_principal_action(principal_type)
)
SELECT account_id, resource_id, arg_min(creator, event_time) AS creator,
       min(event_time) AS created_at, arg_min(event_id, event_time) AS event_id
FROM made
WHERE resource_id IS NOT NULL
GROUP BY account_id, resource_id;
