-- `billing` from AWS's Athena table for a legacy Cost and Usage Report in Parquet (the CUR
-- Athena integration: docs.aws.amazon.com/cur/latest/userguide/cur-query-athena.html; its
-- crawler names the table after the report, in database athenacurcfn_<report>: point a view
-- named `cur` at it; shapes-and-lakes.md §6.5). Columns are the CUR's `category/name` in snake
-- case (lineItem/UsageStartDate -> line_item_usage_start_date), times `timestamp` (UTC), amounts
-- `double`, the rest `string` (forensics/lake/views/tables.py CUR_LEGACY). The schema follows the
-- report's content: this view reads the columns that hold a billing candidate; a report without
-- one (product_region_code and product_instance_type come with some usage only) needs
-- `CAST(NULL AS VARCHAR) AS <column>` added to `cur`.
-- Output: the case's `billing` columns, in the case's order, derived as the loader derives them:
-- the select list is generated from the loader's mapping (forensics/ingest/billing_columns.py,
-- family `snake`, by forensics/lake/views/billing.py): text trimmed and '' NULL, the region from
-- the product's region code or region or else the usage type's prefix, the instance type from
-- the product or the usage type. What the table cannot supply is NULL: the file (source_file),
-- the report version and its delivery time (delivered_at; `delivery` says the row came from the
-- Athena table), and `tags` (one resource_tags_user_* column per activated tag key, which differ
-- per report: read them from `cur` directly). The integration requires a report that overwrites
-- itself, so one version is present and no supersession is needed.
CREATE OR REPLACE TEMP VIEW billing AS
SELECT
    {billing_columns}
FROM cur;
