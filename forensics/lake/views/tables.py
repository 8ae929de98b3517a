"""The documented schemas of the tables the views read, as data: the names and types AWS's
Athena DDL declares (shapes-and-lakes.md §6) and Tailpipe's table (§7), with the record's own
key for each column, so a table of exactly that shape can be built from evidence (Spark's
`from_json` then a cast to the lower-case names; DuckDB's JSON functions) by tests and by
`forensics lake build`.

A field is `(column, key, type)`: `type` is "string", "boolean", "timestamp", "json", a list of
fields (a struct), `("array", fields)` or `("map", "string", "string")`.
"""

from __future__ import annotations

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
    return {"string": "STRING", "json": "STRING", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}[t]


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
    return {"string": "VARCHAR", "json": "JSON", "boolean": "BOOLEAN", "timestamp": "TIMESTAMPTZ"}[t]


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
    return f"TRY_CAST(json_extract_string({doc}, '{path}') AS TIMESTAMPTZ)"


def duckdb_select(fields: list, doc: str = "raw") -> str:
    """A DuckDB select list building the table's columns from one record `doc` (JSON)."""
    return ",\n".join(
        f'CAST({_duck_expr(doc, f"$.{json_key(k)}", t)} AS {_duck_type(t)}) AS "{c}"' for c, k, t in fields
    )


def json_key(key: str) -> str:
    return f'"{key}"' if not key.isidentifier() else key
