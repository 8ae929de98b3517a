"""SQL that flattens GuardDuty findings and AWS Health events into `findings` rows.

Every shape is first reduced to `(source_file, position, ord, obj JSON)`. GuardDuty spells its
keys in camelCase in EventBridge events and S3 exports, and in PascalCase in the output of
`aws guardduty get-findings`; each path is read both ways. Health events become one row per
affected entity (the exposed access key of AWS_RISK_CREDENTIALS_EXPOSED). All SQL here is built
from constants; file lists are bound as `$files`.
"""

from __future__ import annotations

_RFC1123 = "%a, %d %b %Y %H:%M:%S GMT"  # Health's startTime in EventBridge: 'Sat, 05 Jun 2016 ...'


def _pascal(path: str) -> str:
    return ".".join(p[:1].upper() + p[1:] for p in path.split("."))


def g(path: str, doc: str = "d") -> str:
    """A text value of the finding at a dotted camelCase path, in either spelling."""
    return (
        f"coalesce(json_extract_string({doc}, '$.{path}'), json_extract_string({doc}, '$.{_pascal(path)}'))"
    )


def _time(expr: str) -> str:
    return f"coalesce(TRY_CAST({expr} AS TIMESTAMPTZ), try_strptime({expr}, '{_RFC1123}')::TIMESTAMPTZ)"


_ACTIONS = (
    "awsApiCallAction.remoteIpDetails",
    "networkConnectionAction.remoteIpDetails",
    "kubernetesApiCallAction.remoteIpDetails",
    "rdsLoginAttemptAction.remoteIpDetails",
    "portProbeAction.portProbeDetails[0].remoteIpDetails",
)
_REMOTE_IP = (
    "coalesce("
    + ", ".join(g(f"service.action.{a}.{v}") for a in _ACTIONS for v in ("ipAddressV4", "ipAddressV6"))
    + ")"
)

# src(source_file, position, ord, obj) for each shape
SOURCES = {
    # aws guardduty get-findings: {"Findings": [...]}
    "doc": """
        SELECT filename AS source_file, 'finding ' || (i + 1) AS position, ordinality * 100000 + i AS ord,
               f AS obj
        FROM (SELECT filename, ordinality, unnest(Findings) AS f, unnest(range(len(Findings))) AS i
              FROM read_json($files, columns = {'Findings': 'JSON[]'}, records = true,
                             format = $layout, filename = true, maximum_object_size = $max_object)
                   WITH ORDINALITY)""",
    # one finding or event per line, a bare array, or pretty-printed objects one after another
    "objects": """
        SELECT filename AS source_file,
               'record ' || (ordinality - min(ordinality) OVER (PARTITION BY filename) + 1) AS position,
               ordinality AS ord, json AS obj
        FROM read_json_objects($files, format = $layout, filename = true,
                               maximum_object_size = $max_object) WITH ORDINALITY""",
}


