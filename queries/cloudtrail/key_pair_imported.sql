/* ---
id: key_pair_imported
title: An SSH public key imported into EC2
kind: detection
sources: [cloudtrail]
tactic: persistence
attack: [TA0003:T1098.004]
severity: low
params:
  habit_hours: {type: INTEGER, default: 24, description: "a principal that imports keys on occasions this far apart is doing its job"}
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  ImportKeyPair brings the caller's own SSH key into a region, ready for instances it launches
  (a key pair made with CreateKeyPair leaves its private half in the response instead). One row
  per import; low alone, it matters next to launches in unused regions. Principals that import
  keys on occasions habit_hours apart are doing their job.
falsepositives: [Engineers setting up a new region or workstation]
--- */
WITH calls AS (
    SELECT *, actor_of(session_issuer_arn, principal_arn) AS actor_id
    FROM cloudtrail
    WHERE api_of(event_source, event_name) = 'ec2:ImportKeyPair' AND is_principal_action(principal_type)
),
habit AS (
    SELECT actor_id FROM calls WHERE outcome = 'success'
    GROUP BY ALL
    HAVING max(event_time) - min(event_time) >= $habit_hours * INTERVAL 1 HOUR
)
SELECT
    c.event_time,
    'key_pair_imported'  AS detection,
    'low'                AS severity,
    'persistence'        AS tactic,
    c.principal_arn,
    c.access_key_id,
    c.source_ip,
    c.aws_region         AS region,
    json_extract_string(c.request_parameters, '$.keyName') AS resource,
    c.event_id,
    c.outcome,
    json_extract_string(c.response_elements, '$.keyFingerprint') AS key_fingerprint
FROM calls c
WHERE (c.outcome <> 'success' OR c.actor_id NOT IN (SELECT actor_id FROM habit))
  AND ($from_time::TIMESTAMPTZ IS NULL OR c.event_time >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR c.event_time <= $to_time::TIMESTAMPTZ)
ORDER BY c.event_time
