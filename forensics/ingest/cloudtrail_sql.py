"""SQL that turns raw CloudTrail records into `cloudtrail` rows.

Every shape (S3 delivery, bare array, NDJSON, lookup-events, Logstash) is first reduced to a
relation `(source_file, source_position, raw JSON)`; one projection then flattens what the
detections need. The record is parsed once, with an explicit spec (`json_transform`), because
automatic schema inference silently drops fields (performance.md).
"""

from __future__ import annotations

import json

# The fields the projection reads. Nested payloads stay JSON: fast and lossless.
RECORD_SPEC = json.dumps(
    {
        "eventVersion": "VARCHAR",
        "eventTime": "VARCHAR",
        "@timestamp": "VARCHAR",
        "eventSource": "VARCHAR",
        "eventName": "VARCHAR",
        "awsRegion": "VARCHAR",
        "sourceIPAddress": "VARCHAR",
        "userAgent": "VARCHAR",
        "errorCode": "VARCHAR",
        "errorMessage": "VARCHAR",
        "requestID": "VARCHAR",
        "eventID": "VARCHAR",
        "readOnly": "VARCHAR",
        "managementEvent": "VARCHAR",
        "eventType": "VARCHAR",
        "eventCategory": "VARCHAR",
        "recipientAccountId": "VARCHAR",
        "sharedEventID": "VARCHAR",
        "vpcEndpointId": "VARCHAR",
        "userIdentity": {
            "type": "VARCHAR",
            "principalId": "VARCHAR",
            "arn": "VARCHAR",
            "accountId": "VARCHAR",
            "accessKeyId": "VARCHAR",
            "userName": "VARCHAR",
            "invokedBy": "VARCHAR",
            "sessionContext": {
                "sessionIssuer": {"type": "VARCHAR", "arn": "VARCHAR", "userName": "VARCHAR"},
                "attributes": {"mfaAuthenticated": "VARCHAR"},
                "ec2RoleDelivery": "VARCHAR",
            },
        },
        "requestParameters": "JSON",
        "responseElements": "JSON",
        "additionalEventData": {"MFAUsed": "VARCHAR"},
        "insightDetails": {"eventName": "VARCHAR", "eventSource": "VARCHAR"},
    }
)