def stage_sql(src_sql: str) -> str:
    """Flatten `src` into findings columns plus `reason` (NULL when the record is usable)."""
    key_type = g("resource.accessKeyDetails.userType")
    user = g("resource.accessKeyDetails.userName")
    principal_id = g("resource.accessKeyDetails.principalId")
    arn_base = f"'arn:' || coalesce({g('partition')}, 'aws') || ':'"
    account = g("accountId")
    principal_arn = f"""CASE {key_type}
            WHEN 'IAMUser' THEN {arn_base} || 'iam::' || {account} || ':user/' || {user}
            WHEN 'Root' THEN {arn_base} || 'iam::' || {account} || ':root'
            WHEN 'AssumedRole' THEN {arn_base} || 'sts::' || {account} || ':assumed-role/'
                 || {user} || '/' || nullif(split_part({principal_id}, ':', 2), '')
        END"""
    return f"""
WITH src AS ({src_sql}),
cls AS (
    SELECT source_file, position, ord, obj,
           CASE WHEN json_type(obj) <> 'OBJECT' THEN NULL
                WHEN obj->>'detail-type' = 'AWS Health Event'
                  OR (obj->>'source' = 'aws.health' AND (obj->'detail'->'eventTypeCode') IS NOT NULL)
                     THEN 'health'
                WHEN obj->>'detail-type' = 'GuardDuty Finding' THEN 'guardduty'
                WHEN (obj->'detail') IS NOT NULL THEN NULL  -- another EventBridge event
                WHEN coalesce(obj->>'type', obj->>'Type') IS NOT NULL
                 AND coalesce(obj->>'id', obj->>'Id') IS NOT NULL
                 AND coalesce(obj->'resource', obj->'Resource', obj->'service', obj->'Service')
                     IS NOT NULL THEN 'guardduty' END AS kind,
           CASE WHEN (obj->'detail') IS NOT NULL AND (obj->'detail-type') IS NOT NULL
                THEN obj->'detail' ELSE obj END AS d
    FROM src
),
guardduty AS (
    SELECT source_file, position, ord, obj,
        {g("id")} AS finding_id, 'guardduty' AS source, {g("type")} AS type, {g("title")} AS title,
        TRY_CAST({g("severity")} AS DOUBLE) AS severity,
        coalesce({_time(g("service.eventFirstSeen"))}, {_time(g("createdAt"))}) AS first_seen,
        coalesce({_time(g("service.eventLastSeen"))}, {_time(g("updatedAt"))}) AS last_seen,
        {account} AS account_id, {g("region")} AS region,
        {g("resource.resourceType")} AS resource_type,
        {g("resource.accessKeyDetails.accessKeyId")} AS access_key_id,
        {principal_arn} AS principal_arn,
        coalesce({g("resource.instanceDetails.instanceId")},
                 nullif(regexp_extract({principal_id}, ':(i-[0-9A-Fa-f]+)$', 1), '')) AS instance_id,
        {_REMOTE_IP} AS remote_ip,
        coalesce({_time(g("updatedAt"))}, {_time(g("createdAt"))}) AS updated_at
    FROM cls WHERE kind = 'guardduty'
),
health_entities AS (
    SELECT *, unnest(CASE WHEN len(entities) = 0 THEN [NULL] ELSE entities END) AS entity,
           len(entities) AS n_entities
    FROM (SELECT *, coalesce(json_extract_string(d, '$.affectedEntities[*].entityValue'), [])
                    AS entities
          FROM cls WHERE kind = 'health')
),
health AS (
    SELECT source_file, position, ord, obj,
        d->>'eventArn' || CASE WHEN n_entities > 1 THEN '#' || entity ELSE '' END AS finding_id,
        'health' AS source, d->>'eventTypeCode' AS type,
        'AWS Health: ' || coalesce(d->>'eventTypeCode', 'event') AS title,
        CASE WHEN d->>'eventTypeCode' LIKE 'AWS\\_RISK\\_%' ESCAPE '\\' THEN 8.0 END AS severity,
        coalesce({_time("d->>'startTime'")}, {_time("obj->>'time'")}) AS first_seen,
        coalesce({_time("d->>'lastUpdatedTime'")}, {_time("d->>'endTime'")},
                 {_time("obj->>'time'")}, {_time("d->>'startTime'")}) AS last_seen,
        coalesce(obj->>'account', d->>'affectedAccount') AS account_id,
        coalesce(d->>'eventRegion', obj->>'region') AS region,
        CASE WHEN regexp_full_match(entity, '(AKIA|ASIA)[A-Z0-9]{{12,}}') THEN 'AccessKey'
             ELSE d->>'service' END AS resource_type,
        CASE WHEN regexp_full_match(entity, '(AKIA|ASIA)[A-Z0-9]{{12,}}') THEN entity END
            AS access_key_id,
        NULL AS principal_arn,
        CASE WHEN regexp_full_match(entity, 'i-[0-9a-fA-F]+') THEN entity END AS instance_id,
        NULL AS remote_ip,
        coalesce({_time("d->>'lastUpdatedTime'")}, {_time("obj->>'time'")},
                 {_time("d->>'startTime'")}) AS updated_at
    FROM health_entities
),
unknown AS (
    SELECT source_file, position, ord, obj, NULL AS finding_id, NULL AS source, NULL AS type,
           NULL AS title, NULL::DOUBLE AS severity, NULL::TIMESTAMPTZ AS first_seen,
           NULL::TIMESTAMPTZ AS last_seen, NULL AS account_id, NULL AS region,
           NULL AS resource_type, NULL AS access_key_id, NULL AS principal_arn,
           NULL AS instance_id, NULL AS remote_ip, NULL::TIMESTAMPTZ AS updated_at
    FROM cls WHERE kind IS NULL
),
flat AS (
    SELECT * FROM guardduty UNION ALL BY NAME
    SELECT * FROM health UNION ALL BY NAME
    SELECT * FROM unknown
)
SELECT finding_id, source, type, title, severity, first_seen, last_seen, account_id, region,
       resource_type, access_key_id, principal_arn, instance_id, remote_ip, obj AS raw,
       source_file, updated_at, position, ord,
       CASE WHEN source IS NULL THEN
                'not a GuardDuty finding or an EventBridge GuardDuty/Health event'
                || coalesce(' (detail-type ' || (obj->>'detail-type') || ')', '')
            WHEN finding_id IS NULL THEN 'finding without an id (' ||
                CASE source WHEN 'health' THEN 'detail.eventArn' ELSE 'id' END || ')'
            WHEN first_seen IS NULL THEN 'finding without a parseable time'
       END AS reason
FROM flat"""


COLUMNS = (
    "finding_id", "source", "type", "title", "severity", "first_seen", "last_seen", "account_id",
    "region", "resource_type", "access_key_id", "principal_arn", "instance_id", "remote_ip",
    "raw", "source_file", "updated_at",
)  # fmt: skip
