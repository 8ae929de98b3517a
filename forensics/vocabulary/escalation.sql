-- DESIGN.md, Privilege escalation: judged by effect (who gains what), not by event name.
-- A call gives the caller more than it had when it attaches or writes a policy for itself, makes
-- a key, password or login for another principal, passes a role to compute it controls, or opens
-- a trust policy to itself. A key a principal mints for itself is persistence; a non-admin
-- policy change on someone else is neither, unless the policy grants escalation actions.

-- The policy text a call carries (IAM writes it URL-encoded in some event versions).
CREATE OR REPLACE TEMP MACRO policy_document(request_parameters) AS
    url_decode(coalesce(json_extract_string(request_parameters, '$.policyDocument'), ''));

-- A policy that contains (a responder's deny-all, AWS's quarantine): it only takes away.
CREATE OR REPLACE TEMP MACRO is_deny_only(doc) AS
    doc <> '' AND NOT regexp_matches(doc, '(?i)"Effect"\s*:\s*"Allow"');

-- Admin, or any action that leads to admin (Rhino's and pathfinding.cloud's IAM methods), named
-- in an Action (a `"Resource": "*"` grants nothing by itself), or an Allow of everything but some.
CREATE OR REPLACE TEMP MACRO grants_escalation(policy_arn, doc) AS
    coalesce(regexp_matches(policy_arn, '(?i):policy/(AdministratorAccess|IAMFullAccess)$'), false)
    OR (regexp_matches(doc, '(?i)"Effect"\s*:\s*"Allow"')
        AND regexp_matches(doc, '(?i)"NotAction"|"Action"\s*:\s*(\[[^\]]*)?"(\*|\*:\*|iam:\*|iam:Pass\*|iam:PassRole|iam:Attach\*|iam:Put\*|iam:Create\*|iam:Update\*|iam:CreateAccessKey|iam:CreateLoginProfile|iam:UpdateLoginProfile|iam:CreatePolicyVersion|iam:SetDefaultPolicyVersion|iam:AttachUserPolicy|iam:AttachRolePolicy|iam:AttachGroupPolicy|iam:PutUserPolicy|iam:PutRolePolicy|iam:PutGroupPolicy|iam:AddUserToGroup|iam:UpdateAssumeRolePolicy|sts:AssumeRole|sts:\*)"'));

-- A group named for administrators (AddUserToGroup into it is a grant of admin).
CREATE OR REPLACE TEMP MACRO names_admin_group(request_parameters) AS
    coalesce(json_extract_string(request_parameters, '$.groupName'), '') ILIKE '%admin%';

-- AWS's own quarantine of an exposed key (vocab_quarantine_policy).
CREATE OR REPLACE TEMP MACRO is_quarantine_call(event_source, event_name, policy_arn, request_parameters) AS
    event_source = 'iam.amazonaws.com'
    AND ((event_name IN ('AttachUserPolicy', 'AttachGroupPolicy', 'AttachRolePolicy')
          AND regexp_extract(coalesce(policy_arn, ''), '^arn:aws[a-z-]*:iam::aws:policy/(.+)$', 1)
              IN (SELECT policy FROM vocab_quarantine_policy WHERE kind = 'managed'))
         OR (event_name IN ('PutUserPolicy', 'PutGroupPolicy', 'PutRolePolicy')
             AND json_extract_string(request_parameters, '$.policyName')
                 IN (SELECT policy FROM vocab_quarantine_policy WHERE kind = 'inline')));

-- The principal an IAM call acts on; NULL when it names none (the caller itself).
CREATE OR REPLACE TEMP MACRO iam_target(request_parameters) AS
    coalesce(json_extract_string(request_parameters, '$.userName'),
             json_extract_string(request_parameters, '$.roleName'));

