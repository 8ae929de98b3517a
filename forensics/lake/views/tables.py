"""The documented schemas of the tables the views read, as data: the names and types AWS's
Athena DDL declares (shapes-and-lakes.md §6) and Tailpipe's table (§7), with the record's own
key for each column, so a table of exactly that shape can be built from evidence (Spark's
`from_json` then a cast to the lower-case names; DuckDB's JSON functions) by tests and by
`forensics lake build`.

A field is `(column, key, type)`: `type` is "string", "boolean", "timestamp", "json", a list of
fields (a struct), `("array", fields)` or `("map", "string", "string")`. The flat tables (VPC flow
logs, the billing exports: legacy CUR, CUR 2.0 and FOCUS Data Exports) give `(column, the
source's own name for it, Athena type)`, the type one of ATHENA_TO_DUCKDB's keys.
"""

from __future__ import annotations

import re
from typing import Any

S = "string"

# AWS's `cloudtrail_logs` (docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html),
# every leaf a STRING, payloads JSON text.
CLOUDTRAIL_LOGS: list[tuple[str, str, Any]] = [
    ("eventversion", "eventVersion", S),
    (
        "useridentity",
        "userIdentity",
        [
            ("type", "type", S),
            ("principalid", "principalId", S),
            ("arn", "arn", S),
            ("accountid", "accountId", S),
            ("invokedby", "invokedBy", S),
            ("accesskeyid", "accessKeyId", S),
            ("username", "userName", S),
            (
                "onbehalfof",
                "onBehalfOf",
                [("userid", "userId", S), ("identitystorearn", "identityStoreArn", S)],
            ),
            (
                "sessioncontext",
                "sessionContext",
                [
                    (
                        "attributes",
                        "attributes",
                        [("mfaauthenticated", "mfaAuthenticated", S), ("creationdate", "creationDate", S)],
                    ),
                    (
                        "sessionissuer",
                        "sessionIssuer",
                        [
                            ("type", "type", S),
                            ("principalid", "principalId", S),
                            ("arn", "arn", S),
                            ("accountid", "accountId", S),
                            ("username", "userName", S),
                        ],
                    ),
                    ("ec2roledelivery", "ec2RoleDelivery", S),
                    (
                        "webidfederationdata",
                        "webIdFederationData",
                        [
                            ("federatedprovider", "federatedProvider", S),
                            ("attributes", "attributes", ("map", S, S)),
                        ],
                    ),
                ],
            ),
        ],
    ),
    ("eventtime", "eventTime", S),
    ("eventsource", "eventSource", S),
    ("eventname", "eventName", S),
    ("awsregion", "awsRegion", S),
    ("sourceipaddress", "sourceIPAddress", S),
    ("useragent", "userAgent", S),
    ("errorcode", "errorCode", S),
    ("errormessage", "errorMessage", S),
    ("requestparameters", "requestParameters", S),
    ("responseelements", "responseElements", S),
    ("additionaleventdata", "additionalEventData", S),
    ("requestid", "requestID", S),
    ("eventid", "eventID", S),
    (
        "resources",
        "resources",
        ("array", [("arn", "ARN", S), ("accountid", "accountId", S), ("type", "type", S)]),
    ),
    ("eventtype", "eventType", S),
    ("apiversion", "apiVersion", S),
    ("readonly", "readOnly", S),
    ("recipientaccountid", "recipientAccountId", S),
    ("serviceeventdetails", "serviceEventDetails", S),
    ("sharedeventid", "sharedEventID", S),
    ("vpcendpointid", "vpcEndpointId", S),
    ("vpcendpointaccountid", "vpcEndpointAccountId", S),
    ("eventcategory", "eventCategory", S),
    (
        "addendum",
        "addendum",
        [
            ("reason", "reason", S),
            ("updatedfields", "updatedFields", S),
            ("originalrequestid", "originalRequestID", S),
            ("originaleventid", "originalEventID", S),
        ],
    ),
    ("sessioncredentialfromconsole", "sessionCredentialFromConsole", S),
    ("edgedevicedetails", "edgeDeviceDetails", S),
    (
        "tlsdetails",
        "tlsDetails",
        [
            ("tlsversion", "tlsVersion", S),
            ("ciphersuite", "cipherSuite", S),
            ("clientprovidedhostheader", "clientProvidedHostHeader", S),
        ],
    ),
]


