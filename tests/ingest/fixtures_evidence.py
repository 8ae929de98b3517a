"""Hand-made evidence for the flow-log, billing and findings loader tests (written to tmp dirs)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb

ACCT = "012345678901"  # leading zero on purpose: account ids stay text
V2 = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)


def write(path: Path, text: str | bytes, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def flow(n: int, start: int = 1_763_261_503, **over: object) -> dict[str, object]:
    """One default-format flow record as a field -> value dict (v2 names)."""
    rec: dict[str, object] = {
        "version": 2,
        "account-id": ACCT,
        "interface-id": f"eni-0a1b2c3d4e5f6{n % 1000:03d}",
        "srcaddr": f"10.0.{n % 250}.{n % 200 + 1}",
        "dstaddr": "198.51.100.7",
        "srcport": 40000 + n,
        "dstport": 3333 if n % 2 else 443,
        "protocol": 6,
        "packets": n + 1,
        "bytes": 100 * (n + 1),
        "start": start + n,
        "end": start + n + 60,
        "action": "ACCEPT" if n % 5 else "REJECT",
        "log-status": "OK",
    }
    rec.update(over)
    return rec


def flow_text(records: list[dict[str, object]], fields: list[str], header: bool = True) -> str:
    lines = [" ".join(fields)] if header else []
    lines += [" ".join("-" if r.get(f) is None else str(r.get(f)) for f in fields) for r in records]
    return "\n".join(lines) + "\n"


# --- billing ---------------------------------------------------------------------------------
CUR_COLUMNS = (
    "identity/LineItemId", "identity/TimeInterval", "bill/PayerAccountId",
    "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "lineItem/UsageAccountId",
    "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate",
    "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation", "lineItem/ResourceId",
    "lineItem/UsageAmount", "lineItem/CurrencyCode", "lineItem/UnblendedCost",
    "lineItem/LineItemDescription", "product/region", "product/instanceType",
    "resourceTags/user:Name",
)  # fmt: skip


def cur_row(n: int, cost: str, account: str = ACCT, period: str = "2026-11", **over: str) -> dict:
    """One legacy CUR line item (hourly EC2 usage in Tokyo unless told otherwise)."""
    day, hour = 1 + (n // 24) % 30, n % 24
    start = f"{period}-{day:02d}T{hour:02d}:00:00Z"
    end = f"{period}-{day:02d}T{hour:02d}:59:59Z"
    row = {
        "identity/LineItemId": f"li-{account}-{n}",
        "identity/TimeInterval": f"{start}/{end}",
        "bill/PayerAccountId": account,
        "bill/BillingPeriodStartDate": f"{period}-01T00:00:00Z",
        "bill/BillingPeriodEndDate": "",
        "lineItem/UsageAccountId": account,
        "lineItem/LineItemType": "Usage",
        "lineItem/UsageStartDate": start,
        "lineItem/UsageEndDate": end,
        "lineItem/ProductCode": "AmazonEC2",
        "lineItem/UsageType": "APN1-BoxUsage:g4dn.xlarge",
        "lineItem/Operation": "RunInstances",
        "lineItem/ResourceId": f"i-0{n:016x}",
        "lineItem/UsageAmount": "1.0",
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedCost": cost,
        "lineItem/LineItemDescription": "$0.71 per On Demand Linux g4dn.xlarge Instance Hour",
        "product/region": "ap-northeast-1",
        "product/instanceType": "g4dn.xlarge",
        "resourceTags/user:Name": "" if n % 2 else "web",
    }
    row.update(over)
    return row


def csv_text(rows: list[dict], columns: tuple[str, ...] | list[str] | None = None) -> str:
    columns = list(columns or rows[0].keys())
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def write_zip(path: Path, member: str, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, text)
    return path


FOCUS_COLUMNS = (
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart", "ChargeCategory",
    "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ConsumedQuantity",
    "ProviderName", "RegionId", "ResourceId", "ServiceName", "SubAccountId", "Tags",
    "x_ServiceCode", "x_UsageType", "x_Operation",
)  # fmt: skip


def focus_row(n: int, cost: str, account: str = ACCT, period: str = "2026-11") -> dict:
    day, hour = 1 + (n // 24) % 30, n % 24
    return {
        "BilledCost": cost,
        "BillingAccountId": account,
        "BillingCurrency": "USD",
        "BillingPeriodStart": f"{period}-01 00:00:00",
        "ChargeCategory": "Usage",
        "ChargeDescription": "g4dn.xlarge hour",
        "ChargePeriodEnd": f"{period}-{day:02d} {hour:02d}:59:59",
        "ChargePeriodStart": f"{period}-{day:02d} {hour:02d}:00:00",
        "ConsumedQuantity": "1",
        "ProviderName": "AWS",
        "RegionId": "NULL",
        "ResourceId": f"i-0{n:016x}",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "SubAccountId": account,
        "Tags": '{"user:Name": "web"}',
        "x_ServiceCode": "AmazonEC2",
        "x_UsageType": "USW2-BoxUsage:p3.2xlarge",
        "x_Operation": "RunInstances",
    }


def write_cur2_parquet(path: Path, rows: list[tuple]) -> Path:
    """CUR 2.0 Data Export rows as Parquet with real MAP columns (product, resource_tags).

    rows: (start ISO, account, usage type, region code or None, product region or None,
           resource id, cost, tags dict)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE t (
            identity_line_item_id VARCHAR, line_item_usage_start_date TIMESTAMP,
            line_item_usage_end_date TIMESTAMP, bill_payer_account_id VARCHAR,
            line_item_usage_account_id VARCHAR, line_item_line_item_type VARCHAR,
            line_item_product_code VARCHAR, line_item_usage_type VARCHAR,
            line_item_operation VARCHAR, line_item_resource_id VARCHAR,
            line_item_usage_amount DOUBLE, line_item_unblended_cost DOUBLE,
            line_item_currency_code VARCHAR, product_region_code VARCHAR,
            product MAP(VARCHAR, VARCHAR), resource_tags MAP(VARCHAR, VARCHAR))"""
    )
    for i, (start, account, usage_type, region, product_region, res, cost, tags) in enumerate(rows):
        product = {"product_name": "Amazon Elastic Compute Cloud"}
        if product_region:
            product["region"] = product_region
        con.execute(
            """INSERT INTO t VALUES (?, ?::TIMESTAMP, ?::TIMESTAMP + INTERVAL 1 HOUR, ?, ?,
               'Usage', 'AmazonEC2', ?, 'RunInstances', ?, 1.0, ?, 'USD', ?,
               map(?::VARCHAR[], ?::VARCHAR[]), map(?::VARCHAR[], ?::VARCHAR[]))""",
            [f"cur2-{i}", start, start, account, account, usage_type, res, cost, region,
             list(product), list(product.values()), list(tags), list(tags.values())],
        )  # fmt: skip
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    con.close()
    return path


# --- findings --------------------------------------------------------------------------------
def finding(fid: str, updated: str = "2026-11-16T03:10:00.000Z", count: int = 1, **over) -> dict:
    """A GuardDuty finding as EventBridge and S3 exports spell it (camelCase)."""
    rec = {
        "schemaVersion": "2.0",
        "accountId": ACCT,
        "region": "ap-northeast-1",
        "partition": "aws",
        "id": fid,
        "arn": f"arn:aws:guardduty:ap-northeast-1:{ACCT}:detector/d1/finding/{fid}",
        "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        "resource": {
            "resourceType": "AccessKey",
            "accessKeyDetails": {
                "accessKeyId": "ASIAEXAMPLE000000042",
                "principalId": "AROAEXAMPLE:i-08549a9185e2e51a7",
                "userType": "AssumedRole",
                "userName": "web-app-role",
            },
        },
        "service": {
            "serviceName": "guardduty",
            "eventFirstSeen": "2026-11-16T02:58:00.000Z",
            "eventLastSeen": "2026-11-16T03:05:00.000Z",
            "count": count,
            "action": {
                "actionType": "AWS_API_CALL",
                "awsApiCallAction": {
                    "api": "ListBuckets",
                    "remoteIpDetails": {"ipAddressV4": "146.70.185.36"},
                },
            },
        },
        "severity": 8,
        "createdAt": "2026-11-16T03:00:00.000Z",
        "updatedAt": updated,
        "title": "Credentials for the EC2 instance role were used from a remote address.",
    }
    rec.update(over)
    return rec


def pascal(value: object) -> object:
    """The same finding as `aws guardduty get-findings` prints it (PascalCase keys)."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def envelope(detail: dict, source: str = "aws.guardduty", time: str = "2026-11-16T03:10:00Z") -> dict:
    kind = "GuardDuty Finding" if source == "aws.guardduty" else "AWS Health Event"
    return {
        "version": "0",
        "id": f"ev-{detail.get('id', 'h')}",
        "detail-type": kind,
        "source": source,
        "account": ACCT,
        "time": time,
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def health_event(keys: list[str], arn_suffix: str = "abc123") -> dict:
    return envelope(
        {
            "eventArn": "arn:aws:health:global::event/RISK/AWS_RISK_CREDENTIALS_EXPOSED/"
            f"AWS_RISK_CREDENTIALS_EXPOSED_{arn_suffix}",
            "service": "RISK",
            "eventTypeCode": "AWS_RISK_CREDENTIALS_EXPOSED",
            "eventTypeCategory": "issue",
            "startTime": "Mon, 16 Nov 2026 03:23:40 GMT",
            "eventDescription": [{"language": "en_US", "latestDescription": "exposed"}],
            "affectedEntities": [{"entityValue": k} for k in keys],
        },
        source="aws.health",
        time="2026-11-16T03:23:41Z",
    )


def jsonl(records: list[dict]) -> str:
    return "\n".join(json.dumps(r) for r in records) + "\n"


def cli_load(evidence: Path, case: Path, source: str) -> dict:
    """`forensics load --source SOURCE --json` as a script runs it; the parsed report."""
    done = subprocess.run(
        [sys.executable, "-m", "forensics", "load", str(evidence), "--case", str(case),
         "--source", source, "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
