"""`forensics acquire`: evidence out of an AWS account, read-only, into a folder `load` reads,
with a manifest (acquisition.json) that seals what was fetched, from where, by whom.

- CloudTrail from each trail's S3 bucket (DescribeTrails; account and organization layouts), only
  the day folders of the window, reaching an hour past its end for late deliveries, digests with
  their S3 metadata (the newest digest's signature lives only there);
- CloudTrail LookupEvents where no trail bucket could be read (every Region, 2 calls/s);
- any S3 prefix given (VPC flow logs, CUR / Data Exports / FOCUS), windowed by day folders;
- GuardDuty findings (every detector, every Region) and AWS Health events where readable;
- CloudTrail's public keys per Region, for `verify` offline.

Every S3 version and delete marker is kept; a second run fetches only what is missing or changed.
boto3 is an optional dependency (`pip install forensics[acquire]`).
"""

from __future__ import annotations

import logging
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ForensicsError
from .manifest import Manifest, now_iso

log = logging.getLogger(__name__)

LATE_DELIVERY = timedelta(hours=1)  # log files are delivered ~5 min late, not guaranteed
DIGEST_REACH = timedelta(hours=2)  # the digest covering deliveries up to end + 1 h
_ARN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$")
_STAMP = re.compile(r"_(\d{8}T\d{4}(?:\d{2})?Z)(?:_backfill)?\.json\.gz$")


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise ForensicsError("acquire needs boto3: pip install 'forensics[acquire]'") from None
    return boto3


@dataclass
class Options:
    out: Path
    start: datetime | None = None
    end: datetime | None = None
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    role_name: str | None = None
    s3_prefixes: list[str] = field(default_factory=list)  # s3://bucket/prefix (flow logs, billing)
    lookup: str = "auto"  # auto: only where no trail bucket could be read | always | never
    guardduty: bool = True
    health: bool = True


@dataclass
class Summary:
    seal: str
    manifest: str
    caller: dict[str, Any]
    counts: dict[str, int]
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "seal": self.seal,
            "caller": self.caller,
            "counts": self.counts,
            "problems": self.problems,
        }


