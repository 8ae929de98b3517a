/* ---
id: external_trust_granted
title: Roles or functions opened to another account or to anyone
kind: detection
sources: [cloudtrail]
tactic: persistence
attack: [TA0003:T1098.003, TA0003:T1098]
severity: high
stratus:
  - aws.persistence.iam-backdoor-role
  - aws.persistence.iam-create-backdoor-role
  - aws.persistence.lambda-backdoor-function
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  A backdoor that survives key rotation: a role whose trust policy (CreateRole,
  UpdateAssumeRolePolicy) names an account other than the one it lives in, or "*"; a Lambda
  resource policy (AddPermission) for "*" or a foreign account. Trust in AWS services (ec2,
  lambda ...) and in the account itself is ordinary. Successes high, attempts medium. Calls made
  through a service for a principal (a CloudFormation stack, invokedBy) count; AWS services' own
  do not.
falsepositives: [Deliberate cross-account access for partners, vendors or an organisation's other accounts]
--- */
WITH calls AS (
    SELECT *,
           url_decode(coalesce(json_extract_string(request_parameters, '$.assumeRolePolicyDocument'),
                               json_extract_string(request_parameters, '$.policyDocument'), '')) AS doc,
           json_extract_string(request_parameters, '$.principal') AS lambda_principal
    FROM cloudtrail
    WHERE (api_of(event_source, event_name) IN ('iam:CreateRole', 'iam:UpdateAssumeRolePolicy')
           OR (event_source = 'lambda.amazonaws.com' AND starts_with(event_name, 'AddPermission')))
      AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
trusted AS (
    SELECT *,
           list_distinct(list_filter(
               list_concat(regexp_extract_all(doc, 'arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):', 1),
                           regexp_extract_all(doc, '"AWS"\s*:\s*\[?\s*"(\d{12})"', 1),
                           regexp_extract_all(coalesce(lambda_principal, ''), '^(\d{12})$', 1),
                           regexp_extract_all(coalesce(lambda_principal, ''), '::(\d{12}):', 1)),
               lambda a: a <> coalesce(resource_account(recipient_account_id, account_id), ''))) AS foreign_accounts,
           coalesce(regexp_matches(doc, '"(Principal|AWS)"\s*:\s*\[?\s*"\*"') OR lambda_principal = '*', false) AS anyone
    FROM calls
)
SELECT
    event_time,
    'external_trust_granted'  AS detection,
    CASE WHEN outcome = 'success' THEN 'high' ELSE 'medium' END AS severity,
    'persistence'             AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                AS region,
    coalesce(json_extract_string(request_parameters, '$.roleName'),
             json_extract_string(request_parameters, '$.functionName')) AS resource,
    event_id,
    event_name,
    outcome,
    foreign_accounts,
    anyone
FROM trusted
WHERE anyone OR array_length(foreign_accounts) > 0
ORDER BY event_time
