/* ---
id: security_logging_impaired
title: Audit logging or threat detection stopped, deleted or narrowed
kind: detection
sources: [cloudtrail]
tactic: defense_evasion
attack: [TA0005:T1562.008, TA0005:T1562.001, TA0005:T1666]
severity: high
stratus:
  - aws.defense-evasion.cloudtrail-delete
  - aws.defense-evasion.cloudtrail-event-selectors
  - aws.defense-evasion.cloudtrail-stop
  - aws.defense-evasion.dns-delete-logs
  - aws.defense-evasion.organizations-leave
  - aws.defense-evasion.vpc-remove-flow-logs
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  CloudTrail StopLogging, DeleteTrail, UpdateTrail, Put(Event|Insight)Selectors, event data
  stores stopped or deleted; VPC DeleteFlowLogs; GuardDuty detectors deleted, disabled or cut
  from the administrator account, trusted IP lists changed; Security Hub, Config recorders and
  delivery channels, Macie, Inspector and Access Analyzer disabled or deleted; Route 53 Resolver
  query logging removed; LeaveOrganization. Attempts count even when they fail (a trail that was
  not found, an access denial) at lower severity: high when it worked (medium for changes that
  only reconfigure, such as UpdateTrail or selectors that still record management events), low
  when it did not. A trail stopped or deleted within the hour after the same identity made it
  (the vocabulary's resource_creator) says when in own_trail_made_at: a console walkthrough
  that makes a trail and tears it down loses nothing logged before, but logging did stop, so the
  severity stays (DESIGN.md, Severity); the analyst reads the context. The calls are the
  vocabulary's `impairs_logging` events; calls made through a service for a principal
  (invokedBy) count, AWS services' own do not.
falsepositives: [Planned changes to logging architecture, tear-down of test accounts]
--- */
WITH calls AS (
    SELECT *, api_of(event_source, event_name) AS api,
           request_parameters::VARCHAR AS req
    FROM cloudtrail
    WHERE event_has('impairs_logging', event_source, event_name)
      AND is_principal_action(principal_type)
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
),
made_just_before AS (   -- trails this identity made in the hour before it stopped or deleted them
    SELECT c.event_id, min(rc.created_at) AS made_at
    FROM calls c
    JOIN resource_creator rc
      ON rc.account_id IS NOT DISTINCT FROM resource_account(c.recipient_account_id, c.account_id)
     AND rc.creator IS NOT DISTINCT FROM actor_of(c.session_issuer_arn, c.principal_arn)
     AND rc.created_at <= c.event_time AND rc.created_at > c.event_time - INTERVAL 1 HOUR
     AND (rc.resource_id = json_extract_string(c.request_parameters, '$.name')
          OR rc.resource_id LIKE '%:trail/' || json_extract_string(c.request_parameters, '$.name'))
    WHERE c.api IN ('cloudtrail:StopLogging', 'cloudtrail:DeleteTrail')
    GROUP BY c.event_id
),
judged AS (
    SELECT calls.*, m.made_at AS own_trail_made_at,
           CASE WHEN api = 'guardduty:UpdateDetector'
                    THEN regexp_matches(req, '"enable"\s*:\s*false')
                WHEN api = 'cloudtrail:PutEventSelectors'
                    THEN regexp_matches(req, '(?i)"includeManagementEvents"\s*:\s*false|"readWriteType"\s*:\s*"(None|ReadOnly)"|"excludeManagementEventSources"\s*:\s*\[\s*"')
                         OR regexp_matches(req, '"advancedEventSelectors"') AND NOT regexp_matches(req, '"Management"')
                WHEN api IN ('cloudtrail:UpdateTrail', 'cloudtrail:PutInsightSelectors') THEN false
                ELSE true END AS disables
    FROM calls LEFT JOIN made_just_before m USING (event_id)
)
SELECT
    event_time,
    'security_logging_impaired'  AS detection,
    CASE WHEN outcome <> 'success' THEN 'low'
         WHEN disables THEN 'high'
         ELSE 'medium' END       AS severity,
    'defense_evasion'            AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    aws_region                   AS region,
    coalesce(json_extract_string(request_parameters, '$.name'),
             json_extract_string(request_parameters, '$.trailName'),
             json_extract_string(request_parameters, '$.detectorId'),
             json_extract_string(request_parameters, '$.configurationRecorderName'),
             json_extract_string(request_parameters, '$.deliveryChannelName'),
             json_extract_string(request_parameters, '$.resolverQueryLogConfigId'),
             json_extract_string(request_parameters, '$.analyzerName'),
             nullif(array_to_string(list_distinct(regexp_extract_all(req, '(fl-[0-9a-f]+)', 1)), ','), ''),
             event_name)         AS resource,
    event_id,
    event_name,
    outcome,
    error_code,
    disables,
    own_trail_made_at
FROM judged
WHERE disables OR api <> 'guardduty:UpdateDetector'   -- a detector left enabled is not impaired
ORDER BY event_time, event_id
