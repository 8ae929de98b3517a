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
  Escalation by effect (DESIGN.md, Privilege escalation; the vocabulary's escalation_effect): a
  policy attached to or written for the caller itself or a principal it can act as, an admin or
  escalation-granting policy for anyone, a key, password or login for another principal, a trust
  policy opened to the caller, a role passed to compute it controls (iam:PassRole is never logged
  itself: RunInstances with an instance profile, CreateFunction, CreateStack with a role, Glue,
  SageMaker, CodeBuild, ECS, Data Pipeline, App Runner), new code in a function that has a role.
  A key a principal mints for itself is persistence (iam_credentials_created), a read-only policy
  on someone else is neither, AWS's quarantine and deny-only policies are not escalation. Also
  commands and code run on compute that holds its own role (the vocabulary's runs_code: SSM
  SendCommand and StartSession, user data changed, ECS exec, CodeBuild, SSH keys pushed through
  EC2 Instance Connect or the serial console): their tactic is their phase (execution,
  lateral_movement) and `tactics` adds privilege_escalation, the role they reach. Escalation that
  also keeps access (policies attached, keys for others, new or changed function code) adds
  persistence to `tactics`. One row per
  call with its outcome: a succeeded grant of admin (grants_admin) is critical, other successes
  high, denied and dry-run attempts medium, other failures low. A record that names no caller at
  all (trimmed exports without userIdentity) cannot say who gains what: its successes are one
  step lower (an admin grant high, others medium). A principal (role, or user) that
  makes the same call successfully on occasions at least habit_hours apart (a deployment
  pipeline) is doing its job; denied attempts are reported regardless. Events made through a
  service for the caller (invokedBy) count; AWS services' own do not.
falsepositives: [Administrators and infrastructure pipelines making their first IAM change in the evidence]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, event_source, aws_region, principal_arn, access_key_id,
           source_ip, outcome, error_code, policy_arn, target_user_name, request_parameters,
           api_of(event_source, event_name) AS api,
           actor_of(session_issuer_arn, principal_arn) AS actor_id,
           coalesce(principal_type, principal_arn, user_name) IS NOT NULL AS known_actor,
           escalation_effect(event_source, event_name, principal_type, user_name,
                             identity_account(account_id, principal_arn, recipient_account_id),
                             policy_arn, request_parameters) AS effect,
           event_has('runs_code', event_source, event_name) AS runs_code
    FROM cloudtrail
    WHERE (event_has('escalation', event_source, event_name) OR event_has('runs_code', event_source, event_name))
      AND is_principal_action(principal_type)
),
relevant AS (
    SELECT c.*,
           -- a trust policy's document names who may assume, not what the role may do
           grants_admin(policy_arn, request_parameters) AND api <> 'iam:UpdateAssumeRolePolicy' AS admin_grant,
           CASE WHEN runs_code THEN attacker_phase(event_source, event_name, false, NULL)
                ELSE 'privilege_escalation' END AS row_tactic,
           -- ATT&CK's account manipulation and backdoored functions serve persistence too: the
           -- call's own phase in the vocabulary, or a layer added to a function
           attacker_phase(event_source, event_name, false, NULL) = 'persistence'
           OR coalesce(json_array_length(json_extract(request_parameters, '$.layers')), 0) > 0 AS persists,
           CASE WHEN api IN ('iam:CreateAccessKey', 'iam:CreateLoginProfile', 'iam:UpdateLoginProfile',
                             'iam:UpdateAssumeRolePolicy') THEN 'principal-access'
                WHEN starts_with(api, 'iam:') THEN 'self-escalation'
                WHEN runs_code OR api IN ('lambda:UpdateFunctionCode20150331v2',
                                          'lambda:UpdateFunctionConfiguration20150331v2',
                                          'cloudformation:UpdateStack', 'cloudformation:UpdateStackSet',
                                          'glue:UpdateDevEndpoint', 'glue:UpdateJob',
                                          'codebuild:UpdateProject', 'ecs:UpdateService',
                                          'sagemaker:CreatePresignedNotebookInstanceUrl')
                    THEN 'existing-passrole'
                ELSE 'new-passrole' END AS method,
           coalesce(target_user_name, json_extract_string(request_parameters, '$.roleName'),
                    json_extract_string(request_parameters, '$.groupName'),
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
    FROM calls c
    WHERE CASE WHEN runs_code
                   -- user data is code only when it changes (the instance runs it at its next start)
                   THEN api <> 'ec2:ModifyInstanceAttribute'
                        OR (request_parameters -> '$.userData') IS NOT NULL
               ELSE effect = 'escalation' END
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
    CASE WHEN r.outcome = 'success' AND r.admin_grant AND NOT r.runs_code AND r.known_actor THEN 'critical'
         WHEN r.outcome = 'success' AND r.admin_grant AND NOT r.runs_code THEN 'high'
         WHEN r.outcome = 'success' AND r.known_actor THEN 'high'
         WHEN r.outcome = 'success' THEN 'medium'
         WHEN r.outcome IN ('denied', 'dry_run') THEN 'medium'
         ELSE 'low' END        AS severity,
    r.row_tactic               AS tactic,
    r.principal_arn,
    r.access_key_id,
    r.source_ip,
    r.aws_region               AS region,
    r.target                   AS resource,
    r.event_id,
    -- the primary first (list_distinct would not keep the order)
    list_concat([r.row_tactic],
                CASE WHEN r.row_tactic <> 'privilege_escalation' THEN ['privilege_escalation'] ELSE [] END,
                CASE WHEN r.persists AND NOT r.runs_code THEN ['persistence'] ELSE [] END) AS tactics,
    r.event_name,
    r.outcome,
    r.error_code,
    r.method,
    r.admin_grant AND NOT r.runs_code AS admin_grant,
    r.policy_arn
FROM relevant r
LEFT JOIN habit h ON h.actor_id = r.actor_id AND h.api = r.api
WHERE r.outcome <> 'success' OR h.actor_id IS NULL
ORDER BY r.event_time, r.event_id
