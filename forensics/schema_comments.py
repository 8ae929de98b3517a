"""What every table and column of the case means: the `COMMENT ON` text each case file carries,
and the Markdown of docs/case-schema.md read back from it (kept apart from the DDL in schema.py)."""

from __future__ import annotations

import duckdb

# -- what every table and column means (COMMENT ON: duckdb_columns() and any DuckDB UI explain the
# case; docs/case-schema.md is generated from these). A column added to TABLES needs its line here
# (tests/test_case_schema.py fails otherwise).
_PROVENANCE = {
    "source_file": "Path of the evidence file the row came from (see sources.path).",
    "source_position": "Where in that file: 'line N', 'record N', 'line N record M' or 'event N'.",
}
COMMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "cloudtrail": (
        "One row per CloudTrail event, deduplicated on (event_id, recipient_account_id); the most "
        "complete copy is kept (trail file, then LookupEvents, then forwarded copies) and the record "
        "itself is kept whole in `raw`.",
        {
            "event_time": "eventTime, UTC.",
            "event_id": "eventID (unique per recipient account).",
            "event_name": "The API call or event (eventName), e.g. RunInstances.",
            "event_source": "The service endpoint (eventSource), e.g. ec2.amazonaws.com.",
            "aws_region": "awsRegion the call was made in.",
            "source_ip": "sourceIPAddress as written: an address, a service name, 'AWS Internal', IPv6 "
            "or malformed text.",
            "source_is_ip": "True when source_ip is an IPv4 or IPv6 address.",
            "user_agent": "userAgent as written.",
            "principal_type": "userIdentity.type: IAMUser, AssumedRole, Root, AWSService, AWSAccount, "
            "FederatedUser, IdentityCenterUser, ...",
            "principal_arn": "userIdentity.arn: who made the call.",
            "principal_id": "userIdentity.principalId.",
            "account_id": "userIdentity.accountId: the caller's account.",
            "user_name": "userIdentity.userName (IAM users, root).",
            "access_key_id": "userIdentity.accessKeyId: AKIA... long-term or ASIA... temporary key.",
            "session_issuer_arn": "The role or user that issued the session "
            "(sessionContext.sessionIssuer.arn).",
            "session_issuer_type": "sessionContext.sessionIssuer.type (Role, IAMUser, ...).",
            "session_name": "The assumed-role session name (an instance id for instance credentials).",
            "mfa_authenticated": "sessionContext.attributes.mfaAuthenticated.",
            "ec2_role_delivery": "sessionContext.ec2RoleDelivery: '1.0' (IMDSv1) or '2.0' (IMDSv2) for "
            "instance credentials.",
            "invoked_by": "userIdentity.invokedBy: the AWS service that made the call for the principal "
            "(NULL for direct calls; such events are never dropped).",
            "error_code": "errorCode (NULL when the call succeeded).",
            "error_message": "errorMessage.",
            "outcome": "success | denied | dry_run | failed, derived from errorCode (DESIGN.md).",
            "read_only": "readOnly; never NULL: derived from the event name when the record has none "
            "(record_flags says so).",
            "management_event": "managementEvent.",
            "event_type": "eventType: AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, ...",
            "event_category": "eventCategory: Management, Data, NetworkActivity or Insight.",
            "event_version": "eventVersion of the record format.",
            "recipient_account_id": "recipientAccountId: the account whose trail received the event.",
            "shared_event_id": "sharedEventID: the same event as seen by another account.",
            "vpc_endpoint_id": "vpcEndpointId when the call came through a VPC endpoint.",
            "request_id": "requestID.",
            "instance_ids": "Instances the call named (Run/Terminate/Stop/Start... request or response).",
            "instance_type": "requestParameters.instanceType of a launch.",
            "target_user_name": "requestParameters.userName of an IAM call on a user.",
            "policy_arn": "requestParameters.policyArn of a policy attach or detach.",
            "created_access_key_id": "The access key a CreateAccessKey returned.",
            "request_parameters": "requestParameters as JSON.",
            "response_elements": "responseElements as JSON.",
            "raw": "The whole record as JSON, lossless (Case.record gives it back).",
            "time_source": "Where event_time came from: eventTime, or the field used instead "
            "(e.g. @timestamp of a SIEM export).",
            **_PROVENANCE,
            "load_id": "Which load wrote the row (for reconciling a load report).",
            "record_flags": "Caveats on the row: 'read_only derived', 'time implausible' (before 2013-11 "
            "or after delivery), 'filled from an envelope', ...",
            "delivery": "How the kept copy came: trail | lookup | eventbridge | export | siem.",
            "envelope": "An EventBridge-forwarded copy's envelope (without detail), else NULL.",
        },
    ),
    "cloudtrail_copies": (
        "Every copy of a CloudTrail event that is not the one kept in `cloudtrail` (forwarded, "
        "looked up or exported twice): the duplicates' provenance.",
        {
            "event_id": "The event's eventID (joins cloudtrail.event_id).",
            "recipient_account_id": "The receiving account (joins cloudtrail.recipient_account_id).",
            "delivery": "How this copy came (see cloudtrail.delivery).",
            "source_file": "Path of the evidence file this copy was in.",
            "source_position": "Where in that file.",
            "envelope_id": "The EventBridge event id of a forwarded copy.",
            "replaced": "True when this copy was kept until a more complete one came.",
            "recorded_at": "When the copy was recorded.",
        },
    ),
    "vpc_flows": (
        "One row per VPC (or Transit Gateway) flow log record, every field of the file's format; "
        "fields a version lacks are NULL.",
        {
            "version": "Flow log format version (2 to 5, or the custom format's).",
            "account_id": "The account owning the interface.",
            "interface_id": "The network interface (eni-...).",
            "src_addr": "Source address of the traffic (the interface's side or the peer's).",
            "dst_addr": "Destination address.",
            "src_port": "Source port.",
            "dst_port": "Destination port.",
            "protocol": "IANA protocol number (6 TCP, 17 UDP, 1 ICMP).",
            "packets": "Packets in the aggregation window.",
            "bytes": "Bytes in the aggregation window.",
            "start_time": "Start of the aggregation window, UTC.",
            "end_time": "End of the aggregation window, UTC.",
            "action": "ACCEPT or REJECT.",
            "log_status": "OK, NODATA or SKIPDATA (records lost: a coverage gap).",
            "vpc_id": "The VPC.",
            "subnet_id": "The subnet.",
            "instance_id": "The instance owning the interface (version 3+; NULL in version 2: the "
            "vocabulary's instance_interface maps interfaces to instances).",
            "tcp_flags": "OR of the TCP flags seen (SYN 2, FIN 1, RST 4, ...).",
            "type": "IPv4, IPv6 or EFA.",
            "pkt_src_addr": "Packet-level source address (behind NAT or a load balancer).",
            "pkt_dst_addr": "Packet-level destination address.",
            "region": "The interface's region.",
            "az_id": "The availability zone id.",
            "sublocation_type": "wavelength, outpost or localzone.",
            "sublocation_id": "The sublocation's id.",
            "pkt_src_aws_service": "AWS service of the packet source address (S3, EC2, ...).",
            "pkt_dst_aws_service": "AWS service of the packet destination address.",
            "flow_direction": "ingress or egress, relative to the interface.",
            "traffic_path": "How egress traffic left (1 same VPC ... 8 through a gateway).",
            "ecs_cluster_arn": "ECS: the cluster's ARN.",
            "ecs_cluster_name": "ECS: the cluster's name.",
            "ecs_container_instance_arn": "ECS: the container instance's ARN.",
            "ecs_container_instance_id": "ECS: the container instance's id.",
            "ecs_container_id": "ECS: the container's id.",
            "ecs_second_container_id": "ECS: a second container's id.",
            "ecs_service_name": "ECS: the service's name.",
            "ecs_task_definition_arn": "ECS: the task definition's ARN.",
            "ecs_task_arn": "ECS: the task's ARN.",
            "ecs_task_id": "ECS: the task's id.",
            "reject_reason": "Why traffic was rejected (e.g. BPA).",
            "extra": "Fields of other formats (Transit Gateway, newer versions) and export time, as JSON.",
            "record_flags": "Caveats on the row: 'time implausible' (before 2013-11 or over a day "
            "ahead: kept, never drives a span), 'lossy from OCSF' (read from Security Lake).",
            **_PROVENANCE,
        },
    ),
    "billing": (
        "One row per billing line item, normalised across legacy CUR, CUR 2.0 and FOCUS; when two "
        "formats or deliveries cover the same account and period one is kept, so money is never "
        "counted twice.",
        {
            "usage_start": "Start of the usage the line charges for, UTC.",
            "usage_end": "End of that usage, UTC.",
            "billing_period": "The billing month, YYYY-MM.",
            "payer_account_id": "The paying (management) account.",
            "account_id": "The account that used the resource.",
            "service": "The service (product code), e.g. AmazonEC2.",
            "region": "The region of the usage (NULL for global services).",
            "usage_type": "The usage type, e.g. APS3-BoxUsage:g4dn.12xlarge.",
            "operation": "The operation, e.g. RunInstances.",
            "resource_id": "The resource charged (instance id, ARN, ...).",
            "usage_amount": "Usage quantity in the usage type's unit.",
            "cost": "Unblended cost (FOCUS BilledCost), in currency.",
            "currency": "The cost's currency.",
            "line_item_type": "Usage, Tax, Credit, Refund, Fee, ... (what the cost is).",
            "line_item_id": "The line item's id in the report, when it has one.",
            "instance_type": "The instance type of compute usage.",
            "description": "The line item's description.",
            "source_format": "cur_legacy_csv, cur_legacy_parquet, cur2 or focus.",
            "source_file": "Path of the report file the row came from.",
            "provider": "AWS; FOCUS ProviderName for other clouds.",
            "tags": "Resource tags as one JSON object.",
            "delivery": "The format and report version the row came in.",
            "delivered_at": "When that version was delivered (path time or file time).",
        },
    ),
    "findings": (
        "GuardDuty findings and AWS Health risk events (AWS_RISK_CREDENTIALS_EXPOSED and kin), the "
        "latest version of each.",
        {
            "finding_id": "The finding's or event's id.",
            "source": "guardduty or health.",
            "type": "The finding type, e.g. UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.",
            "title": "The finding's title.",
            "severity": "GuardDuty severity (1 to 10); NULL for Health.",
            "first_seen": "When the activity was first seen, UTC.",
            "last_seen": "When the activity was last seen, UTC.",
            "account_id": "The affected account.",
            "region": "The region of the finding.",
            "resource_type": "AccessKey, Instance, S3Bucket, ...",
            "access_key_id": "The access key involved.",
            "principal_arn": "The principal involved.",
            "instance_id": "The instance involved.",
            "remote_ip": "The remote address the finding names.",
            "raw": "The whole finding as JSON.",
            "source_file": "Path of the evidence file the finding came from.",
            "updated_at": "When the kept version was updated (the latest seen).",
        },
    ),
    "sources": (
        "One row per evidence file seen by a load: what it was, what became of it, and its hash "
        "(the chain of custody).",
        {
            "path": "The file's path as loaded.",
            "sha256": "SHA-256 of the file's bytes.",
            "bytes": "The file's size.",
            "format": "The detected format (cloudtrail-records, vpcflow-v2, cur2-parquet, ...).",
            "status": "loaded, partial, rejected, superseded, skipped-digest, skipped-manifest, "
            "skipped-not-evidence, skipped-already-loaded, ...",
            "records_read": "Records read from the file.",
            "records_loaded": "Records stored (read = loaded + duplicates + rejected).",
            "duplicates": "Records already in the case.",
            "rejected": "Records quarantined in rejects.",
            "detail": "Why the file was skipped, rejected or superseded, in one line.",
            "loaded_at": "When the load read it, UTC.",
            "integrity": "CloudTrail digest verdict for the file (valid, modified, missing, trailing-data, "
            "moved, unverified, key-not-found, signature-invalid, unreferenced, gap); NULL until "
            "`forensics verify --case` or a load of an acquired folder checks it.",
        },
    ),
    "rejects": (
        "What could not be parsed, with where it was and why: nothing is dropped silently.",
        {
            "source_file": "Path of the evidence file.",
            "position": "'line N', 'record N' or 'byte N'.",
            "reason": "Why it was rejected, in one line.",
            "excerpt": "The start of the rejected text.",
            "rejected_at": "When, UTC.",
        },
    ),
    "addresses": (
        "One row per distinct address in the case, judged once from offline data: queries join it, "
        "nothing looks addresses up row by row.",
        {
            "address": "The address as written in the evidence.",
            "normalised": "Its strict form; NULL when malformed (never read as octal).",
            "kind": "public, private, reserved or malformed.",
            "asn": "AS number (NULL when the dataset has none).",
            "asn_name": "The AS's name.",
            "asn_cidr": "The announced prefix containing the address.",
            "prefix": "The /24 (IPv4) or /48 (IPv6) around it.",
            "country": "Country code.",
            "is_private": "True when not public (the account's own networks).",
            "network": "The network the address belongs to, as DESIGN.md 'New network' compares them "
            "(vocabulary network_of).",
            "provider": "Cloud or hosting provider (vocabulary vocab_hosting_provider).",
            "anonymising": "VPN, proxy or bulletproof hosting.",
            "is_aws": "True for AWS's own ranges.",
            "dataset": "The offline data used and its date.",
        },
    ),
    "case_meta": (
        "Facts about the case file itself (schema version, what upgrades ran).",
        {"key": "The fact's name, e.g. schema_version.", "value": "Its value, as text."},
    ),
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def apply_comments(con: duckdb.DuckDBPyConnection) -> int:
    """COMMENT ON every table and column of COMMENTS whose comment differs (on create and on
    upgrade); returns how many were written."""
    have = {
        (t, c): comment
        for t, c, comment in con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }
    have.update(
        {
            (t, None): comment
            for t, comment in con.execute(
                "SELECT table_name, comment FROM duckdb_tables() "
                "WHERE database_name = current_database() AND schema_name = 'main'"
            ).fetchall()
        }
    )
    statements = []
    for table, (about, columns) in COMMENTS.items():
        if (table, None) in have and have[(table, None)] != about:
            statements.append(f"COMMENT ON TABLE {table} IS {_quote(about)}")
        for column, text in columns.items():
            if (table, column) in have and have[(table, column)] != text:
                statements.append(f"COMMENT ON COLUMN {table}.{column} IS {_quote(text)}")
    if statements:
        con.execute("; ".join(statements))
    return len(statements)


def schema_markdown(con: duckdb.DuckDBPyConnection) -> str:
    """The case schema as Markdown, read back from a case's own comments (docs/case-schema.md)."""
    tables = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name"
    ).fetchall()
    out = [
        "# The case schema",
        "",
        "Generated from the `COMMENT ON` text every case file carries (`forensics.schema.COMMENTS`);",
        "in any case, `SELECT table_name, column_name, data_type, comment FROM duckdb_columns()` shows",
        "the same. Regenerate with `python -m forensics.schema > docs/case-schema.md`.",
        "",
    ]
    for table, about in tables:
        out += [f"## `{table}`", "", about or "", "", "| column | type | meaning |", "|---|---|---|"]
        for column, data_type, comment in con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = "
            "current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall():
            text = (comment or "").replace("|", "\\|")
            out.append(f"| `{column}` | {data_type} | {text} |")
        out.append("")
    return "\n".join(out)
