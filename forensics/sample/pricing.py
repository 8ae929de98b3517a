"""Public prices in USD, approximately as AWS lists them (Linux on-demand unless noted), and the
usage-type names the CUR gives them. Close enough that the money in the sample is realistic."""

from __future__ import annotations

from .world import REGIONS

# (instance type, region) -> USD per hour, Linux on-demand.
ON_DEMAND: dict[tuple[str, str], float] = {
    ("m6i.large", "ap-northeast-1"): 0.124,
    ("p3.16xlarge", "us-east-1"): 24.48,
    ("p3.16xlarge", "us-west-2"): 24.48,
    ("p3.16xlarge", "eu-west-1"): 26.44,
    ("p3.16xlarge", "ap-northeast-1"): 41.944,
    ("g4dn.12xlarge", "ap-south-1"): 4.09,
    ("g4dn.12xlarge", "ap-southeast-2"): 5.474,
    ("g4dn.12xlarge", "us-west-1"): 4.693,
    ("g4dn.12xlarge", "eu-central-1"): 4.891,
    ("c5.24xlarge", "eu-west-3"): 4.848,
    ("c5.24xlarge", "eu-west-2"): 4.848,
    ("c5.24xlarge", "ap-northeast-2"): 4.608,
    ("c5.24xlarge", "ap-southeast-1"): 4.704,
    ("c5.24xlarge", "us-east-2"): 4.08,
}
SPOT: dict[tuple[str, str], float] = {("g4dn.12xlarge", "eu-central-1"): 1.4472}

# USD per GB-month of gp3 storage.
GP3: dict[str, float] = {
    "us-east-1": 0.08,
    "us-east-2": 0.08,
    "us-west-2": 0.08,
    "us-west-1": 0.096,
    "eu-west-1": 0.088,
    "eu-west-2": 0.0928,
    "eu-west-3": 0.0928,
    "eu-central-1": 0.0952,
    "ap-northeast-1": 0.096,
    "ap-northeast-2": 0.0912,
    "ap-southeast-1": 0.096,
    "ap-southeast-2": 0.096,
    "ap-south-1": 0.0912,
}
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.0000002
EDGE_GB_SECOND = 0.00005001
EDGE_REQUEST = 0.0000006
NAT_HOUR_TOKYO = 0.062
RDS_R6G_LARGE_TOKYO = 0.313
S3_GB_MONTH = {"ap-northeast-1": 0.025, "us-east-1": 0.023}
HOURS_PER_MONTH = 720  # the CUR prorates GB-Mo over a 30-day month


def usage_prefix(region: str, product: str = "") -> str:
    """`APN1-`, `EU-`...; EC2 and S3 in us-east-1 are billed without a prefix."""
    code = REGIONS[region][0]
    if region == "us-east-1" and product in ("AmazonEC2", "AmazonS3"):
        return ""
    return f"{code}-"


def location(region: str) -> str:
    return REGIONS[region][1]
