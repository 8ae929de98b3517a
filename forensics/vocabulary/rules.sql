-- Facts the single-event rules (queries/rules/*.yaml, forensics.rules) need beyond one record.

-- Buckets a trail delivers to, as the evidence names them (CreateTrail and UpdateTrail requests
-- and answers): a lifecycle rule that expires them destroys the audit log itself.
CREATE OR REPLACE TEMP VIEW trail_bucket AS
SELECT DISTINCT bucket FROM (
    SELECT json_extract_string(request_parameters, '$.s3BucketName') AS bucket
    FROM cloudtrail
    WHERE event_source = 'cloudtrail.amazonaws.com' AND event_name IN ('CreateTrail', 'UpdateTrail')
    UNION ALL
    SELECT json_extract_string(response_elements, '$.s3BucketName')
    FROM cloudtrail
    WHERE event_source = 'cloudtrail.amazonaws.com' AND event_name IN ('CreateTrail', 'UpdateTrail')
) t
WHERE bucket IS NOT NULL;

-- A request that names an account other than `acct` where a principal or destination account
-- is written (a 12-digit account in an ARN, an "AWS" principal, an "Account" field).
CREATE OR REPLACE TEMP MACRO names_foreign_account(req, acct) AS
    regexp_matches(replace(coalesce(req, ''), coalesce(acct, '-'), ''),
                   '(arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:[0-9]{12}:|"(AWS|Account|account|principal|Principal)"\s*:\s*"[0-9]{12}")');

-- A policy document written into a request that grants to everyone: a Principal of "*" or
-- {"AWS": "*"} in an Allow statement.
CREATE OR REPLACE TEMP MACRO grants_everyone(req) AS
    regexp_matches(coalesce(req, ''), '"Principal\\?"\s*:\s*(\\?"\*\\?"|\{\s*\\?"AWS\\?"\s*:\s*(\[\s*)?\\?"\*\\?")')
    AND regexp_matches(coalesce(req, ''), '"?Effect\\?"\s*:\s*\\?"Allow');
