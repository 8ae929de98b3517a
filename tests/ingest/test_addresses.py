"""The `addresses` table: every address of the case looked up once from offline ASN data, with the
network DESIGN.md defines (New network)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

import forensics
from forensics.ingest import addresses


def _trail(folder: Path, ips: list[str], first: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "eventVersion": "1.08",
            "eventTime": f"2026-03-01T09:00:{i:02d}Z",
            "eventID": f"00000000-0000-0000-0000-{i:012d}",
            "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets",
            "awsRegion": "us-east-1",
            "sourceIPAddress": ip,
            "userAgent": "aws-cli/2.15.30",
            "userIdentity": {
                "type": "IAMUser",
                "arn": "arn:aws:iam::111122223333:user/dev-ana",
                "accountId": "111122223333",
                "accessKeyId": "AKIAEXAMPLEOWNER0001",
                "userName": "dev-ana",
            },
            "readOnly": True,
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333",
        }
        for i, ip in enumerate(ips, start=first)
    ]
    path = folder / "111122223333_CloudTrail_us-east-1_20260301T0900Z_a.json"
    path.write_text(json.dumps({"Records": records}))
    return folder


def _networks(case: forensics.Case) -> dict[str, tuple]:
    sql = "SELECT address, kind, network, provider, is_aws, dataset FROM addresses"
    rows = case.con.execute(sql).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_leading_zero_and_malformed_addresses_are_their_own_network_never_octal():
    # geoip2fast alone reads 075.050.255.67 as octal 61.40.255.67 (LG DACOM, Korea)
    assert addresses.lookup("075.050.255.67").kind == "malformed"
    assert addresses.lookup("075.050.255.67").asn_name is None
    assert addresses.lookup("1.2.3").kind == "malformed"


def test_ipv4_mapped_ipv6_is_the_ipv4_address():
    mapped = addresses.lookup("::ffff:45.155.205.107")
    assert mapped.normalised == "45.155.205.107"
    assert mapped.asn_name == "LeaseWeb Netherlands B.V."  # not IANA's broadcast address


def test_the_load_fills_addresses_once_with_networks_from_the_vocabulary(tmp_path):
    ips = ["45.155.205.107", "18.236.253.47", "73.1.1.1", "075.050.255.67", "10.0.3.17", "203.0.113.9"]
    with forensics.Case(tmp_path / "case.duckdb") as case:
        report = case.load([_trail(tmp_path / "ev", ips)])
        assert report.reconciles()
        nets = _networks(case)
        assert set(nets) == set(ips)
        assert nets["45.155.205.107"][:3] == ("public", "45.155.200.0/22", "LeaseWeb")
        assert nets["18.236.253.47"][1:4] == ("18.236.0.0/15", "AWS", True)  # EC2: the announced prefix
        assert nets["73.1.1.1"][1:3] == ("AS COMCAST-7922", None)  # an ordinary ISP: the AS
        assert nets["075.050.255.67"][:2] == ("malformed", "075.050.255.67")
        assert nets["10.0.3.17"][:2] == ("private", "10.0.3.17")
        assert nets["203.0.113.9"][:2] == ("reserved", "203.0.113.9")
        assert "GeoLite2" in nets["45.155.205.107"][4]
        meta = case.con.execute("SELECT value FROM case_meta WHERE key = 'address_dataset'").fetchall()
        assert meta and "GeoLite2" in meta[0][0]
        # a second load adds only what is new
        case.load([_trail(tmp_path / "ev2", ["45.155.205.107", "8.8.8.8"], first=10)])
        assert case.con.execute("SELECT count(*) FROM addresses").fetchall()[0][0] == len(ips) + 1


def test_a_case_written_before_addresses_gets_them_on_its_next_read_write_open(tmp_path):
    path = tmp_path / "case.duckdb"
    with forensics.Case(path) as case:
        case.load([_trail(tmp_path / "ev", ["45.155.205.107", "73.1.1.1"])])
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE addresses")
    con.execute("DELETE FROM case_meta WHERE key = 'addresses_filled'")
    con.close()
    with forensics.Case(path, read_only=True) as case:  # read-only: every address its own network
        assert case.con.execute("SELECT count(*) FROM identity_network").fetchall()[0][0] == 2
    with forensics.Case(path) as case:
        assert _networks(case)["45.155.205.107"][1] == "45.155.200.0/22"
