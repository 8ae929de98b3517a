/* ---
id: privilege_escalation
title: Calls that grant more power (Rhino and pathfinding.cloud escalation paths), by outcome
kind: detection
sources: [cloudtrail]
tactic: privilege_escalation
attack: [TA0004:T1098.003, TA0004:T1098.001, TA0004:T1548]
severity: high
stratus:
  - aws.persistence.iam-backdoor-user
  - aws.persistence.iam-create-admin-user
  - aws.persistence.iam-create-user-login-profile
  - aws.privilege-escalation.iam-update-user-login-profile
params:
  habit_hours: {type: INTEGER, default: 24, description: "a principal that makes the same call successfully on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  IAM writes that give a principal more rights (new policy versions, attached or inline policies,
  group membership, trust policies, access keys or passwords for another user) and the calls that
  pass a role to something the caller controls (iam:PassRole is never logged itself, so
  RunInstances with an instance profile, CreateFunction, CreateStack with a role, Glue, SageMaker,
  CodeBuild, ECS, Data Pipeline, App Runner), plus code or commands pushed into what already has a
  role (UpdateFunctionCode, SSM SendCommand, EC2 Instance Connect). A refused CreateUser,
  CreateRole or CreateAccessKey for oneself is probing for a new identity too (when they succeed
  they are persistence: iam_credentials_created). One row per call with its
  outcome: a succeeded grant of admin (AdministratorAccess, IAMFullAccess, Action "*" or "iam:*",
  an admin group) is critical, other successes high, denied and dry-run attempts medium, other
  failures low. AWS's quarantine and deny-only policies (a responder's AWSDenyAll) are not
  escalation. A principal (role, or user) that makes the same call successfully on occasions at
  least habit_hours apart (a deployment pipeline) is doing its job; denied attempts are reported
  regardless.
falsepositives: [Administrators and infrastructure pipelines making their first IAM change in the evidence]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, event_source, aws_region, principal_arn, access_key_id,
           source_ip, user_name, outcome, error_code, policy_arn, target_user_name,
           request_parameters,
           split_part(event_source, '.', 1) || ':' || event_name AS api,
           coalesce(session_issuer_arn, principal_arn) AS actor_id,
           url_decode(coalesce(json_extract_string(request_parameters, '$.policyDocument'), '')) AS doc,
           json_extract_string(request_parameters, '$.groupName') AS group_name,
           json_extract_string(request_parameters, '$.policyName') AS policy_name
    FROM cloudtrail
    WHERE event_name IN ('AddRoleToInstanceProfile', 'AddUserToGroup', 'AssociateIamInstanceProfile',
                         'AttachGroupPolicy', 'AttachRolePolicy', 'AttachUserPolicy',
                         'CreateAccessKey', 'CreateChangeSet', 'CreateCodeInterpreter',
                         'CreateDevEndpoint', 'CreateEventSourceMapping20150331',
                         'CreateFunction20150331', 'CreateJob', 'CreateLoginProfile',
                         'CreateNotebookInstance', 'CreateNotebookInstanceLifecycleConfig',
                         'CreatePipeline', 'CreatePolicyVersion',
                         'CreatePresignedNotebookInstanceUrl', 'CreateProcessingJob',
                         'CreateProject', 'CreateRole', 'CreateService', 'CreateStack',
                         'CreateStackSet', 'CreateTrainingJob', 'CreateUser',
                         'DeleteRolePermissionsBoundary', 'DeleteUserPermissionsBoundary',
                         'ModifyInstanceAttribute', 'PutGroupPolicy', 'PutPipelineDefinition',
                         'PutRolePolicy', 'PutUserPolicy', 'RegisterTaskDefinition',
                         'ReplaceIamInstanceProfileAssociation', 'RequestSpotInstances',
                         'RunInstances', 'RunTask', 'SendCommand', 'SendSSHPublicKey',
                         'SendSerialConsoleSSHPublicKey', 'SetDefaultPolicyVersion',
                         'StartBuild', 'StartBuildBatch', 'StartSession', 'StartTask',
                         'UpdateAssumeRolePolicy', 'UpdateDevEndpoint',
                         'UpdateFunctionCode20150331v2',
                         'UpdateFunctionConfiguration20150331v2', 'UpdateJob',
                         'UpdateLoginProfile', 'UpdateProject', 'UpdateService',
                         'UpdateStack', 'UpdateStackSet')
      AND event_source IN ('apprunner.amazonaws.com', 'bedrock-agentcore.amazonaws.com',
                           'cloudformation.amazonaws.com', 'codebuild.amazonaws.com',
                           'datapipeline.amazonaws.com', 'ec2.amazonaws.com',
                           'ec2-instance-connect.amazonaws.com', 'ecs.amazonaws.com',
                           'glue.amazonaws.com', 'iam.amazonaws.com', 'lambda.amazonaws.com',
                           'sagemaker.amazonaws.com', 'ssm.amazonaws.com')
      AND invoked_by IS NULL AND coalesce(principal_type, '') <> 'AWSService'
),
relevant AS (
    SELECT *,
           coalesce(regexp_matches(policy_arn, '/(AdministratorAccess|IAMFullAccess)$'), false)
           OR (doc ILIKE '%allow%'
               AND regexp_matches(doc, '"Action"\s*:\s*\[?\s*("\*"|"iam:\*")'))
           OR (event_name = 'AddUserToGroup' AND group_name ILIKE '%admin%') AS admin_grant,
           CASE WHEN api IN ('iam:CreateAccessKey', 'iam:CreateLoginProfile', 'iam:UpdateLoginProfile',
                             'iam:UpdateAssumeRolePolicy') THEN 'principal-access'
                WHEN api IN ('iam:CreateUser', 'iam:CreateRole') THEN 'new-principal'
                WHEN starts_with(api, 'iam:') THEN 'self-escalation'
                WHEN api IN ('ec2:RunInstances', 'ec2:RequestSpotInstances', 'lambda:CreateFunction20150331',
                             'glue:CreateDevEndpoint', 'glue:CreateJob', 'cloudformation:CreateStack',
                             'cloudformation:CreateStackSet', 'datapipeline:CreatePipeline',
                             'sagemaker:CreateNotebookInstance', 'sagemaker:CreateTrainingJob',
                             'sagemaker:CreateProcessingJob', 'codebuild:CreateProject',
                             'ecs:RegisterTaskDefinition', 'apprunner:CreateService',
                             'bedrock-agentcore:CreateCodeInterpreter',
                             'ec2:AssociateIamInstanceProfile',
                             'ec2:ReplaceIamInstanceProfileAssociation') THEN 'new-passrole'
                ELSE 'existing-passrole' END AS method,
           coalesce(target_user_name, json_extract_string(request_parameters, '$.roleName'), group_name,
                    policy_arn, json_extract_string(request_parameters, '$.functionName'),
                    json_extract_string(request_parameters, '$.stackName'),
                    json_extract_string(request_parameters, '$.instanceId'),
                    json_extract_string(request_parameters, '$.iamInstanceProfile.arn'),
                    json_extract_string(request_parameters, '$.iamInstanceProfile.name'),
                    json_extract_string(request_parameters, '$.target'),
                    json_extract_string(request_parameters, '$.documentName'),
                    json_extract_string(request_parameters, '$.projectName'),
                    json_extract_string(request_parameters, '$.endpointName'),
                    json_extract_string(request_parameters, '$.notebookInstanceName'),
                    json_extract_string(request_parameters, '$.name')) AS target
    FROM calls
    WHERE CASE
            WHEN api = 'ec2:RunInstances'
                THEN (request_parameters -> '$.iamInstanceProfile') IS NOT NULL
            WHEN api = 'ec2:RequestSpotInstances'
                THEN (request_parameters -> '$.launchSpecification.iamInstanceProfile') IS NOT NULL
            WHEN api = 'ec2:ModifyInstanceAttribute'
                THEN (request_parameters -> '$.userData') IS NOT NULL
            WHEN api IN ('cloudformation:CreateStack', 'cloudformation:UpdateStack')
                THEN (request_parameters -> '$.roleARN') IS NOT NULL
            WHEN api = 'iam:CreateAccessKey'   -- for another user; one's own new key is persistence
                THEN (target_user_name IS NOT NULL AND target_user_name <> coalesce(user_name, ''))
                     OR outcome <> 'success'
            WHEN api IN ('iam:CreateUser', 'iam:CreateRole')   -- a new identity: probing when refused
                THEN outcome <> 'success'
            ELSE true END
      AND NOT coalesce(regexp_matches(policy_arn, 'AWSCompromisedKeyQuarantine|/AWSDenyAll$'), false)
      AND coalesce(policy_name, '') NOT IN ('AWSExposedCredentialPolicy_DO_NOT_REMOVE', 'AWSRevokeOlderSessions')
      AND NOT (doc <> '' AND doc NOT ILIKE '%allow%')   -- deny-only policies contain, not escalate
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
habit AS (
    SELECT actor_id, api
    FROM calls WHERE outcome = 'success'
    GROUP BY ALL
    HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
)
SELECT
    r.event_time,
    'privilege_escalation'     AS detection,
    CASE WHEN r.outcome = 'success' AND r.admin_grant THEN 'critical'
         WHEN r.outcome = 'success' THEN 'high'
         WHEN r.outcome IN ('denied', 'dry_run') THEN 'medium'
         ELSE 'low' END        AS severity,
    'privilege_escalation'     AS tactic,
    r.principal_arn,
    r.access_key_id,
    r.source_ip,
    r.aws_region               AS region,
    r.target                   AS resource,
    r.event_id,
    r.event_name,
    r.outcome,
    r.error_code,
    r.method,
    r.admin_grant,
    r.policy_arn
FROM relevant r
LEFT JOIN habit h ON h.actor_id = r.actor_id AND h.api = r.api
WHERE r.outcome <> 'success' OR h.actor_id IS NULL
ORDER BY r.event_time, r.event_id
