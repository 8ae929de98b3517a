-- `vpc_flows` from AWS's documented Athena table `vpc_flow_logs` (docs.aws.amazon.com/athena/
-- latest/ug/vpc-flow-logs-create-table-statement.html; shapes-and-lakes.md §6.4): the v2-v5
-- columns `version int, account_id string, ..., start bigint, "end" bigint, ..., traffic_path
-- int`, over text (ROW FORMAT DELIMITED, '-' left as text in a string column, NULL in a number
-- column) or Parquet (vpc-flow-logs-parquet.html, the same columns). Partitions (`date`, or
-- accid/region/day, or aws-account-id/.../hour) are not read: `region` is the column, which a
-- projection table holds as a partition of the same name.
-- Output: the case's `vpc_flows` columns, in the case's order, derived as the loader derives
-- them (forensics/ingest/vpcflow_sql.py: '-' is NULL, start/end Unix seconds to a time through
-- the loader's own expression, record_flags by the loader's own FLOW_FLAGS_SQL). What the table
-- cannot supply is NULL and named in record_flags: the file and line (and so the account or
-- region the loader takes from an S3 path when the record lacks them), the ECS fields and
-- reject-reason (v7, v8; not in AWS's DDL), fields of other formats (`extra`).
CREATE OR REPLACE TEMP VIEW vpc_flows AS
SELECT
    CAST(version AS INTEGER)                       AS version,
    view_dash(account_id)                          AS account_id,
    view_dash(interface_id)                        AS interface_id,
    view_dash(srcaddr)                             AS src_addr,
    view_dash(dstaddr)                             AS dst_addr,
    CAST(srcport AS INTEGER)                       AS src_port,
    CAST(dstport AS INTEGER)                       AS dst_port,
    CAST(protocol AS INTEGER)                      AS protocol,
    CAST(packets AS BIGINT)                        AS packets,
    CAST(bytes AS BIGINT)                          AS bytes,
    view_flow_time(start)                          AS start_time,
    view_flow_time("end")                          AS end_time,
    view_dash(action)                              AS action,
    view_dash(log_status)                          AS log_status,
    view_dash(vpc_id)                              AS vpc_id,
    view_dash(subnet_id)                           AS subnet_id,
    view_dash(instance_id)                         AS instance_id,
    CAST(tcp_flags AS INTEGER)                     AS tcp_flags,
    view_dash(type)                                AS type,
    view_dash(pkt_srcaddr)                         AS pkt_src_addr,
    view_dash(pkt_dstaddr)                         AS pkt_dst_addr,
    view_dash(region)                              AS region,
    view_dash(az_id)                               AS az_id,
    view_dash(sublocation_type)                    AS sublocation_type,
    view_dash(sublocation_id)                      AS sublocation_id,
    view_dash(pkt_src_aws_service)                 AS pkt_src_aws_service,
    view_dash(pkt_dst_aws_service)                 AS pkt_dst_aws_service,
    view_dash(flow_direction)                      AS flow_direction,
    CAST(traffic_path AS INTEGER)                  AS traffic_path,
    CAST(NULL AS VARCHAR)                          AS ecs_cluster_arn,
    CAST(NULL AS VARCHAR)                          AS ecs_cluster_name,
    CAST(NULL AS VARCHAR)                          AS ecs_container_instance_arn,
    CAST(NULL AS VARCHAR)                          AS ecs_container_instance_id,
    CAST(NULL AS VARCHAR)                          AS ecs_container_id,
    CAST(NULL AS VARCHAR)                          AS ecs_second_container_id,
    CAST(NULL AS VARCHAR)                          AS ecs_service_name,
    CAST(NULL AS VARCHAR)                          AS ecs_task_definition_arn,
    CAST(NULL AS VARCHAR)                          AS ecs_task_arn,
    CAST(NULL AS VARCHAR)                          AS ecs_task_id,
    CAST(NULL AS VARCHAR)                          AS reject_reason,
    view_json(CAST(NULL AS VARCHAR))               AS extra,
    CAST(NULL AS VARCHAR)                          AS source_file,
    CAST(NULL AS VARCHAR)                          AS source_position,
    list_concat(view_flow_flags(view_flow_time(start), view_flow_time("end"),
                                view_json(CAST(NULL AS VARCHAR))),
                ['no source file', 'ecs fields and reject_reason not in source']) AS record_flags
FROM vpc_flow_logs;
