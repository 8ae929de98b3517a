"""Amazon Security Lake fixtures: CloudTrail records and flow records written as OCSF Parquet by
the documented field maps (shapes-and-lakes.md §4.4 and §4.6, from ocsf/examples' AWS mappings
and AWS's Security Lake query pages), in Security Lake's Hive layout. Written independently of
the loader: a CloudTrail field goes where AWS's mapping puts it, never where the loader reads it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OCSF = {1: "1.0.0-rc.2", 2: "1.1.0"}
_AUTH = ("ConsoleLogin", "CheckMfa")
_ACCOUNT_CHANGE = ("CreateUser", "AttachUserPolicy", "AttachRolePolicy", "DeleteRole", "CreateAccessKey")


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _flatten(prefix: str, value: object, out: dict[str, str]) -> None:
    """AWS's 2023 samples: nested CloudTrail fields as dotted keys, lists comma-joined, booleans as
    strings."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    elif isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            out[prefix] = ",".join(str(v) for v in value)
        else:
            for v in value:
                _flatten(prefix + "[]", v, out)
    elif value is not None:
        out[prefix] = str(value).lower() if isinstance(value, bool) else str(value)


def _class(rec: dict, version: int) -> tuple[int, str]:
    if rec["eventName"] in _AUTH or rec["eventName"].startswith("AssumeRole"):
        return 3002, "Authentication"
    if rec["eventName"] in _ACCOUNT_CHANGE:
        return 3001, "Account Change"
    return (6003, "API Activity") if version == 2 else (3005, "API Activity")


def ocsf_cloudtrail_row(rec: dict, version: int = 2, payload: str = "data") -> dict:
    """One CloudTrail record as Security Lake source `version` writes it. payload='data' puts
    requestParameters/responseElements in api.request.data / api.response.data (AWS's v2
    queries); 'unmapped' flattens them into `unmapped` (AWS's 2023 samples, and rc.2)."""
    ui = rec.get("userIdentity") or {}
    attrs = (ui.get("sessionContext") or {}).get("attributes") or {}
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
    class_uid, class_name = _class(rec, version)
    ip = rec.get("sourceIPAddress") or ""
    is_ip = ip.replace(".", "").isdigit() or ":" in ip
    user = {"type": ui.get("type"), "name": ui.get("userName"), "credential_uid": ui.get("accessKeyId")}
    session: dict = {"issuer": issuer.get("arn")}
    if version == 2:
        user.update(uid=ui.get("arn"), uid_alt=ui.get("principalId"), account={"uid": ui.get("accountId")})
        session["is_mfa"] = attrs.get("mfaAuthenticated") == "true" if attrs else None
        if attrs.get("creationDate"):
            session["created_time_dt"] = dt.datetime.fromisoformat(
                attrs["creationDate"].replace("Z", "+00:00")
            )
    else:
        user.update(uuid=ui.get("arn"), uid=ui.get("principalId"), account_uid=ui.get("accountId"))
        session["mfa"] = attrs.get("mfaAuthenticated") == "true" if attrs else None
        if attrs.get("creationDate"):
            session["created_time"] = _ms(attrs["creationDate"])
    unmapped: dict[str, str] = {}
    for key in ("recipientAccountId", "readOnly", "managementEvent", "sharedEventID", "additionalEventData"):
        _flatten(key, rec.get(key), unmapped)
    for key, val in issuer.items():
        if key != "arn":
            _flatten(f"userIdentity.sessionContext.sessionIssuer.{key}", val, unmapped)
    request: dict = {"uid": rec.get("requestID")}
    response: dict = {"error": rec.get("errorCode"), "message": rec.get("errorMessage")}
    if payload == "data" and version == 2:
        request["data"] = json.dumps(rec["requestParameters"]) if rec.get("requestParameters") else None
        response["data"] = json.dumps(rec["responseElements"]) if rec.get("responseElements") else None
    else:
        _flatten("requestParameters", rec.get("requestParameters"), unmapped)
        _flatten("responseElements", rec.get("responseElements"), unmapped)
    metadata = {
        "uid": rec["eventID"],
        "version": OCSF[version],
        "product": {
            "name": "CloudTrail",
            "vendor_name": "AWS",
            "version": rec.get("eventVersion"),
            "feature": {"name": rec.get("eventCategory", "Management")},
        },
        "profiles": ["cloud", "datetime"] if version == 2 else ["cloud"],
    }
    if version == 2:
        metadata["event_code"] = rec.get("eventType")
    else:
        _flatten("eventType", rec.get("eventType"), unmapped)
    row = {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": 6 if class_uid == 6003 else 3,
        "activity_id": 99,
        "type_uid": class_uid * 100 + 99,
        "time": _ms(rec["eventTime"]),
        "status": "Failure" if rec.get("errorCode") else "Success",
        "metadata": metadata,
        "api": {
            "operation": rec["eventName"],
            "service": {"name": rec["eventSource"]},
            "request": request,
            "response": response,
            "version": rec.get("apiVersion"),
        },
        "actor": {"user": user, "session": session, "invoked_by": ui.get("invokedBy")},
        "src_endpoint": {
            "ip": ip if is_ip else None,
            "domain": None if is_ip else ip,
            "uid": rec.get("vpcEndpointId"),
        },
        "http_request": {"user_agent": rec.get("userAgent")},
        "cloud": {"region": rec["awsRegion"], "provider": "AWS"},
        "unmapped": unmapped,
    }
    if version == 2:
        row["time_dt"] = dt.datetime.fromisoformat(rec["eventTime"].replace("Z", "+00:00"))
        row.update(accountid=rec.get("recipientAccountId"), region=rec["awsRegion"], asl_version="2.0")
    if class_uid == 3002:
        row["user"] = dict(user)
        row["dst_endpoint"] = {"svc_name": (rec.get("additionalEventData") or {}).get("LoginTo")}
    return row


