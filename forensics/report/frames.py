"""The frames the figures draw, queried from the case with bound parameters.

Querying lives here and drawing in `forensics.plots`, so notebooks, the CLI and the report ask
the same questions the same way. Nothing here imports plotly. Times are bound as text or
datetimes and compared as TIMESTAMPTZ; lists are bound as VARCHAR[] (empty means "any").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from ..case import Case

Time = Any  # a datetime, an ISO 8601 text or None

_WINDOW = """
    ($from_time::TIMESTAMPTZ IS NULL OR {col} >= $from_time::TIMESTAMPTZ)
    AND ($to_time::TIMESTAMPTZ IS NULL OR {col} <= $to_time::TIMESTAMPTZ)
"""


def _window(col: str) -> str:
    return _WINDOW.format(col=col)


def region_activity(
    case: Case,
    event_name: str | None = "RunInstances",
    writes_only: bool = False,
    access_keys: Sequence[str] = (),
    from_time: Time = None,
    to_time: Time = None,
    step_s: int = 300,
) -> pl.DataFrame:
    """Calls per region and time bucket (`region`, `bucket`, `calls`, `succeeded`).

    `event_name=None` with `writes_only=True` counts every write (`read_only` false), the
    view in which a new region lights up.
    """
    sql = f"""
        SELECT aws_region AS region,
               time_bucket(to_seconds($step_s::BIGINT), event_time) AS bucket,
               count(*) AS calls,
               count(*) FILTER (outcome = 'success') AS succeeded
        FROM cloudtrail
        WHERE ($event_name::VARCHAR IS NULL OR event_name = $event_name::VARCHAR)
          AND (NOT $writes_only OR read_only = false)
          AND (len($keys::VARCHAR[]) = 0 OR list_contains($keys::VARCHAR[], access_key_id))
          AND {_window("event_time")}
        GROUP BY ALL ORDER BY bucket, region
    """
    return case.sql(
        sql,
        event_name=event_name,
        writes_only=writes_only,
        keys=list(access_keys),
        from_time=from_time,
        to_time=to_time,
        step_s=step_s,
    )


def call_volume(
    case: Case,
    access_keys: Sequence[str] = (),
    principals: Sequence[str] = (),
    source_ips: Sequence[str] = (),
    from_time: Time = None,
    to_time: Time = None,
    step_s: int = 3600,
) -> pl.DataFrame:
    """An entity's CloudTrail calls per bucket and outcome (`bucket`, `outcome`, `calls`).

    The entity is any mix of keys, principal ARNs and source addresses (all that are given
    must match).
    """
    sql = f"""
        SELECT time_bucket(to_seconds($step_s::BIGINT), event_time) AS bucket,
               outcome, count(*) AS calls
        FROM cloudtrail
        WHERE (len($keys::VARCHAR[]) = 0 OR list_contains($keys::VARCHAR[], access_key_id))
          AND (len($principals::VARCHAR[]) = 0
               OR list_contains($principals::VARCHAR[], principal_arn))
          AND (len($ips::VARCHAR[]) = 0 OR list_contains($ips::VARCHAR[], source_ip))
          AND {_window("event_time")}
        GROUP BY ALL ORDER BY bucket, outcome
    """
    return case.sql(
        sql,
        keys=list(access_keys),
        principals=list(principals),
        ips=list(source_ips),
        from_time=from_time,
        to_time=to_time,
        step_s=step_s,
    )


def instance_flows(
    case: Case,
    instance_id: str,
    from_time: Time = None,
    to_time: Time = None,
    step_s: int = 300,
) -> pl.DataFrame:
    """An instance's flows per bucket and remote endpoint (`bucket`, `remote_addr`,
    `remote_port`, `service_port`, `mining`, `protocol`, `direction`, `bytes`, `packets`,
    `flows`).

    `service_port` is the lower of the two ports (the service's, not the client's ephemeral
    one: the investigation's flows use the same rule), `mining` whether it is one of the
    vocabulary's mining-pool ports (`vocab_mining_port`).

    The instance's interfaces are the vocabulary's `instance_interface` (its RunInstances
    response, interface calls, GuardDuty's details, flows that name it): version 2 records
    carry no instance id. The remote side is given by
    `flow_direction` when the format records it; otherwise the
    instance's side is its interface's address, the one present in every flow of the
    interface (flow logs record both directions).
    """
    sql = f"""
        WITH enis AS (
            SELECT interface_id FROM instance_interface WHERE instance_id = $instance_id
        ), mine AS (
            SELECT * FROM vpc_flows
            WHERE interface_id IN (SELECT interface_id FROM enis)
              AND {_window("start_time")}
        ), addr AS (
            SELECT interface_id, a AS local_addr, count(*) AS n
            FROM (SELECT interface_id, src_addr AS a FROM mine
                  UNION ALL SELECT interface_id, dst_addr FROM mine)
            GROUP BY interface_id, a
            QUALIFY row_number() OVER (PARTITION BY interface_id ORDER BY n DESC, a) = 1
        ), sided AS (
            SELECT m.*, coalesce(m.flow_direction = 'egress', m.src_addr = a.local_addr)
                            AS outbound
            FROM mine m JOIN addr a USING (interface_id)
        )
        SELECT time_bucket(to_seconds($step_s::BIGINT), start_time) AS bucket,
               CASE WHEN outbound THEN dst_addr ELSE src_addr END AS remote_addr,
               CASE WHEN outbound THEN dst_port ELSE src_port END AS remote_port,
               least(src_port, dst_port) AS service_port,
               least(src_port, dst_port) IN (SELECT port FROM vocab_mining_port) AS mining,
               protocol,
               CASE WHEN outbound THEN 'egress' ELSE 'ingress' END AS direction,
               sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, count(*) AS flows
        FROM sided
        GROUP BY ALL ORDER BY bucket, bytes DESC, remote_addr
    """
    return case.sql(sql, instance_id=instance_id, from_time=from_time, to_time=to_time, step_s=step_s)


def hourly_cost(
    case: Case,
    from_time: Time = None,
    to_time: Time = None,
    resource_ids: Sequence[str] = (),
) -> pl.DataFrame:
    """Unblended cost per usage hour and region (`hour`, `region`, `cost`, `currency`).

    With `resource_ids`, only those resources' line items (the incident cost of DESIGN.md).
    """
    sql = f"""
        SELECT time_bucket(INTERVAL 1 HOUR, usage_start) AS hour,
               coalesce(nullif(region, ''), 'global') AS region,
               sum(cost) AS cost, any_value(currency) AS currency
        FROM billing
        WHERE (len($ids::VARCHAR[]) = 0 OR list_contains($ids::VARCHAR[], resource_id))
          AND {_window("usage_start")}
        GROUP BY ALL ORDER BY hour, region
    """
    return case.sql(sql, ids=list(resource_ids), from_time=from_time, to_time=to_time)


def coverage_cells(case: Case, step_s: int = 3600) -> pl.DataFrame:
    """Records per source, region and bucket across every table (`source`, `region`,
    `bucket`, `records`): the evidence the conclusions rest on, and where it is silent."""
    sql = """
        WITH cells AS (
            SELECT 'cloudtrail' AS source, aws_region AS region, event_time AS t FROM cloudtrail
            WHERE NOT list_contains(record_flags, 'time implausible')  -- DESIGN.md: unflagged times
            UNION ALL SELECT 'vpc_flows', region, start_time FROM vpc_flows
            WHERE NOT list_contains(record_flags, 'time implausible')
            UNION ALL SELECT 'billing', nullif(region, ''), usage_start FROM billing
            UNION ALL SELECT 'findings:' || source, region, first_seen FROM findings
        )
        SELECT source, region, time_bucket(to_seconds($step_s::BIGINT), t) AS bucket,
               count(*) AS records
        FROM cells WHERE t IS NOT NULL
        GROUP BY ALL ORDER BY source, region, bucket
    """
    return case.sql(sql, step_s=step_s)


def evidence_files(case: Case) -> pl.DataFrame:
    """Every evidence file seen, with its digest and what became of it (the appendix)."""
    return case.sql(
        """
        SELECT path, format, status, records_read, records_loaded, duplicates, rejected,
               bytes, sha256, detail
        FROM sources ORDER BY path
        """
    )


def rejects_summary(case: Case) -> pl.DataFrame:
    """What could not be parsed, per file and reason (a gap in the evidence, not the attack)."""
    return case.sql(
        """
        SELECT source_file, reason, count(*) AS records, min(position) AS first_position
        FROM rejects GROUP BY ALL ORDER BY records DESC, source_file
        """
    )


def instance_lifetimes(case: Case, instance_ids: Sequence[str]) -> pl.DataFrame:
    """Where and when each instance was launched and (if ever) terminated, per CloudTrail
    (`instance`, `region`, `instance_type`, `launched`, `source_ip`, `terminated`)."""
    sql = """
        WITH launched AS (
            SELECT unnest(instance_ids) AS instance, aws_region AS region, instance_type,
                   event_time, source_ip
            FROM cloudtrail
            WHERE outcome = 'success' AND event_has('launch', event_source, event_name)
              AND list_has_any(instance_ids, $ids::VARCHAR[])
        ), ended AS (
            SELECT instance, min(event_time) AS terminated
            FROM (SELECT unnest(instance_ids) AS instance, event_time FROM cloudtrail
                  WHERE outcome = 'success' AND event_name = 'TerminateInstances'
                    AND list_has_any(instance_ids, $ids::VARCHAR[]))
            GROUP BY instance
        )
        SELECT l.instance, any_value(l.region) AS region,
               any_value(l.instance_type) AS instance_type, min(l.event_time) AS launched,
               arg_min(l.source_ip, l.event_time) AS source_ip, any_value(e.terminated) AS terminated
        FROM launched l LEFT JOIN ended e USING (instance)
        WHERE list_contains($ids::VARCHAR[], l.instance)
        GROUP BY l.instance ORDER BY launched, l.instance
    """
    return case.sql(sql, ids=list(instance_ids))


def profile_activity(profile: dict[str, Any]) -> pl.DataFrame:
    """A `Case.profile` activity list as call-volume rows (`bucket`, `outcome`, `calls`):
    its `failed` counts every error, denials included, so they are split apart here."""
    rows = []
    for item in profile.get("activity") or []:
        bucket = item["bucket"]
        denied = int(item.get("denied") or 0)
        rows += [
            {"bucket": bucket, "outcome": "success", "calls": int(item.get("succeeded") or 0)},
            {"bucket": bucket, "outcome": "denied", "calls": denied},
            {"bucket": bucket, "outcome": "failed", "calls": int(item.get("failed") or 0) - denied},
        ]
    frame = pl.DataFrame(rows, schema={"bucket": pl.String, "outcome": pl.String, "calls": pl.Int64})
    return frame.filter(pl.col("calls") > 0).with_columns(
        pl.col("bucket").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    )


def daily_cost_by_usage_type(case: Case, from_time: Time = None, to_time: Time = None) -> pl.DataFrame:
    """Cost per day and usage type, biggest first (`day`, `usage_type`, `region`, `cost`,
    `resources`): which line items a spike is made of."""
    sql = f"""
        SELECT date_trunc('day', usage_start) AS day, usage_type,
               coalesce(nullif(region, ''), 'global') AS region,
               round(sum(cost), 2) AS cost, count(DISTINCT resource_id) AS resources
        FROM billing
        WHERE {_window("usage_start")}
        GROUP BY ALL ORDER BY cost DESC, day, usage_type
    """
    return case.sql(sql, from_time=from_time, to_time=to_time)


def mining_ports(case: Case) -> set[int]:
    """The vocabulary's mining-pool ports (`vocab_mining_port`)."""
    return {int(p) for (p,) in case.sql("SELECT port FROM vocab_mining_port").rows()}


def data_access(case: Case, story: dict[str, Any]) -> pl.DataFrame:
    """What the intrusion did to data (`api`, `calls`, `refused`, `data_event`): its calls to
    S3, the vocabulary's exfiltration-phase calls and secret reads, from its own addresses with
    its own keys (the story's), never a service's on its behalf."""
    keys = sorted(set(story.get("access_keys") or []) | set(story.get("derived_credentials") or []))
    sql = """
        SELECT api_of(event_source, event_name) AS api, count(*) AS calls,
               count(*) FILTER (outcome <> 'success') AS refused,
               bool_or(event_category = 'Data') AS data_event
        FROM cloudtrail
        WHERE (list_contains($keys::VARCHAR[], access_key_id)
               OR list_contains($keys::VARCHAR[], principal_arn))
          AND list_contains($ips::VARCHAR[], source_ip)
          AND coalesce(invoked_by, '') = ''
          AND (starts_with(api_of(event_source, event_name), 's3:')
               OR event_has('secret_read', event_source, event_name)
               OR api_of(event_source, event_name) IN (SELECT v.api FROM vocab_event v
                                                       WHERE v.phase = 'exfiltration'))
        GROUP BY ALL ORDER BY calls DESC, api
    """
    return case.sql(sql, keys=keys, ips=list(story.get("source_ips") or []))


def data_events_recorded(case: Case) -> int:
    """How many CloudTrail data events (object reads and writes) the evidence holds."""
    return int(case.sql("SELECT count(*) FROM cloudtrail WHERE event_category = 'Data'").rows()[0][0])
