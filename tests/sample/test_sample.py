"""The sample generator: deterministic, within size limits, and its ground truth agrees with
facts re-derived from the raw files with plain Python (gzip, json, csv), not generator code."""

from __future__ import annotations

import csv
import gzip
import hashlib
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from forensics.sample import generate_sample

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "sample_data"
QUARANTINE = "AWSCompromisedKeyQuarantine"
GLOBAL = {"iam", "sts", "signin", "organizations", "cloudfront", "route53", "support", "health", "ce"}


# --- helpers: read the evidence as an analyst would ---------------------------------------


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def cloudtrail(root: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted((root / "evidence" / "AWSLogs").glob("*/CloudTrail/*/*/*/*/*.json.gz")):
        with gzip.open(path) as f:
            records.extend(json.load(f)["Records"])
    return records


def cur_rows(root: Path) -> list[dict[str, str]]:
    manifest = next((root / "evidence" / "billing").rglob("*-Manifest.json"))
    key = json.loads(manifest.read_text())["reportKeys"][0]
    data = root / "evidence" / "billing" / key
    with gzip.open(data, "rt", newline="") as f:
        return list(csv.DictReader(f))


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def launched(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """instance id -> {region, volume, terminated} from launch and terminate responses."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r["eventTime"]):
        if r.get("errorCode") or not r.get("responseElements"):
            continue
        if r["eventName"] == "RunInstances":
            for item in r["responseElements"]["instancesSet"]["items"]:
                vols = item.get("blockDeviceMapping", {}).get("items", [])
                out[item["instanceId"]] = {
                    "region": r["awsRegion"],
                    "terminated": None,
                    "volume": vols[0]["ebs"]["volumeId"] if vols else None,
                }
        elif r["eventName"] == "CreateFleet":
            item = r["responseElements"]["CreateFleetResponse"]["fleetInstanceSet"]["item"]
            for instance_id in item["instanceIds"]["item"]:
                out[instance_id] = {"region": r["awsRegion"], "terminated": None, "volume": None}
        elif r["eventName"] == "TerminateInstances":
            for item in r["responseElements"]["instancesSet"]["items"]:
                if item["instanceId"] in out:
                    out[item["instanceId"]]["terminated"] = r["eventTime"]
    return out


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seed7")
    generate_sample(out)
    return out


@pytest.fixture(scope="module")
def truth(sample: Path) -> dict[str, Any]:
    return json.loads((sample / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def records(sample: Path) -> list[dict[str, Any]]:
    return cloudtrail(sample)


@pytest.fixture(scope="module")
def leaked_key(sample: Path) -> str:
    """Taken from AWS's own notice, not from the generator."""
    health = json.loads(next((sample / "evidence" / "health").glob("*.json")).read_text())
    return health["detail"]["affectedEntities"][0]["entityValue"]


@pytest.fixture(scope="module")
def first_use(records: list[dict[str, Any]], leaked_key: str) -> tuple[dict[str, Any], set[str]]:
    seen: set[str] = set()
    key_records = [r for r in records if r["userIdentity"].get("accessKeyId") == leaked_key]
    for r in sorted(key_records, key=lambda r: r["eventTime"]):
        ip = r["sourceIPAddress"]
        if not is_ip(ip):
            continue
        if seen and ip not in seen:
            return r, seen
        seen.add(ip)
    raise AssertionError("no new address for the leaked key")


@pytest.fixture(scope="module")
def intrusion(
    records: list[dict[str, Any]], leaked_key: str, first_use: tuple[dict[str, Any], set[str]]
) -> list[dict[str, Any]]:
    first, known = first_use
    return [
        r
        for r in records
        if r["userIdentity"].get("accessKeyId") == leaked_key
        and r["eventTime"] >= first["eventTime"]
        and r["sourceIPAddress"] not in known
    ]


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(sample: Path, tmp_path: Path) -> None:
    generate_sample(tmp_path)
    assert tree_hashes(tmp_path) == tree_hashes(sample)


def test_another_seed_gives_other_evidence(sample: Path, tmp_path: Path) -> None:
    other = generate_sample(tmp_path, seed=8)
    assert (
        other["leaked_access_key"]
        != json.loads((sample / "ground_truth.json").read_text())["leaked_access_key"]
    )
    assert set(tree_hashes(tmp_path).values()).isdisjoint(
        h for name, h in tree_hashes(sample).items() if name.endswith(".gz")
    )


def test_shipped_sample_data_is_a_fresh_default_generation(sample: Path) -> None:
    assert SHIPPED.is_dir(), "sample_data/ is missing: run `forensics sample sample_data`"
    assert tree_hashes(SHIPPED) == tree_hashes(sample)


def test_shipped_sample_stays_small() -> None:
    files = [p for p in SHIPPED.rglob("*") if p.is_file()]
    assert len(files) < 3000
    assert sum(p.stat().st_size for p in files) < 15 * 1024 * 1024


# --- the facts, re-derived from raw files ----------------------------------------------------


def test_first_use_is_the_attacker_address(
    truth: dict[str, Any], first_use: tuple[dict[str, Any], set[str]]
) -> None:
    first, known = first_use
    assert truth["first_use"]["time"] == first["eventTime"]
    assert truth["first_use"]["source_ip"] == first["sourceIPAddress"]
    assert truth["first_use"]["user_agent"] == first["userAgent"]
    assert truth["first_use"]["event_name"] == first["eventName"]
    assert truth["owner_ips"] == sorted(known)
    assert ipaddress.ip_address(first["sourceIPAddress"]).is_global


def test_owner_keeps_using_the_key_during_the_incident(
    records: list[dict[str, Any]], leaked_key: str, truth: dict[str, Any]
) -> None:
    owner_after = [
        r
        for r in records
        if r["userIdentity"].get("accessKeyId") == leaked_key
        and r["eventTime"] > truth["first_use"]["time"]
        and r["sourceIPAddress"] in truth["owner_ips"]
    ]
    assert owner_after, "the owner's own use must overlap the intrusion"


def test_launch_regions(truth: dict[str, Any], intrusion: list[dict[str, Any]]) -> None:
    launches = [
        r
        for r in intrusion
        if r["eventName"] in ("RunInstances", "CreateFleet")
        and r.get("errorCode") != "Client.DryRunOperation"
    ]
    succeeded = {r["awsRegion"] for r in launches if not r.get("errorCode")}
    attempted = {r["awsRegion"] for r in launches}
    assert sorted(succeeded) == truth["regions_succeeded"]
    assert set(truth["regions_failed"]) == attempted - succeeded
    assert len(attempted) == 17
    for region, code in truth["regions_failed"].items():
        assert code in {r.get("errorCode") for r in launches if r["awsRegion"] == region}


def test_instances_and_still_running(
    truth: dict[str, Any], records: list[dict[str, Any]], intrusion: list[dict[str, Any]]
) -> None:
    created = launched(intrusion)
    everything = launched(records)
    assert sorted(created) == sorted(i for ids in truth["instances"].values() for i in ids)
    still = sorted(i for i in created if everything[i]["terminated"] is None)
    assert still == truth["still_running"]
    assert len({created[i]["region"] for i in still}) == 1


def test_incident_cost_from_the_cur(
    truth: dict[str, Any], sample: Path, intrusion: list[dict[str, Any]]
) -> None:
    created = launched(intrusion)
    ids = set(created) | {c["volume"] for c in created.values() if c["volume"]}
    rows = cur_rows(sample)
    total = sum(float(r["lineItem/UnblendedCost"]) for r in rows if r["lineItem/ResourceId"] in ids)
    assert total == pytest.approx(truth["incident_cost"]["total"], abs=0.01)
    assert truth["incident_cost"]["currency"] == "USD"
    billed = {r["lineItem/ResourceId"] for r in rows if r["lineItem/ResourceId"] in ids}
    assert set(created) <= billed, "every attacker instance appears in the bill"
    assert any(re.match(r"^(APN1|USW2|EU)-BoxUsage:", r["lineItem/UsageType"]) for r in rows)
    assert any(r["lineItem/UsageType"].startswith("BoxUsage:p3") for r in rows)


def test_quarantine_and_health(truth: dict[str, Any], records: list[dict[str, Any]], leaked_key: str) -> None:
    attach = [
        r
        for r in records
        if r["eventName"] == "AttachUserPolicy"
        and QUARANTINE in (r["requestParameters"] or {}).get("policyArn", "")
    ]
    assert len(attach) == 1
    assert truth["quarantine"]["time"] == attach[0]["eventTime"]
    assert truth["leaked_access_key"] == leaked_key
    denied_after = [
        r
        for r in records
        if r["userIdentity"].get("accessKeyId") == leaked_key
        and r["eventTime"] > attach[0]["eventTime"]
        and "explicit deny in an identity-based policy" in r.get("errorMessage", "")
    ]
    assert denied_after


def test_used_regions(truth: dict[str, Any], records: list[dict[str, Any]], sample: Path) -> None:
    start = truth["first_use"]["time"]
    writes = {
        r["awsRegion"]
        for r in records
        if not r["readOnly"] and r["eventTime"] < start and r["eventSource"].split(".")[0] not in GLOBAL
    }
    billed = {
        r["product/region"]
        for r in cur_rows(sample)
        if r["product/region"] and r["lineItem/UsageEndDate"][:19] <= start[:19]
    }
    assert sorted(writes | billed) == truth["used_regions"] == ["ap-northeast-1", "us-east-1"]


def test_escalation_attempts_are_all_denied(truth: dict[str, Any], intrusion: list[dict[str, Any]]) -> None:
    """The generator's escalation attempts (admin on itself, a key for the CI user, an inline
    admin policy, a new default policy version) are all refused; the new user and the login for
    itself are persistence attempts, not escalation (DESIGN.md, Privilege escalation)."""
    names = set(truth["escalation_attempts"]["event_names"])
    assert names == {"AttachUserPolicy", "CreateAccessKey", "PutUserPolicy", "CreatePolicyVersion"}
    assert truth["escalation_attempts"]["total"] == truth["escalation_attempts"]["denied"] == 4
    attempts = [r for r in intrusion if r["eventName"] in names and r["eventSource"] == "iam.amazonaws.com"]
    assert attempts and all(r["errorCode"] in ("AccessDenied", "AccessDeniedException") for r in attempts)


def test_records_look_like_cloudtrail(records: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids)) == truth["counts"]["cloudtrail_events"]["total"]
    for r in records[:: max(1, len(records) // 500)]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["eventTime"])
        assert r["recipientAccountId"] == truth["account_id"]
        assert r["eventVersion"] in {"1.08", "1.09", "1.10", "1.11"}
        assert r["eventCategory"] in {"Management", "Data"}


def test_files_are_not_time_sorted_inside(sample: Path) -> None:
    shuffled = 0
    for path in sorted((sample / "evidence" / "AWSLogs").glob("*/CloudTrail/*/*/*/*/*.json.gz")):
        times = [r["eventTime"] for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]]
        shuffled += times != sorted(times)
    assert shuffled > 100


def test_flow_logs_show_mining_and_ssh(sample: Path, truth: dict[str, Any]) -> None:
    headers, lines = set(), []
    for path in (sample / "evidence" / "AWSLogs").glob("*/vpcflowlogs/*/*/*/*/*.log.gz"):
        text = gzip.decompress(path.read_bytes()).decode().splitlines()
        headers.add(text[0])
        lines += [dict(zip(text[0].split(), line.split(), strict=True)) for line in text[1:]]
    assert any(h.startswith("version account-id interface-id srcaddr") for h in headers)
    assert any("instance-id" in h and "pkt-srcaddr" in h and "flow-direction" in h for h in headers)
    pools = {ln["dstaddr"] for ln in lines if ln["dstport"] in ("3333", "4444", "14444")}
    assert pools
    ssh = {ln["srcaddr"] for ln in lines if ln["dstport"] == "22" and ln["action"] == "ACCEPT"}
    assert ssh & set(truth["attacker_ips"])
    running = set(truth["still_running"])
    last = max(int(ln["end"]) for ln in lines if ln.get("instance-id") in running)
    assert last > max(int(ln["end"]) for ln in lines if ln.get("instance-id", "-") not in running | {"-"})


def test_side_cases(truth: dict[str, Any], records: list[dict[str, Any]]) -> None:
    exfil = truth["exfiltration"]
    away = [
        r
        for r in records
        if r["userIdentity"].get("arn") == exfil["session_arn"]
        and r["sourceIPAddress"] == exfil["outside_ip"]
    ]
    assert min(r["eventTime"] for r in away) == exfil["time"]
    assert {r["userIdentity"]["sessionContext"]["ec2RoleDelivery"] for r in away} == {"1.0"}
    get_object = [r for r in away if r["eventName"] == "GetObject"]
    assert get_object and all(
        r["eventCategory"] == "Data" and r["managementEvent"] is False and r["readOnly"] is True
        for r in get_object
    )
    loop = truth["lambda_loop"]
    assert loop["event_count"] > 1000 and 80 <= loop["cost"] <= 120


# --- scale -----------------------------------------------------------------------------------


def test_scale_multiplies_only_the_baseline(
    sample: Path, records: list[dict[str, Any]], truth: dict[str, Any], tmp_path: Path
) -> None:
    big = generate_sample(tmp_path, scale=3)
    baseline = truth["counts"]["cloudtrail_events"]["baseline"]
    assert big["counts"]["cloudtrail_events"]["baseline"] == 3 * baseline
    scaled = {r["eventID"]: r for r in cloudtrail(tmp_path)}
    assert len(scaled) == len(records) + 2 * baseline
    assert all(scaled.get(r["eventID"]) == r for r in records), "scale 1 is a subset"
    volatile = {"generator", "counts", "key_first_seen"}  # copies may come earlier in an hour
    assert {k: v for k, v in big.items() if k not in volatile} == {
        k: v for k, v in truth.items() if k not in volatile
    }
