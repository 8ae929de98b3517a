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

-- The columns the loader derives (source_is_ip, session_name, instance_ids, the time flag, ...)
-- are the vocabulary's (forensics/vocabulary/fields.sql), shared with the loader.

-- Text as the loaders keep it: trimmed, an empty cell NULL (billing_columns.projection).
CREATE OR REPLACE TEMP MACRO view_text(x) AS nullif(trim(CAST(x AS VARCHAR)), '');

-- A flow log's text field as the loader keeps it: '-' (no value) is NULL.
CREATE OR REPLACE TEMP MACRO view_dash(x) AS nullif(x, '-');

-- A TIMESTAMP holding UTC (Athena's `timestamp`, as AWS's CUR Parquet and a crawler type it) as
-- the case's TIMESTAMPTZ. Spark: its session time zone is UTC (forensics.engines.spark);
-- Athena/Trino: with_timezone.
CREATE OR REPLACE TEMP MACRO view_utc(t) AS timezone('UTC', CAST(t AS TIMESTAMP));

-- A map's value for a key, NULL when the key is absent (CUR 2.0's `product['region_code']`).
-- Trino: element_at (a subscript fails on a missing key); Spark: try_element_at.
CREATE OR REPLACE TEMP MACRO view_map_value(m, k) AS m[k];

-- A map (CUR 2.0's resource_tags, FOCUS's Tags) as JSON object text, as the loader keeps tags.
-- Spark: to_json; Athena/Trino: json_format of the map cast to JSON.
CREATE OR REPLACE TEMP MACRO view_map_text(m) AS CAST(to_json(m) AS VARCHAR);
