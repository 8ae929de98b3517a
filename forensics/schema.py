"""The case file's tables. Their names and columns are an interface (see DESIGN.md)."""

from __future__ import annotations

import functools

import duckdb

from .schema_comments import COMMENTS, apply_comments, schema_markdown  # noqa: F401 (re-exported)

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


if __name__ == "__main__":  # python -m forensics.schema > docs/case-schema.md
    import sys

    scratch = duckdb.connect()
    create_tables(scratch)
    sys.stdout.write(schema_markdown(scratch))