def acquire(
    opts: Options,
    session: Any = None,
    on_problem: Callable[[str], None] = lambda line: None,
    progress: Callable[[str, int, int], None] | None = None,
    clients: Callable[[Any, str, str], Any] | None = None,
) -> Summary:
    """Run the acquisition into `opts.out`; returns the manifest's seal and what was fetched.

    `clients(session, service, region)` builds clients (tests hand botocore Stubbers out here)."""
    boto3 = _boto3()
    session = session or boto3.Session()
    make = clients or (lambda s, service, region: s.client(service, region_name=region))
    manifest = Manifest(opts.out)
    counts: dict[str, int] = {
        "objects_downloaded": 0,
        "objects_unchanged": 0,
        "delete_markers": 0,
        "lookup_events": 0,
        "guardduty_findings": 0,
        "health_events": 0,
        "public_keys": 0,
        "trails": 0,
    }
    problems: list[str] = []

    def problem(line: str) -> None:
        problems.append(line)
        manifest.problem(line)
        on_problem(line)

    caller = make(session, "sts", "us-east-1").get_caller_identity()
    caller = {k: caller.get(k) for k in ("UserId", "Account", "Arn")}
    run = {
        "started_at": now_iso(),
        "caller": caller,
        "tool": "forensics",
        "tool_version": __version__,
        "host": platform.node(),
        "window": {"from": _iso(opts.start), "to": _iso(opts.end)},
        "accounts": opts.accounts,
        "regions": opts.regions,
        "role_name": opts.role_name,
    }
    manifest.doc["runs"].append(run)
    manifest.doc.setdefault("caller", caller)  # the first acquirer; every run is in `runs`
    manifest.doc.setdefault("started_at", run["started_at"])
    manifest.doc["tool_version"] = __version__
    manifest.doc["window"] = run["window"]
    manifest.save()

    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("acquiring", done, None)

    try:
        for account, acct_session in _sessions(session, caller, opts, make, problem):
            regions = opts.regions or _regions(make, acct_session, problem)
            trails = _trails(make, acct_session, regions, problem)
            counts["trails"] += len(trails)
            read_buckets = 0
            digest_regions: set[str] = set()
            seen_buckets: set[tuple[str, str]] = set()
            for trail in trails:
                where = (trail["S3BucketName"], trail.get("S3KeyPrefix") or "")
                if where in seen_buckets:
                    continue
                seen_buckets.add(where)
                try:
                    got = _trail_bucket(
                        make, acct_session, trail, account, opts, manifest, tick, digest_regions
                    )
                except _client_error() as exc:
                    url = f"s3://{where[0]}/{where[1]}"
                    problem(f"trail {trail['Name']}: bucket {url} not readable ({_code(exc)})")
                    continue
                read_buckets += 1
                counts["objects_downloaded"] += got["downloaded"]
                counts["objects_unchanged"] += got["unchanged"]
                counts["delete_markers"] += got["delete_markers"]
            if opts.lookup == "always" or (opts.lookup == "auto" and read_buckets == 0):
                counts["lookup_events"] += _lookups(
                    make, acct_session, account, regions, opts, manifest, problem
                )
            for region in sorted(digest_regions):
                try:
                    counts["public_keys"] += _api().public_keys(
                        make(acct_session, "cloudtrail", region), region, opts.start, opts.end, manifest
                    )
                except _client_error() as exc:
                    problem(f"ListPublicKeys in {region}: {_code(exc)} (verify needs --public-key)")
            if opts.guardduty:
                for region in regions:
                    try:
                        counts["guardduty_findings"] += _api().guardduty_findings(
                            make(acct_session, "guardduty", region), account, region, opts.start, manifest
                        )
                    except _client_error() as exc:
                        problem(f"GuardDuty in {region}: {_code(exc)}")
            if opts.health:
                try:
                    n = _api().health_events(
                        make(acct_session, "health", "us-east-1"), account, opts.start, opts.end, manifest
                    )
                    counts["health_events"] += n or 0
                except _client_error() as exc:
                    problem(f"AWS Health: {_code(exc)}")
        for url in opts.s3_prefixes:
            bucket, prefix = _parse_s3(url)
            s3 = make(session, "s3", opts.regions[0] if opts.regions else "us-east-1")
            try:
                got = _s3().fetch_prefix(
                    s3,
                    bucket,
                    prefix,
                    manifest,
                    keep=lambda key: _s3().in_window_by_day(
                        key, opts.start, _end_reach(opts.end, LATE_DELIVERY)
                    ),
                    on_object=tick,
                    source="s3-prefix",
                )
            except _client_error() as exc:
                problem(f"{url}: not readable ({_code(exc)})")
                continue
            counts["objects_downloaded"] += got["downloaded"]
            counts["objects_unchanged"] += got["unchanged"]
            counts["delete_markers"] += got["delete_markers"]
    finally:
        run["finished_at"] = now_iso()
        run["counts"] = counts
        manifest.doc["finished_at"] = run["finished_at"]
        seal = manifest.save()
    return Summary(seal, str(manifest.path), caller, counts, problems)


def _api() -> Any:
    from . import api

    return api


def _s3() -> Any:
    from . import s3

    return s3


def _client_error() -> type[Exception]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)  # type: ignore[return-value]


def _code(exc: Exception) -> str:
    resp = getattr(exc, "response", None) or {}
    return resp.get("Error", {}).get("Code") or type(exc).__name__


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _end_reach(end: datetime | None, reach: timedelta) -> datetime | None:
    return end + reach if end else None


def _parse_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise ForensicsError(f"{url}: expected s3://bucket/prefix")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix


def _sessions(session: Any, caller: dict[str, Any], opts: Options, make: Any, problem: Any) -> Any:
    """(account, session) for the caller's account and, through --role-name, the others."""
    # "all": every account folder of the trail buckets the caller can read (an organization trail)
    accounts = [a for a in opts.accounts if a != "all"] or [caller["Account"]]
    for account in accounts:
        if account == caller["Account"]:
            yield account, session
            continue
        if not opts.role_name:
            problem(f"account {account}: not the caller's; give --role-name to assume a role there")
            continue
        arn = f"arn:aws:iam::{account}:role/{opts.role_name}"
        try:
            creds = make(session, "sts", "us-east-1").assume_role(
                RoleArn=arn, RoleSessionName="forensics-acquire"
            )["Credentials"]
        except _client_error() as exc:
            problem(f"account {account}: cannot assume {arn} ({_code(exc)})")
            continue
        yield (
            account,
            _boto3().Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            ),
        )


def _regions(make: Any, session: Any, problem: Any) -> list[str]:
    try:
        resp = make(session, "ec2", "us-east-1").describe_regions()
        return sorted(r["RegionName"] for r in resp["Regions"])
    except _client_error() as exc:
        problem(f"DescribeRegions: {_code(exc)}; using every Region botocore knows for CloudTrail")
        return sorted(session.get_available_regions("cloudtrail"))


