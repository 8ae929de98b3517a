"""Key chaining end to end: minted keys, a created user and an assumed-role session are
followed; the owner, CI, bob's own key and invokedBy calls are not the intrusion's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import forensics
from forensics.cli import app
from forensics.errors import IndicatorNotFoundError

from . import chain

INTRUDER_ADDRESSES = {chain.ATTACKER, chain.ATTACKER_2}


@pytest.fixture(scope="module")
def story(chain_case: Path) -> dict:
    with forensics.Case(chain_case, read_only=True) as case:
        return case.investigate(access_key=chain.ALICE_KEY)


@pytest.fixture(scope="module")
def raw_events(chain_case: Path) -> list[dict]:
    """The fixture's events as plain rows, for facts computed without the investigator."""
    with forensics.Case(chain_case, read_only=True) as case:
        df = case.sql(
            "SELECT event_time, event_name, source_ip, access_key_id, principal_arn, "
            "invoked_by, outcome FROM cloudtrail ORDER BY event_time"
        )
    return df.to_dicts()


def test_first_use_is_the_attackers_first_call(story: dict) -> None:
    first = story["first_use"]
    assert first["time"] == "2026-10-20T03:10:05Z"
    assert first["source_ip"] == chain.ATTACKER
    assert first["user_agent"] == chain.EVIL_CLI
    assert first["event_name"] == "GetCallerIdentity"
    assert first["region"] == "us-east-1"
    assert story["key_first_seen"] == "2026-09-29T01:13:00Z"


def test_minted_keys_created_user_and_role_session_are_followed(story: dict) -> None:
    minted = [chain.BOB_NEW_KEY, chain.ROLE_KEY, chain.SVC_ARN, chain.SVC_KEY, chain.DAVE_KEY]
    assert story["derived_credentials"] == minted
    assert set(story["access_keys"]) == {chain.ALICE_KEY} | set(minted) - {chain.SVC_ARN}
    assert set(story["principals"]) == {chain.ALICE_ARN, chain.BOB_ARN, chain.SVC_ARN, chain.ROLE_SESSION_ARN}
    assert story["source_ips"] == [chain.ATTACKER, chain.ATTACKER_2]


def test_the_minted_keys_launches_are_the_intrusions(story: dict) -> None:
    run = story["run_instances"]
    assert run["regions"] == ["ap-south-1"]
    assert run["attempted_regions"] == ["ap-south-1", "sa-east-1"]
    assert run["failed_regions"] == ["sa-east-1"]
    assert run["instances"] == [chain.INSTANCE, chain.INSTANCE_2]
    assert run["instance_types"] == {"c5.24xlarge": 2}
    assert run["error_codes"] == {"Client.VcpuLimitExceeded": 1}
    # alice wrote in us-east-1 (S3 is regional here) and eu-west-1 before: those are used.
    assert run["new_regions"] == ["ap-south-1", "sa-east-1"]
    assert story["durations_s"]["first_use_to_run_instances"] == 15 * 60 + 15


def test_the_owner_ci_bob_and_invoked_by_are_not_attributed(story: dict, raw_events) -> None:
    expected = [e for e in raw_events if e["source_ip"] in INTRUDER_ADDRESSES]
    assert story["attribution"]["events"] == len(expected) == 15
    counted = sum(p["events"] for p in story["phases"] if p["phase"] not in ("aws_response", "containment"))
    assert counted == len(expected)
    # alice's office calls during the attack (one of them denied) stay out.
    office_during = [
        e
        for e in raw_events
        if e["source_ip"] == chain.OFFICE and e["event_time"].isoformat() >= "2026-10-20T03:10"
    ]
    assert office_during
    denied_intrusion = sum(1 for e in expected if e["outcome"] == "denied")
    assert sum(p["denied"] for p in story["phases"]) == denied_intrusion == 1
    assert chain.OFFICE not in story["source_ips"] and chain.CI not in story["source_ips"]
    assert chain.BOB_OLD_KEY not in story["access_keys"]


def test_phases_place_the_chain(story: dict) -> None:
    phases = {p["phase"]: p for p in story["phases"]}
    assert phases["initial_access"]["notable"] == ["GetCallerIdentity"]
    assert set(phases["privilege_escalation"]["notable"]) == {"CreateAccessKey", "AttachUserPolicy"}
    assert phases["persistence"]["notable"] == ["CreateUser"]
    assert phases["lateral_movement"]["notable"] == ["AssumeRole"]
    assert phases["credential_access"] == {
        **phases["credential_access"],
        "events": 2,
        "denied": 1,
        "notable": ["GetSecretValue"],
    }
    assert phases["impact"]["events"] == 2
    assert phases["containment"]["events"] == 4
    esc = story["escalation_attempts"]
    # By effect: three keys minted for other users and an admin policy on another; CreateUser
    # gives the caller nothing by itself (persistence).
    assert (esc["total"], esc["succeeded"], esc["denied"]) == (4, 4, 0)
    assert esc["event_names"] == ["AttachUserPolicy", "CreateAccessKey"]


