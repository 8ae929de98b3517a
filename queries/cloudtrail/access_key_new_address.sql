/* ---
id: access_key_new_address
title: Access key or role used from a network new to it
kind: detection
sources: [cloudtrail]
tactic: initial_access
attack: [TA0001:T1078.004]
severity: high
params:
  from_time: {type: TIMESTAMPTZ, default: null}
  to_time: {type: TIMESTAMPTZ, default: null}
description: >
  DESIGN.md New network and First use, from the vocabulary (identity_network, key_first_use):
  one row per identity (a long-term key; temporary keys by their issuing role) and network at
  the first event from it, when neither the address nor its network (AS; the announced prefix
  for cloud and hosting providers, or the provider once the identity roams three of its
  prefixes) was seen with the identity before. `tied`: the evidence ties the network to an
  intrusion (identity check or reconnaissance, a denial, an escalation attempt, a credential
  minted, a launch in an unused region, or a hosting or anonymising provider the identity never
  used); `first_use` marks the key's first use. Nothing is silenced for short evidence:
  severity falls with the history it was judged on (`baseline_hours`): tied networks are high
  with a day of history, medium with an hour, low below; untied ones medium with a day, low
  below. An identity's first network is not new (unknown novelty). Instance-role sessions have
  their own detection (instance_credentials_used_elsewhere).
falsepositives: [An owner working from a new place or a new VPN exit, new CI runners]
--- */
SELECT
    n.first_seen                    AS event_time,
    'access_key_new_address'        AS detection,
    CASE WHEN n.tied AND n.baseline_hours >= 24 THEN 'high'
         WHEN n.tied AND n.baseline_hours >= 1 THEN 'medium'
         WHEN NOT n.tied AND n.baseline_hours >= 24 THEN 'medium'
         ELSE 'low' END             AS severity,
    'initial_access'                AS tactic,
    n.principal_arn,
    n.access_key_id,
    n.source_ip,
    n.region,
    n.identity                      AS resource,
    n.event_id,
    n.account_id,
    n.event_name,
    n.user_agent,
    n.network,
    n.provider,
    round(n.baseline_hours, 2)      AS baseline_hours,
    n.tied,
    coalesce(f.basis = 'tied new network' AND f.event_id = n.event_id, false) AS first_use,
    n.identity_first                AS identity_first_seen,
    n.events,
    ids.event_ids,
    n.last_seen                     AS last_time
FROM identity_network n
LEFT JOIN key_first_use f ON f.account_id = n.account_id AND f.access_key_id = n.access_key_id
LEFT JOIN (   -- every event of the identity from the network (the finding's evidence)
    SELECT e.account_id, e.identity, e.network, list(e.event_id ORDER BY e.event_time, e.event_id) AS event_ids
    FROM caller_network_event e
    SEMI JOIN identity_network i
           ON i.is_new AND i.account_id = e.account_id AND i.identity = e.identity AND i.network = e.network
    -- the same rows, found sooner: a network's events come from its addresses (this filter
    -- reaches the scan of cloudtrail, so only their events get an identity and a network)
    WHERE e.source_ip IN (SELECT unnest(a.addresses) FROM identity_network a WHERE a.is_new)
    GROUP BY ALL
) ids ON ids.account_id = n.account_id AND ids.identity = n.identity AND ids.network = n.network
WHERE n.is_new
  AND NOT is_instance_session(n.session_name)
  AND ($from_time::TIMESTAMPTZ IS NULL OR n.first_seen >= $from_time::TIMESTAMPTZ)
  AND ($to_time::TIMESTAMPTZ IS NULL OR n.first_seen <= $to_time::TIMESTAMPTZ)
ORDER BY event_time, resource