def _spark_type(t: Any, keys: bool) -> str:
    if isinstance(t, list):
        return "STRUCT<" + ", ".join(f"`{k if keys else c}`: {_spark_type(s, keys)}" for c, k, s in t) + ">"
    if isinstance(t, tuple) and t[0] == "array":
        return f"ARRAY<{_spark_type(t[1], keys)}>"
    if isinstance(t, tuple) and t[0] == "map":
        return "MAP<STRING, STRING>"
    return {"string": "STRING", "json": "STRING", "boolean": "BOOLEAN"}.get(t, "TIMESTAMP")


def spark_ddl(fields: list, keys: bool = False) -> str:
    """The table's columns as a Spark DDL string: AWS's names, or (keys=True) the record's keys,
    the schema to parse the record with before casting to AWS's names (a struct cast is by
    position)."""
    return ", ".join(f"`{k if keys else c}` {_spark_type(t, keys)}" for c, k, t in fields)


def _duck_type(t: Any) -> str:
    if isinstance(t, list):
        return "STRUCT(" + ", ".join(f'"{c}" {_duck_type(s)}' for c, _, s in t) + ")"
    if isinstance(t, tuple) and t[0] == "array":
        return f"{_duck_type(t[1])}[]"
    if isinstance(t, tuple) and t[0] == "map":
        return "MAP(VARCHAR, VARCHAR)"
    return {
        "string": "VARCHAR",
        "json": "JSON",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMPTZ",
        "timestamp_utc": "TIMESTAMP",
    }[t]


def duckdb_ddl(fields: list) -> str:
    """The table's columns as DuckDB column definitions (AWS's names and types)."""
    return ", ".join(f'"{c}" {_duck_type(t)}' for c, _, t in fields)


def _duck_expr(doc: str, path: str, t: Any) -> str:
    if isinstance(t, list):
        inner = ", ".join(f'"{c}" := {_duck_expr(doc, f"{path}.{k}", s)}' for c, k, s in t)
        return f"CASE WHEN json_type({doc}, '{path}') = 'OBJECT' THEN struct_pack({inner}) END"
    if isinstance(t, tuple) and t[0] == "array":
        inner = _duck_expr("x", "$", t[1])
        return (
            f"CASE WHEN json_type({doc}, '{path}') = 'ARRAY' THEN list_transform("
            f"CAST(json_extract({doc}, '{path}[*]') AS JSON[]), lambda x: {inner}) END"
        )
    if isinstance(t, tuple) and t[0] == "map":
        return f"TRY_CAST(json_extract({doc}, '{path}') AS MAP(VARCHAR, VARCHAR))"
    if t == "string":
        # a nested object or array is kept as its JSON text, as the CloudTrail SerDe keeps it
        return f"json_extract_string({doc}, '{path}')"
    if t == "json":
        return f"json_extract({doc}, '{path}')"
    if t == "boolean":
        return f"TRY_CAST(json_extract_string({doc}, '{path}') AS BOOLEAN)"
    if t == "timestamp_utc":  # a TIMESTAMP holding UTC (Tailpipe's)
        return f"timezone('UTC', TRY_CAST(json_extract_string({doc}, '{path}') AS TIMESTAMPTZ))"
    return f"TRY_CAST(json_extract_string({doc}, '{path}') AS TIMESTAMPTZ)"


def duckdb_select(fields: list, doc: str = "raw") -> str:
    """A DuckDB select list building the table's columns from one record `doc` (JSON)."""
    return ",\n".join(
        f'CAST({_duck_expr(doc, f"$.{json_key(k)}", t)} AS {_duck_type(t)}) AS "{c}"' for c, k, t in fields
    )


def json_key(key: str) -> str:
    return f'"{key}"' if not key.isidentifier() else key


