"""CloudTrail Lake query results (shapes-and-lakes.md §5) → `cloudtrail`.

Two shapes: the CSV a query delivers to S3 (`result_<n>.csv[.gz]`, a header row naming the
`SELECT`'s columns) and the JSON of `aws cloudtrail get-query-results`
(`{"QueryResultRows": [[{"eventID": "..."}, {"eventTime": "..."}], ...]}`, every value a string).
Column names are matched without regard to case (the event data store's schema spells them in
lower case, queries in camelCase; `userIdentity.arn` may come back as `arn`).

A row with `eventJson` is the original record and is loaded as such. A row without it is rebuilt
from its typed columns when it has an event id, a time, a name, a source and an identity, and is
flagged 'typed from CloudTrail Lake' (request and response maps may not be JSON); any other row is
rejected with the reason. The typed row is kept whole in `envelope`. The sign file beside the
results (`result_sign.json`) is recorded as a skipped digest.
"""

from __future__ import annotations

import csv
import io
import re

from . import cloudtrail
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile, json_layout
from .tabular import batches, bisect_load, quote_ident, quote_literal, reader_compression, unexpected_reason

SOURCE = "cloudtrail"
DELIVERY = "cloudtrail-lake"
MAX_LINE = 64 * 1024 * 1024  # a CSV row holding a large eventJson

_SIGN_KEYS = ('"hashSignature"', '"queryCompleteTime"', '"fileHashValue"')

# identity fields: typed column names (after lower-casing) and their record key
_IDENTITY = {
    "type": "type",
    "principalid": "principalId",
    "arn": "arn",
    "accountid": "accountId",
    "accesskeyid": "accessKeyId",
    "username": "userName",
    "invokedby": "invokedBy",
}
_FIELDS = {  # record key: lower-cased column
    "eventVersion": "eventversion",
    "eventID": "eventid",
    "eventName": "eventname",
    "eventSource": "eventsource",
    "awsRegion": "awsregion",
    "sourceIPAddress": "sourceipaddress",
    "userAgent": "useragent",
    "errorCode": "errorcode",
    "errorMessage": "errormessage",
    "requestID": "requestid",
    "readOnly": "readonly",
    "managementEvent": "managementevent",
    "eventType": "eventtype",
    "eventCategory": "eventcategory",
    "recipientAccountId": "recipientaccountid",
    "sharedEventID": "sharedeventid",
    "vpcEndpointId": "vpcendpointid",
    "apiVersion": "apiversion",
}
_PAYLOADS = {
    "requestParameters": "requestparameters",
    "responseElements": "responseelements",
    "additionalEventData": "additionaleventdata",
    "serviceEventDetails": "serviceeventdetails",
}


def _identity_field(key: str) -> str:
    """An identity field: its own column (`useridentity.arn`, or `arn` as a query names it), or
    the `useridentity` column as JSON or as the engine's `{type=..., arn=...}` rendering."""
    lower = key.lower()
    return (
        f"coalesce(t ->> '$.\"useridentity.{lower}\"', t ->> '$.{lower}', "
        f"ui ->> '$.{key}', ui ->> '$.{lower}', "
        f"nullif(regexp_extract(t ->> '$.useridentity', '[{{,]\\s*{lower}=([^,}}]*)', 1), ''))"
    )


def _payload(col: str) -> str:
    v = f"(t ->> '$.{col}')"
    return f"CASE WHEN json_valid({v}) THEN {v}::JSON WHEN {v} IS NOT NULL THEN to_json({v}) END"


# Lake renders its timestamp without a zone ('2026-11-16 02:30:00.000'): UTC, whatever the
# session's time zone; a time with a zone is converted to UTC.
_TIME = (
    "strftime(CASE WHEN regexp_matches(t ->> '$.eventtime', '(Z|[+-]\\d\\d:?\\d\\d)$') "
    "THEN TRY_CAST(t ->> '$.eventtime' AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
    "ELSE TRY_CAST(t ->> '$.eventtime' AS TIMESTAMP) END, '%Y-%m-%dT%H:%M:%SZ')"
)
_REBUILT = (
    "json_object("
    + ", ".join(f"'{k}', t ->> '$.{c}'" for k, c in _FIELDS.items())
    + f", 'eventTime', {_TIME}, 'userIdentity', json_object("
    + ", ".join(f"'{k}', {_identity_field(k)}" for k in _IDENTITY.values())
    + "), "
    + ", ".join(f"'{k}', {_payload(c)}" for k, c in _PAYLOADS.items())
    + ")"
)
_HAS_IDENTITY = " OR ".join(
    f"{_identity_field(k)} IS NOT NULL"
    for k in ("arn", "principalId", "accessKeyId", "userName", "invokedBy")
)
_MISSING = f"""concat_ws(', ',
    CASE WHEN (t ->> '$.eventid') IS NULL THEN 'event id' END,
    CASE WHEN {_TIME} IS NULL THEN 'time' END,
    CASE WHEN (t ->> '$.eventname') IS NULL THEN 'event name' END,
    CASE WHEN (t ->> '$.eventsource') IS NULL THEN 'event source' END,
    CASE WHEN NOT ({_HAS_IDENTITY}) THEN 'identity' END)"""

