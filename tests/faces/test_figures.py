"""Figures on the sample incident: the facts an analyst reads off them are in their data."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl
import pytest

import forensics
from forensics import plots
from forensics.report import frames, story_frames
from forensics.report.figures import incident_window

MINER_PORTS = {3333, 4444, 5555, 7777, 14444, 45700}


def _plot(iso: str) -> str:
    """Ground truth's `2026-11-16T02:51:43Z` as the figures carry it (naive UTC text)."""
    return iso.replace("T", " ").rstrip("Z")


def _vlines(fig: Any) -> dict[str, str]:
    """Vertical lines by the text of their annotation."""
    at = {s.x0 for s in fig.layout.shapes if s.type == "line" and s.xref == "x"}
    return {a.text: a.x for a in fig.layout.annotations if a.xref == "x" and a.x in at}


def _points(fig: Any, name: str) -> int:
    return sum(len(t.x) for t in fig.data if t.name == name)


def test_timeline_draws_each_intrusion_event_once_and_its_denials_apart(
    timeline: pl.DataFrame, story: dict, ground_truth: dict
) -> None:
    fig = plots.attack_timeline(timeline, story)
    lanes = fig.layout.meta["lanes"]
    response = {lanes.index(lane) for lane in ("aws_response", "aws_findings", "containment")}
    intrusion = [(t.name, y) for t in fig.data for y in t.y if y not in response]
    assert len(intrusion) == ground_truth["intrusion_events"] == 127
    assert sum(1 for name, _ in intrusion if name == "denied") == ground_truth["intrusion_denied"]
    assert {"initial_access", "discovery", "privilege_escalation", "impact"} <= set(lanes)
    assert fig.layout.meta["binned"] is False


def test_timeline_marks_first_use_quarantine_and_containment(
    timeline: pl.DataFrame, story: dict, ground_truth: dict
) -> None:
    fig = plots.attack_timeline(timeline, story)
    lines = _vlines(fig)
    first = ground_truth["first_use"]
    assert lines[f"first use ({first['source_ip']})"] == _plot(first["time"])
    assert lines["AWS quarantine AWSCompromisedKeyQuarantineV2"] == _plot(ground_truth["quarantine"]["time"])
    assert lines["containment"] == _plot(ground_truth["containment"]["start"])
    shaded = {s.name.split(":", 1)[1] for s in fig.layout.shapes if (s.name or "").startswith("span:")}
    assert shaded == {p["phase"] for p in story["phases"]}


def test_the_first_use_event_opens_the_initial_access_lane(
    timeline: pl.DataFrame, ground_truth: dict
) -> None:
    first = timeline.filter(pl.col("phase") == "initial_access").sort("time").row(0, named=True)
    assert first["source_ip"] == ground_truth["first_use"]["source_ip"]
    assert first["action"] == ground_truth["first_use"]["event_name"]
    assert first["time"] == dt.datetime(2026, 11, 16, 2, 51, 43, tzinfo=dt.UTC)


def test_timeline_by_actor_separates_intruder_aws_and_responder(
    timeline: pl.DataFrame, story: dict, ground_truth: dict
) -> None:
    fig = plots.attack_timeline(timeline, story, lanes="actor")
    responder = ground_truth["containment"]["responder_principal_arn"].split(":", 5)[-1]
    # Lanes in order of first appearance: the key's user and GuardDuty's PenTest finding
    # (both 02:51:43, the intruder's first), AWS's quarantine (03:21:58), AWS Health's notice
    # (03:23:40), the responder (03:52:10).
    assert fig.layout.meta["lanes"] == [
        "user/" + ground_truth["leaked_user"]["name"],
        "AWS GuardDuty",
        "AWS",
        "AWS Health",
        responder,
    ]


def test_a_dense_timeline_is_binned_and_keeps_every_count(sample: forensics.Case) -> None:
    events = sample.sql(
        """SELECT event_time AS time, 'discovery' AS phase, principal_arn AS actor,
                  event_name AS action, outcome FROM cloudtrail"""
    )
    fig = plots.attack_timeline(events, lanes="actor", max_markers=2000)
    assert fig.layout.meta["binned"] is True
    assert sum(len(t.x) for t in fig.data) <= 2000
    assert sum(sum(t.customdata) for t in fig.data) == events.height == 8907
    denied = sum(sum(t.customdata) for t in fig.data if t.name.startswith("denied"))
    assert denied == events.filter(pl.col("outcome") == "denied").height
    assert "one marker per" in fig.layout.title.text


