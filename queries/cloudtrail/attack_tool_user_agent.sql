/* ---
id: attack_tool_user_agent
title: API calls from attack tooling (Kali, Parrot, Pentoo, Pacu, TruffleHog, S3 Browser)
kind: detection
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004, TA0007:T1580]
severity: high
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  The user agent names the operating system or tool that signed the call: aws-cli on a Kali,
  Parrot or Pentoo kernel (what GuardDuty's PenTest findings key on), Pacu's session suffix,
  TruffleHog validating a found key, S3 Browser (GUI-vil style IAM abuse). One row per principal,
  key, address and tool, at its first call. Emulation harnesses (Stratus Red Team, Grimoire) are
  deliberately not listed: they are test traffic, not an adversary's fingerprint.
falsepositives: [Penetration tests and red-team exercises run from these distributions]
--- */
WITH tagged AS (   -- ILIKE, not a regex, over every event: fifty times cheaper
    SELECT *,
           CASE WHEN user_agent ILIKE '%kali%' THEN 'Kali Linux'
                WHEN user_agent ILIKE '%parrot%' THEN 'Parrot OS'
                WHEN user_agent ILIKE '%pentoo%' THEN 'Pentoo'
                WHEN user_agent ILIKE '%pacu%' THEN 'Pacu'
                WHEN user_agent ILIKE '%trufflehog%' THEN 'TruffleHog'
                WHEN user_agent ILIKE '%s3 browser%' THEN 'S3 Browser'
           END AS tool
    FROM cloudtrail
    WHERE (user_agent ILIKE '%kali%' OR user_agent ILIKE '%parrot%' OR user_agent ILIKE '%pentoo%'
           OR user_agent ILIKE '%pacu%' OR user_agent ILIKE '%trufflehog%' OR user_agent ILIKE '%s3 browser%')
      AND ($from_time::TIMESTAMPTZ IS NULL OR event_time >= $from_time::TIMESTAMPTZ)
      AND ($to_time::TIMESTAMPTZ IS NULL OR event_time <= $to_time::TIMESTAMPTZ)
)
SELECT
    min(event_time)                        AS event_time,
    'attack_tool_user_agent'               AS detection,
    CASE WHEN tool IN ('TruffleHog', 'S3 Browser') THEN 'medium' ELSE 'high' END AS severity,
    'initial_access'                       AS tactic,
    principal_arn,
    access_key_id,
    source_ip,
    arg_min(aws_region, event_time)        AS region,
    tool                                   AS resource,
    arg_min(event_id, event_time)          AS event_id,
    list(event_id ORDER BY event_time, event_id)     AS event_ids,
    tool,
    arg_min(user_agent, event_time)        AS user_agent,
    arg_min(event_name, event_time)        AS event_name,
    count(*)                               AS events,
    count(*) FILTER (outcome = 'denied')   AS denied,
    max(event_time)                        AS last_time
FROM tagged
GROUP BY principal_arn, access_key_id, source_ip, tool
ORDER BY event_time