# over `rows(source_file, source_position, t JSON)`, t's keys lower-cased
_RECORD_SQL = f"""
    SELECT source_file, source_position,
           CASE WHEN full_record THEN ej::JSON
                WHEN missing = '' THEN json_merge_patch('{{}}', {_REBUILT}) END AS raw,
           CASE WHEN full_record THEN NULL
                WHEN missing = '' THEN t
                ELSE json_merge_patch(t, json_object('~reason',
                    'CloudTrail Lake row without eventJson lacks ' || missing
                    || ': the record cannot be rebuilt (select eventJson, or eventID, eventTime, '
                    || 'eventName, eventSource and userIdentity)')) END AS envelope
    FROM (
        SELECT *, {_MISSING} AS missing
        FROM (
            SELECT *, coalesce(json_valid(ej) AND json_type(ej::JSON) = 'OBJECT', false) AS full_record
            FROM (SELECT *, t ->> '$.eventjson' AS ej,
                         CASE WHEN json_valid(t ->> '$.useridentity')
                              THEN (t ->> '$.useridentity')::JSON END AS ui
                  FROM rows)
        )
    )"""

# get-query-results: each row is a list of one-entry maps
_ROWS_JSON = """
    SELECT filename AS source_file, 'row ' || (i + 1) AS source_position,
           to_json(map_from_entries(list_transform(flatten(list_transform(r, lambda m: map_entries(m))),
                                                   lambda e: {'key': lower(e.key), 'value': e.value}))) AS t
    FROM (
        SELECT filename, unnest(QueryResultRows) AS r, unnest(range(len(QueryResultRows))) AS i
        FROM read_json($files, columns = {'QueryResultRows': 'MAP(VARCHAR, VARCHAR)[][]'},
                       records = true, format = $layout, filename = true)
    )"""


def _rows_csv(header: tuple[str, ...], compression: str) -> str:
    spec = ", ".join(f"{quote_literal(h)}: 'VARCHAR'" for h in header)
    pairs = ", ".join(f"{quote_literal(h.strip().lower())}, nullif({quote_ident(h)}, '')" for h in header)
    return f"""
    SELECT filename AS source_file, 'row ' || ordinality AS source_position, json_object({pairs}) AS t
    FROM read_csv($files, columns = {{{spec}}}, header = true, auto_detect = false, quote = '"',
                  escape = '"', filename = true, hive_partitioning = false,
                  max_line_size = {MAX_LINE}, compression = '{compression}') WITH ORDINALITY"""


def src_sql(options: dict) -> str:
    if options["shape"] == "rows":
        rows = _ROWS_JSON.replace("$layout", f"'{options['layout']}'")  # one of our constants
    else:
        rows = _rows_csv(options["header"], options["compression"])
    return f"WITH rows AS ({rows}) {_RECORD_SQL}"


def sniff(f: EvidenceFile) -> Sniff | None:
    if f.compression not in ("none", "gzip"):
        return None
    text = f.head_text.lstrip()
    if text.startswith("{"):
        head = text[:4096]
        if sum(k in head for k in _SIGN_KEYS) >= 2:
            return Sniff(
                "cloudtrail-lake-sign",
                skip="skipped-digest",
                detail="CloudTrail Lake query results sign file "
                "(check with aws cloudtrail verify-query-results)",
            )
        if (
            re.match(r'\{\s*"(QueryStatus|QueryStatistics|QueryResultRows)"', text)
            and '"QueryResultRows"' in text
        ):
            layout = json_layout(text)
            return Sniff("cloudtrail-lake-json", options={"shape": "rows", "layout": layout})
        return None
    first = text.split("\n", 1)[0].rstrip("\r")
    if "," not in first and first.strip().lower() != "eventjson":
        return None
    try:
        header = tuple(next(csv.reader(io.StringIO(first))))
    except (csv.Error, StopIteration):
        return None
    names = {h.strip().lower() for h in header}
    if "eventjson" in names or {"eventid", "eventtime"} <= names:
        options = {"shape": "csv", "header": header, "compression": reader_compression(f)}
        return Sniff("cloudtrail-lake-csv", options=options)
    return None


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    groups: dict[tuple, list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        o = s.options
        key = (o["shape"], o.get("layout"), o.get("header"), o.get("compression"))
        groups.setdefault(key, []).append((f, s))
    (before,) = ctx.con.execute("SELECT coalesce(max(load_id), 0) FROM cloudtrail").fetchall()[0]
    for members in groups.values():
        src = src_sql(members[0][1].options)
        for batch in batches(members):
            bisect_load(
                batch,
                lambda part, src=src: cloudtrail.load_staged_batch(ctx, src, DELIVERY, part),
                lambda item, exc: _refuse(
                    ctx, item, f"unreadable CloudTrail Lake results: {str(exc).splitlines()[0]}"
                ),
                lambda item, exc: _refuse(ctx, item, unexpected_reason(exc)),
            )
    cloudtrail._report_implausible(ctx, before)


def _refuse(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], reason: str) -> None:
    f, s = item
    ctx.reject(f.path, "file", reason)
    ctx.record([outcome_for(f, s.format, "rejected", SOURCE, reason)])