def ocsf_flow_row(r: dict, version: int = 2, region: str = "us-east-1") -> dict:
    """One flow record (fixtures_evidence.flow names) as Network Activity 4001."""
    egress = r.get("flow-direction", "egress") == "egress"
    side = "src_endpoint" if egress else "dst_endpoint"
    src = {"ip": r["srcaddr"], "port": r["srcport"]}
    dst = {"ip": r["dstaddr"], "port": r["dstport"]}
    ends = {"src_endpoint": src, "dst_endpoint": dst}
    ends[side].update(
        interface_uid=r["interface-id"], instance_uid=r.get("instance-id"), vpc_uid=r.get("vpc-id")
    )
    reject = r["action"] == "REJECT"
    row = {
        "class_uid": 4001,
        "class_name": "Network Activity",
        "category_uid": 4,
        "activity_id": 5 if reject else 6,
        "metadata": {
            "version": OCSF[version],
            "product": {"name": "Amazon VPC", "version": str(r["version"])},
        },
        "time": r["end"] * 1000,
        "connection_info": {
            "protocol_num": r["protocol"],
            "direction": "Outbound" if egress else "Inbound",
            "protocol_ver": "IPv4",
        },
        "traffic": {"packets": r["packets"], "bytes": r["bytes"]},
        "status_code": r["log-status"],
        "unmapped": {},
        **ends,
    }
    if version == 2:
        row.update(
            start_time_dt=dt.datetime.fromtimestamp(r["start"], dt.UTC),
            end_time_dt=dt.datetime.fromtimestamp(r["end"], dt.UTC),
            cloud={"region": region, "provider": "AWS", "account": {"uid": r["account-id"]}},
            action="Denied" if reject else "Allowed",
            disposition="Blocked" if reject else "Allowed",
            accountid=r["account-id"],
            region=region,
        )
    else:
        row.update(
            start_time=r["start"] * 1000,
            end_time=r["end"] * 1000,
            cloud={"region": region, "provider": "AWS", "account_uid": r["account-id"]},
            disposition="Blocked" if reject else "Allowed",
        )
    return row


def write_parquet(path: Path, rows: list[dict]) -> Path:
    """Rows as Parquet, `unmapped` as MAP<VARCHAR,VARCHAR> (as Security Lake writes it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unmapped = [sorted((r.pop("unmapped", None) or {}).items()) for r in rows]
    table = pa.Table.from_pylist(rows)
    table = table.append_column("unmapped", pa.array(unmapped, type=pa.map_(pa.string(), pa.string())))
    pq.write_table(table, path)
    return path


def lake_path(root: Path, source: str, version: int, region: str, account: str, day: str, name: str) -> Path:
    """Security Lake's layout for native sources (shapes-and-lakes.md §4.1)."""
    return (
        root
        / f"aws-security-data-lake-{region}-abc123"
        / "aws"
        / source
        / f"{version}.0"
        / f"region={region}"
        / f"accountId={account}"
        / f"eventDay={day}"
        / name
    )
