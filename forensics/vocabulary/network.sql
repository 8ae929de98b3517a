-- DESIGN.md, New network, First use and Temporary keys: which network an address belongs to,
-- which networks are new for an identity, and the first use of each access key. The addresses
-- table (one row per distinct address, looked up once from offline ASN data at load) holds the
-- facts; everything that decides lives here.

-- Cloud and hosting providers, by the name of their autonomous system (a case-insensitive
-- regular expression on addresses.asn_name). Their customers share one AS, so the network there
-- is the announced prefix: an intruder renting EC2 must not hide inside the owner's AWS-hosted
-- CI. `anonymising`: VPN exits, Tor, bulletproof hosting.
CREATE OR REPLACE TEMP TABLE vocab_hosting_provider (pattern VARCHAR, provider VARCHAR, anonymising BOOLEAN);
INSERT INTO vocab_hosting_provider VALUES
    ('^AMAZON',                                 'AWS',          false),
    ('^MICROSOFT-CORP',                         'Azure',        false),
    ('^GOOGLE(-CLOUD-PLATFORM|-CLOUD)?$',       'Google',       false),
    ('DIGITALOCEAN',                            'DigitalOcean', false),
    ('^OVH',                                    'OVH',          false),
    ('Hetzner',                                 'Hetzner',      false),
    ('Akamai Connected Cloud|^LINODE',          'Linode',       false),
    ('CHOOPA|VULTR',                            'Vultr',        false),
    ('^ORACLE-BMC',                             'Oracle',       false),
    ('Alibaba',                                 'Alibaba',      false),
    ('Tencent',                                 'Tencent',      false),
    ('Scaleway|^Online S\.?A\.?S',              'Scaleway',     false),
    ('Contabo',                                 'Contabo',      false),
    ('LeaseWeb',                                'LeaseWeb',     false),
    ('HOSTING-SOLUTIONS|Green Floid',           'bulletproof hosting', true),
    ('^M247',                                   'M247',         true),
    ('Datacamp Limited',                        'Datacamp (CDN77)', true),
    ('PacketHub',                               'PacketHub',    true),
    ('Stiftung Erneuerbare Freiheit|Zwiebelfreunde|Foundation for Applied Privacy', 'Tor', true),
    ('Stark Industries',                        'Stark Industries', true),
    ('FranTech|BuyVM',                          'FranTech',     true),
    ('Private Layer',                           'Private Layer', true),
    ('1337 Services',                           'Njalla',       true),
    ('Clouvider',                               'Clouvider',    false),
    ('Zenlayer',                                'Zenlayer',     false),
    ('xTom',                                    'xTom',         false),
    ('IONOS',                                   'IONOS',        false);

-- The provider an AS name belongs to (NULL for ordinary networks).
CREATE OR REPLACE TEMP MACRO provider_of(asn_name) AS
    (SELECT min(h.provider) FROM vocab_hosting_provider h WHERE regexp_matches(asn_name, h.pattern, 'i'));

-- The network of one address: the AS for ordinary networks, the announced prefix for cloud and
-- hosting providers (`provider` = provider_of(asn_name), passed in so a bulk insert matches
-- each AS name once), the /24 or /48 without ASN data; private, reserved and malformed
-- (leading-zero) addresses are their own network.
CREATE OR REPLACE TEMP MACRO network_of(address, kind, asn_name, asn_cidr, prefix, provider) AS
    CASE WHEN kind <> 'public' OR kind IS NULL THEN address
         WHEN asn_name IS NULL THEN prefix
         WHEN provider IS NOT NULL THEN coalesce(asn_cidr, prefix)
         ELSE 'AS ' || asn_name END;

