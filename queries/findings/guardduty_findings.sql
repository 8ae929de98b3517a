/* ---
id: guardduty_findings
title: GuardDuty findings in the case
kind: detection
sources: [findings]
tactic: initial_access
attack: []
severity: medium
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  What GuardDuty concluded, beside what the queries find: one row per finding (its latest
  version), placed in a phase by its threat purpose (the vocabulary's finding_phase: Recon and
  Discovery, UnauthorizedAccess and PenTest, CryptoCurrency and Impact, Execution, Persistence,
  PrivilegeEscalation, Stealth, Exfiltration, CredentialAccess and the instance-credential
  exfiltration findings) and ranked by GuardDuty's
  severity (below 4 low, below 7 medium, below 9 high, else critical). source_ip is the remote
  address GuardDuty names.
falsepositives: [Whatever GuardDuty's own documentation lists for the finding type]
--- */
SELECT
    first_seen                    AS event_time,
    'guardduty_findings'          AS detection,
    CASE WHEN severity >= 9 THEN 'critical' WHEN severity >= 7 THEN 'high'
         WHEN severity >= 4 THEN 'medium' ELSE 'low' END AS severity,
    finding_phase(source, type)   AS tactic,
    principal_arn,
    access_key_id,
    remote_ip                     AS source_ip,
    region,
    coalesce(instance_id, access_key_id, principal_arn, resource_type) AS resource,
    finding_id                    AS event_id,
    account_id,
    type,
    title,
    severity                      AS guardduty_severity,
    instance_id,
    resource_type,
    TRY_CAST(json_extract_string(raw, '$.Service.Count') AS BIGINT) AS count,
    last_seen                     AS last_time
FROM findings
WHERE source = 'guardduty'
  AND ($from_time::TIMESTAMPTZ IS NULL OR last_seen >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR first_seen <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, finding_id
