-- `billing` from the Athena table over a CUR 2.0 Data Export (AWS Data Exports' standard table
-- `COST_AND_USAGE_REPORT`, docs.aws.amazon.com/cur/latest/userguide/table-dictionary-cur2.html;
-- formats.md C3, detections.md §7.1) delivered as Parquet under
-- <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/. Data Exports creates no Athena table itself:
-- AWS's Cloud Intelligence Dashboards data-exports stack (data-exports-aggregation.yaml) creates
-- the Glue table `cur2` in database `cid_data_export`, and a crawler over the export folder names
-- it after the folder; this view reads a relation named `cur2` (point a view of that name at
-- yours). Its columns are the export's own snake_case names (the same in Athena), times
-- `timestamp` (UTC), amounts `double`, `product` and `resource_tags` map<string,string>, the
-- period folder the partition `billing_period` (string); forensics/lake/views/tables.py CUR2.
-- Output: the case's `billing` columns, in the case's order, derived as the loader derives a
-- CUR 2.0 export: the select list is generated from the loader's mapping
-- (forensics/ingest/billing_columns.py, family `snake` and CUR 2.0's `product` map keys, by
-- forensics/lake/views/billing.py): text trimmed and '' NULL; the region from
-- product_region_code, else product['region_code'] or product['region'], else the usage type's
-- prefix; the instance type from product_instance_type or product['instance_type'], else the
-- usage type; the billing period from bill_billing_period_start_date, else the partition, else
-- the usage start; `tags` the resource_tags map as a JSON object. What the table cannot supply
-- is NULL: the file (source_file), the export's execution and its time (delivered_at; `delivery`
-- says the row came from the Athena table). An export that overwrites itself holds one version;
-- one that creates new files keeps each execution in its own folder: point `cur2` at the latest.
CREATE OR REPLACE TEMP VIEW billing AS
SELECT
    {billing_columns}
FROM cur2;