-- Every event whose address is the caller's own (never a service's, never a VPC endpoint's or
-- another private hop, whose novelty is unknown), with its identity (account-scoped; temporary
-- keys by their issuing role) and network, and the marks that tie a network to an intrusion.
CREATE OR REPLACE TEMP VIEW caller_network_event AS
SELECT identity_account(c.account_id, c.principal_arn, c.recipient_account_id) AS account_id,
       novelty_identity(c.access_key_id, c.session_issuer_arn, c.principal_arn) AS identity,
       c.event_time, c.event_id, c.event_name, c.event_source, c.aws_region, c.source_ip,
       c.user_agent, c.access_key_id, c.principal_arn, c.principal_type, c.session_name,
       c.outcome,
       coalesce(a.network, c.source_ip) AS network,
       a.provider, coalesce(a.anonymising, false) AS anonymising, a.asn_name, a.country,
       is_instance_session(c.session_name) AS instance_session,
       event_has('recon', c.event_source, c.event_name) AS recon,
       c.outcome = 'denied' AS denied,
       escalation_effect(c.event_source, c.event_name, c.principal_type, c.user_name, c.account_id,
                         c.policy_arn, c.request_parameters) IS NOT NULL AS escalation,
       event_has('minting', c.event_source, c.event_name) AS minting,
       is_launch(c.event_source, c.event_name) AS launch,
       resource_account(c.recipient_account_id, c.account_id) AS resource_account
FROM cloudtrail c LEFT JOIN addresses a ON a.address = c.source_ip
WHERE has_caller_network(c.source_is_ip, c.invoked_by, c.principal_type)
  AND c.vpc_endpoint_id IS NULL
  AND coalesce(a.kind, '') <> 'private'
  AND novelty_identity(c.access_key_id, c.session_issuer_arn, c.principal_arn) IS NOT NULL;

