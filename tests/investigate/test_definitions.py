"""The story follows DESIGN.md's Definitions on small intrusions loaded through the real loader
(`incidents.py`): escalation by effect, outcomes, phases by actor, AWS's quarantine in the
user's own account, the intruder's teardown, a CloudFormation backdoor, version 2 flows,
region use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import forensics
from forensics.investigate import api
from forensics.investigate.phases import PHASES
from forensics.plots.theme import PHASE_COLORS

from . import incidents as inc

DESIGN = Path(__file__).resolve().parents[3] / "shared" / "DESIGN.md"


def _story(path: Path, key: str) -> dict:
    with forensics.Case(path, read_only=True) as case:
        return case.investigate(access_key=key)


@pytest.fixture(scope="module")
def erin(incidents_case: Path) -> dict:
    return _story(incidents_case, inc.ERIN_KEY)


@pytest.fixture(scope="module")
def gina(incidents_case: Path) -> dict:
    return _story(incidents_case, inc.GINA_KEY)


def _phase(story: dict, name: str) -> dict:
    return next((p for p in story["phases"] if p["phase"] == name), {"events": 0, "denied": 0, "notable": []})


def test_a_key_minted_for_oneself_is_persistence_not_escalation(erin: dict) -> None:
    esc = erin["escalation_attempts"]
    assert "CreateAccessKey" not in esc["event_names"]
    assert _phase(erin, "persistence")["notable"] == ["CreateAccessKey"]
    assert erin["derived_credentials"] == [inc.ERIN_MINTED]  # still followed


def test_what_a_minted_key_does_through_a_service_is_the_intrusions(incidents_case: Path) -> None:
    """DESIGN.md, Acting for a principal: invokedBy events are the principal's own; a key the
    intrusion minted has no owner, so what it does through CloudFormation is in the story (and
    never its first use or an address)."""
    with forensics.Case(incidents_case, read_only=True) as case:
        story, events = case.timeline(access_key=inc.ERIN_KEY)
    made = events.filter(events["action"] == "CreateBucket")
    assert made.height == 1 and made["phase"].to_list() == ["impact"]
    assert "cloudformation.amazonaws.com" not in story["source_ips"]
    assert story["first_use"]["source_ip"] == inc.EVIL_E


def test_failed_calls_are_never_denied(erin: dict) -> None:
    # Denied admin policy on herself; throttled inline policy; limit on frank's login profile.
    esc = erin["escalation_attempts"]
    assert esc["event_names"] == ["AttachUserPolicy", "CreateLoginProfile", "PutUserPolicy"]
    assert (esc["total"], esc["denied"], esc["failed"], esc["succeeded"]) == (3, 1, 2, 0)
    assert sum(p["denied"] for p in erin["phases"]) == 1
    run = erin["run_instances"]
    assert run["error_codes"] == {"RequestLimitExceeded": 1}
    assert run["failed_regions"] == ["eu-north-1"]


def test_ssm_command_is_execution_and_instance_connect_lateral_movement(erin: dict) -> None:
    assert _phase(erin, "execution")["notable"] == ["SendCommand"]
    assert _phase(erin, "lateral_movement")["notable"] == ["SendSSHPublicKey"]


def test_the_intruders_teardown_is_defense_evasion_not_containment(erin: dict) -> None:
    evasion = _phase(erin, "defense_evasion")
    assert set(evasion["notable"]) == {"TerminateInstances", "DeleteAccessKey"}
    contained = erin["containment"]
    assert contained["by"] == [inc.CARLA_ARN]
    assert [(e["event_name"], e["target"]) for e in contained["events"]] == [("TerminateInstances", inc.I_E1)]
    assert contained["time"] == "2026-10-20T08:40:00Z"
    assert erin["still_running"] == []


def test_quarantine_is_awss_successful_attach_on_the_user_in_its_account(erin: dict) -> None:
    # A namesake erin in account B is quarantined first, then an attach in A is denied.
    quarantine = erin["aws_quarantine"]
    assert quarantine["time"] == "2026-10-20T08:30:00Z"
    assert quarantine["policy"] == inc.QUARANTINE_POLICY
    aws = _phase(erin, "aws_response")
    assert (aws["events"], aws["denied"]) == (1, 0)
    assert erin["durations_s"]["first_use_to_quarantine"] == 30 * 60


def test_version_2_flows_belong_to_their_instance_through_its_interface(erin: dict) -> None:
    flows = {(f["remote_addr"], f["port"]): f for f in erin["flows"]}
    pool = flows[inc.POOL]
    assert pool["instances"] == [inc.I_E1]
    assert pool["flows"] == 12  # both directions on the instance's interface, not the stranger's
    flowless = {g["region"] for g in erin["coverage"]["gaps"] if g["kind"] == "no_flow_logs"}
    assert "ap-northeast-1" not in flowless


def test_instance_interface_view(incidents_case: Path) -> None:
    with forensics.Case(incidents_case, read_only=True) as case:
        rows = case.sql(
            "SELECT account_id, instance_id, interface_id, region, how FROM instance_interface "
            "ORDER BY instance_id, interface_id"
        ).to_dicts()
    assert rows == [
        {
            "account_id": inc.ACCOUNT,
            "instance_id": inc.I_E1,
            "interface_id": inc.ENI_E1,
            "region": "ap-northeast-1",
            "how": ["run_instances"],
        },
        {
            "account_id": inc.ACCOUNT,
            "instance_id": inc.I_E2,
            "interface_id": inc.ENI_E2,
            "region": "ap-northeast-1",
            "how": ["run_instances"],
        },
        {
            "account_id": inc.ACCOUNT,
            "instance_id": inc.I_E2,
            "interface_id": inc.ENI_E3,
            "region": "ap-northeast-1",
            "how": ["attach_network_interface"],
        },
    ]


def test_another_accounts_writes_never_make_a_region_used(erin: dict) -> None:
    # us-east-1: erin's account wrote there before; ap-northeast-1: only account B did.
    assert erin["run_instances"]["new_regions"] == ["ap-northeast-1", "eu-north-1"]


def test_global_services_never_make_a_region_new(incidents_case: Path) -> None:
    # Account B used ap-northeast-1; the intruder's IAM and STS calls log in us-east-1.
    story = _story(incidents_case, inc.ERIN_B_KEY)
    assert story["source_ips"] == [inc.EVIL_B]
    assert story["run_instances"]["regions"] == ["ap-northeast-1"]
    assert story["run_instances"]["new_regions"] == []


def test_region_use_unknown_with_less_than_a_day_of_evidence(incidents_case: Path) -> None:
    story = _story(incidents_case, inc.ZED_KEY)
    assert story["run_instances"]["regions"] == ["us-west-2"]
    assert story["run_instances"]["new_regions"] is None
    stops = [g for g in story["coverage"]["gaps"] if g["kind"] == "trail_stopped"]
    assert [(g["from"], g["to"]) for g in stops] == [("2026-10-21T10:30:40Z", None)]
    assert _phase(story, "defense_evasion")["notable"] == ["StopLogging"]


def test_a_cloudformation_backdoor_is_followed(gina: dict) -> None:
    assert gina["derived_credentials"] == [inc.BACKDOOR_ARN, inc.BACKDOOR_KEY]
    assert inc.BACKDOOR_ARN in gina["principals"]
    # The stack's Auto Scaling launch and the backdoor key's are the intrusion's; gina's own
    # stacks' instances are not.
    assert gina["run_instances"]["instances"] == [inc.I_G2, inc.I_G1]
    assert gina["still_running"] == [inc.I_G2, inc.I_G1]
    # The stack's calls count for effects and phases, never for addresses.
    assert gina["source_ips"] == [inc.EVIL_G, inc.EVIL_G2]
    esc = gina["escalation_attempts"]
    assert (esc["event_names"], esc["succeeded"]) == (["AttachUserPolicy", "CreateAccessKey"], 2)
    assert set(_phase(gina, "persistence")["notable"]) == {"CreateStack", "CreateUser"}
    # The responder's deletion of the stack is containment; gina's later stack is not.
    contained = gina["containment"]
    assert [(e["event_name"], e["principal_arn"]) for e in contained["events"]] == [
        ("DeleteStack", inc.CARLA_ARN)
    ]


def test_the_timeline_phases_invoked_by_events_too(incidents_case: Path) -> None:
    with forensics.Case(incidents_case, read_only=True) as case:
        story, events = api.timeline(case.con, access_key=inc.GINA_KEY)
    counts = dict(events.group_by("phase").len().iter_rows())
    assert counts == {p["phase"]: p["events"] for p in story["phases"]}
    assert events.filter(events["action"] == "CreateUser")["phase"].to_list() == ["persistence"]


def test_phase_names_are_designs() -> None:
    # DESIGN.md's list, in its order; checked against the document itself where it is present.
    design = [
        "initial_access",
        "execution",
        "discovery",
        "credential_access",
        "privilege_escalation",
        "persistence",
        "defense_evasion",
        "lateral_movement",
        "exfiltration",
        "impact",
        "aws_response",
        "containment",
    ]
    assert design == PHASES
    assert list(PHASE_COLORS) == PHASES  # every phase has its colour in the figures
    if DESIGN.is_file():
        text = DESIGN.read_text()
        block = text[text.index("Phase names (also the `tactic`") :]
        block = block[: block.index(". Each event is in one phase")]
        assert re.findall(r"`([a-z_]+)`", block.split(":", 1)[1]) == design


def test_an_instances_profile_reads_its_version_2_flows(incidents_case: Path) -> None:
    with forensics.Case(incidents_case, read_only=True) as case:
        prof = case.profile(inc.I_E1)
    assert {(f["remote_addr"], f["port"]) for f in prof["flows"]} == {inc.POOL}
    assert prof["flows"][0]["flows"] == 12


def test_a_pool_seen_only_in_version_2_flows_leads_to_the_launcher(incidents_case: Path) -> None:
    with forensics.Case(incidents_case, read_only=True) as case:
        story = case.investigate(ip=inc.POOL[0])
    assert story["principal_arn"] == f"arn:aws:iam::{inc.ACCOUNT}:user/erin"
    assert inc.EVIL_E in story["source_ips"]
