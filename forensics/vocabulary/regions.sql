-- DESIGN.md, Used region: a region in which the account made a write (`read_only` false) other
-- than through a global service, or was billed. Views over the case, one row per account and
-- region with the first time of each kind of use; a definition asks "used before t?" with
-- `first_use < t`. Scoped by the account the events were delivered for (resource_account).
CREATE OR REPLACE TEMP VIEW region_use AS
WITH writes AS (
    SELECT resource_account(recipient_account_id, account_id) AS account_id,
           aws_region AS region,
           min(event_time) AS first_write
    FROM cloudtrail
    WHERE NOT read_only
      AND outcome = 'success'
      AND aws_region IS NOT NULL
      AND NOT is_global_source(event_source)
      AND coalesce(event_type, 'AwsApiCall') IN ('AwsApiCall', 'AwsConsoleAction')
    GROUP BY ALL
),
billed AS (
    -- a line is evidence of use once its period is over: the hour that holds first use may
    -- be billing the intrusion's own launches
    SELECT account_id, region, min(usage_end) AS first_billed
    FROM billing
    WHERE cost > 0 AND coalesce(region, '') NOT IN ('', 'global') AND is_aws_line(provider)
    GROUP BY ALL
)
SELECT account_id, region, w.first_write, b.first_billed,
       least(coalesce(w.first_write, b.first_billed), coalesce(b.first_billed, w.first_write)) AS first_use
FROM writes w FULL JOIN billed b USING (account_id, region);

-- What each account's evidence covers: region use before a time is known only with a day of
-- history before it, from the trail or from billing (DESIGN.md: unknown, never "unused").
CREATE OR REPLACE TEMP VIEW account_evidence AS
WITH trail AS (
    SELECT resource_account(recipient_account_id, account_id) AS account_id,
           min(event_time) AS first_event, max(event_time) AS last_event
    FROM cloudtrail GROUP BY ALL
),
bill AS (
    SELECT account_id, min(usage_start) AS first_billed, max(usage_end) AS last_billed
    FROM billing WHERE is_aws_line(provider) GROUP BY ALL
)
SELECT account_id, t.first_event, t.last_event, b.first_billed, b.last_billed
FROM trail t FULL JOIN bill b USING (account_id);

-- Whether an account's region use is known at time t (a day of trail or billing before it).
CREATE OR REPLACE TEMP MACRO region_use_known(account, t) AS
    -- (least of both with NULLs skipped: Trino's least is NULL when any argument is)
    coalesce((SELECT least(coalesce(e.first_event, e.first_billed), coalesce(e.first_billed, e.first_event))
                     <= t - INTERVAL 1 DAY
              FROM account_evidence e WHERE e.account_id = account), false);

-- DESIGN.md, Key first seen: the earliest event of an access key in the evidence, per account.
CREATE OR REPLACE TEMP VIEW key_first_seen AS
SELECT identity_account(account_id, principal_arn, recipient_account_id) AS account_id,
       access_key_id,
       min(event_time) AS first_seen,
       arg_min(event_id, event_time) AS event_id
FROM cloudtrail
WHERE access_key_id IS NOT NULL
GROUP BY ALL;
