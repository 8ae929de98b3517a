"""What the month's bill contains: the company's own usage (web servers, database, NAT gateway,
storage, Lambda) and, line by line, the attacker's instances and volumes from launch to
termination, and the runaway Lambda's compute. Prices come from `pricing`."""

from __future__ import annotations

from collections.abc import Iterable

from . import pricing
from .billing_writer import CurBuilder, Row
from .clock import BILLING_PERIOD_START, DAY, EVIDENCE_END, HOUR
from .resources import BOOT_SECONDS, Instance
from .side_cases import LOOP_FUNCTION, LOOP_MEMORY_GB, LOOP_TIMEOUT_S
from .world import ACCOUNT_ID, ASSETS_BUCKET, EDGE_BUCKET, HOME_REGION, ORDERS_BUCKET, World


def build_rows(
    world: World, asg: list[tuple[str, int, int]], attacker: Iterable[Instance], invocations: list[int]
) -> list[Row]:
    """Every line item of the month to date: the company's usage and the attacker's."""
    cur = CurBuilder()
    _baseline(cur, world, asg)
    _attacker(cur, attacker)
    _lambda_loop(cur, invocations)
    cur.rows.sort(
        key=lambda r: (r["lineItem/UsageStartDate"], r["lineItem/UsageType"], r["lineItem/ResourceId"])
    )
    return cur.rows


def _ec2_box(
    cur: CurBuilder,
    instance_id: str,
    region: str,
    itype: str,
    start: int,
    stop: int,
    app: str = "",
    spot: bool = False,
) -> None:
    if spot:
        rate = pricing.SPOT[(itype, region)]
        usage, op, term = f"SpotUsage:{itype}", "RunInstances:SV001", "Spot"
        text = f"${rate} per Linux/UNIX (Amazon VPC), {itype} Spot Instance-hour"
    else:
        rate = pricing.ON_DEMAND[(itype, region)]
        usage, op, term = f"BoxUsage:{itype}", "RunInstances", "OnDemand"
        text = f"${rate} per On Demand Linux {itype} Instance Hour"
    cur.hourly(
        start,
        stop,
        product="AmazonEC2",
        region=region,
        usage=usage,
        operation=op,
        resource=instance_id,
        rate=rate,
        description=text,
        instance_type=itype,
        az=f"{region}a",
        term=term,
        app=app,
    )


def _gp3(
    cur: CurBuilder, volume_id: str, region: str, size_gb: int, start: int, stop: int, app: str = ""
) -> None:
    rate = pricing.GP3[region]
    cur.hourly(
        start,
        stop,
        product="AmazonEC2",
        region=region,
        usage="EBS:VolumeUsage.gp3",
        operation="CreateVolume-Gp3",
        resource=volume_id,
        rate=rate,
        per_hour=size_gb / pricing.HOURS_PER_MONTH,
        unit="GB-Mo",
        family="Storage",
        az=f"{region}a",
        app=app,
        description=f"${rate} per GB-month of General Purpose (gp3) provisioned storage "
        f"- {pricing.location(region)}",
    )