def _trails(make: Any, session: Any, regions: list[str], problem: Any) -> list[dict[str, Any]]:
    """Every trail the account sees (shadow trails too: an organization's trail in a member
    account), once per ARN; the home Region from the ARN (GetTrail may omit HomeRegion)."""
    trails: dict[str, dict[str, Any]] = {}
    for region in regions:
        try:
            resp = make(session, "cloudtrail", region).describe_trails(includeShadowTrails=True)
        except _client_error() as exc:
            problem(f"DescribeTrails in {region}: {_code(exc)}")
            continue
        for t in resp.get("trailList", []):
            if t.get("TrailARN") and t["TrailARN"] not in trails and t.get("S3BucketName"):
                m = _ARN.match(t["TrailARN"])
                t = dict(t)
                if m and not t.get("HomeRegion"):
                    t["HomeRegion"] = m.group(1)
                trails[t["TrailARN"]] = t
    return list(trails.values())


def _trail_bucket(
    make: Any,
    session: Any,
    trail: dict[str, Any],
    account: str,
    opts: Options,
    manifest: Manifest,
    tick: Any,
    digest_regions: set[str],
) -> dict[str, int]:
    """The trail's CloudTrail and CloudTrail-Digest folders, day by day in the window."""
    s3mod = _s3()
    bucket = trail["S3BucketName"]
    prefix = trail.get("S3KeyPrefix") or ""
    base = f"{prefix.rstrip('/')}/AWSLogs/" if prefix else "AWSLogs/"
    s3 = make(session, "s3", trail.get("HomeRegion") or "us-east-1")
    # account layout AWSLogs/<acct>/, organization layout AWSLogs/<o-id>/<acct>/
    roots = []
    for p in s3mod.common_prefixes(s3, bucket, base):
        name = p[len(base) :].rstrip("/")
        if name.startswith("o-"):
            roots += [q for q in s3mod.common_prefixes(s3, bucket, p) if _wanted(q, opts, account)]
        elif _wanted(p, opts, account):
            roots.append(p)
    log_end = _end_reach(opts.end, LATE_DELIVERY)
    digest_end = _end_reach(opts.end, DIGEST_REACH)
    counts = {"downloaded": 0, "unchanged": 0, "delete_markers": 0}
    for root in roots:
        for kind, end in (("CloudTrail", log_end), ("CloudTrail-Digest", digest_end)):
            for region_prefix in s3mod.common_prefixes(s3, bucket, f"{root}{kind}/"):
                region = region_prefix.rstrip("/").rsplit("/", 1)[-1]
                if opts.regions and region not in opts.regions:
                    continue
                if kind == "CloudTrail-Digest":
                    digest_regions.add(region)
                days = s3mod.day_prefixes(opts.start, end)
                for day in days if days is not None else [""]:
                    got = s3mod.fetch_prefix(
                        s3,
                        bucket,
                        region_prefix + day,
                        manifest,
                        keep=lambda key, end=end: _in_window(key, opts.start, end),
                        on_object=tick,
                        source=f"cloudtrail:{trail['Name']}",
                    )
                    for k in counts:
                        counts[k] += got[k]
    return counts


def _wanted(account_prefix: str, opts: Options, account: str) -> bool:
    """An account folder of the bucket to fetch: the asked accounts, or (none asked) the
    caller's own; an organization bucket read with --account all lists every account."""
    name = account_prefix.rstrip("/").rsplit("/", 1)[-1]
    if opts.accounts:
        return name in opts.accounts or "all" in opts.accounts
    return name == account


def _in_window(key: str, start: datetime | None, end: datetime | None) -> bool:
    """A file whose name stamp (delivery time) lies in [start, end]; unnamed files are kept."""
    m = _STAMP.search(key)
    if m is None:
        return True
    stamp = m.group(1)
    t = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ" if len(stamp) == 16 else "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    return (start is None or t >= start.replace(second=0, microsecond=0)) and (end is None or t <= end)


def _lookups(
    make: Any, session: Any, account: str, regions: list[str], opts: Options, manifest: Manifest, problem: Any
) -> int:
    end = opts.end or datetime.now(UTC)
    start = opts.start or end - timedelta(days=90)
    n = 0
    for region in regions:
        try:
            n += _api().lookup_events(
                make(session, "cloudtrail", region), account, region, start, end, manifest
            )
        except _client_error() as exc:
            problem(f"LookupEvents in {region}: {_code(exc)}")
    return n