def test_run_instances_heatmap_lights_every_attempted_region_at_once(
    sample: forensics.Case, story: dict, ground_truth: dict
) -> None:
    start, end = incident_window(story)
    counts = frames.region_activity(sample, "RunInstances", from_time=start, to_time=end)
    fig = plots.region_heatmap(counts)
    heat = fig.data[0]
    run_regions = {r for r, call in ground_truth["launch_calls"].items() if call == "RunInstances"}
    assert run_regions | set(ground_truth["regions_failed"]) <= set(heat.y)
    independent = sample.sql(
        """SELECT event_time, aws_region FROM cloudtrail
           WHERE event_name = 'RunInstances' AND event_time BETWEEN $s AND $e""",
        s=start,
        e=end,
    )
    assert sum(v for row in heat.z for v in row if v) == independent.height
    burst = list(heat.customdata[0]).index("2026-11-16 02:55:00")  # columns named by their start
    assert sum(1 for row in heat.z if row[burst]) >= 16  # a miner's burst: one column, all rows
    # every five-minute bucket is a column of its own (quiet ones blank, never a stretched cell)
    starts = [dt.datetime.fromisoformat(t) for t in heat.customdata[0]]
    assert {(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)} == {300}
    assert sum(1 for i in range(len(starts)) if not any(row[i] for row in heat.z)) > 0
    # whole counts, whole ticks
    assert heat.colorbar.tickformat == "d" and heat.colorbar.dtick >= 1 and heat.zmin == 0


def test_writes_heatmap_shows_the_regions_the_account_never_used(
    sample: forensics.Case, story: dict, ground_truth: dict
) -> None:
    start, end = incident_window(story)
    fig = plots.region_heatmap(frames.region_activity(sample, None, True, from_time=start, to_time=end))
    assert set(ground_truth["regions_new"]) <= set(fig.data[0].y)


def test_call_volume_of_the_key_splits_succeeded_and_denied(
    sample: forensics.Case, ground_truth: dict
) -> None:
    key = ground_truth["leaked_access_key"]
    fig = plots.api_call_volume(frames.call_volume(sample, access_keys=[key], step_s=900))
    events = sample.sql("SELECT outcome FROM cloudtrail WHERE access_key_id = $k", k=key)
    for outcome, label in (("success", "succeeded"), ("denied", "denied"), ("failed", "failed")):
        drawn = sum(sum(t.y) for t in fig.data if t.name == label)
        assert drawn == events.filter(pl.col("outcome") == outcome).height
    # The owner's one denied call after the quarantine plus the intrusion's denials.
    assert _total(fig, "denied") == ground_truth["intrusion_denied"] + 1


def _total(fig: Any, name: str) -> int:
    return sum(sum(t.y) for t in fig.data if t.name == name)


def test_flow_volume_of_a_still_running_instance_shows_its_pool_until_the_export(
    sample: forensics.Case, ground_truth: dict
) -> None:
    instance = ground_truth["still_running"][0]
    flows = frames.instance_flows(sample, instance)
    fig = plots.flow_volume(flows, marks={"first use": ground_truth["first_use"]["time"]})
    pool = [t for t in fig.data if int(re.search(r":(\d+)", t.name).group(1)) in MINER_PORTS]
    assert len(pool) == 1
    assert max(pool[0].x) >= "2026-11-16 11:50:00"  # still mining when the evidence ends
    total = sample.sql("SELECT sum(bytes)::BIGINT AS b FROM vpc_flows WHERE instance_id = $i", i=instance)[
        "b"
    ][0]
    assert sum(sum(t.y) for t in fig.data) == total
    assert fig.layout.yaxis.type == "log"


def test_flow_legend_names_the_intruder_by_address_and_the_service_port(
    sample: forensics.Case, story: dict, ground_truth: dict
) -> None:
    instance = ground_truth["still_running"][0]
    fig = plots.flow_volume(
        frames.instance_flows(sample, instance),
        roles={ip: "the intruder" for ip in ground_truth["attacker_ips"]},
    )
    ssh = [t.name for t in fig.data if t.name.split(":")[0] in ground_truth["attacker_ips"]]
    assert ssh and all(name.split(" ")[0].endswith(":22") for name in ssh), ssh
    assert all("(the intruder)" in name for name in ssh)