-- An EC2 role session is at home on its instance's own addresses: those its session (named
-- after the instance) used in its first ten minutes, unless people (IAM users, root) call from
-- them too (instance credentials replayed from an operator's machine).
CREATE OR REPLACE TEMP VIEW instance_home_address AS
WITH people AS (
    SELECT DISTINCT account_id, source_ip FROM caller_network_event
    WHERE principal_type IN ('IAMUser', 'Root')
),
instance_events AS (
    SELECT account_id, identity, session_name, source_ip, network, event_time,
           min(event_time) OVER (PARTITION BY account_id, identity, session_name) AS session_first
    FROM caller_network_event WHERE is_instance_session(session_name)
)
SELECT DISTINCT e.account_id, e.identity, e.session_name, e.source_ip, e.network
FROM instance_events e
WHERE e.event_time <= e.session_first + INTERVAL 10 MINUTE
  AND NOT EXISTS (SELECT 1 FROM people p WHERE p.account_id = e.account_id AND p.source_ip = e.source_ip);

-- One row per identity and network: when the identity first came from it, the history it had
-- by then (`baseline_hours`), whether it is new (DESIGN.md New network, roaming included),
-- and whether the evidence ties it to an intrusion (DESIGN.md First use).
CREATE OR REPLACE TEMP VIEW identity_network AS
WITH home AS (SELECT DISTINCT account_id, identity, network FROM instance_home_address),
launched AS (   -- launches in a region the account had not used before them
    SELECT account_id, identity, network, count(*) AS new_region_launch
    FROM caller_network_event e
    WHERE is_launch(e.event_source, e.event_name)
      AND NOT EXISTS (SELECT 1 FROM region_use r
                      WHERE r.account_id = e.resource_account AND r.region = e.aws_region
                        AND r.first_use < e.event_time)
    GROUP BY ALL
),
nets AS (
    SELECT account_id, identity, network,
           min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS events,
           arg_min(event_id, event_time) AS event_id, arg_min(source_ip, event_time) AS source_ip,
           arg_min(event_name, event_time) AS event_name, arg_min(aws_region, event_time) AS region,
           arg_min(user_agent, event_time) AS user_agent,
           arg_min(access_key_id, event_time) AS access_key_id,
           arg_min(principal_arn, event_time) AS principal_arn,
           arg_min(session_name, event_time) AS session_name,
           any_value(provider) AS provider, bool_or(anonymising) AS anonymising,
           any_value(asn_name) AS asn_name, any_value(country) AS country,
           count(*) FILTER (recon) AS recon, count(*) FILTER (denied) AS denied,
           count(*) FILTER (escalation) AS escalation, count(*) FILTER (minting) AS minting,
           list(DISTINCT source_ip) AS addresses
    FROM caller_network_event GROUP BY ALL
),
ranked AS (
    SELECT n.*,
           min(first_seen) OVER (PARTITION BY account_id, identity) AS identity_first,
           -- the provider's third prefix for this identity: from then on it roams the provider
           CASE WHEN provider IS NOT NULL THEN
               nth_value(first_seen, 3) OVER (PARTITION BY account_id, identity, provider ORDER BY first_seen
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) END
               AS roams_since,
           CASE WHEN provider IS NOT NULL THEN
               min(first_seen) OVER (PARTITION BY account_id, identity, provider) END AS provider_first
    FROM nets n
),
judged AS (
    SELECT r.*, h.network IS NOT NULL AS instance_home, coalesce(l.new_region_launch, 0) AS new_region_launch,
           coalesce(r.roams_since < r.first_seen, false) AS roaming,
           r.provider IS NOT NULL AND r.provider_first = r.first_seen AS new_provider
    FROM ranked r LEFT JOIN home h USING (account_id, identity, network)
    LEFT JOIN launched l USING (account_id, identity, network)
)
SELECT account_id, identity, network, provider, anonymising, asn_name, country,
       first_seen, last_seen, events, event_id, source_ip, event_name, region,
       user_agent, access_key_id, principal_arn, session_name, addresses, identity_first,
       date_diff('second', identity_first, first_seen) / 3600.0 AS baseline_hours,
       roaming, instance_home,
       first_seen > identity_first AND NOT roaming AND NOT instance_home AS is_new,
       recon, denied, escalation, minting, new_region_launch > 0 AS new_region_launch,
       -- a hosting or anonymising provider the identity never used before this network
       new_provider,
       first_seen > identity_first AND NOT roaming AND NOT instance_home
           AND (recon > 0 OR denied > 0 OR escalation > 0 OR minting > 0 OR new_region_launch > 0
                OR new_provider) AS tied
FROM judged;

-- DESIGN.md, First use, per access key: the earliest event, after the key's first event, from
-- a new network of the key's identity that the evidence ties to an intrusion; for a key created
-- in the evidence, its first event; otherwise the key's first event, inseparable.
CREATE OR REPLACE TEMP VIEW key_first_use AS
WITH keys AS (
    SELECT k.account_id, k.access_key_id, k.first_seen, k.event_id AS first_event_id,
           EXISTS (SELECT 1 FROM cloudtrail m WHERE m.created_access_key_id = k.access_key_id) AS created
    FROM key_first_seen k
),
tied AS (
    SELECT e.account_id, e.access_key_id,
           arg_min(e.event_id, e.event_time) AS event_id, min(e.event_time) AS time,
           arg_min(date_diff('second', n.identity_first, e.event_time) / 3600.0, e.event_time)
               AS baseline_hours,
           arg_min(e.network, e.event_time) AS network
    FROM caller_network_event e
    JOIN identity_network n USING (account_id, identity, network)
    WHERE n.tied AND e.access_key_id IS NOT NULL
    GROUP BY ALL
)
SELECT k.account_id, k.access_key_id,
       coalesce(t.time, k.first_seen) AS time,
       coalesce(t.event_id, k.first_event_id) AS event_id,
       c.source_ip, coalesce(t.network, a.network, c.source_ip) AS network, c.user_agent,
       c.event_name, c.aws_region AS region, c.principal_arn,
       coalesce(t.baseline_hours, 0.0) AS baseline_hours,
       t.event_id IS NOT NULL OR k.created AS separable,
       CASE WHEN t.event_id IS NOT NULL THEN 'tied new network'
            WHEN k.created THEN 'key created in the evidence'
            ELSE 'key first seen' END AS basis
FROM keys k
LEFT JOIN tied t USING (account_id, access_key_id)
JOIN cloudtrail c ON c.event_id = coalesce(t.event_id, k.first_event_id)
                 AND identity_account(c.account_id, c.principal_arn, c.recipient_account_id) = k.account_id
LEFT JOIN addresses a ON a.address = c.source_ip;

-- One row per EC2 role session and address it called from: when it first did, and when the
-- session first called at all (the history it had before). Read with instance_home_address to
-- find the addresses that are not the instance's own (instance_credentials_used_elsewhere).
CREATE OR REPLACE TEMP VIEW instance_session_address AS
SELECT account_id, identity, session_name, source_ip, min(event_time) AS first_time,
       min(min(event_time)) OVER (PARTITION BY account_id, identity, session_name) AS session_first
FROM caller_network_event
WHERE instance_session
GROUP BY account_id, identity, session_name, source_ip;
