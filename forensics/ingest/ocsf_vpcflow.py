"""Amazon Security Lake VPC flow logs (OCSF 1.x Network Activity, class 4001, Parquet) → `vpc_flows`.

The documented map (shapes-and-lakes.md §4.6) read backwards, in SQL: endpoints' addresses and
ports, `connection_info` (protocol, direction, TCP flags), `traffic` (packets, bytes), and the
interface, instance, VPC and subnet on the endpoint the direction names (destination for ingress,
source for egress). `disposition` Blocked / `action` Denied / activity Refuse are REJECT. The
OCSF row is kept whole in `extra` under "ocsf" (what has no column: intermediate_ips, boundary,
status detail). Rows go through the flow loader's own insert (vpcflow.py), one Parquet read per
schema and batch.
"""

from __future__ import annotations

from . import vpcflow
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile
from .security_lake import (
    NETWORK_ACTIVITY,
    iceberg_refusal,
    is_network_activity,
    ocsf_columns,
    pick,
    reader_sql,
)
from .tabular import batches, bisect_load, unexpected_reason
from .vpcflow_sql import FIELDS

SOURCE = "vpcflow"


def _end(field: str) -> str:
    """An endpoint field on the side the flow's direction names (either side when unknown)."""
    src, dst = f"doc ->> '$.src_endpoint.{field}'", f"doc ->> '$.dst_endpoint.{field}'"
    return f"CASE WHEN direction = 'ingress' THEN coalesce({dst}, {src}) ELSE coalesce({src}, {dst}) END"


def _time(ms: str, dt: str) -> str:
    return f"coalesce(epoch_ms(TRY_CAST(doc ->> '{ms}' AS BIGINT)), TRY_CAST(doc ->> '{dt}' AS TIMESTAMPTZ))"


_VALUES = {
    "version": "TRY_CAST(doc ->> '$.metadata.product.version' AS INTEGER)",
    "account_id": f"coalesce({pick('$.cloud.account.uid', '$.cloud.account_uid')}, doc ->> '$.accountid', "
    "doc ->> '$.accountId')",
    "interface_id": _end("interface_uid"),
    "src_addr": "doc ->> '$.src_endpoint.ip'",
    "dst_addr": "doc ->> '$.dst_endpoint.ip'",
    "src_port": "TRY_CAST(doc ->> '$.src_endpoint.port' AS INTEGER)",
    "dst_port": "TRY_CAST(doc ->> '$.dst_endpoint.port' AS INTEGER)",
    "protocol": "TRY_CAST(doc ->> '$.connection_info.protocol_num' AS INTEGER)",
    "packets": "TRY_CAST(doc ->> '$.traffic.packets' AS BIGINT)",
    "bytes": "TRY_CAST(doc ->> '$.traffic.bytes' AS BIGINT)",
    "start_time": _time("$.start_time", "$.start_time_dt"),
    "end_time": _time("$.end_time", "$.end_time_dt"),
    "action": "CASE WHEN (doc ->> '$.disposition') = 'Blocked' OR (doc ->> '$.action') = 'Denied' "
    "OR (doc ->> '$.activity_id') = '5' THEN 'REJECT' "
    "WHEN coalesce(doc ->> '$.action', doc ->> '$.disposition') IS NOT NULL THEN 'ACCEPT' END",
    "log_status": "doc ->> '$.status_code'",
    "vpc_id": _end("vpc_uid"),
    "subnet_id": _end("subnet_uid"),
    "instance_id": _end("instance_uid"),
    "tcp_flags": "TRY_CAST(doc ->> '$.connection_info.tcp_flags' AS INTEGER)",
    "type": "doc ->> '$.connection_info.protocol_ver'",
    "region": "coalesce(doc ->> '$.cloud.region', doc ->> '$.region')",
    "az_id": "doc ->> '$.cloud.zone'",
    "pkt_src_aws_service": "doc ->> '$.src_endpoint.svc_name'",
    "pkt_dst_aws_service": "doc ->> '$.dst_endpoint.svc_name'",
    "flow_direction": "direction",
}


def stage_sql(unmapped: bool) -> str:
    """Leaves `vf_stage` as the flow loader's other paths do (vpcflow_sql.COLUMNS and a reason)."""
    cols = ",\n           ".join(f"{_VALUES.get(col, 'NULL')} AS {col}" for _, col, _ in FIELDS)
    return f"""
CREATE OR REPLACE TEMP TABLE vf_stage AS
SELECT {cols},
       json_object('ocsf', doc) AS extra,
       source_file, source_position, row_no AS line_no, NULL::INTEGER AS _base,
       left(doc::VARCHAR, 300) AS line_text,
       CASE WHEN (doc ->> '$.class_uid') IS DISTINCT FROM '{NETWORK_ACTIVITY}'
            THEN 'OCSF class ' || coalesce(doc ->> '$.class_uid', 'missing')
                 || ' is not Network Activity (4001)'
            WHEN (doc ->> '$.src_endpoint.ip') IS NULL OR (doc ->> '$.dst_endpoint.ip') IS NULL
                 OR {_time("$.start_time", "$.start_time_dt")} IS NULL
            THEN 'OCSF Network Activity record without src_endpoint.ip, dst_endpoint.ip or start time'
       END AS reason
FROM (
    SELECT *, CASE lower(doc ->> '$.connection_info.direction')
                   WHEN 'inbound' THEN 'ingress' WHEN 'outbound' THEN 'egress'
                   WHEN 'ingress' THEN 'ingress' WHEN 'egress' THEN 'egress' END AS direction,
           -- by number: 'record 10' sorts before 'record 9' as text
           row_number() OVER (PARTITION BY source_file
                              ORDER BY TRY_CAST(split_part(source_position, ' ', 2) AS BIGINT)) AS row_no
    FROM ({reader_sql(unmapped)})
)"""


def sniff(f: EvidenceFile) -> Sniff | None:
    types = ocsf_columns(f)
    if types is None or not is_network_activity(types):
        return None
    options = {
        "unmapped": "unmapped" in types,
        "columns": tuple(sorted(types.items())),
        "refuse": iceberg_refusal(f.path),
    }
    return Sniff("security-lake-ocsf-vpcflow", options=options)


def load(ctx: LoadContext, items: list[tuple[EvidenceFile, Sniff]]) -> None:
    groups: dict[tuple, list[tuple[EvidenceFile, Sniff]]] = {}
    for f, s in items:
        if s.options["refuse"]:
            _refuse(ctx, (f, s), s.options["refuse"])
            continue
        groups.setdefault(s.options["columns"], []).append((f, s))
    for members in groups.values():
        steps = [stage_sql(members[0][1].options["unmapped"])]
        for batch in batches(members):
            bisect_load(
                batch,
                lambda b, st=steps: vpcflow._stage_and_record(ctx, b, st),
                lambda item, exc: _refuse(ctx, item, f"unreadable Parquet file: {str(exc).splitlines()[0]}"),
                lambda item, exc: _refuse(ctx, item, unexpected_reason(exc)),
            )
    vpcflow.report_implausible(ctx)


def _refuse(ctx: LoadContext, item: tuple[EvidenceFile, Sniff], reason: str) -> None:
    f, s = item
    ctx.reject(f.path, "file", reason)
    ctx.record([outcome_for(f, s.format, "rejected", SOURCE, reason)])
