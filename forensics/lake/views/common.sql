-- Helpers of the views onto AWS's and Tailpipe's tables (forensics/lake/views). Macros of this
-- file are inlined like the vocabulary's (forensics.lake.views); the few whose words differ per
-- engine have their other bodies in forensics/lake/views/__init__.py (OVERRIDES), as
-- portable.sql's primitives do.

-- A time written as ISO 8601 text ('2026-11-16T03:12:45Z'), as CloudTrail writes eventTime;
-- NULL when it is not one (the loader's TRY_CAST). Athena/Trino: from_iso8601_timestamp.
CREATE OR REPLACE TEMP MACRO view_iso_time(t) AS TRY_CAST(t AS TIMESTAMPTZ);

-- JSON text as the case's JSON column (DuckDB's JSON type; the text itself elsewhere); a JSON
-- null is SQL NULL, as the loader reads a payload that is null.
CREATE OR REPLACE TEMP MACRO view_json(t) AS CAST(nullif(CAST(t AS VARCHAR), 'null') AS JSON);

-- An AWS account id as the case keeps it: a 12-digit string. Tables typed by a crawler (CUR)
-- or by a delimited SerDe hold it as a number, which loses the leading zeros; anything that is
-- not a number ('anonymous', an ARN) is kept as written.
CREATE OR REPLACE TEMP MACRO view_account(a) AS
    CASE WHEN regexp_matches(CAST(a AS VARCHAR), '^[0-9]{1,11}$') THEN lpad(CAST(a AS VARCHAR), 12, '0')
         ELSE CAST(a AS VARCHAR) END;

-- The loader's source_is_ip (forensics/ingest/cloudtrail_sql.py): an address, not a service
-- name, 'AWS Internal' or a redaction.
CREATE OR REPLACE TEMP MACRO view_is_ip(s) AS
    regexp_matches(s, '^[0-9]{1,3}([.][0-9]{1,3}){3}$')
        OR (strpos(s, ':') > 0 AND regexp_matches(s, '^[0-9A-Fa-f:.]+$'));

-- The loader's instance_ids: the instances an EC2 call's request or response names
-- (instancesSet items, a lone instanceId, CreateFleet's nested sets); NULL when none.
CREATE OR REPLACE TEMP MACRO view_instance_ids(src, name, req, resp) AS
    CASE WHEN src = 'ec2.amazonaws.com' THEN view_nonempty(array_distinct(list_filter(flatten([
        list_transform(json_items(json_extract(resp, '$.instancesSet.items')),
                       lambda i: json_extract_string(i, '$.instanceId')),
        list_transform(json_items(json_extract(req, '$.instancesSet.items')),
                       lambda i: json_extract_string(i, '$.instanceId')),
        [json_extract_string(req, '$.instanceId')],
        CASE WHEN name = 'CreateFleet'
             THEN regexp_extract_all(CAST(resp AS VARCHAR), '"(i-[0-9a-f]{8,17})"', 1)
             ELSE CAST([] AS VARCHAR[]) END]), lambda i: i IS NOT NULL))) END;
CREATE OR REPLACE TEMP MACRO view_nonempty(l) AS CASE WHEN array_length(l) > 0 THEN l END;

-- The loader's time flag (DESIGN.md record_flags): before CloudTrail existed or in the future.
CREATE OR REPLACE TEMP MACRO view_time_flag(t) AS
    CASE WHEN t < TIMESTAMPTZ '2013-11-01 00:00:00+00' OR t > current_timestamp + INTERVAL 1 DAY
         THEN 'time implausible' END;

-- Text as the loaders keep it: trimmed, an empty cell NULL (billing_columns.projection).
CREATE OR REPLACE TEMP MACRO view_text(x) AS nullif(trim(CAST(x AS VARCHAR)), '');

-- A flow log's text field as the loader keeps it: '-' (no value) is NULL.
CREATE OR REPLACE TEMP MACRO view_dash(x) AS nullif(x, '-');

-- A TIMESTAMP holding UTC (Athena's `timestamp`, as AWS's CUR Parquet and a crawler type it) as
-- the case's TIMESTAMPTZ. Spark: its session time zone is UTC (forensics.engines.spark);
-- Athena/Trino: with_timezone.
CREATE OR REPLACE TEMP MACRO view_utc(t) AS timezone('UTC', CAST(t AS TIMESTAMP));
