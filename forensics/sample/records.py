"""CloudTrail records: one `Call` (what happened) rendered into the record AWS would write, with
the error wording IAM, EC2 and S3 use. Rendering is plain dict building: it runs a million times
when the baseline is scaled up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .clock import iso
from .identities import Actor
from .ids import Ids
from .world import ACCOUNT_ID

# eventVersion differs by service in real trails (1.08 to 1.11).
EVENT_VERSIONS = {
    "ec2": "1.10",
    "s3": "1.10",
    "iam": "1.09",
    "sts": "1.08",
    "servicequotas": "1.11",
    "signin": "1.09",
    "lambda": "1.08",
}
GLOBAL_HOSTS = {"iam": "iam.amazonaws.com", "cloudfront": "cloudfront.amazonaws.com"}
_TLS: dict[tuple[str, bool], dict[str, str]] = {}


@dataclass(slots=True)
class Call:
    """One API call, before it gets its time and ids."""

    actor: Actor
    source: str  # eventSource, e.g. "ec2.amazonaws.com"
    name: str
    region: str
    read_only: bool
    params: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error: tuple[str, str] | None = None
    data: bool = False  # an S3 data event (eventCategory Data)
    extra: dict[str, Any] | None = None  # additionalEventData, serviceEventDetails, ...
    resources: list[dict[str, str]] | None = None
    host: str | None = None  # clientProvidedHostHeader when not the regional endpoint
    event_type: str = "AwsApiCall"
    bytes_out: int = 0  # S3 additionalEventData.bytesTransferredOut


def _tls(host: str, modern: bool) -> dict[str, str]:
    key = (host, modern)
    tls = _TLS.get(key)
    if tls is None:
        if modern:
            tls = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
        else:
            tls = {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256"}
        tls["clientProvidedHostHeader"] = host
        _TLS[key] = tls
    return tls


def render(call: Call, t: int, ids: Ids | _Holes, event_time: str = "") -> dict[str, Any]:
    """The record as CloudTrail writes it, keys in AWS's order."""
    actor = call.actor
    service = call.source.partition(".")[0]
    request_id = ids.s3_request_id() if service == "s3" else ids.uuid()
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSIONS.get(service, "1.08"),
        "userIdentity": actor.identity,
        "eventTime": event_time or iso(t),
        "eventSource": call.source,
        "eventName": call.name,
        "awsRegion": call.region,
        "sourceIPAddress": actor.ip,
        "userAgent": actor.user_agent,
    }
    if call.error:
        event["errorCode"], event["errorMessage"] = call.error
    event["requestParameters"] = call.params
    response = call.response
    if response and service == "ec2":  # EC2 echoes the request id in its response
        first = next(iter(response))
        if first.endswith("Response"):  # the wrapped style of CreateFleet and friends
            response = {first: {**response[first], "requestId": request_id}}
        else:
            response = {"requestId": request_id, **response}
    event["responseElements"] = response
    if call.extra:
        event.update(call.extra)
    if service == "s3":
        event["additionalEventData"] = {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": ids.amz_id_2(),
            "bytesTransferredOut": call.bytes_out,
        }
    event["requestID"] = request_id
    event["eventID"] = ids.uuid()
    event["readOnly"] = call.read_only
    if call.resources:
        event["resources"] = call.resources
    event["eventType"] = call.event_type
    event["managementEvent"] = not call.data
    event["recipientAccountId"] = ACCOUNT_ID
    event["eventCategory"] = "Data" if call.data else "Management"
    if actor.tls:
        host = call.host or GLOBAL_HOSTS.get(service) or f"{service}.{call.region}.amazonaws.com"
        event["tlsDetails"] = _tls(host, not actor.console)
    if actor.console:
        event["sessionCredentialFromConsole"] = "true"
    return event


# --- error wording -------------------------------------------------------------------------


def not_authorized(principal_arn: str, action: str, resource: str) -> tuple[str, str]:
    """IAM's implicit deny, as IAM and STS word it."""
    return (
        "AccessDenied",
        f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action",
    )


def explicit_deny(principal_arn: str, action: str, resource: str | None = None) -> tuple[str, str]:
    """An explicit deny, e.g. by the AWSCompromisedKeyQuarantineV2 policy."""
    on = f" on resource: {resource}" if resource else ""
    return (
        "AccessDenied",
        f"User: {principal_arn} is not authorized to perform: {action}{on} "
        "with an explicit deny in an identity-based policy",
    )


