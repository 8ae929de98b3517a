/* ---
id: health_risk_events
title: AWS Health risk events (credentials exposed or compromised, abuse)
kind: detection
sources: [findings]
tactic: aws_response
attack: [TA0001:T1078.004]
severity: high
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  AWS tells the account owner through Health when it finds a key in public
  (AWS_RISK_CREDENTIALS_EXPOSED), suspects or confirms a compromise
  (AWS_RISK_CREDENTIALS_COMPROMISED and kin, AWS_RISK_IAM_QUARANTINE) or sees abuse (the ABUSE
  service). One row per event with the affected key and, from the event text, the user it belongs
  to and where it was found. Scheduled maintenance and other operational Health events are left out.
falsepositives: [Keys found in public that were already inactive]
--- */
SELECT
    first_seen                     AS event_time,
    'health_risk_events'           AS detection,
    'high'                         AS severity,
    finding_phase(source, type)    AS tactic,
    coalesce(principal_arn,
             'arn:aws:iam::' || coalesce(account_id, '') || ':user/' ||
             nullif(regexp_extract(raw::VARCHAR, 'belonging to the IAM User ([A-Za-z0-9+=,.@_-]+)', 1), '')) AS principal_arn,
    access_key_id,
    NULL::VARCHAR                  AS source_ip,
    region,
    coalesce(access_key_id, type)  AS resource,
    finding_id                     AS event_id,
    account_id,
    type,
    title,
    nullif(regexp_extract(raw::VARCHAR, '(https?://[^ "\\]+[^ ".,\\])', 1), '') AS found_at,
    last_seen                      AS last_time
FROM findings
WHERE source = 'health'
  AND (type LIKE 'AWS_RISK%' OR type LIKE 'AWS_ABUSE%'
       OR json_extract_string(raw, '$.detail.service') IN ('RISK', 'ABUSE'))
  AND ($from_time::TIMESTAMPTZ IS NULL OR first_seen >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_seen <= $to_time::TIMESTAMPTZ)
ORDER BY event_time
