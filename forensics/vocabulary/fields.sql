-- The columns the loader derives from a CloudTrail record's own fields (forensics/ingest/
-- cloudtrail_sql.py), written once: the loader's projection and the views onto other tools'
-- CloudTrail tables (forensics/lake/views: AWS's Athena table, Tailpipe's) call these, so a case
-- loaded from files and a view over a lake give every column the same meaning. Arguments are the
-- record's fields as text or JSON (the payloads may be JSON text: json_extract_string reads both).

-- source_is_ip: the address is an IPv4 or IPv6 address, not a service name ('ec2.amazonaws.com'),
-- 'AWS Internal' or a redaction.
CREATE OR REPLACE TEMP MACRO is_ip_address(s) AS
    regexp_matches(s, '^[0-9]{1,3}([.][0-9]{1,3}){3}$')
        OR (strpos(s, ':') > 0 AND regexp_matches(s, '^[0-9A-Fa-f:.]+$'));

-- session_name: the role session an assumed-role ARN names (NULL for other principals).
CREATE OR REPLACE TEMP MACRO session_name_of(arn) AS
    nullif(regexp_extract(arn, ':assumed-role/[^/]+/(.+)$', 1), '');

-- mfa_authenticated: the session says MFA was used, or the console sign-in did
-- (sessionContext.attributes.mfaAuthenticated 'true', additionalEventData.MFAUsed 'Yes').
CREATE OR REPLACE TEMP MACRO mfa_of(mfa_authenticated, mfa_used) AS
    lower(CAST(mfa_authenticated AS VARCHAR)) = 'true' OR lower(mfa_used) = 'yes';

-- event_category as recorded; records from before the field existed are Management events,
-- unless they are Insights.
CREATE OR REPLACE TEMP MACRO event_category_of(event_category, event_type) AS
    coalesce(event_category,
             CASE WHEN event_type = 'AwsCloudTrailInsight' THEN 'Insight' ELSE 'Management' END);

-- DESIGN.md, record_flags: a time before CloudTrail existed or more than a day in the future.
CREATE OR REPLACE TEMP MACRO time_flag_of(t) AS
    CASE WHEN t < TIMESTAMPTZ '2013-11-01 00:00:00+00' OR t > current_timestamp + INTERVAL 1 DAY
         THEN 'time implausible' END;

-- A list, or NULL when it is empty.
CREATE OR REPLACE TEMP MACRO nonempty_list(l) AS CASE WHEN array_length(l) > 0 THEN l END;
-- The instances an EC2 call's request or response names: instancesSet items (a list, or a lone
-- item as AWS's XML renders one), a lone instanceId, and CreateFleet's nested
-- fleetInstanceSet...instanceIds at any depth; NULL when none (or not EC2).
CREATE OR REPLACE TEMP MACRO instance_ids_of(event_source, event_name, request_parameters, response_elements) AS
    CASE WHEN event_source = 'ec2.amazonaws.com' THEN nonempty_list(array_distinct(list_filter(flatten([
        list_transform(json_items(json_extract(response_elements, '$.instancesSet.items')),
                       lambda i: json_extract_string(i, '$.instanceId')),
        list_transform(json_items(json_extract(request_parameters, '$.instancesSet.items')),
                       lambda i: json_extract_string(i, '$.instanceId')),
        [json_extract_string(request_parameters, '$.instanceId')],
        CASE WHEN event_name = 'CreateFleet'
             THEN regexp_extract_all(CAST(response_elements AS VARCHAR), '"(i-[0-9a-f]{8,17})"', 1)
             ELSE CAST([] AS VARCHAR[]) END]), lambda i: i IS NOT NULL))) END;

-- A field of the request of a call to one service (NULL for other services' calls).
CREATE OR REPLACE TEMP MACRO request_field_of(event_source, service, request_parameters, path) AS
    CASE WHEN event_source = service THEN json_extract_string(request_parameters, path) END;

-- instance_type: the type an EC2 call asks for (RunInstances, ModifyInstanceAttribute, ...).
CREATE OR REPLACE TEMP MACRO instance_type_of(event_source, request_parameters) AS
    request_field_of(event_source, 'ec2.amazonaws.com', request_parameters, '$.instanceType');

-- target_user_name: the IAM user an IAM call acts on (CreateUser, CreateAccessKey, ...).
CREATE OR REPLACE TEMP MACRO target_user_name_of(event_source, request_parameters) AS
    request_field_of(event_source, 'iam.amazonaws.com', request_parameters, '$.userName');

-- policy_arn: the managed policy an IAM call attaches or detaches.
CREATE OR REPLACE TEMP MACRO policy_arn_of(event_source, request_parameters) AS
    request_field_of(event_source, 'iam.amazonaws.com', request_parameters, '$.policyArn');

-- created_access_key_id: the key CreateAccessKey answered with.
CREATE OR REPLACE TEMP MACRO created_access_key_of(event_name, response_elements) AS
    CASE WHEN event_name = 'CreateAccessKey'
         THEN json_extract_string(response_elements, '$.accessKey.accessKeyId') END;