# Turbot Tailpipe's `aws_cloudtrail_log` (tailpipe-plugin-aws tables/cloudtrail_log, snapshot
# 2025-07; shapes-and-lakes.md §7), a DuckDB table: event_time a TIMESTAMP (UTC), read_only and
# management_event BOOLEAN, payloads DuckDB JSON. `tp_*` columns are Tailpipe's own (the
# timestamp, partition, index); those the record gives are filled from it, the rest NULL.
TAILPIPE_CLOUDTRAIL_LOG: list[tuple[str, str, Any]] = [
    ("event_time", "eventTime", "timestamp_utc"),
    ("event_name", "eventName", S),
    ("event_source", "eventSource", S),
    ("event_type", "eventType", S),
    ("event_version", "eventVersion", S),
    ("event_category", "eventCategory", S),
    ("aws_region", "awsRegion", S),
    ("event_id", "eventID", S),
    ("recipient_account_id", "recipientAccountId", S),
    ("vpc_endpoint_id", "vpcEndpointId", S),
    ("api_version", "apiVersion", S),
    ("error_code", "errorCode", S),
    ("error_message", "errorMessage", S),
    ("request_id", "requestID", S),
    ("shared_event_id", "sharedEventID", S),
    ("source_ip_address", "sourceIPAddress", S),
    ("user_agent", "userAgent", S),
    ("session_credential_from_console", "sessionCredentialFromConsole", S),
    ("read_only", "readOnly", "boolean"),
    ("management_event", "managementEvent", "boolean"),
    ("request_parameters", "requestParameters", "json"),
    ("response_elements", "responseElements", "json"),
    ("additional_event_data", "additionalEventData", "json"),
    ("service_event_details", "serviceEventDetails", "json"),
    ("edge_device_details", "edgeDeviceDetails", "json"),
    ("resources", "resources", "json"),
    (
        "user_identity",
        "userIdentity",
        [
            ("type", "type", S),
            ("principal_id", "principalId", S),
            ("arn", "arn", S),
            ("account_id", "accountId", S),
            ("access_key_id", "accessKeyId", S),
            ("user_name", "userName", S),
            ("invoked_by", "invokedBy", S),
            ("identity_provider", "identityProvider", S),
            (
                "session_context",
                "sessionContext",
                [
                    (
                        "attributes",
                        "attributes",
                        [
                            ("creation_date", "creationDate", "timestamp_utc"),
                            ("mfa_authenticated", "mfaAuthenticated", S),
                        ],
                    ),
                    (
                        "session_issuer",
                        "sessionIssuer",
                        [
                            ("type", "type", S),
                            ("principal_id", "principalId", S),
                            ("arn", "arn", S),
                            ("account_id", "accountId", S),
                            ("user_name", "userName", S),
                        ],
                    ),
                    ("ec2_role_delivery", "ec2RoleDelivery", S),
                    (
                        "web_id_federation_data",
                        "webIdFederationData",
                        [
                            ("federated_provider", "federatedProvider", S),
                            ("attributes", "attributes", "json"),
                        ],
                    ),
                ],
            ),
        ],
    ),
    (
        "tls_details",
        "tlsDetails",
        [
            ("tls_version", "tlsVersion", S),
            ("cipher_suite", "cipherSuite", S),
            ("client_provided_host_header", "clientProvidedHostHeader", S),
        ],
    ),
]
# Tailpipe's common columns, as the SDK fills them for this table (tp_timestamp is eventTime,
# tp_date its day, tp_ips sourceIPAddress, tp_index the recipient account); the rest NULL here.
TAILPIPE_COMMON = {
    "tp_id": "VARCHAR",
    "tp_timestamp": "TIMESTAMP",
    "tp_ingest_timestamp": "TIMESTAMP",
    "tp_date": "DATE",
    "tp_table": "VARCHAR",
    "tp_partition": "VARCHAR",
    "tp_index": "VARCHAR",
    "tp_source_type": "VARCHAR",
    "tp_source_ip": "VARCHAR",
    "tp_destination_ip": "VARCHAR",
    "tp_source_name": "VARCHAR",
    "tp_source_location": "VARCHAR",
    "tp_akas": "VARCHAR[]",
    "tp_ips": "VARCHAR[]",
    "tp_usernames": "VARCHAR[]",
    "tp_tags": "VARCHAR[]",
    "tp_domains": "VARCHAR[]",
    "tp_emails": "VARCHAR[]",
}


