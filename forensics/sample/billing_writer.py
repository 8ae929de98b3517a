"""The legacy Cost and Usage Report (hourly, with resource ids) for November 2026, month to date,
in the layout AWS delivers it to S3:

    billing/cur/<report>/20261101-20261201/<assemblyId>/<report>-1.csv.gz
    billing/cur/<report>/20261101-20261201/<report>-Manifest.json
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from . import pricing
from .clock import BILLING_PERIOD_END, BILLING_PERIOD_START, EVIDENCE_END, HOUR, iso_ms
from .ids import Ids, derive
from .world import ACCOUNT_ID

REPORT = "sakura-hourly-cur"
PREFIX = "cur"
COLUMNS = [
    "identity/LineItemId",
    "identity/TimeInterval",
    "bill/InvoiceId",
    "bill/BillingEntity",
    "bill/BillType",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/AvailabilityZone",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedRate",
    "lineItem/UnblendedCost",
    "lineItem/BlendedRate",
    "lineItem/BlendedCost",
    "lineItem/LineItemDescription",
    "lineItem/LegalEntity",
    "product/ProductName",
    "product/instanceType",
    "product/location",
    "product/operatingSystem",
    "product/productFamily",
    "product/region",
    "product/servicecode",
    "product/usagetype",
    "pricing/publicOnDemandCost",
    "pricing/publicOnDemandRate",
    "pricing/term",
    "pricing/unit",
    "resourceTags/user:app",
]
PRODUCT_NAMES = {
    "AmazonEC2": "Amazon Elastic Compute Cloud",
    "AmazonRDS": "Amazon Relational Database Service",
    "AmazonS3": "Amazon Simple Storage Service",
    "AWSLambda": "AWS Lambda",
}

Row = dict[str, str]


def _num(value: float) -> str:
    return f"{value:.10f}"


class CurBuilder:
    """Collects line items; each is one usage type of one resource over one hour (or day)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(
        self,
        start: int,
        end: int,
        product: str,
        region: str,
        usage: str,
        operation: str,
        resource: str,
        amount: float,
        rate: float,
        description: str,
        *,
        unit: str = "Hrs",
        family: str = "Compute Instance",
        instance_type: str = "",
        az: str = "",
        term: str = "OnDemand",
        app: str = "",
    ) -> None:
        amount = round(amount, 10)
        cost = _num(amount * rate)
        usage_type = pricing.usage_prefix(region, product) + usage
        key = f"{start}|{usage_type}|{resource}|{operation}"
        line_id = hashlib.sha256(key.encode()).hexdigest()[:52]
        self.rows.append(
            {
                "identity/LineItemId": line_id,
                "identity/TimeInterval": f"{iso_ms(start)[:19]}Z/{iso_ms(end)[:19]}Z",
                "bill/BillingEntity": "AWS",
                "bill/BillType": "Anniversary",
                "bill/PayerAccountId": ACCOUNT_ID,
                "bill/BillingPeriodStartDate": iso_ms(BILLING_PERIOD_START),
                "bill/BillingPeriodEndDate": iso_ms(BILLING_PERIOD_END),
                "lineItem/UsageAccountId": ACCOUNT_ID,
                "lineItem/LineItemType": "Usage",
                "lineItem/UsageStartDate": iso_ms(start),
                "lineItem/UsageEndDate": iso_ms(end),
                "lineItem/ProductCode": product,
                "lineItem/UsageType": usage_type,
                "lineItem/Operation": operation,
                "lineItem/AvailabilityZone": az,
                "lineItem/ResourceId": resource,
                "lineItem/UsageAmount": _num(amount),
                "lineItem/CurrencyCode": "USD",
                "lineItem/UnblendedRate": _num(rate),
                "lineItem/UnblendedCost": cost,
                "lineItem/BlendedRate": _num(rate),
                "lineItem/BlendedCost": cost,
                "lineItem/LineItemDescription": description,
                "lineItem/LegalEntity": "Amazon Web Services, Inc.",
                "product/ProductName": PRODUCT_NAMES[product],
                "product/instanceType": instance_type,
                "product/location": pricing.location(region),
                "product/operatingSystem": "Linux" if instance_type else "",
                "product/productFamily": family,
                "product/region": region,
                "product/servicecode": product,
                "product/usagetype": usage_type,
                "pricing/publicOnDemandCost": cost if term == "OnDemand" else "",
                "pricing/publicOnDemandRate": _num(rate) if term == "OnDemand" else "",
                "pricing/term": term,
                "pricing/unit": unit,
                "resourceTags/user:app": app,
            }
        )

    def hourly(self, start: int, stop: int, per_hour: float = 1.0, **line: Any) -> None:
        """Split a running resource into hourly line items (per-second usage); `per_hour` is
        the usage of one full hour (1 instance-hour, or GB-Mo for a volume)."""
        hour = start - start % HOUR
        while hour < min(stop, EVIDENCE_END):
            used = min(stop, hour + HOUR) - max(start, hour)
            if used > 0:
                self.add(hour, hour + HOUR, amount=used / HOUR * per_hour, **line)
            hour += HOUR


def write_cur(root: Path, rows: list[Row], seed: int) -> list[Path]:
    """Write the gzip CSV and its manifest; returns the paths written."""
    assembly = Ids(derive(seed, "cur-assembly")).uuid()
    period = "20261101-20261201"
    folder = root / "billing" / PREFIX / REPORT / period
    data_key = f"{PREFIX}/{REPORT}/{period}/{assembly}/{REPORT}-1.csv.gz"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(column, "") for column in COLUMNS])
    data_path = folder / assembly / f"{REPORT}-1.csv.gz"
    data_path.parent.mkdir(parents=True, exist_ok=True)
    with open(data_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.getvalue().encode())
    manifest = {
        "assemblyId": assembly,
        "account": ACCOUNT_ID,
        "columns": [
            {"category": c.split("/")[0], "name": c.split("/")[1], "type": "String"} for c in COLUMNS
        ],
        "charset": "UTF-8",
        "compression": "GZIP",
        "contentType": "text/csv",
        "reportId": hashlib.sha256(REPORT.encode()).hexdigest(),
        "reportName": REPORT,
        "billingPeriod": {"start": "20261101T000000.000Z", "end": "20261201T000000.000Z"},
        "bucket": f"sakura-billing-reports-{ACCOUNT_ID}",
        "reportKeys": [data_key],
        "additionalArtifactKeys": [],
    }
    manifest_path = folder / f"{REPORT}-Manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return [data_path, manifest_path]
