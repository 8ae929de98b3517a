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
  event_id) over every source. CloudTrail events one per row, phased by the vocabulary (DESIGN.md
  Phase names): AWS's quarantine and the clean-up AWS services make are aws_response; clean-up calls
  (containment-tagged) by a principal other than the scoped indicator are containment, the
  indicator's own are defense_evasion; every other call takes its attacker_phase, escalation
  candidates by their effect (privilege_escalation or persistence). Flows to the vocabulary's
  mining ports (accepted, outbound) are impact. Flows summarised per
  instance or interface, peer address and port per flow_minutes; billing per region, hour and
  usage type; GuardDuty and Health findings one per row (finding_phase). With an indicator, each source is cut
  to it: the principal's or key's calls and the instances they launched (their flows and their
  line items, in the launching account), an address's calls and flows, an instance's calls, flows
  and costs. Without one,
  everything (billing summarised) is returned.
falsepositives: []
--- */
WITH scope AS (
    SELECT ($principal_arn::VARCHAR IS NULL AND $access_key_id::VARCHAR IS NULL
            AND $source_ip::VARCHAR IS NULL AND $instance_id::VARCHAR IS NULL) AS everything
),
launched AS (   -- instances the scoped principal or key launched, and their interfaces, per account
    SELECT DISTINCT resource_account(recipient_account_id, account_id) AS account,
           unnest(regexp_extract_all(response_elements::VARCHAR, '"((?:i|eni|vol)-[0-9a-fA-F]{8,17})"', 1)) AS id
    FROM cloudtrail
    WHERE is_launch(event_source, event_name)
      AND outcome = 'success'
      AND (principal_arn = $principal_arn::VARCHAR OR access_key_id = $access_key_id::VARCHAR
           OR source_ip = $source_ip::VARCHAR)
    UNION
    SELECT NULL, $instance_id::VARCHAR WHERE $instance_id::VARCHAR IS NOT NULL
),
launched_ids AS (   -- the same, as two lists read once: ids of any account, and account-scoped ids
    SELECT coalesce(list(id) FILTER (WHERE account IS NULL), []) AS anywhere,
           coalesce(list(account || ' ' || id) FILTER (WHERE account IS NOT NULL), []) AS scoped
    FROM launched
),
cleanup_names AS (   -- the clean-up calls' names: a cheap test on the scan before event_has
    SELECT DISTINCT split_part(api, ':', 2) AS name FROM vocab_event WHERE list_contains(tags, 'containment')
),
picked AS (   -- the indicator's calls, and clean-up calls on what it launched, in one scan (not a
              -- UNION ALL: Spark's optimizer fails pushing ct's phase lookups through one)
    SELECT c.* FROM cloudtrail c, scope, launched_ids
    WHERE ($from_time::TIMESTAMPTZ IS NULL OR c.event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR c.event_time <= $to_time::TIMESTAMPTZ)
      AND (scope.everything
           OR c.principal_arn = $principal_arn::VARCHAR OR c.access_key_id = $access_key_id::VARCHAR
           OR c.source_ip = $source_ip::VARCHAR OR list_contains(c.instance_ids, $instance_id::VARCHAR)
           OR c.session_name = $instance_id::VARCHAR
           -- a key named in the call: the JSON is parsed only where its text holds the key
           -- (JSON can write printable ASCII other than a quote, backslash or slash only as
           -- itself or as a \u escape)
           OR ((contains(CAST(c.request_parameters AS VARCHAR), $access_key_id::VARCHAR)
                OR contains(CAST(c.request_parameters AS VARCHAR), '\u')
                OR NOT regexp_matches($access_key_id::VARCHAR, '^[ !#-.0-\[\]-~]*$'))
               AND json_extract_string(c.request_parameters, '$.accessKeyId') = $access_key_id::VARCHAR)
           -- a clean-up call on an instance the indicator launched, in the launching account (an
           -- id of unknown account, the scoped instance, in the call's own account)
           OR (c.event_name IN (SELECT name FROM cleanup_names)
               AND event_has('containment', c.event_source, c.event_name)
               AND resource_account(c.recipient_account_id, c.account_id) IS NOT NULL
               AND array_length(list_filter(c.instance_ids,
                                            lambda i: list_contains(launched_ids.anywhere, i)
                                                      OR list_contains(launched_ids.scoped,
                                                                       resource_account(c.recipient_account_id, c.account_id)
                                                                       || ' ' || i))) > 0))
),
ct AS (
    SELECT
        event_time AS time,
        'cloudtrail' AS source,
        -- DESIGN.md, Phase names: AWS's own response by who made it; containment by actor (a
        -- principal other than the scoped indicator); everything else the call's attacker phase,
        -- by effect for escalation candidates (the vocabulary: escalation.sql).
        CASE
          WHEN is_quarantine_call(event_source, event_name, policy_arn, request_parameters) THEN 'aws_response'
          WHEN is_service_event(principal_type)
              THEN CASE WHEN event_has('containment', event_source, event_name) THEN 'aws_response' END
          WHEN event_has('containment', event_source, event_name)
               AND NOT coalesce(principal_arn = $principal_arn::VARCHAR
                                OR access_key_id = $access_key_id::VARCHAR
                                OR source_ip = $source_ip::VARCHAR
                                OR session_name = $instance_id::VARCHAR, false)
              THEN 'containment'
          ELSE attacker_phase(event_source, event_name, read_only,
                              escalation_effect(event_source, event_name, principal_type, user_name,
                                                identity_account(account_id, principal_arn, recipient_account_id),
                                                policy_arn, request_parameters))
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
    FROM picked
),
flows AS (
    SELECT to_timestamp(floor(epoch(f.start_time) / ($flow_minutes * 60)) * ($flow_minutes * 60)) AS time,  -- buckets from the epoch
           'vpcflow' AS source,
           CASE WHEN f.dst_port IN (SELECT port FROM vocab_mining_port) AND f.action = 'ACCEPT'
                     AND is_outbound_flow(f.flow_direction, f.src_addr, f.dst_addr) THEN 'impact' END AS phase,
           coalesce(f.instance_id, f.interface_id) AS actor,
           'flow ' || f.action AS action,
           f.dst_addr || ':' || f.dst_port AS target,
           lower(f.action) AS outcome,
           count(*) || ' flows, ' || sum(f.bytes) || ' bytes, ' || sum(f.packets) || ' packets from ' || arg_min(f.src_addr, {'t': f.start_time, 's': f.src_addr}) AS detail,
           NULL::VARCHAR AS event_id
    FROM vpc_flows f, scope
    WHERE f.start_time IS NOT NULL
      AND (scope.everything OR f.src_addr = $source_ip::VARCHAR OR f.dst_addr = $source_ip::VARCHAR
           OR EXISTS (SELECT 1 FROM launched l
                      WHERE l.id IN (f.instance_id, f.interface_id)
                        AND (l.account IS NULL OR f.account_id IS NULL OR l.account = f.account_id)))
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
           -- money as decimal text (a double's text differs per engine: 0.0005 or 5.0E-4)
           regexp_replace(CAST(CAST(sum(b.cost) AS DECIMAL(18, 4)) AS VARCHAR), '\.?0+$', '') || ' ' || coalesce(any_value(b.currency), '') || ' over '
               || count(DISTINCT b.resource_id) || ' resources' AS detail,
           NULL::VARCHAR AS event_id
    FROM billing b, scope
    WHERE b.cost <> 0
      AND (scope.everything
           OR EXISTS (SELECT 1 FROM launched l
                      WHERE l.id = b.resource_id
                        AND (l.account IS NULL OR b.account_id IS NULL OR l.account = b.account_id)))
      AND ($from_time::TIMESTAMPTZ IS NULL OR b.usage_end >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR b.usage_start <= $to_time::TIMESTAMPTZ)
    GROUP BY b.usage_start, b.service, b.usage_type, b.region, scope.everything
),
found AS (
    SELECT first_seen AS time, source,
           finding_phase(source, type) AS phase,
           CASE WHEN source = 'health' THEN 'AWS Health' ELSE 'AWS GuardDuty' END AS actor,
           type AS action,
           coalesce(instance_id, access_key_id, principal_arn, resource_type) AS target,
           'finding' AS outcome,
           concat_ws(' ', title, remote_ip) AS detail,
           finding_id AS event_id
    FROM findings, scope
    WHERE (scope.everything OR access_key_id = $access_key_id::VARCHAR OR principal_arn = $principal_arn::VARCHAR
           OR remote_ip = $source_ip::VARCHAR
           OR EXISTS (SELECT 1 FROM launched l
                      WHERE l.id = findings.instance_id
                        AND (l.account IS NULL OR findings.account_id IS NULL OR l.account = findings.account_id)))
      AND ($from_time::TIMESTAMPTZ IS NULL OR last_seen >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR first_seen <= $to_time::TIMESTAMPTZ)
)
SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM ct
UNION ALL SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM flows
UNION ALL SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM bill
UNION ALL SELECT time, source, phase, actor, action, target, outcome, detail, event_id FROM found
ORDER BY time, source, event_id