def test_the_aws_response_lane_counts_what_the_phase_table_counts(
    timeline: pl.DataFrame, story: dict, ground_truth: dict
) -> None:
    fig = plots.attack_timeline(timeline, story)
    lanes = fig.layout.meta["lanes"]
    drawn = sum(1 for t in fig.data for y in t.y if lanes[y] == "aws_response")
    table = next(p["events"] for p in story["phases"] if p["phase"] == "aws_response")
    assert drawn == table == ground_truth["counts"]["cloudtrail_events"]["aws_response"]
    assert "_" not in "".join(fig.layout.yaxis.ticktext)  # lanes read as words


def test_flows_of_an_instance_logged_without_instance_ids_are_found_by_its_interface(
    sample: forensics.Case, ground_truth: dict
) -> None:
    """Version 2 flow records carry no instance id; the RunInstances response names the ENI."""
    for instance in ground_truth["instances"]["ap-northeast-1"]:
        flows = frames.instance_flows(sample, instance)
        assert flows.height > 0
        assert set(flows["remote_port"].to_list()) & MINER_PORTS


def test_entity_graph_links_key_addresses_and_every_launched_instance(
    sample: forensics.Case, story: dict, ground_truth: dict
) -> None:
    running = {i: "still running" for i in ground_truth["still_running"]}
    fig = plots.entity_graph(story_frames.entity_edges(sample, story), highlight=running)
    nodes = {t.name: list(t.customdata) for t in fig.data if t.customdata is not None}
    assert nodes["principals"] == [ground_truth["leaked_user"]["arn"]]
    assert nodes["access keys"] == [ground_truth["leaked_access_key"]]
    assert set(nodes["source addresses"]) == set(ground_truth["attacker_ips"])
    launched = {i for ids in ground_truth["instances"].values() for i in ids}
    assert set(nodes["instances"]) == launched
    instances = next(t for t in fig.data if t.name == "instances")
    ringed = {
        n for n, c in zip(instances.customdata, instances.marker.line.color, strict=True) if c == "#d62728"
    }
    assert ringed == set(ground_truth["still_running"])


def test_entity_graph_draws_minted_credentials() -> None:
    edges = pl.DataFrame(
        {
            "src": ["arn:aws:iam::1:user/a", "AKIAAAAAAAAAAAAAAAAA", "AKIAAAAAAAAAAAAAAAAA"],
            "src_kind": ["principal", "access_key", "access_key"],
            "dst": ["AKIAAAAAAAAAAAAAAAAA", "AKIABBBBBBBBBBBBBBBB", "198.51.100.7"],
            "dst_kind": ["access_key", "derived", "address"],
            "relation": ["signs with", "CreateAccessKey", "used from"],
        }
    )
    fig = plots.entity_graph(edges)
    derived = next(t for t in fig.data if t.name == "derived credentials")
    assert list(derived.customdata) == ["AKIABBBBBBBBBBBBBBBB"]
    assert fig.layout.meta["kinds"] == ["principal", "access_key", "derived", "address"]


def test_coverage_counts_every_record_and_outlines_the_story_gaps(
    sample: forensics.Case, story: dict
) -> None:
    from forensics.report.figures import gaps_for_plot

    cells = frames.coverage_cells(sample)
    gaps = gaps_for_plot(story)
    fig = plots.evidence_coverage(cells, gaps, step_seconds=3600)
    heat = fig.data[0]
    tables = sample.tables()
    recorded = sum(n for row in heat.customdata for n in row if n)
    assert recorded == tables["cloudtrail"] + tables["vpc_flows"] + tables["billing"] + tables["findings"]
    regions = sample.sql("SELECT DISTINCT aws_region FROM cloudtrail")["aws_region"].to_list()
    assert {f"cloudtrail · {r}" for r in regions} <= set(heat.y)
    outlined = [s for s in fig.layout.shapes if (s.name or "").startswith("gap:")]
    assert len(outlined) >= len(gaps)
    hours = {t[:13] for t in heat.x}
    assert len(hours) == len(heat.x)  # one column per hour, silent hours included


