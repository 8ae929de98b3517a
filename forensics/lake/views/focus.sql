-- `billing` from the Athena table over a FOCUS Data Export with AWS columns (Data Exports'
-- tables `FOCUS_1_0_AWS` and `FOCUS_1_2_AWS`: the FOCUS names plus the `x_` AWS extras;
-- formats.md C3, detections.md §7.1) delivered as Parquet under
-- <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/. As for CUR 2.0, AWS's Cloud Intelligence
-- Dashboards data-exports stack creates the Glue table: `focus` in database `cid_data_export`;
-- this view reads a relation named `focus`. Glue and Athena fold the export's PascalCase names
-- to lower case (BilledCost -> billedcost); costs and quantities `double`, periods `timestamp`
-- (UTC), `tags` map<string,string>; forensics/lake/views/tables.py FOCUS_AWS. The columns this
-- view reads are the same in FOCUS 1.0 and 1.2.
-- Output: the case's `billing` columns, in the case's order, derived as the loader derives a
-- FOCUS export: the select list is generated from the loader's mapping
-- (forensics/ingest/billing_columns.py, family `focus`, by forensics/lake/views/billing.py):
-- cost BilledCost, service x_ServiceCode else ServiceName, region RegionId else the prefix of
-- x_UsageType, the instance type from x_UsageType, provider ProviderName (a FOCUS file may
-- hold other clouds' rows; 'AWS' when unnamed), `tags` the Tags map as a JSON object. FOCUS has
-- no line item id. What the table cannot supply is NULL: the file (source_file), the export's
-- execution and its time (delivered_at; `delivery` says the row came from the Athena table).
CREATE OR REPLACE TEMP VIEW billing AS
SELECT
    {billing_columns}
FROM focus;
