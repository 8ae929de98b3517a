/* ---
id: incident_timeline
title: One timeline of CloudTrail, flows, billing and findings, scoped to an indicator
kind: timeline
sources: [cloudtrail, vpcflow, billing, findings]
tactic: null
attack: []
severity: info
params:
  principal_arn: {type: VARCHAR, default: null, description: only this principal (and the instances it launched)}
  access_key_id: {type: VARCHAR, default: null, description: only this key (and the instances it launched)}
  source_ip: {type: VARCHAR, default: null, description: only this address (calls from it, flows to or from it)}
  instance_id: {type: VARCHAR, default: null, description: only this instance}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
  flow_minutes: {type: INTEGER, default: 60, description: flows are summarised per instance, peer and port in slots this long}
description: >
  The shared timeline columns (time, source, phase, actor, action, target, outcome, detail,
  event_id) over every source. CloudTrail events one per row with a phase by event name (AWS's
  quarantine is aws_response, clean-up calls containment, launches impact, IAM grants
  privilege_escalation, new credentials persistence, reads discovery); flows summarised per
  instance or interface, peer address and port per flow_minutes; billing per region, hour and
  usage type; GuardDuty and Health findings one per row. With an indicator, each source is cut
  to it: the principal's or key's calls and the instances they launched (their flows and their
  line items), an address's calls and flows, an instance's calls, flows and costs. Without one,
  everything (billing summarised) is returned.
falsepositives: []
--- */
WITH scope AS (
    SELECT ($principal_arn::VARCHAR IS NULL AND $access_key_id::VARCHAR IS NULL
            AND $source_ip::VARCHAR IS NULL AND $instance_id::VARCHAR IS NULL) AS everything
),
launched AS (   -- instances the scoped principal or key launched, and their interfaces
    SELECT DISTINCT unnest(regexp_extract_all(response_elements::VARCHAR, '"((?:i|eni|vol)-[0-9a-fA-F]{8,17})"', 1)) AS id
    FROM cloudtrail
    WHERE event_name IN ('RunInstances', 'CreateFleet', 'RequestSpotFleet', 'RunScheduledInstances')
      AND outcome = 'success'
      AND (principal_arn = $principal_arn::VARCHAR OR access_key_id = $access_key_id::VARCHAR
           OR source_ip = $source_ip::VARCHAR)
    UNION
    SELECT $instance_id::VARCHAR WHERE $instance_id::VARCHAR IS NOT NULL
),
ct AS (
    SELECT
        event_time AS time,
        'cloudtrail' AS source,
        CASE
          WHEN policy_arn LIKE '%AWSCompromisedKeyQuarantine%' AND event_name LIKE 'Attach%' THEN 'aws_response'
          WHEN json_extract_string(request_parameters, '$.policyName') = 'AWSExposedCredentialPolicy_DO_NOT_REMOVE' THEN 'aws_response'
          WHEN event_name IN ('UpdateAccessKey', 'DeleteAccessKey', 'DeleteUser', 'DeleteLoginProfile',
                              'TerminateInstances', 'StopInstances', 'DeleteKeyPair', 'DeleteSecurityGroup',
                              'DeleteLaunchTemplate', 'DetachUserPolicy', 'DeleteUserPolicy', 'RemoveUserFromGroup',
                              'CancelSpotInstanceRequests', 'DeleteFleets', 'PutFunctionConcurrency20171031',
                              'RevokeSecurityGroupIngress', 'DeleteAutoScalingGroup') THEN 'containment'
          WHEN event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'DeleteFlowLogs',
                              'DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount',
                              'DisableSecurityHub', 'StopConfigurationRecorder', 'DeleteConfigurationRecorder',
                              'DeleteDeliveryChannel', 'LeaveOrganization', 'DeleteResolverQueryLogConfig') THEN 'defense_evasion'
          WHEN event_name IN ('AttachUserPolicy', 'AttachGroupPolicy', 'AttachRolePolicy', 'PutUserPolicy',
                              'PutGroupPolicy', 'PutRolePolicy', 'CreatePolicyVersion', 'SetDefaultPolicyVersion',
                              'AddUserToGroup', 'UpdateAssumeRolePolicy', 'UpdateLoginProfile',
                              'DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary',
                              'AddRoleToInstanceProfile', 'AssociateIamInstanceProfile',
                              'UpdateFunctionCode20150331v2', 'UpdateFunctionConfiguration20150331v2',
                              'CreateFunction20150331') THEN 'privilege_escalation'
          WHEN event_name IN ('CreateAccessKey', 'CreateLoginProfile') AND target_user_name IS NOT NULL
               AND target_user_name <> coalesce(user_name, '') THEN 'privilege_escalation'
          WHEN event_name IN ('CreateUser', 'CreateAccessKey', 'CreateLoginProfile', 'CreateRole',
                              'ImportKeyPair', 'CreateKeyPair', 'CreateSecurityGroup',
                              'AuthorizeSecurityGroupIngress', 'GetFederationToken', 'GetSessionToken',
                              'CreateServiceSpecificCredential', 'UploadSSHPublicKey',
                              'AddPermission20150331v2', 'CreateTrustAnchor') THEN 'persistence'
          WHEN event_name IN ('RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet',
                              'RunScheduledInstances', 'CreateLaunchTemplate', 'CreateAutoScalingGroup',
                              'CreateInstances', 'StartInstances') THEN 'impact'
          WHEN event_name IN ('GetSecretValue', 'BatchGetSecretValue', 'GetParameter', 'GetParameters',
                              'GetParametersByPath', 'GetPasswordData', 'GetCredentialReport') THEN 'credential_access'
          WHEN event_name IN ('GetObject', 'CopyObject', 'ModifySnapshotAttribute', 'ModifyImageAttribute',
                              'ModifyDBSnapshotAttribute') THEN 'exfiltration'
          WHEN event_name IN ('AssumeRole', 'SendCommand', 'StartSession', 'SendSSHPublicKey') THEN 'lateral_movement'
          WHEN event_name IN ('ConsoleLogin', 'GetSigninToken') THEN 'initial_access'
          WHEN read_only OR regexp_matches(event_name, '^(List|Get|Describe|Lookup|Head)') THEN 'discovery'
        END AS phase,
        coalesce(principal_arn, invoked_by, principal_type) AS actor,
        event_name AS action,
        coalesce(target_user_name, array_to_string(instance_ids, ','), policy_arn,
                 json_extract_string(request_parameters, '$.bucketName'),
                 json_extract_string(request_parameters, '$.roleName'),
                 json_extract_string(request_parameters, '$.groupId'),
                 json_extract_string(request_parameters, '$.keyName'),
                 json_extract_string(request_parameters, '$.functionName'),
                 json_extract_string(request_parameters, '$.name')) AS target,
        outcome,
        concat_ws(' ', source_ip, aws_region, access_key_id, error_code,
                  CASE WHEN instance_type IS NOT NULL THEN 'type ' || instance_type END) AS detail,
        event_id
    FROM cloudtrail, scope
    WHERE (scope.everything
           OR principal_arn = $principal_arn::VARCHAR OR access_key_id = $access_key_id::VARCHAR
           OR source_ip = $source_ip::VARCHAR OR list_contains(instance_ids, $instance_id::VARCHAR)
           OR session_name = $instance_id::VARCHAR
           OR json_extract_string(request_parameters, '$.accessKeyId') = $access_key_id::VARCHAR
           OR (event_name IN ('TerminateInstances', 'StopInstances')
               AND len(list_intersect(instance_ids, (SELECT list(id) FROM launched))) > 0))
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
flows AS (
    SELECT time_bucket($flow_minutes * INTERVAL 1 MINUTE, f.start_time) AS time,
           'vpcflow' AS source,
           CASE WHEN f.dst_port IN (3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 5730, 6099, 6666,
                                    7777, 7778, 8333, 8899, 9332, 9999, 14433, 14444, 45560, 45700)
                     AND f.action = 'ACCEPT' THEN 'impact' END AS phase,
           coalesce(f.instance_id, f.interface_id) AS actor,
           'flow ' || f.action AS action,
           f.dst_addr || ':' || f.dst_port AS target,
           lower(f.action) AS outcome,
           count(*) || ' flows, ' || sum(f.bytes) || ' bytes, ' || sum(f.packets) || ' packets from ' || any_value(f.src_addr) AS detail,
           NULL::VARCHAR AS event_id
    FROM vpc_flows f, scope
    WHERE f.start_time IS NOT NULL
      AND (scope.everything OR f.src_addr = $source_ip::VARCHAR OR f.dst_addr = $source_ip::VARCHAR
           OR f.instance_id IN (SELECT id FROM launched) OR f.interface_id IN (SELECT id FROM launched))
      AND ($from_time::TIMESTAMPTZ IS NULL OR f.end_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR f.start_time <= $to_time::TIMESTAMPTZ)
    GROUP BY ALL
),
bill AS (
    SELECT b.usage_start AS time, 'billing' AS source,
           CASE WHEN NOT scope.everything THEN 'impact' END AS phase,
           coalesce(b.service, 'billing') AS actor,
           b.usage_type AS action,
           b.region AS target,
           'billed' AS outcome,
           round(sum(b.cost), 4) || ' ' || coalesce(any_value(b.currency), '') || ' over '
               || count(DISTINCT b.resource_id) || ' resources' AS detail,
           NULL::VARCHAR AS event_id
    FROM billing b, scope
    WHERE b.cost <> 0
      AND (scope.everything OR b.resource_id IN (SELECT id FROM launched))
      AND ($from_time::TIMESTAMPTZ IS NULL OR b.usage_end >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR b.usage_start <= $to_time::TIMESTAMPTZ)
    GROUP BY b.usage_start, b.service, b.usage_type, b.region, scope.everything
),
found AS (
    SELECT first_seen AS time, source,
           CASE WHEN source = 'health' THEN 'aws_response'
                WHEN type LIKE '%InstanceCredentialExfiltration%' THEN 'credential_access'
                WHEN type LIKE 'Recon:%' OR type LIKE 'Discovery:%' THEN 'discovery'
                WHEN type LIKE 'CryptoCurrency:%' OR type LIKE 'Impact:%' THEN 'impact'
                WHEN type LIKE 'Persistence:%' THEN 'persistence'
                WHEN type LIKE 'PrivilegeEscalation:%' THEN 'privilege_escalation'
                WHEN type LIKE 'Stealth:%' OR type LIKE 'DefenseEvasion:%' THEN 'defense_evasion'
                WHEN type LIKE 'Exfiltration:%' THEN 'exfiltration'
                ELSE 'initial_access' END AS phase,
           CASE WHEN source = 'health' THEN 'AWS Health' ELSE 'AWS GuardDuty' END AS actor,
           type AS action,
           coalesce(instance_id, access_key_id, principal_arn, resource_type) AS target,
           'finding' AS outcome,
           concat_ws(' ', title, remote_ip) AS detail,
           finding_id AS event_id
    FROM findings, scope
    WHERE (scope.everything OR access_key_id = $access_key_id::VARCHAR OR principal_arn = $principal_arn::VARCHAR
           OR remote_ip = $source_ip::VARCHAR OR instance_id IN (SELECT id FROM launched))
      AND ($from_time::TIMESTAMPTZ IS NULL OR last_seen >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR first_seen <= $to_time::TIMESTAMPTZ)
)
SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM ct
UNION ALL SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM flows
UNION ALL SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM bill
UNION ALL SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM found
ORDER BY time, source, event_id
