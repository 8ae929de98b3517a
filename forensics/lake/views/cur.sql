-- `billing` from AWS's Athena table for a legacy Cost and Usage Report in Parquet (the CUR
-- Athena integration: docs.aws.amazon.com/cur/latest/userguide/cur-query-athena.html; its
-- crawler names the table after the report, in database athenacurcfn_<report>: point a view
-- named `cur` at it; shapes-and-lakes.md §6.5). Columns are the CUR's `category/name` in snake
-- case (lineItem/UsageStartDate -> line_item_usage_start_date), times `timestamp` (UTC), amounts
-- `double`, the rest `string`. The schema follows the report's content: this view reads the
-- columns every report with EC2 usage has (product_instance_type comes with EC2 usage; for a
-- report without it, add `CAST(NULL AS VARCHAR) AS product_instance_type` to `cur`).
-- Output: the case's `billing` columns, in the case's order, derived as the loader derives them
-- (forensics/ingest/billing_columns.py: text trimmed and '' NULL, the region from the product
-- or else the usage type's prefix and the instance type from the usage type, both through the
-- loader's own expressions). What the table cannot supply is NULL: the file (source_file), the
-- report version and its delivery time (delivered_at; `delivery` says the row came from the
-- Athena table), and `tags` (one resource_tags_user_* column per activated tag key, which differ
-- per report: read them from `cur` directly). The integration requires a report that overwrites
-- itself, so one version is present and no supersession is needed.
CREATE OR REPLACE TEMP VIEW billing AS
SELECT
    view_utc(line_item_usage_start_date)                             AS usage_start,
    view_utc(line_item_usage_end_date)                               AS usage_end,
    coalesce(strftime(view_utc(bill_billing_period_start_date), '%Y-%m'),
             strftime(view_utc(line_item_usage_start_date), '%Y-%m')) AS billing_period,
    view_text(bill_payer_account_id)                                 AS payer_account_id,
    view_text(line_item_usage_account_id)                            AS account_id,
    coalesce(view_text(line_item_product_code), view_text(product_servicecode)) AS service,
    coalesce(view_text(product_region),
             view_usage_region(view_text(line_item_usage_type)))     AS region,
    view_text(line_item_usage_type)                                  AS usage_type,
    view_text(line_item_operation)                                   AS operation,
    view_text(line_item_resource_id)                                 AS resource_id,
    CAST(line_item_usage_amount AS DOUBLE)                           AS usage_amount,
    CAST(line_item_unblended_cost AS DOUBLE)                         AS cost,
    view_text(line_item_currency_code)                               AS currency,
    view_text(line_item_line_item_type)                              AS line_item_type,
    view_text(identity_line_item_id)                                 AS line_item_id,
    coalesce(view_text(product_instance_type),
             view_usage_instance_type(view_text(line_item_usage_type))) AS instance_type,
    view_text(line_item_line_item_description)                       AS description,
    'cur_legacy_parquet'                                             AS source_format,
    CAST(NULL AS VARCHAR)                                            AS source_file,
    'AWS'                                                            AS provider,
    view_json(CAST(NULL AS VARCHAR))                                 AS tags,
    'cur_legacy_parquet Athena table (no file, no report version, tags not read)' AS delivery,
    CAST(NULL AS TIMESTAMPTZ)                                        AS delivered_at
FROM cur;