def test_cost_by_region_stacks_the_bill_and_draws_the_budget(
    sample: forensics.Case, story: dict, ground_truth: dict
) -> None:
    assert sample.tables()["billing"], "the sample's CUR did not load"
    replay = sample.budget_replay(1000.0, access_key=ground_truth["leaked_access_key"])
    from forensics.report.render import thresholds_from_replay

    cost = frames.hourly_cost(sample, from_time="2026-11-01T00:00:00Z")
    fig = plots.cost_by_region(cost, thresholds_from_replay(replay), story["first_use"]["time"])
    bars = sum(sum(t.y) for t in fig.data if t.type == "bar")
    billed = sample.sql("SELECT sum(cost) AS c FROM billing WHERE usage_start >= '2026-11-01'")["c"][0]
    assert bars == pytest.approx(billed, abs=0.01)
    lines = [s.y0 for s in fig.layout.shapes if (s.name or "").startswith("threshold:")]
    assert lines == [200.0, 500.0, 700.0]
    assert _vlines(fig)["incident start"] == _plot(ground_truth["first_use"]["time"])


def test_empty_inputs_give_a_figure_that_says_so() -> None:
    empty = pl.DataFrame(
        schema={
            "time": pl.Datetime("us", "UTC"),
            "phase": pl.String,
            "actor": pl.String,
            "action": pl.String,
            "outcome": pl.String,
        }
    )
    fig = plots.attack_timeline(empty)
    assert fig.layout.annotations[0].text.startswith("No events")


def test_a_frame_missing_columns_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="region_heatmap: frame lacks column\\(s\\) bucket"):
        plots.region_heatmap(pl.DataFrame({"region": ["us-east-1"], "calls": [1]}))


def test_figures_never_print(capsys: pytest.CaptureFixture[str], timeline: pl.DataFrame, story: dict) -> None:
    plots.attack_timeline(timeline, story)
    assert capsys.readouterr() == ("", "")


def test_the_timeline_from_the_investigation_agrees_with_the_one_rebuilt_from_the_story(
    sample: forensics.Case, timeline: pl.DataFrame, ground_truth: dict
) -> None:
    from forensics.investigate import api

    story, events = api.timeline(sample.con, access_key=ground_truth["leaked_access_key"])
    direct = story_frames.timeline_events(sample, story, events)

    def counts(frame: pl.DataFrame) -> dict:
        return dict(((a, p), n) for a, p, n in frame.group_by("actor", "phase").len().iter_rows())

    assert counts(direct) == counts(timeline)
    assert direct.height == timeline.height


def test_a_key_chain_draws_every_minted_credential_and_who_minted_it(
    key_chain: forensics.Case,
) -> None:
    from forensics.investigate import api
    from tests.investigate import chain

    story, events = api.timeline(key_chain.con, access_key=chain.ALICE_KEY)
    edges = story_frames.entity_edges(key_chain, story)
    fig = plots.entity_graph(edges)
    derived = next(t for t in fig.data if t.name == "derived credentials")
    assert set(derived.customdata) == set(story["derived_credentials"])
    minted = {(s, d, r) for s, d, r in edges.select("src", "dst", "relation").iter_rows()}
    assert (chain.ALICE_KEY, chain.BOB_NEW_KEY, "CreateAccessKey") in minted
    assert (chain.ALICE_KEY, chain.ROLE_KEY, "AssumeRole") in minted
    assert (chain.BOB_NEW_KEY, chain.ATTACKER_2, "used from") in minted
    assert {(chain.ATTACKER_2, i, "launched") for i in (chain.INSTANCE, chain.INSTANCE_2)} <= minted
    # The timeline straight from the investigation and the one rebuilt from the story agree,
    # minted credentials' events included.
    direct = story_frames.timeline_events(key_chain, story, events)
    rebuilt = story_frames.timeline_events(key_chain, story)
    assert (
        direct.group_by("actor", "phase")
        .len()
        .sort("actor", "phase")
        .equals(rebuilt.group_by("actor", "phase").len().sort("actor", "phase"))
    )
    assert "user/bob" in set(direct["actor"])