# AWS's `vpc_flow_logs` (docs.aws.amazon.com/athena/latest/ug/vpc-flow-logs-create-table-statement.html,
# the Parquet table vpc-flow-logs-parquet.html has the same columns): the v2-v5 fields, each a
# column named as the field with '_' for '-'. A field is (column, flow-log field, Athena type).
VPC_FLOW_LOGS: list[tuple[str, str, str]] = [
    ("version", "version", "int"),
    ("account_id", "account-id", "string"),
    ("interface_id", "interface-id", "string"),
    ("srcaddr", "srcaddr", "string"),
    ("dstaddr", "dstaddr", "string"),
    ("srcport", "srcport", "int"),
    ("dstport", "dstport", "int"),
    ("protocol", "protocol", "bigint"),
    ("packets", "packets", "bigint"),
    ("bytes", "bytes", "bigint"),
    ("start", "start", "bigint"),
    ("end", "end", "bigint"),
    ("action", "action", "string"),
    ("log_status", "log-status", "string"),
    ("vpc_id", "vpc-id", "string"),
    ("subnet_id", "subnet-id", "string"),
    ("instance_id", "instance-id", "string"),
    ("tcp_flags", "tcp-flags", "int"),
    ("type", "type", "string"),
    ("pkt_srcaddr", "pkt-srcaddr", "string"),
    ("pkt_dstaddr", "pkt-dstaddr", "string"),
    ("region", "region", "string"),
    ("az_id", "az-id", "string"),
    ("sublocation_type", "sublocation-type", "string"),
    ("sublocation_id", "sublocation-id", "string"),
    ("pkt_src_aws_service", "pkt-src-aws-service", "string"),
    ("pkt_dst_aws_service", "pkt-dst-aws-service", "string"),
    ("flow_direction", "flow-direction", "string"),
    ("traffic_path", "traffic-path", "int"),
]

# A legacy CUR in Parquet, as the CUR Athena integration's crawler types it (shapes-and-lakes.md
# §6.5): the columns `forensics/lake/views/cur.sql` reads, with the report's CSV header name.
# Times `timestamp` (UTC), amounts `double`, the rest `string`. The Parquet name of a CSV column
# is `cur_parquet_name(header)`.


def cur_parquet_name(header: str) -> str:
    """A CUR CSV column's name in the report's Parquet form (and so in Athena): the category and
    the name in snake case, joined by '_' (`lineItem/UsageStartDate` ->
    `line_item_usage_start_date`, `resourceTags/user:app` -> `resource_tags_user_app`)."""

    def snake(part: str) -> str:
        part = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", part)
        return re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_")

    return "_".join(snake(p) for p in header.split("/", 1))


CUR_LEGACY: list[tuple[str, str, str]] = [
    (cur_parquet_name(header), header, typ)
    for header, typ in (
        ("identity/LineItemId", "string"),
        ("bill/PayerAccountId", "string"),
        ("bill/BillingPeriodStartDate", "timestamp"),
        ("lineItem/UsageAccountId", "string"),
        ("lineItem/LineItemType", "string"),
        ("lineItem/UsageStartDate", "timestamp"),
        ("lineItem/UsageEndDate", "timestamp"),
        ("lineItem/ProductCode", "string"),
        ("lineItem/UsageType", "string"),
        ("lineItem/Operation", "string"),
        ("lineItem/ResourceId", "string"),
        ("lineItem/UsageAmount", "double"),
        ("lineItem/CurrencyCode", "string"),
        ("lineItem/UnblendedCost", "double"),
        ("lineItem/LineItemDescription", "string"),
        ("product/instanceType", "string"),
        ("product/region", "string"),
        ("product/regionCode", "string"),
        ("product/servicecode", "string"),
    )
]

# CUR 2.0, AWS Data Exports' standard table `COST_AND_USAGE_REPORT` (docs.aws.amazon.com/cur/latest/
# userguide/table-dictionary-cur2.html) in Parquet, as the Glue table of AWS's Cloud Intelligence
# Dashboards data-exports stack declares it (`cid_data_export.cur2`, data-exports-aggregation.yaml):
# a fixed snake_case schema, the column name the same in the export and in Athena; `product`,
# `resource_tags`, `cost_category` maps of strings, `discount` a map of doubles; the export's
# `BILLING_PERIOD=YYYY-MM` folder the partition `billing_period` (string). The export has more
# columns (reservation_*, savings_plan_*, split_line_item_*, pricing_*): listed here are the
# identity, time, account, line-item, product and tag columns, which hold every billing candidate.
CUR2: list[tuple[str, str, str]] = [
    (c, c, t)
    for c, t in (
        ("bill_billing_period_end_date", "timestamp"),
        ("bill_billing_period_start_date", "timestamp"),
        ("bill_payer_account_id", "string"),
        ("bill_payer_account_name", "string"),
        ("cost_category", "map<string,string>"),
        ("discount", "map<string,double>"),
        ("identity_line_item_id", "string"),
        ("identity_time_interval", "string"),
        ("line_item_availability_zone", "string"),
        ("line_item_currency_code", "string"),
        ("line_item_iam_principal", "string"),
        ("line_item_line_item_description", "string"),
        ("line_item_line_item_type", "string"),
        ("line_item_net_unblended_cost", "double"),
        ("line_item_operation", "string"),
        ("line_item_product_code", "string"),
        ("line_item_resource_id", "string"),
        ("line_item_unblended_cost", "double"),
        ("line_item_usage_account_id", "string"),
        ("line_item_usage_account_name", "string"),
        ("line_item_usage_amount", "double"),
        ("line_item_usage_end_date", "timestamp"),
        ("line_item_usage_start_date", "timestamp"),
        ("line_item_usage_type", "string"),
        ("line_item_user_identifier", "string"),
        ("pricing_public_on_demand_cost", "double"),
        ("product", "map<string,string>"),
        ("product_from_location", "string"),
        ("product_instance_family", "string"),
        ("product_instance_type", "string"),
        ("product_location", "string"),
        ("product_product_family", "string"),
        ("product_region_code", "string"),
        ("product_servicecode", "string"),
        ("product_to_location", "string"),
        ("product_usagetype", "string"),
        ("resource_tags", "map<string,string>"),
        ("billing_period", "string"),  # the partition
    )
]