_PROJECTION = f"""
parsed AS (
    SELECT source_file, source_position, raw, envelope, json_transform(raw, '{RECORD_SPEC}') AS r,
           -- an EventBridge envelope fills only what its CloudTrail record lacks
           CASE WHEN raw IS NOT NULL THEN envelope END AS e
    FROM src
),
flat AS (
    SELECT
        TRY_CAST(coalesce(r.eventTime, r."@timestamp", e ->> 'time') AS TIMESTAMPTZ) AS event_time,
        coalesce(r.eventID, 'sha256:' || sha256(raw::VARCHAR))      AS event_id,
        coalesce(r.eventName, r.insightDetails.eventName)           AS event_name,
        coalesce(r.eventSource, r.insightDetails.eventSource)       AS event_source,
        coalesce(r.awsRegion, e ->> 'region')                        AS aws_region,
        r.sourceIPAddress                                            AS source_ip,
        r.userAgent                                                  AS user_agent,
        r.userIdentity.type                                          AS principal_type,
        nullif(r.userIdentity.arn, '')                               AS principal_arn,
        r.userIdentity.principalId                                   AS principal_id,
        r.userIdentity.accountId                                     AS account_id,
        coalesce(r.userIdentity.userName,
                 r.userIdentity.sessionContext.sessionIssuer.userName) AS user_name,
        nullif(r.userIdentity.accessKeyId, '')                       AS access_key_id,
        r.userIdentity.sessionContext.sessionIssuer.arn              AS session_issuer_arn,
        r.userIdentity.sessionContext.sessionIssuer.type             AS session_issuer_type,
        session_name_of(r.userIdentity.arn)                          AS session_name,
        mfa_of(r.userIdentity.sessionContext.attributes.mfaAuthenticated,
               r.additionalEventData.MFAUsed)                        AS mfa_authenticated,
        r.userIdentity.sessionContext.ec2RoleDelivery                AS ec2_role_delivery,
        r.userIdentity.invokedBy                                     AS invoked_by,
        nullif(r.errorCode, '')                                      AS error_code,
        nullif(r.errorMessage, '')                                   AS error_message,
        r.readOnly                                                   AS read_only_recorded,
        lower(r.managementEvent) = 'true'                            AS management_event,
        r.eventType                                                  AS event_type,
        event_category_of(r.eventCategory, r.eventType)              AS event_category,
        r.eventVersion                                               AS event_version,
        coalesce(r.recipientAccountId, e ->> 'account')              AS recipient_account_id,
        e IS NOT NULL AND (
            (r.eventTime IS NULL AND r."@timestamp" IS NULL AND (e ->> 'time') IS NOT NULL)
            OR (r.awsRegion IS NULL AND (e ->> 'region') IS NOT NULL)
            OR (r.recipientAccountId IS NULL AND (e ->> 'account') IS NOT NULL)) AS filled,
        r.sharedEventID                                              AS shared_event_id,
        r.vpcEndpointId                                              AS vpc_endpoint_id,
        r.requestID                                                  AS request_id,
        r.requestParameters                                          AS request_parameters,
        r.responseElements                                           AS response_elements,
        raw,
        envelope,
        CASE WHEN r.eventTime IS NOT NULL THEN 'eventTime'
             WHEN r."@timestamp" IS NOT NULL THEN '@timestamp'
             WHEN (e ->> 'time') IS NOT NULL THEN 'envelope time' END AS time_source,
        source_file,
        source_position
    FROM parsed
)
SELECT
    event_time, event_id, event_name, event_source, aws_region, source_ip,
    is_ip_address(source_ip) AS source_is_ip,
    user_agent, principal_type, principal_arn, principal_id, account_id, user_name,
    access_key_id, session_issuer_arn, session_issuer_type,
    session_name,
    mfa_authenticated, ec2_role_delivery, invoked_by, error_code, error_message,
    -- DESIGN.md's outcome and read-only, as the vocabulary defines them (forensics/vocabulary)
    outcome_of(error_code, error_message) AS outcome,
    read_only_of(read_only_recorded, event_name) AS read_only,
    management_event, event_type, event_category, event_version,
    recipient_account_id, shared_event_id, vpc_endpoint_id, request_id,
    -- the derived columns as the vocabulary defines them (forensics/vocabulary/fields.sql)
    instance_ids_of(event_source, event_name, request_parameters, response_elements) AS instance_ids,
    instance_type_of(event_source, request_parameters) AS instance_type,
    target_user_name_of(event_source, request_parameters) AS target_user_name,
    policy_arn_of(event_source, request_parameters) AS policy_arn,
    created_access_key_of(event_name, response_elements) AS created_access_key_id,
    request_parameters, response_elements, raw, envelope, time_source, source_file, source_position,
    -- DESIGN.md, record_flags: what the loader filled in or doubts (kept, never dropped)
    list_filter([CASE WHEN read_only_recorded IS NULL THEN 'read_only derived' END,
                 time_flag_of(event_time),
                 CASE WHEN filled THEN 'filled from an envelope' END,
                 CASE WHEN $delivery = 'security-lake' THEN 'lossy from OCSF'
                      WHEN $delivery = 'cloudtrail-lake' AND envelope IS NOT NULL
                      THEN 'typed from CloudTrail Lake' END],
                lambda f: f IS NOT NULL) AS record_flags
FROM flat
"""


def stage_sql(src_sql: str) -> str:
    """One statement: the shape's relation as `src`, then the projection."""
    return f"WITH src AS ({src_sql}),\n{_PROJECTION}"


# A record's (or document's) number in its file, over a reader called WITH ORDINALITY. The
# ordinality follows the files' order across the whole call; a window's row_number() without
# ORDER BY does not (DuckDB reads a big file in parallel blocks, and numbered that way 58,560 of
# a 120k-line file's records got another record's number).
FILE_ORDINAL = "(ordinality - min(ordinality) OVER (PARTITION BY filename) + 1)"

