"""Amazon Security Lake CloudTrail (management and data events in OCSF 1.x Parquet) → `cloudtrail`.

Each OCSF row is turned back into a CloudTrail-shaped record by the documented field map
(shapes-and-lakes.md §4.4), in SQL, and goes through the same projection as every other
CloudTrail shape, so detections and the story read it like the trail's own copy. What OCSF
flattened (`unmapped`'s dotted keys such as `requestParameters.userName`) is nested again; the
OCSF row itself is kept whole in `envelope`. Every row is flagged 'lossy from OCSF' (types and
nesting were flattened on the way in), and the delivery `security-lake` ranks last among the
copies of an event, so the trail's copy of the same (eventID, recipient account) is kept.
"""

from __future__ import annotations

from . import cloudtrail
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile
from .security_lake import CLOUDTRAIL_CLASSES, iceberg_refusal, is_cloudtrail, ocsf_columns, pick, reader_sql
from .tabular import batches, bisect_load, unexpected_reason

SOURCE = "cloudtrail"
DELIVERY = "security-lake"

_CLOUD_ACCOUNT = pick("$.cloud.account.uid", "$.cloud.account_uid")
_CLASSES = ", ".join(f"'{c}'" for c in CLOUDTRAIL_CLASSES)


def _actor(v2: str, v1: str | None = None) -> str:
    """An identity field from `actor.user`, or the top-level `user` of Authentication rows."""
    v1 = v1 or v2
    actor = pick("$.actor.user." + v2, "$.actor.user." + v1)
    return f"coalesce({actor}, {pick('$.user.' + v2, '$.user.' + v1)})"


def _iso(expr_ms: str, expr_dt: str) -> str:
    return (
        f"strftime(coalesce(epoch_ms(TRY_CAST({expr_ms} AS BIGINT)), TRY_CAST({expr_dt} AS TIMESTAMP)), "
        "'%Y-%m-%dT%H:%M:%SZ')"
    )


def _payload(path: str) -> str:
    """`api.request.data` / `api.response.data`: JSON text in AWS's files (an object kept as is)."""
    return (
        f"CASE WHEN json_type(doc, '{path}') = 'OBJECT' THEN doc -> '{path}' "
        f"WHEN json_valid(doc ->> '{path}') THEN (doc ->> '{path}')::JSON END"
    )


# `unmapped` (MAP<VARCHAR,VARCHAR>, keys are dotted CloudTrail paths) nested back into an object:
# each entry becomes {"a": {"b": value}} and the entries are merged.
_UNMAPPED = """list_reduce(
    list_transform(coalesce(entries, []), lambda e:
        ('{"' || replace((to_json(e.key)::VARCHAR)[2:-2], '.', '":{"') || '":' || to_json(e.value)
         || repeat('}', len(string_split(e.key, '.'))))::JSON),
    lambda a, b: json_merge_patch(a, b), '{}'::JSON)"""

