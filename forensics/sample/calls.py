"""Shapes of the API calls the story uses: requestParameters and responseElements as the services
write them, so each scene reads as a list of plain calls."""

from __future__ import annotations

from typing import Any

from .clock import iso
from .identities import Actor
from .ids import Ids
from .records import Call
from .world import ACCOUNT_ID, GLOBAL_REGION


def ec2(
    actor: Actor,
    region: str,
    name: str,
    params: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    *,
    read_only: bool | None = None,
    error: tuple[str, str] | None = None,
) -> Call:
    """An EC2 call. Describe* responses are omitted by CloudTrail (responseElements null)."""
    if read_only is None:
        read_only = name.startswith(("Describe", "Get"))
    if params is None:
        params = {"filterSet": {}} if name.startswith("Describe") else {}
    return Call(actor, "ec2.amazonaws.com", name, region, read_only, params, response, error)


def iam(
    actor: Actor,
    name: str,
    params: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    *,
    error: tuple[str, str] | None = None,
) -> Call:
    """IAM is global: it logs in us-east-1 with the iam.amazonaws.com host."""
    read_only = name.startswith(("Get", "List", "Generate"))
    return Call(actor, "iam.amazonaws.com", name, GLOBAL_REGION, read_only, params, response, error)


def sts(actor: Actor, name: str, region: str = GLOBAL_REGION, **kw: Any) -> Call:
    host = "sts.amazonaws.com" if region == GLOBAL_REGION else f"sts.{region}.amazonaws.com"
    return Call(actor, "sts.amazonaws.com", name, region, True, host=host, **kw)


def simple(actor: Actor, service: str, name: str, region: str, read_only: bool, **kw: Any) -> Call:
    """Any other service: eventSource is <service>.amazonaws.com."""
    return Call(actor, f"{service}.amazonaws.com", name, region, read_only, **kw)


def s3_object(actor: Actor, name: str, bucket: str, key: str, region: str, size: int) -> Call:
    """An S3 object-level data event (eventCategory Data, managementEvent false)."""
    host = f"{bucket}.s3.{region}.amazonaws.com"
    params: dict[str, Any] = {"bucketName": bucket, "Host": host, "key": key}
    read_only = name in ("GetObject", "HeadObject")
    response = {"x-amz-server-side-encryption": "AES256"} if name == "PutObject" else None
    return Call(
        actor,
        "s3.amazonaws.com",
        name,
        region,
        read_only,
        params,
        response,
        data=True,
        resources=[
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
        host=host,
        bytes_out=size if read_only else 0,
    )


def s3_list_objects(actor: Actor, bucket: str, region: str, prefix: str) -> Call:
    host = f"{bucket}.s3.{region}.amazonaws.com"
    return Call(
        actor,
        "s3.amazonaws.com",
        "ListObjects",
        region,
        True,
        {"list-type": "2", "bucketName": bucket, "prefix": prefix, "Host": host},
        data=True,
        resources=[{"accountId": ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        host=host,
        bytes_out=4812,
    )


def s3_bucket(
    actor: Actor,
    name: str,
    bucket: str,
    region: str,
    params: dict[str, Any] | None = None,
    *,
    error: tuple[str, str] | None = None,
) -> Call:
    """A bucket-level management call such as GetBucketPolicy or PutBucketPolicy."""
    host = f"{bucket}.s3.{region}.amazonaws.com"
    read_only = name.startswith(("Get", "List", "Head"))
    return Call(
        actor,
        "s3.amazonaws.com",
        name,
        region,
        read_only,
        {"bucketName": bucket, "Host": host, **(params or {})},
        None,
        error,
        resources=[{"accountId": ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        host=host,
    )


def list_buckets(actor: Actor, error: tuple[str, str] | None = None) -> Call:
    return Call(
        actor,
        "s3.amazonaws.com",
        "ListBuckets",
        GLOBAL_REGION,
        True,
        {"Host": "s3.amazonaws.com"},
        error=error,
        host="s3.amazonaws.com",
        bytes_out=0 if error else 2187,
    )


def assume_role_by_service(
    service_actor: Actor,
    role_arn: str,
    session: str,
    region: str,
    access_key: str,
    expires: int,
    ids: Ids,
    *,
    assumed_role_id: str = "",
) -> Call:
    """A service (EC2, Lambda) obtaining a role session; the response names the new ASIA key."""
    response: dict[str, Any] = {
        "credentials": {
            "accessKeyId": access_key,
            "sessionToken": "IQoJb3JpZ2luX2VjE" + ids.alnum(180),
            "expiration": _java_date(expires),
        }
    }
    if assumed_role_id:
        role_name = role_arn.rsplit("/", 1)[1]
        response["assumedRoleUser"] = {
            "assumedRoleId": f"{assumed_role_id}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{session}",
        }
    return Call(
        service_actor,
        "sts.amazonaws.com",
        "AssumeRole",
        region,
        True,
        {"roleArn": role_arn, "roleSessionName": session},
        response,
        resources=[{"accountId": ACCOUNT_ID, "type": "AWS::IAM::Role", "ARN": role_arn}],
        extra={"sharedEventID": ids.uuid()},
    )


def _java_date(t: int) -> str:
    """STS writes expirations like 'Nov 16, 2026, 9:41:07 AM'."""
    text = iso(t)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), text[14:16], text[17:19]
    half = "AM" if hour < 12 else "PM"
    return f"{months[month - 1]} {day}, {year}, {hour % 12 or 12}:{minute}:{second} {half}"