# Each export shape reduced to (source_file, source_position, raw). `$files` and `$max_object`
# (the largest document the batch can hold, tabular.json_object_limit) are bound.
SOURCES = {
    # {"Records": [...]}, one document per file: S3 delivery, the bulk of any case. No window
    # function here: it would hold the whole batch in memory before the first row streams on.
    "records": """
        SELECT filename AS source_file, 'record ' || (i + 1) AS source_position, rec AS raw,
               NULL::JSON AS envelope
        FROM (
            SELECT filename, unnest(Records) AS rec, unnest(range(len(Records))) AS i
            FROM read_json($files, columns = {'Records': 'JSON[]'}, records = true,
                           format = $layout, filename = true, maximum_object_size = $max_object)
        )""",
    # One {"Records": [...]} batch per line: the line number is part of the position.
    "records_lines": """
        SELECT filename AS source_file,
               'line ' || doc_no || ' record ' || (i + 1) AS source_position, rec AS raw,
               NULL::JSON AS envelope
        FROM (
            SELECT filename, doc_no, unnest(recs) AS rec, unnest(range(len(recs))) AS i
            FROM (
                SELECT filename, Records AS recs,
                       """
    + FILE_ORDINAL
    + """ AS doc_no
                FROM read_json($files, columns = {'Records': 'JSON[]'}, records = true,
                               format = $layout, filename = true,
                               maximum_object_size = $max_object) WITH ORDINALITY
            )
        )""",
    # aws cloudtrail lookup-events: the record is the JSON *string* CloudTrailEvent.
    "lookup": """
        SELECT filename AS source_file, 'event ' || (i + 1) AS source_position,
               CASE WHEN json_valid(ev.CloudTrailEvent) THEN ev.CloudTrailEvent::JSON
                    ELSE to_json(ev.CloudTrailEvent) END AS raw, NULL::JSON AS envelope
        FROM (
            SELECT filename, unnest(Events) AS ev, unnest(range(len(Events))) AS i
            FROM read_json($files, columns = {'Events': 'STRUCT("CloudTrailEvent" VARCHAR)[]'},
                           records = true, format = $layout, filename = true,
                           maximum_object_size = $max_object)
        )""",
    # A bare JSON array of events, or events one per line (NDJSON, Logstash, SIEM exports).
    "events": """
        SELECT filename AS source_file, 'record ' || """
    + FILE_ORDINAL
    + """ AS source_position,
               json AS raw, NULL::JSON AS envelope
        FROM read_json_objects($files, format = $layout, filename = true,
                               maximum_object_size = $max_object) WITH ORDINALITY""",
    # EventBridge envelopes ("detail-type": "AWS API Call via CloudTrail", ...), one per line, in
    # an array, or concatenated with no separator as Firehose writes them to S3: the record is
    # `detail`; the envelope is kept beside it (without detail) as the copy's provenance.
    "eventbridge": """
        SELECT filename AS source_file, 'record ' || """
    + FILE_ORDINAL
    + """ AS source_position,
               """
    + "{ENVELOPE}"
    + """
        FROM (SELECT filename, json AS doc, ordinality
              FROM read_json_objects($files, format = $layout, filename = true,
                                     maximum_object_size = $max_object) WITH ORDINALITY)""",
}
# SIEM exports that wrap the record: the original text in ECS's `event.original` (at the top or
# under Elasticsearch's `_source`), or the record's own fields as `_source`. The wrapper, without
# the record, is kept as the envelope.
SIEM_RECORD = """
    CASE WHEN json_valid(doc ->> '$.event.original') THEN (doc ->> '$.event.original')::JSON
         WHEN json_valid(doc ->> '$._source.event.original')
             THEN (doc ->> '$._source.event.original')::JSON
         WHEN json_type(doc, '$._source') = 'OBJECT' THEN doc -> '$._source' END AS raw,
    CASE WHEN json_valid(doc ->> '$.event.original')
             THEN json_merge_patch(doc, '{"event": {"original": null}}')
         WHEN json_valid(doc ->> '$._source.event.original')
             THEN json_merge_patch(doc, '{"_source": {"event": {"original": null}}}')
         ELSE json_merge_patch(doc, '{"_source": null}') END AS envelope"""
SOURCES["siem"] = SOURCES["eventbridge"].replace("{ENVELOPE}", SIEM_RECORD)

# The record and the envelope of one EventBridge document `doc`; an event of another detail-type
# has no record (it is rejected with the reason).
ENVELOPE = """
    CASE WHEN (doc ->> '$."detail-type"') LIKE '% via CloudTrail'
          AND json_type(doc, '$.detail') = 'OBJECT' THEN doc -> '$.detail' END AS raw,
    json_merge_patch(doc, '{"detail": null}') AS envelope"""
# the record and envelope expressions of each wrapped shape, over a relation with `doc`
WRAPPED = {"eventbridge": ENVELOPE, "siem": SIEM_RECORD}
SOURCES["eventbridge"] = SOURCES["eventbridge"].replace("{ENVELOPE}", ENVELOPE)

# How complete each delivery's copy of an event is (DESIGN.md Duplicates): the trail file, then
# LookupEvents, then forwarded copies (EventBridge, CloudWatch Logs and other bare exports, SIEM
# exports). When one event arrives twice, the copy of the lowest rank is kept.
# CloudTrail Lake rows and Security Lake's OCSF rows come last: typed columns and OCSF's flattened
# fields lose what the record held.
DELIVERY_RANK = {
    "trail": 1,
    "lookup": 2,
    "eventbridge": 3,
    "export": 4,
    "siem": 5,
    "cloudtrail-lake": 6,
    "security-lake": 7,
}
DELIVERY_RANK_SQL = (
    "CASE delivery "
    + " ".join(f"WHEN '{k}' THEN {v}" for k, v in DELIVERY_RANK.items())
    + f" ELSE {len(DELIVERY_RANK) + 1} END"
)
# A copy's place in its file, comparable: the numbers of `source_position` in order ('line 2
# record 3' -> [2, 3], 'record 10' after 'record 9', which text order gets wrong).
POSITION_ORDER_SQL = "list_transform(regexp_extract_all(c.source_position, '\\d+'), lambda n: n::BIGINT)"
