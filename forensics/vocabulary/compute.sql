-- Definitions about code on compute: what changes the code an instance or function runs, and
-- what reads an instance's user data (DESIGN.md phases: execution for changed user data,
-- discovery for user data read). The calls themselves are rows of vocab_event (events.sql).

-- A call that replaces the code compute runs: Lambda code (a dry run changes nothing), layers
-- attached to a function, or an instance's user data (run again at its next start).
CREATE OR REPLACE TEMP MACRO changes_code(src, name, rp) AS
    event_has('code_change', src, name)
    AND CASE api_of(src, name)
        WHEN 'ec2:ModifyInstanceAttribute' THEN
            json_extract(rp, '$.userData') IS NOT NULL
            OR coalesce(json_extract_string(rp, '$.attribute'), '') = 'userData'
        WHEN 'lambda:UpdateFunctionConfiguration20150331v2' THEN
            json_extract(rp, '$.layers') IS NOT NULL
        ELSE coalesce(lower(json_extract_string(rp, '$.dryRun')), 'false') <> 'true'
    END;

-- An instance's user data read back (bootstrap scripts, where secrets hide).
CREATE OR REPLACE TEMP MACRO reads_user_data(src, name, rp) AS
    api_of(src, name) = 'ec2:DescribeInstanceAttribute'
    AND coalesce(json_extract_string(rp, '$.attribute'), '') = 'userData';
