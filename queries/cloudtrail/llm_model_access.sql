/* ---
id: llm_model_access
title: Foundation models enabled or invoked by a principal that does not normally use them (LLMjacking)
kind: detection
sources: [cloudtrail]
tactic: impact
attack: [TA0040:T1496]
severity: medium
stratus:
  - aws.impact.bedrock-invoke-model
params:
  gap_minutes: {type: INTEGER, default: 30, description: a pause this long ends a session}
  habit_hours: {type: INTEGER, default: 24, description: "a principal that invokes models on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  Stolen keys are sold for AI: the thief checks which Bedrock models are available, accepts their
  agreements (PutUseCaseForModelAccess, CreateFoundationModelAgreement,
  PutFoundationModelEntitlement) and invokes them on the victim's bill. One row per session of a
  principal from one address; high when model access was switched on, medium for invocations by a
  principal that does not invoke models on occasions habit_hours apart. The calls are the
  vocabulary's `llm`, `llm_enable` and `llm_invoke` events.
falsepositives: [Teams trying Bedrock for the first time]
--- */
WITH calls AS (
    SELECT event_time, event_id, event_name, aws_region, principal_arn, access_key_id, source_ip, outcome,
           actor_of(session_issuer_arn, principal_arn) AS actor_id,
           event_has('llm_enable', 'bedrock.amazonaws.com', event_name) AS enables,
           event_has('llm_invoke', 'bedrock.amazonaws.com', event_name) AS invokes,
           json_extract_string(request_parameters, '$.modelId') AS model
    FROM cloudtrail
    WHERE event_source IN ('bedrock.amazonaws.com', 'bedrock-runtime.amazonaws.com')
      -- the runtime's calls are written under bedrock's name in the vocabulary
      AND event_has('llm', 'bedrock.amazonaws.com', event_name)
      AND is_principal_action(principal_type) AND principal_arn IS NOT NULL
),
marked AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w > $gap_minutes * INTERVAL 1 MINUTE THEN 1 ELSE 0 END AS starts
    FROM calls
    WINDOW w AS (PARTITION BY actor_id, source_ip ORDER BY event_time, event_id)
),
sessions AS (
    SELECT *, sum(starts) OVER (PARTITION BY actor_id, source_ip ORDER BY event_time, event_id
                                ROWS UNBOUNDED PRECEDING) AS session
    FROM marked
),
habit AS (
    SELECT actor_id FROM calls WHERE invokes AND outcome = 'success'
    GROUP BY ALL HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
),
summary AS (
    SELECT actor_id, source_ip, session,
           min(event_time) AS first_time, max(event_time) AS last_time,
           arg_min(event_id, event_time) AS event_id, arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(access_key_id, event_time) AS access_key_id, arg_min(aws_region, event_time) AS region,
           count(*) AS events,
           bool_or(enables) AS enabled_access,
           count(*) FILTER (invokes) AS invocations,
           list_sort(list_distinct(list(model) FILTER (model IS NOT NULL))) AS models,
           list_sort(list_distinct(list(event_name))) AS event_names
    FROM sessions GROUP BY actor_id, source_ip, session
)
SELECT
    first_time            AS event_time,
    'llm_model_access'    AS detection,
    CASE WHEN enabled_access THEN 'high' ELSE 'medium' END AS severity,
    'impact'              AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    region,
    coalesce(array_to_string(models, ','), 'bedrock') AS resource,
    event_id,
    events,
    invocations,
    enabled_access,
    models,
    event_names,
    last_time
FROM summary
WHERE (enabled_access OR (invocations > 0 AND actor_id NOT IN (SELECT actor_id FROM habit)))
  AND ($from_time::TIMESTAMPTZ IS NULL OR last_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_time <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