def ec2_explicit_deny(ids: Ids, principal_arn: str, action: str, resource: str) -> tuple[str, str]:
    """EC2's Client.UnauthorizedOperation with the readable reason before the encoded message."""
    encoded = ids.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 420)
    return (
        "Client.UnauthorizedOperation",
        f"You are not authorized to perform this operation. User: {principal_arn} is not "
        f"authorized to perform: {action} on resource: {resource} with an explicit deny in an "
        f"identity-based policy. Encoded authorization failure message: {encoded}",
    )


DRY_RUN = ("Client.DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
VCPU_LIMIT = (
    "Client.VcpuLimitExceeded",
    "You have requested more vCPU capacity than your current vCPU limit of 32 allows for the "
    "instance bucket that the specified instance type belongs to. Please visit "
    "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
)
PENDING_VERIFICATION = (
    "Client.PendingVerification",
    "Your request for accessing resources in this region is being validated, and you will not "
    "be able to launch additional resources in this region until the validation is complete. "
    "We will notify you by email once your request has been validated. While normally resolved "
    "within minutes, please allow up to 4 hours for this process to complete. If the issue "
    "still persists, please let us know by writing to aws-verification@amazon.com for further "
    "assistance.",
)


def insufficient_capacity(instance_type: str, region: str) -> tuple[str, str]:
    return (
        "Server.InsufficientInstanceCapacity",
        f"We currently do not have sufficient {instance_type} capacity in the Availability Zone "
        f"you requested ({region}a). Our system will be working on provisioning additional "
        f"capacity. You can currently get {instance_type} capacity by not specifying an "
        f"Availability Zone in your request or choosing {region}b, {region}c.",
    )


def dependency_violation(group_id: str) -> tuple[str, str]:
    return ("Client.DependencyViolation", f"resource {group_id} has a dependent object")


class _Holes:
    """Stands in for `Ids` while a template is rendered: every id becomes a marked hole."""

    def __init__(self) -> None:
        self._uuids = 0

    def uuid(self) -> str:
        self._uuids += 1
        return f"{MARK}U{self._uuids}{MARK}"

    def s3_request_id(self) -> str:
        return f"{MARK}S{MARK}"

    def amz_id_2(self) -> str:
        return f"{MARK}X{MARK}"


MARK = "@@"  # never appears in the story's values


class Template:
    """A call rendered once into JSON text with holes for its time and ids: each copy of a
    baseline call then costs a string join instead of a dict build and a `json.dumps`."""

    __slots__ = ("proto", "_parts", "_holes")

    def __init__(self, call: Call) -> None:
        self.proto = render(call, 0, _Holes(), event_time=f"{MARK}T{MARK}")
        self._parts = json.dumps(self.proto, separators=(",", ":")).split(MARK)
        self._holes = sorted(set(self._parts[1::2]))

    def fill(self, t: int, ids: Ids) -> str:
        """The record's JSON text at time `t`, with fresh ids."""
        values = {}
        for hole in self._holes:  # a fixed order of draws keeps the output reproducible
            if hole == "T":
                values[hole] = iso(t)
            elif hole == "S":
                values[hole] = ids.s3_request_id()
            elif hole == "X":
                values[hole] = ids.amz_id_2()
            else:
                values[hole] = ids.uuid()
        parts = self._parts[:]
        parts[1::2] = [values[hole] for hole in parts[1::2]]
        return "".join(parts)


class Recorder:
    """Renders a scene's calls in order and files each record under a category (intrusion,
    aws_response, responder, owner, ...), which the ground truth counts but never writes.

    A scene may also say what it meant a call to be (`intent`: escalation, persistence, launch):
    the ground truth counts what the generator did by these, never by a list of event names that
    would copy the definitions it is there to check."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.intents: dict[str, str] = {}  # eventID -> what the scene meant the call to be

    def add(self, category: str, t: int, call: Call, intent: str | None = None) -> dict[str, Any]:
        event = render(call, t, self.ids)
        self.events.setdefault(category, []).append(event)
        if intent:
            self.intents[event["eventID"]] = intent
        return event
