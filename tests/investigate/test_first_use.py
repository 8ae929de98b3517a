"""The story's first use is the catalogue's (DESIGN.md First use) for the followed key: the same
networks, ties and history as `access_key_new_address`, read with the identity bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import forensics
from forensics.fixtures import write_evidence

OWNER = {"user": "dev-ana", "key": "AKIAEXAMPLEOWNER0001", "ip": "203.0.113.10"}
KEY = OWNER["key"]


def _story(tmp_path: Path, events: list[dict[str, Any]]) -> tuple[dict, list[dict]]:
    write_evidence(tmp_path / "ev", {"cloudtrail": events}, {"actors": {"owner": OWNER}})
    with forensics.Case(tmp_path / "case.duckdb") as case:
        assert case.load([tmp_path / "ev"]).reconciles()
        return case.investigate(access_key=KEY), case.query("access_key_new_address").to_dicts()


def test_sample_first_use_carries_network_history_and_separability(sample_case: Path, ground_truth: dict):
    with forensics.Case(sample_case, read_only=True) as case:
        first = case.investigate(access_key=ground_truth["leaked_access_key"])["first_use"]
    assert first["time"] == "2026-11-16T02:51:43Z"
    assert first["source_ip"] == "45.155.205.107"
    assert first["network"] == "45.155.200.0/22"  # LeaseWeb's announced prefix
    assert first["separable"] is True
    assert first["baseline_hours"] > 24  # two weeks of the owner's history before it
    assert set(first) >= {"time", "source_ip", "network", "user_agent", "event_name", "region",
                          "baseline_hours", "separable"}  # fmt: skip


def test_a_thief_reading_with_the_owners_agent_from_a_host_is_first_use_the_owners_new_line_not(
    tmp_path: Path,
):
    story, hunt = _story(
        tmp_path,
        [  # fmt: skip
            {
                "at": "2026-03-01 09:00:00",
                "actor": "owner",
                "api": "ec2:DescribeInstances",
                "repeat": 3,
                "every": 3600,
            },
            # the owner from a new home line, ordinary calls: a new network, not the intrusion
            {"at": "2026-03-02 19:00:00", "actor": "owner", "ip": "73.1.1.1", "api": "s3:ListBuckets"},
            # the thief: only reads, with the owner's default agent, from LeaseWeb
            {
                "at": "2026-03-03 02:51:43",
                "actor": "owner",
                "ip": "45.155.205.107",
                "api": "sts:GetCallerIdentity",
            },
            {"at": "2026-03-03 02:51:50", "actor": "owner", "ip": "45.155.205.107", "api": "s3:ListBuckets"},
            {"at": "2026-03-03 09:00:00", "actor": "owner", "api": "s3:ListBuckets"},
        ],
    )
    first = story["first_use"]
    assert (first["time"], first["source_ip"], first["event_name"]) == (
        "2026-03-03T02:51:43Z", "45.155.205.107", "GetCallerIdentity",
    )  # fmt: skip
    assert first["separable"] is True and round(first["baseline_hours"], 2) == 41.86
    assert story["attribution"]["addresses"] == ["45.155.205.107"]
    # the hunt says the same: one first use, the owner's line a new network only
    assert [(r["source_ip"], r["first_use"], r["tied"]) for r in hunt] == [
        ("73.1.1.1", False, False),
        ("45.155.205.107", True, True),
    ]


def test_nothing_tied_names_the_keys_first_event_inseparable(tmp_path: Path):
    story, _ = _story(
        tmp_path,
        [
            {"at": "2026-03-01 09:00:00", "actor": "owner", "api": "ec2:DescribeInstances"},
            {"at": "2026-03-02 09:00:00", "actor": "owner", "ip": "73.1.1.1", "api": "ec2:DescribeInstances"},
        ],
    )
    first = story["first_use"]
    assert (first["time"], first["source_ip"]) == ("2026-03-01T09:00:00Z", "203.0.113.10")
    assert first["baseline_hours"] == 0 and first["separable"] is False