# FOCUS 1.0 with AWS columns (Data Exports table `FOCUS_1_0_AWS`; `FOCUS_1_2_AWS` keeps these
# names and adds columns) in Parquet, as the same stack's Glue table `cid_data_export.focus`
# declares it: the export's PascalCase names lower-cased (Glue and Athena fold case), costs and
# quantities `double`, periods `timestamp` (UTC), `Tags` a map of strings; the AWS extras `x_*`.
# A field is (Athena column, the export's column name, Athena type).
FOCUS_AWS: list[tuple[str, str, str]] = [
    (name.lower(), name, t)
    for name, t in (
        ("AvailabilityZone", "string"),
        ("BilledCost", "double"),
        ("BillingAccountId", "string"),
        ("BillingAccountName", "string"),
        ("BillingCurrency", "string"),
        ("BillingPeriodEnd", "timestamp"),
        ("BillingPeriodStart", "timestamp"),
        ("ChargeCategory", "string"),
        ("ChargeClass", "string"),
        ("ChargeDescription", "string"),
        ("ChargeFrequency", "string"),
        ("ChargePeriodEnd", "timestamp"),
        ("ChargePeriodStart", "timestamp"),
        ("CommitmentDiscountCategory", "string"),
        ("CommitmentDiscountId", "string"),
        ("CommitmentDiscountName", "string"),
        ("CommitmentDiscountType", "string"),
        ("CommitmentDiscountStatus", "string"),
        ("ConsumedQuantity", "double"),
        ("ConsumedUnit", "string"),
        ("ContractedCost", "double"),
        ("ContractedUnitPrice", "double"),
        ("EffectiveCost", "double"),
        ("InvoiceIssuerName", "string"),
        ("ListCost", "double"),
        ("ListUnitPrice", "double"),
        ("PricingCategory", "string"),
        ("PricingQuantity", "double"),
        ("PricingUnit", "string"),
        ("ProviderName", "string"),
        ("PublisherName", "string"),
        ("RegionId", "string"),
        ("RegionName", "string"),
        ("ResourceId", "string"),
        ("ResourceName", "string"),
        ("ResourceType", "string"),
        ("ServiceCategory", "string"),
        ("ServiceName", "string"),
        ("SkuId", "string"),
        ("SkuPriceId", "string"),
        ("SubAccountId", "string"),
        ("SubAccountName", "string"),
        ("Tags", "map<string,string>"),
        ("x_Operation", "string"),
        ("x_ServiceCode", "string"),
        ("x_UsageType", "string"),
    )
]

ATHENA_TO_DUCKDB = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE",
                    "timestamp": "TIMESTAMP", "map<string,string>": "MAP(VARCHAR, VARCHAR)",
                    "map<string,double>": "MAP(VARCHAR, DOUBLE)"}  # fmt: skip
ATHENA_TO_SPARK = {"string": "STRING", "int": "INT", "bigint": "BIGINT", "double": "DOUBLE",
                   "timestamp": "TIMESTAMP", "map<string,string>": "MAP<STRING, STRING>",
                   "map<string,double>": "MAP<STRING, DOUBLE>"}  # fmt: skip
