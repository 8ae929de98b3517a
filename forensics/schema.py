"""The case file's tables. Their names and columns are an interface (see DESIGN.md)."""

from __future__ import annotations

import functools

import duckdb

SCHEMA_VERSION = 1

TABLES: dict[str, str] = {
    "cloudtrail": """
        CREATE TABLE IF NOT EXISTS cloudtrail (
            event_time            TIMESTAMPTZ,
            event_id              VARCHAR,
            event_name            VARCHAR,
            event_source          VARCHAR,
            aws_region            VARCHAR,
            source_ip             VARCHAR,   -- as written: IP, service name, 'AWS Internal', ...
            source_is_ip          BOOLEAN,   -- true when source_ip looks like an IPv4/IPv6 address
            user_agent            VARCHAR,
            principal_type        VARCHAR,
            principal_arn         VARCHAR,
            principal_id          VARCHAR,
            account_id            VARCHAR,
            user_name             VARCHAR,
            access_key_id         VARCHAR,
            session_issuer_arn    VARCHAR,
            session_issuer_type   VARCHAR,
            session_name          VARCHAR,
            mfa_authenticated     BOOLEAN,
            ec2_role_delivery     VARCHAR,
            invoked_by            VARCHAR,
            error_code            VARCHAR,
            error_message         VARCHAR,
            outcome               VARCHAR,   -- success | denied | dry_run | failed (DESIGN.md)
            read_only             BOOLEAN,   -- never NULL: derived from the name when unrecorded
            management_event      BOOLEAN,
            event_type            VARCHAR,
            event_category        VARCHAR,
            event_version         VARCHAR,
            recipient_account_id  VARCHAR,
            shared_event_id       VARCHAR,
            vpc_endpoint_id       VARCHAR,
            request_id            VARCHAR,
            instance_ids          VARCHAR[], -- instances named by Run/Terminate/Stop/Start... calls
            instance_type         VARCHAR,   -- requestParameters.instanceType
            target_user_name      VARCHAR,   -- requestParameters.userName (IAM calls on users)
            policy_arn            VARCHAR,   -- requestParameters.policyArn
            created_access_key_id VARCHAR,   -- the key a CreateAccessKey returned
            request_parameters    JSON,
            response_elements     JSON,
            raw                   JSON USING COMPRESSION zstd,  -- the whole record, lossless
            time_source           VARCHAR,   -- eventTime, or where the time came from (@timestamp)
            source_file           VARCHAR,
            source_position       VARCHAR,
            load_id               BIGINT,    -- which load batch wrote the row (for reconciling)
            record_flags          VARCHAR[], -- DESIGN.md: 'read_only derived', 'time implausible', ...
            delivery              VARCHAR,   -- trail | lookup | eventbridge | export | siem (the copy kept)
            envelope              JSON       -- an EventBridge copy's envelope (without detail), else NULL
        )""",
    # DESIGN.md Duplicates: every copy of a CloudTrail event that is not the one kept in `cloudtrail`
    "cloudtrail_copies": """
        CREATE TABLE IF NOT EXISTS cloudtrail_copies (
            event_id              VARCHAR,
            recipient_account_id  VARCHAR,
            delivery              VARCHAR,   -- how this copy came (see cloudtrail.delivery)
            source_file           VARCHAR,
            source_position       VARCHAR,
            envelope_id           VARCHAR,   -- the EventBridge event id of a forwarded copy
            replaced              BOOLEAN,   -- true: it was kept until a more complete copy came
            recorded_at           TIMESTAMPTZ
        )""",
    "vpc_flows": """
        CREATE TABLE IF NOT EXISTS vpc_flows (
            version               INTEGER,
            account_id            VARCHAR,
            interface_id          VARCHAR,
            src_addr              VARCHAR,
            dst_addr              VARCHAR,
            src_port              INTEGER,
            dst_port              INTEGER,
            protocol              INTEGER,
            packets               BIGINT,
            bytes                 BIGINT,
            start_time            TIMESTAMPTZ,
            end_time              TIMESTAMPTZ,
            action                VARCHAR,
            log_status            VARCHAR,
            vpc_id                VARCHAR,
            subnet_id             VARCHAR,
            instance_id           VARCHAR,
            tcp_flags             INTEGER,
            type                  VARCHAR,
            pkt_src_addr          VARCHAR,
            pkt_dst_addr          VARCHAR,
            region                VARCHAR,
            az_id                 VARCHAR,
            sublocation_type      VARCHAR,
            sublocation_id        VARCHAR,
            pkt_src_aws_service   VARCHAR,
            pkt_dst_aws_service   VARCHAR,
            flow_direction        VARCHAR,
            traffic_path          INTEGER,
            ecs_cluster_arn       VARCHAR,
            ecs_cluster_name      VARCHAR,
            ecs_container_instance_arn VARCHAR,
            ecs_container_instance_id  VARCHAR,
            ecs_container_id      VARCHAR,
            ecs_second_container_id VARCHAR,
            ecs_service_name      VARCHAR,
            ecs_task_definition_arn VARCHAR,
            ecs_task_arn          VARCHAR,
            ecs_task_id           VARCHAR,
            reject_reason         VARCHAR,
            extra                 JSON,      -- fields of other formats (TGW, new versions), export time
            source_file           VARCHAR,
            source_position       VARCHAR,
            record_flags          VARCHAR[]  -- DESIGN.md: 'time implausible', 'lossy from OCSF'
        )""",
    "billing": """
        CREATE TABLE IF NOT EXISTS billing (
            usage_start           TIMESTAMPTZ,
            usage_end             TIMESTAMPTZ,
            billing_period        VARCHAR,   -- YYYY-MM
            payer_account_id      VARCHAR,
            account_id            VARCHAR,
            service               VARCHAR,
            region                VARCHAR,
            usage_type            VARCHAR,
            operation             VARCHAR,
            resource_id           VARCHAR,
            usage_amount          DOUBLE,
            cost                  DOUBLE,    -- unblended cost (FOCUS: BilledCost)
            currency              VARCHAR,
            line_item_type        VARCHAR,
            line_item_id          VARCHAR,
            instance_type         VARCHAR,
            description           VARCHAR,
            source_format         VARCHAR,   -- cur_legacy_csv, cur_legacy_parquet, cur2, focus
            source_file           VARCHAR,
            provider              VARCHAR,   -- AWS; FOCUS ProviderName for other clouds
            tags                  JSON,      -- resource tags as one object
            delivery              VARCHAR,   -- format and report version the row came in
            delivered_at          TIMESTAMPTZ -- when that version was delivered (path time or mtime)
        )""",
    "findings": """
        CREATE TABLE IF NOT EXISTS findings (
            finding_id            VARCHAR,
            source                VARCHAR,   -- guardduty | health
            type                  VARCHAR,
            title                 VARCHAR,
            severity              DOUBLE,
            first_seen            TIMESTAMPTZ,
            last_seen             TIMESTAMPTZ,
            account_id            VARCHAR,
            region                VARCHAR,
            resource_type         VARCHAR,
            access_key_id         VARCHAR,
            principal_arn         VARCHAR,
            instance_id           VARCHAR,
            remote_ip             VARCHAR,
            raw                   JSON,
            source_file           VARCHAR,
            updated_at            TIMESTAMPTZ -- the finding version kept (the latest seen)
        )""",
    "sources": """
        CREATE TABLE IF NOT EXISTS sources (
            path                  VARCHAR,
            sha256                VARCHAR,
            bytes                 BIGINT,
            format                VARCHAR,
            status                VARCHAR,   -- loaded, skipped-*, superseded, rejected, partial
            records_read          BIGINT,
            records_loaded        BIGINT,
            duplicates            BIGINT,
            rejected              BIGINT,
            detail                VARCHAR,   -- why skipped/rejected/superseded, in one line
            loaded_at             TIMESTAMPTZ,
            integrity             VARCHAR    -- CloudTrail digest verdict (forensics.integrity), else NULL
        )""",
    "rejects": """
        CREATE TABLE IF NOT EXISTS rejects (
            source_file           VARCHAR,
            position              VARCHAR,   -- 'line N', 'record N' or 'byte N'
            reason                VARCHAR,
            excerpt               VARCHAR,
            rejected_at           TIMESTAMPTZ
        )""",
    "addresses": """
        CREATE TABLE IF NOT EXISTS addresses (
            address               VARCHAR PRIMARY KEY,  -- as written in the evidence
            normalised            VARCHAR,   -- strict form; NULL when malformed (never octal)
            kind                  VARCHAR,   -- public, private, reserved, malformed
            asn                   BIGINT,    -- AS number (NULL with geoip2fast, which has none)
            asn_name              VARCHAR,
            asn_cidr              VARCHAR,   -- the announced prefix
            prefix                VARCHAR,   -- the /24 or /48 (the network without ASN data)
            country               VARCHAR,
            is_private            BOOLEAN,   -- not public: its own network
            network               VARCHAR,   -- DESIGN.md New network (vocabulary network_of)
            provider              VARCHAR,   -- cloud or hosting provider (vocab_hosting_provider)
            anonymising           BOOLEAN,   -- VPN, proxy or bulletproof hosting
            is_aws                BOOLEAN,
            dataset               VARCHAR    -- the offline data and its date
        )""",
    "case_meta": """
        CREATE TABLE IF NOT EXISTS case_meta (
            key                   VARCHAR PRIMARY KEY,
            value                 VARCHAR
        )""",
}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table the case needs (idempotent)."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS load_id_seq")
    for ddl in TABLES.values():
        con.execute(ddl)
    con.execute("INSERT OR IGNORE INTO case_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    apply_comments(con)


# DESIGN.md record_flags of a flow record, from its own columns (the loader's insert and the
# upgrade of an older case use this one expression): a time before flow logs could exist or more
# than a day ahead, and a record read from Security Lake's OCSF.
FLOW_FLAGS_SQL = """list_filter([
    CASE WHEN start_time < TIMESTAMPTZ '2013-11-01 00:00:00+00'
              OR end_time < TIMESTAMPTZ '2013-11-01 00:00:00+00'
              OR start_time > now() + INTERVAL 1 DAY OR end_time > now() + INTERVAL 1 DAY
         THEN 'time implausible' END,
    CASE WHEN (extra -> '$.ocsf') IS NOT NULL THEN 'lossy from OCSF' END],
    lambda f: f IS NOT NULL)"""

# Columns added after cases were first written, each with how an older case gets it from what it
# already stores (engineering notes: an old case is upgraded on open, never refused). The
# vocabulary is installed before these run.
UPGRADES: dict[tuple[str, str], tuple[str, str]] = {
    ("cloudtrail", "record_flags"): (
        "VARCHAR[]",
        """UPDATE cloudtrail SET
               record_flags = list_filter([
                   CASE WHEN (raw -> '$.readOnly') IS NULL THEN 'read_only derived' END,
                   CASE WHEN event_time < TIMESTAMPTZ '2013-11-01 00:00:00+00'
                             OR event_time > now() + INTERVAL 1 DAY THEN 'time implausible' END],
                   lambda f: f IS NOT NULL),
               read_only = read_only_of(raw ->> '$.readOnly', event_name)""",
    ),
    ("cloudtrail", "delivery"): (
        "VARCHAR",
        """UPDATE cloudtrail SET delivery = CASE
               WHEN source_position LIKE 'event %' THEN 'lookup'
               WHEN (raw -> '$."@timestamp"') IS NOT NULL THEN 'siem'
               WHEN source_position LIKE 'line % record %' THEN 'trail'
               WHEN source_position LIKE 'record %' AND source_file IN (
                   SELECT path FROM sources WHERE format = 'cloudtrail-records') THEN 'trail'
               ELSE 'export' END""",
    ),
    ("cloudtrail", "envelope"): ("JSON", "SELECT 1"),
    ("vpc_flows", "record_flags"): ("VARCHAR[]", f"UPDATE vpc_flows SET record_flags = {FLOW_FLAGS_SQL}"),
    # NULL until a verification runs (`verify --case`, or a load of an acquired folder)
    ("sources", "integrity"): ("VARCHAR", "SELECT 1"),
}


def upgrade(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Add the columns an older case lacks and derive their values; returns what was added."""
    present = {
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database()"
        ).fetchall()
    }
    tables = {t for t, _ in present}
    added = []
    for (table, column), (sql_type, derive) in UPGRADES.items():
        if table in tables and (table, column) not in present:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
            con.execute(derive)
            added.append(f"{table}.{column}")
    # A case written before `addresses` existed gets its rows once (the load fills it after).
    if not con.execute("SELECT 1 FROM case_meta WHERE key = 'addresses_filled'").fetchone():
        from .ingest import addresses

        if addresses.fill(con):
            added.append("addresses")
    apply_comments(con)  # an older case learns what its columns mean
    return added


@functools.cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Every table's column names, as this version creates them."""
    scratch = duckdb.connect()
    create_tables(scratch)
    rows = scratch.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() GROUP BY ALL"
    ).fetchall()
    scratch.close()
    return {table: tuple(columns) for table, columns in rows}


def outdated_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Tables of an existing case that lack columns this version needs (a case written by an
    older version): {table: [missing columns]}. Queries on it would fail with a binder error."""
    rows = con.execute(
        "SELECT table_name, list(column_name) FROM duckdb_columns() "
        "WHERE database_name = current_database() GROUP BY ALL"
    ).fetchall()
    present = {table: set(columns) for table, columns in rows}
    return {
        table: missing
        for table, columns in expected_columns().items()
        if table in present and (missing := [c for c in columns if c not in present[table]])
    }


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


if __name__ == "__main__":  # python -m forensics.schema > docs/case-schema.md
    import sys

    scratch = duckdb.connect()
    create_tables(scratch)
    sys.stdout.write(schema_markdown(scratch))