-- Whether an IAM call acts on the caller: a user on itself, a role session on its own role
-- (`user_name` holds the session issuer's name for role sessions).
CREATE OR REPLACE TEMP MACRO acts_on_self(user_name, request_parameters) AS
    iam_target(request_parameters) IS NULL OR iam_target(request_parameters) = user_name;

-- 'escalation', 'persistence' or NULL for one call. Root already holds every right.
CREATE OR REPLACE TEMP MACRO escalation_effect(event_source, event_name, principal_type, user_name,
                                               account_id, policy_arn, request_parameters) AS
    CASE
        WHEN NOT event_has('escalation', event_source, event_name) THEN NULL
        WHEN principal_type = 'Root' THEN NULL
        WHEN is_quarantine_call(event_source, event_name, policy_arn, request_parameters) THEN NULL
        WHEN is_deny_only(policy_document(request_parameters)) THEN NULL
        -- credentials: for another principal they are a way in, for oneself a way back
        WHEN api_of(event_source, event_name) IN ('iam:CreateAccessKey', 'iam:CreateLoginProfile')
            THEN CASE WHEN acts_on_self(user_name, request_parameters) THEN 'persistence' ELSE 'escalation' END
        WHEN api_of(event_source, event_name) = 'iam:UpdateLoginProfile'
            THEN CASE WHEN acts_on_self(user_name, request_parameters) THEN NULL ELSE 'escalation' END
        -- policies: on oneself always more; on someone else only when they grant escalation
        WHEN api_of(event_source, event_name) IN ('iam:AttachUserPolicy', 'iam:AttachRolePolicy',
                                                  'iam:PutUserPolicy', 'iam:PutRolePolicy',
                                                  'iam:AttachGroupPolicy', 'iam:PutGroupPolicy')
            THEN CASE WHEN event_name NOT LIKE '%Group%' AND acts_on_self(user_name, request_parameters)
                          THEN 'escalation'
                      WHEN grants_escalation(policy_arn, policy_document(request_parameters))
                          THEN 'escalation' END
        WHEN api_of(event_source, event_name) = 'iam:AddUserToGroup'
            THEN CASE WHEN acts_on_self(user_name, request_parameters)
                           OR names_admin_group(request_parameters)
                          THEN 'escalation' END
        WHEN api_of(event_source, event_name) IN ('iam:DeleteUserPermissionsBoundary',
                                                  'iam:DeleteRolePermissionsBoundary')
            THEN CASE WHEN acts_on_self(user_name, request_parameters) THEN 'escalation' END
        -- a trust policy opened to the caller (its account, itself, anyone) lets it become the
        -- role; opened to an outside account it is a backdoor (persistence)
        WHEN api_of(event_source, event_name) = 'iam:UpdateAssumeRolePolicy'
            THEN CASE WHEN regexp_matches(policy_document(request_parameters),
                                          '"AWS"\s*:\s*(\[[^\]]*)?"\*"')
                           OR strpos(policy_document(request_parameters), ':' || coalesce(account_id, '?') || ':') > 0
                          THEN 'escalation'
                      WHEN regexp_matches(policy_document(request_parameters),
                                          'arn:aws[a-z-]*:iam::(\d{12}):')
                           AND regexp_extract_all(policy_document(request_parameters),
                                                  'arn:aws[a-z-]*:iam::(\d{12}):', 1)
                               <> [coalesce(account_id, '')]
                          THEN 'persistence' END
        -- a role handed to compute the caller controls (iam:PassRole itself is never logged)
        WHEN api_of(event_source, event_name) = 'ec2:RunInstances'
            THEN CASE WHEN (request_parameters -> '$.iamInstanceProfile') IS NOT NULL THEN 'escalation' END
        WHEN api_of(event_source, event_name) = 'ec2:RequestSpotInstances'
            THEN CASE WHEN (request_parameters -> '$.launchSpecification.iamInstanceProfile') IS NOT NULL
                          THEN 'escalation' END
        -- layers are code the function runs with its role (an extension sees every invocation)
        WHEN api_of(event_source, event_name) = 'lambda:UpdateFunctionConfiguration20150331v2'
             AND coalesce(json_array_length(json_extract(request_parameters, '$.layers')), 0) > 0
            THEN 'escalation'
        WHEN event_source IN ('cloudformation.amazonaws.com', 'ecs.amazonaws.com', 'apprunner.amazonaws.com',
                              'lambda.amazonaws.com', 'codebuild.amazonaws.com', 'glue.amazonaws.com',
                              'sagemaker.amazonaws.com', 'datapipeline.amazonaws.com')
             AND api_of(event_source, event_name) NOT IN ('lambda:UpdateFunctionCode20150331v2',
                                                          'sagemaker:CreatePresignedNotebookInstanceUrl')
            THEN CASE WHEN regexp_matches(CAST(request_parameters AS VARCHAR),
                                          '(?i)"(role|roleArn|roleARN|taskRoleArn|executionRoleArn|serviceRole|instanceRoleArn|accessRoleArn)"\s*:\s*"arn:')
                          THEN 'escalation' END
        -- new code in a function that already has a role; versions of a managed policy
        ELSE 'escalation'
    END;

-- DESIGN.md, Phase names: the phase of an intruder's event, the most specific match. AWS's and
-- responders' events are phased by who made them (aws_response, containment), never by this.
CREATE OR REPLACE TEMP MACRO attacker_phase(event_source, event_name, read_only, effect) AS
    CASE effect
        WHEN 'escalation' THEN 'privilege_escalation'
        WHEN 'persistence' THEN 'persistence'
        ELSE coalesce((SELECT v.phase FROM vocab_event v WHERE v.api = api_of(event_source, event_name)),
                      CASE WHEN read_only THEN 'discovery' ELSE 'impact' END)
    END;