def test_containment_and_what_still_runs(story: dict) -> None:
    contained = story["containment"]
    assert contained["time"] == "2026-10-20T04:30:00Z"
    assert contained["by"] == [chain.RESPONDER_ARN]
    assert [e["event_name"] for e in contained["events"]] == [
        "UpdateAccessKey",
        "DeleteAccessKey",
        "TerminateInstances",
        "DeleteUser",
    ]
    assert story["still_running"] == [chain.INSTANCE_2]
    assert story["aws_quarantine"] is None
    assert story["durations_s"]["first_use_to_containment"] == 4795


def test_known_ips_and_responders_from_the_analyst(chain_case: Path) -> None:
    with forensics.Case(chain_case, read_only=True) as case:
        story = case.investigate(
            access_key=chain.ALICE_KEY, known_ips=[chain.ATTACKER_2], responders=[chain.RESPONDER_ARN]
        )
    assert story["source_ips"] == [chain.ATTACKER]
    assert story["run_instances"]["attempted_regions"] == []
    assert story["containment"]["by"] == [chain.RESPONDER_ARN]


def test_a_minted_key_alone_tells_its_own_story(chain_case: Path) -> None:
    with forensics.Case(chain_case, read_only=True) as case:
        story = case.investigate(access_key=chain.BOB_NEW_KEY)
    # No history: its first event is its first use, and everything it did is the story.
    assert story["first_use"]["time"] == "2026-10-20T03:25:00Z"
    assert story["first_use"]["source_ip"] == chain.ATTACKER_2
    assert story["key_first_seen"] == "2026-10-20T03:25:00Z"
    assert story["attribution"]["events"] == 3
    assert story["run_instances"]["instances"] == [chain.INSTANCE, chain.INSTANCE_2]


def test_the_role_session_from_its_principal_and_its_address(chain_case: Path) -> None:
    with forensics.Case(chain_case, read_only=True) as case:
        by_arn = case.investigate(principal=chain.ROLE_SESSION_ARN)
        by_ip = case.investigate(ip=chain.ATTACKER)
    assert by_arn["access_keys"] == [chain.ROLE_KEY]
    assert by_arn["attribution"]["events"] == 3
    assert by_ip["first_use"]["time"] == "2026-10-20T03:10:05Z"
    assert chain.BOB_NEW_KEY in by_ip["derived_credentials"]


def test_a_minted_but_unused_key_leads_to_its_minter(chain_case: Path) -> None:
    with forensics.Case(chain_case, read_only=True) as case:
        story = case.investigate(access_key=chain.DAVE_KEY)
    assert story["first_use"]["time"] == "2026-10-20T03:10:05Z"
    assert chain.DAVE_KEY in story["derived_credentials"]
    assert story["principal_arn"] == chain.ALICE_ARN


def test_an_indicator_not_in_the_case(chain_case: Path) -> None:
    with forensics.Case(chain_case, read_only=True) as case:
        with pytest.raises(IndicatorNotFoundError):
            case.investigate(access_key="AKIANOTINTHECASE0000")
        with pytest.raises(IndicatorNotFoundError):
            case.investigate(instance="i-0123456789abcdef0")
    result = CliRunner().invoke(
        app, ["investigate", "--case", str(chain_case), "--ip", "192.0.2.99", "--format", "json"]
    )
    assert result.exit_code == 1
    assert "192.0.2.99" in result.stderr


def test_cli_json_is_one_document_with_utc_times(chain_case: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "investigate",
            "--case",
            str(chain_case),
            "--access-key",
            chain.ALICE_KEY,
            "--format",
            "json",
            "--known-ip",
            chain.OFFICE,
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["first_use"]["time"].endswith("Z")
    assert all(p["start"].endswith("Z") for p in doc["phases"])
    assert isinstance(doc["durations_s"]["first_use_to_containment"], int)
    assert doc["derived_credentials"][0] == chain.BOB_NEW_KEY
    md = CliRunner().invoke(app, ["investigate", "--case", str(chain_case), "--access-key", chain.ALICE_KEY])
    assert md.exit_code == 0
    assert "## Credentials the intrusion minted" in md.stdout
    assert chain.BOB_NEW_KEY in md.stdout


def test_cli_needs_exactly_one_indicator(chain_case: Path) -> None:
    result = CliRunner().invoke(app, ["investigate", "--case", str(chain_case)])
    assert result.exit_code == 2


def test_timeline_frame_agrees_with_the_phases(chain_case: Path) -> None:
    from forensics.investigate import api

    with forensics.Case(chain_case, read_only=True) as case:
        story, events = api.timeline(case.con, access_key=chain.ALICE_KEY)
    counts = dict(events.group_by("phase").len().iter_rows())
    assert counts == {p["phase"]: p["events"] for p in story["phases"]}
    assert set(events["actor"]) == {"intrusion", "responder"}