def _baseline(cur: CurBuilder, world: World, asg: list[tuple[str, int, int]]) -> None:
    start, end = BILLING_PERIOD_START, EVIDENCE_END
    for host in world.web:
        _ec2_box(cur, host.instance_id, HOME_REGION, "m6i.large", start, end, "sakura-shop")
        _gp3(cur, host.volume_id, HOME_REGION, 30, start, end, "sakura-shop")
    for instance_id, launch, terminate in asg:
        _ec2_box(cur, instance_id, HOME_REGION, "m6i.large", launch + BOOT_SECONDS, terminate, "sakura-shop")
    nat = f"arn:aws:ec2:{HOME_REGION}:{ACCOUNT_ID}:natgateway/{world.nat_gateway_id}"
    cur.hourly(
        start,
        end,
        product="AmazonEC2",
        region=HOME_REGION,
        usage="NatGateway-Hours",
        operation="NatGateway",
        resource=nat,
        rate=pricing.NAT_HOUR_TOKYO,
        family="NAT Gateway",
        description=f"${pricing.NAT_HOUR_TOKYO} per NAT Gateway Hour",
    )
    db = f"arn:aws:rds:{HOME_REGION}:{ACCOUNT_ID}:db:sakura-shop-db"
    cur.hourly(
        start,
        end,
        product="AmazonRDS",
        region=HOME_REGION,
        usage="InstanceUsage:db.r6g.large",
        operation="CreateDBInstance:0014",
        resource=db,
        rate=pricing.RDS_R6G_LARGE_TOKYO,
        family="Database Instance",
        description=f"${pricing.RDS_R6G_LARGE_TOKYO} per RDS db.r6g.large instance hour "
        "(or partial hour) running PostgreSQL",
        app="sakura-shop",
    )
    nightly = f"arn:aws:lambda:{HOME_REGION}:{ACCOUNT_ID}:function:nightly-sales-report"
    edge = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:sakura-edge-headers"
    for day in range(start, end - end % DAY, DAY):
        for bucket, region, gb in (
            (ORDERS_BUCKET, HOME_REGION, 820),
            (ASSETS_BUCKET, HOME_REGION, 140),
            (EDGE_BUCKET, "us-east-1", 310),
        ):
            rate = pricing.S3_GB_MONTH[region]
            cur.add(
                day,
                day + DAY,
                "AmazonS3",
                region,
                "TimedStorage-ByteHrs",
                "StandardStorage",
                bucket,
                gb / 30,
                rate,
                f"${rate} per GB - first 50 TB / month of storage used",
                unit="GB-Mo",
                family="Storage",
            )
        cur.add(
            day,
            day + DAY,
            "AWSLambda",
            HOME_REGION,
            "Lambda-GB-Second",
            "Invoke",
            nightly,
            180.0,
            pricing.LAMBDA_GB_SECOND,
            "AWS Lambda - Total Compute - Asia Pacific (Tokyo)",
            unit="Lambda-GB-Second",
            family="Serverless",
        )
        cur.add(
            day,
            day + DAY,
            "AWSLambda",
            "us-east-1",
            "Lambda-Edge-Request",
            "Invoke",
            edge,
            2_150_000,
            pricing.EDGE_REQUEST,
            "AWS Lambda Edge - Requests",
            unit="Requests",
            family="Serverless",
        )
        cur.add(
            day,
            day + DAY,
            "AWSLambda",
            "us-east-1",
            "Lambda-Edge-GB-Second",
            "Invoke",
            edge,
            53_750.0,
            pricing.EDGE_GB_SECOND,
            "AWS Lambda Edge - Total Compute",
            unit="Lambda-GB-Second",
            family="Serverless",
        )


def _attacker(cur: CurBuilder, instances: Iterable[Instance]) -> None:
    for inst in sorted(instances, key=lambda i: i.instance_id):
        start = inst.launched + BOOT_SECONDS
        stop = inst.terminated if inst.terminated is not None else EVIDENCE_END
        _ec2_box(
            cur,
            inst.instance_id,
            inst.region,
            inst.instance_type,
            start,
            stop,
            spot=inst.via == "CreateFleet",
        )
        if inst.volume_id:
            _gp3(cur, inst.volume_id, inst.region, 100, inst.launched, stop)


def _lambda_loop(cur: CurBuilder, invocations: list[int]) -> None:
    """Each invocation runs its full 15-minute timeout at 10 GB: that is the money."""
    arn = f"arn:aws:lambda:{HOME_REGION}:{ACCOUNT_ID}:function:{LOOP_FUNCTION}"
    seconds: dict[int, float] = {}
    requests: dict[int, int] = {}
    for t in invocations:
        requests[t - t % HOUR] = requests.get(t - t % HOUR, 0) + 1
        end = t + LOOP_TIMEOUT_S
        hour = t - t % HOUR
        while hour < end:
            seconds[hour] = seconds.get(hour, 0.0) + min(end, hour + HOUR) - max(t, hour)
            hour += HOUR
    for hour in sorted(seconds):
        cur.add(
            hour,
            hour + HOUR,
            "AWSLambda",
            HOME_REGION,
            "Lambda-GB-Second",
            "Invoke",
            arn,
            seconds[hour] * LOOP_MEMORY_GB,
            pricing.LAMBDA_GB_SECOND,
            "AWS Lambda - Total Compute - Asia Pacific (Tokyo)",
            unit="Lambda-GB-Second",
            family="Serverless",
            app="security-automation",
        )
    for hour in sorted(requests):
        cur.add(
            hour,
            hour + HOUR,
            "AWSLambda",
            HOME_REGION,
            "Request",
            "Invoke",
            arn,
            requests[hour],
            pricing.LAMBDA_REQUEST,
            "AWS Lambda - Requests - Asia Pacific (Tokyo)",
            unit="Requests",
            family="Serverless",
            app="security-automation",
        )