_RECORD = f"""json_object(
    'eventVersion', doc ->> '$.metadata.product.version',
    'eventTime', {_iso("doc ->> '$.time'", "doc ->> '$.time_dt'")},
    'eventSource', doc ->> '$.api.service.name',
    'eventName', doc ->> '$.api.operation',
    'awsRegion', coalesce(doc ->> '$.cloud.region', doc ->> '$.region'),
    'sourceIPAddress', coalesce(doc ->> '$.src_endpoint.ip', doc ->> '$.src_endpoint.domain'),
    'vpcEndpointId', doc ->> '$.src_endpoint.uid',
    'userAgent', doc ->> '$.http_request.user_agent',
    'errorCode', doc ->> '$.api.response.error',
    'errorMessage', doc ->> '$.api.response.message',
    'requestID', doc ->> '$.api.request.uid',
    'apiVersion', doc ->> '$.api.version',
    'eventID', doc ->> '$.metadata.uid',
    'eventType', doc ->> '$.metadata.event_code',
    'eventCategory', doc ->> '$.metadata.product.feature.name',
    'recipientAccountId', coalesce(unmapped ->> '$.recipientAccountId', doc ->> '$.accountid',
                                   doc ->> '$.accountId', {_CLOUD_ACCOUNT}),
    'userIdentity', json_object(
        'type', {_actor("type")},
        'arn', {_actor("uid", "uuid")},
        'principalId', {_actor("uid_alt", "uid")},
        'accountId', coalesce({_actor("account.uid", "account_uid")}),
        'userName', {_actor("name")},
        'accessKeyId', {_actor("credential_uid")},
        'invokedBy', doc ->> '$.actor.invoked_by',
        'sessionContext', json_object(
            'sessionIssuer', json_object('arn', doc ->> '$.actor.session.issuer'),
            'attributes', json_object(
                'mfaAuthenticated', lower({pick("$.actor.session.is_mfa", "$.actor.session.mfa")}),
                'creationDate', CASE WHEN v1 THEN {_iso("doc ->> '$.actor.session.created_time'", "NULL")}
                                     ELSE {_iso("NULL", "doc ->> '$.actor.session.created_time_dt'")} END))),
    'requestParameters', {_payload("$.api.request.data")},
    'responseElements', {_payload("$.api.response.data")})"""

# (source_file, source_position, raw, envelope), as every CloudTrail shape (cloudtrail_sql.SOURCES).
# json_merge_patch('{}', x) drops x's nulls; the rebuilt fields win over `unmapped`'s.
SRC_SQL = f"""
    SELECT source_file, source_position,
           CASE WHEN (doc ->> '$.class_uid') IN ({_CLASSES})
                THEN json_merge_patch(unmapped, json_merge_patch('{{}}', {_RECORD})) END AS raw,
           CASE WHEN (doc ->> '$.class_uid') IN ({_CLASSES}) THEN doc
                ELSE json_merge_patch(doc, json_object('~reason',
                    'OCSF class ' || coalesce(doc ->> '$.class_uid', 'missing') || ' ('
                    || coalesce(doc ->> '$.class_name', 'unnamed') || ') is not a CloudTrail event class '
                    || '(API Activity, Authentication, Account Change)')) END AS envelope
    FROM (SELECT *, {_UNMAPPED} AS unmapped FROM ({{reader}}))"""


def sniff(f: EvidenceFile) -> Sniff | None:
    types = ocsf_columns(f)
    if types is None or not is_cloudtrail(types):
        return None
    refusal = iceberg_refusal(f.path)
    options = {"unmapped": "unmapped" in types, "columns": tuple(sorted(types.items())), "refuse": refusal}
    return Sniff("security-lake-ocsf-cloudtrail", options=options)


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    """Load OCSF files grouped by schema (one Parquet read per group and batch)."""
    groups: dict[tuple, list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        if s.options["refuse"]:
            _refuse(ctx, (f, s), s.options["refuse"])
            continue
        groups.setdefault(s.options["columns"], []).append((f, s))
    (before,) = ctx.con.execute("SELECT coalesce(max(load_id), 0) FROM cloudtrail").fetchall()[0]
    for members in groups.values():
        src = SRC_SQL.replace("{reader}", reader_sql(members[0][1].options["unmapped"]))
        for batch in batches(members):
            bisect_load(
                batch,
                lambda part, src=src: cloudtrail.load_staged_batch(ctx, src, DELIVERY, part),
                lambda item, exc: _refuse(ctx, item, f"unreadable Parquet file: {str(exc).splitlines()[0]}"),
                lambda item, exc: _refuse(ctx, item, unexpected_reason(exc)),
            )
    cloudtrail._report_implausible(ctx, before)


def _refuse(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], reason: str) -> None:
    f, s = item
    ctx.reject(f.path, "file", reason)
    ctx.record([outcome_for(f, s.format, "rejected", SOURCE, reason)])
