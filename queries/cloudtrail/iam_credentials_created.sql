/* ---
id: iam_credentials_created
title: New IAM users, access keys, passwords and federated credentials
kind: detection
sources: [cloudtrail]
tactic: persistence
attack: [TA0003:T1136.003, TA0003:T1098.001]
severity: medium
stratus:
  - aws.persistence.iam-backdoor-user
  - aws.persistence.iam-create-admin-user
  - aws.persistence.iam-create-user-login-profile
  - aws.persistence.rolesanywhere-create-trust-anchor
  - aws.persistence.sts-federation-token
  - aws.privilege-escalation.iam-update-user-login-profile
params:
  habit_hours: {type: INTEGER, default: 24, description: "a principal that makes the same call successfully on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Ways to keep access after the leaked key is revoked: CreateUser, CreateAccessKey,
  Create/UpdateLoginProfile, service-specific credentials, SSH keys and signing certificates for
  IAM users, GetFederationToken sessions, new OIDC/SAML providers, IAM Roles Anywhere trust
  anchors. One row per call; successes medium, denied or failed attempts low. A principal that
  makes the same call on occasions at least habit_hours apart (an onboarding pipeline, a key
  rotation job) is doing its job. A key a principal mints for itself is reported here (persistence),
  not as escalation. Calls made through a service for the caller (a CloudFormation stack creating
  users and keys, invokedBy) count; AWS services' own do not. The calls are the vocabulary's
  `credentials` events.
falsepositives: [Onboarding of new staff, owners rotating their own keys for the first time in the evidence]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip,
           outcome, error_code, target_user_name, user_name, created_access_key_id,
           api_of(event_source, event_name) AS api,
           actor_of(session_issuer_arn, principal_arn) AS actor_id
    FROM cloudtrail
    WHERE event_has('credentials', event_source, event_name)
      AND is_principal_action(principal_type)
),
habit AS (
    SELECT actor_id, api FROM calls WHERE outcome = 'success'
    GROUP BY ALL
    HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
)
SELECT
    c.event_time,
    'iam_credentials_created'  AS detection,
    CASE WHEN c.outcome = 'success' THEN 'medium' ELSE 'low' END AS severity,
    'persistence'              AS tactic,
    c.principal_arn,
    c.access_key_id,
    c.source_ip,
    c.aws_region               AS region,
    coalesce(c.created_access_key_id, c.target_user_name, c.user_name) AS resource,
    c.event_id,
    c.event_name,
    c.outcome,
    c.error_code,
    coalesce(c.target_user_name, c.user_name) AS target_user,
    c.created_access_key_id
FROM calls c
LEFT JOIN habit h ON h.actor_id = c.actor_id AND h.api = c.api
WHERE (c.outcome <> 'success' OR h.actor_id IS NULL)
  AND ($from_time::TIMESTAMPTZ IS NULL OR c.event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR c.event_time <= $to_time::TIMESTAMPTZ)
ORDER BY c.event_time, c.event_id
