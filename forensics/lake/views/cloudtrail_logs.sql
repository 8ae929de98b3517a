-- `cloudtrail` from AWS's documented Athena table `cloudtrail_logs` (CloudTrail SerDe /
-- CloudTrailInputFormat; docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html;
-- shapes-and-lakes.md §6.1). Input: a relation named `cloudtrail_logs` with AWS's columns
-- (eventtime, useridentity STRUCT<..>, requestparameters as JSON text, readonly as 'true'/'false'
-- text, ...). Output: the case's `cloudtrail` columns, in the case's order, derived as the
-- loader derives them (forensics/ingest/cloudtrail_sql.py), with the vocabulary's definitions
-- (fields.sql, shared with the loader; outcome_of, read_only_of). What the table cannot supply
-- is NULL and named in record_flags:
-- the record itself (raw), the file and position it came from, managementEvent (not in the DDL).
-- The whole trail (every account, region, day of its partitions) is read: filter the view.
CREATE OR REPLACE TEMP VIEW cloudtrail AS
SELECT
    view_iso_time(eventtime)                                         AS event_time,
    eventid                                                          AS event_id,
    eventname                                                        AS event_name,
    eventsource                                                      AS event_source,
    awsregion                                                        AS aws_region,
    sourceipaddress                                                  AS source_ip,
    is_ip_address(sourceipaddress)                                   AS source_is_ip,
    useragent                                                        AS user_agent,
    useridentity.type                                                AS principal_type,
    nullif(useridentity.arn, '')                                     AS principal_arn,
    useridentity.principalid                                         AS principal_id,
    view_account(useridentity.accountid)                             AS account_id,
    coalesce(useridentity.username,
             useridentity.sessioncontext.sessionissuer.username)     AS user_name,
    nullif(useridentity.accesskeyid, '')                             AS access_key_id,
    useridentity.sessioncontext.sessionissuer.arn                    AS session_issuer_arn,
    useridentity.sessioncontext.sessionissuer.type                   AS session_issuer_type,
    session_name_of(useridentity.arn)                                AS session_name,
    mfa_of(useridentity.sessioncontext.attributes.mfaauthenticated,
           json_extract_string(additionaleventdata, '$.MFAUsed'))         AS mfa_authenticated,
    useridentity.sessioncontext.ec2roledelivery                      AS ec2_role_delivery,
    useridentity.invokedby                                           AS invoked_by,
    nullif(errorcode, '')                                            AS error_code,
    nullif(errormessage, '')                                         AS error_message,
    outcome_of(nullif(errorcode, ''), nullif(errormessage, ''))      AS outcome,
    read_only_of(readonly, eventname)                                AS read_only,
    CAST(NULL AS BOOLEAN)                                            AS management_event,
    eventtype                                                        AS event_type,
    event_category_of(eventcategory, eventtype)                      AS event_category,
    eventversion                                                     AS event_version,
    view_account(recipientaccountid)                                 AS recipient_account_id,
    sharedeventid                                                    AS shared_event_id,
    vpcendpointid                                                    AS vpc_endpoint_id,
    requestid                                                        AS request_id,
    instance_ids_of(eventsource, eventname, requestparameters, responseelements) AS instance_ids,
    instance_type_of(eventsource, requestparameters) AS instance_type,
    target_user_name_of(eventsource, requestparameters) AS target_user_name,
    policy_arn_of(eventsource, requestparameters) AS policy_arn,
    created_access_key_of(eventname, responseelements) AS created_access_key_id,
    view_json(requestparameters)                                     AS request_parameters,
    view_json(responseelements)                                      AS response_elements,
    view_json(CAST(NULL AS VARCHAR))                                 AS raw,
    CASE WHEN eventtime IS NOT NULL THEN 'eventTime' END             AS time_source,
    CAST(NULL AS VARCHAR)                                            AS source_file,
    CAST(NULL AS VARCHAR)                                            AS source_position,
    CAST(NULL AS BIGINT)                                             AS load_id,
    list_filter([CASE WHEN readonly IS NULL THEN 'read_only derived' END,
                 time_flag_of(view_iso_time(eventtime)),
                 'no raw record', 'no source file', 'management_event not in source'],
                lambda f: f IS NOT NULL)                             AS record_flags,
    'trail'                                                          AS delivery,
    view_json(CAST(NULL AS VARCHAR))                                 AS envelope
FROM cloudtrail_logs;
