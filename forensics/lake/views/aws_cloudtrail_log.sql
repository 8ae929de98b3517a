-- `cloudtrail` from Turbot Tailpipe's `aws_cloudtrail_log` (tailpipe-plugin-aws, snapshot
-- 2025-07; shapes-and-lakes.md §7), a DuckDB table. Input: a relation named aws_cloudtrail_log
-- with Tailpipe's columns (event_time a UTC TIMESTAMP, read_only and management_event BOOLEAN,
-- payloads JSON, user_identity a STRUCT with snake_case fields). Output: the case's `cloudtrail`
-- columns, derived as the loader derives them, with the vocabulary's definitions. Not supplied
-- (NULL, named in record_flags): the record itself, and the file and position it came from
-- (Tailpipe's tp_source_location is not documented as the file: not used).
CREATE OR REPLACE TEMP VIEW cloudtrail AS
SELECT
    timezone('UTC', event_time)                                      AS event_time,
    event_id,
    event_name,
    event_source,
    aws_region,
    source_ip_address                                                AS source_ip,
    view_is_ip(source_ip_address)                                    AS source_is_ip,
    user_agent,
    user_identity.type                                               AS principal_type,
    nullif(user_identity.arn, '')                                    AS principal_arn,
    user_identity.principal_id                                       AS principal_id,
    view_account(user_identity.account_id)                           AS account_id,
    coalesce(user_identity.user_name,
             user_identity.session_context.session_issuer.user_name) AS user_name,
    nullif(user_identity.access_key_id, '')                          AS access_key_id,
    user_identity.session_context.session_issuer.arn                 AS session_issuer_arn,
    user_identity.session_context.session_issuer.type                AS session_issuer_type,
    nullif(regexp_extract(user_identity.arn, ':assumed-role/[^/]+/(.+)$', 1), '') AS session_name,
    lower(CAST(user_identity.session_context.attributes.mfa_authenticated AS VARCHAR)) = 'true'
        OR lower(json_extract_string(additional_event_data, '$.MFAUsed')) = 'yes' AS mfa_authenticated,
    user_identity.session_context.ec2_role_delivery                  AS ec2_role_delivery,
    user_identity.invoked_by                                         AS invoked_by,
    nullif(error_code, '')                                           AS error_code,
    nullif(error_message, '')                                        AS error_message,
    outcome_of(nullif(error_code, ''), nullif(error_message, ''))    AS outcome,
    read_only_of(read_only, event_name)                              AS read_only,
    management_event,
    event_type,
    coalesce(event_category,
             CASE WHEN event_type = 'AwsCloudTrailInsight' THEN 'Insight'
                  ELSE 'Management' END)                             AS event_category,
    event_version,
    view_account(recipient_account_id)                               AS recipient_account_id,
    shared_event_id,
    vpc_endpoint_id,
    request_id,
    view_instance_ids(event_source, event_name, request_parameters, response_elements) AS instance_ids,
    CASE WHEN event_source = 'ec2.amazonaws.com'
         THEN json_extract_string(request_parameters, '$.instanceType') END AS instance_type,
    CASE WHEN event_source = 'iam.amazonaws.com'
         THEN json_extract_string(request_parameters, '$.userName') END AS target_user_name,
    CASE WHEN event_source = 'iam.amazonaws.com'
         THEN json_extract_string(request_parameters, '$.policyArn') END AS policy_arn,
    CASE WHEN event_name = 'CreateAccessKey'
         THEN json_extract_string(response_elements, '$.accessKey.accessKeyId') END
                                                                     AS created_access_key_id,
    view_json(request_parameters)                                    AS request_parameters,
    view_json(response_elements)                                     AS response_elements,
    view_json(CAST(NULL AS VARCHAR))                                 AS raw,
    CASE WHEN event_time IS NOT NULL THEN 'eventTime' END            AS time_source,
    CAST(NULL AS VARCHAR)                                            AS source_file,
    CAST(NULL AS VARCHAR)                                            AS source_position,
    CAST(NULL AS BIGINT)                                             AS load_id,
    list_filter([CASE WHEN read_only IS NULL THEN 'read_only derived' END,
                 view_time_flag(timezone('UTC', event_time)),
                 'no raw record', 'no source file'],
                lambda f: f IS NOT NULL)                             AS record_flags,
    'trail'                                                          AS delivery,
    view_json(CAST(NULL AS VARCHAR))                                 AS envelope
FROM aws_cloudtrail_log;
