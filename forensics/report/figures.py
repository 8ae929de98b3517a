"""Which figures tell an incident, and the frames each one draws (query here, draw in plots).

The windows are chosen from the story: launches and writes around the intrusion at a
five-minute grain, the key's own activity over the whole evidence at an hour's grain, the
bill from a day before first use to the end of the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from .. import plots
from ..case import Case
from ..investigate.context import parse_time
from . import frames, story_frames

NO_FLOWS = {
    "bucket": pl.Datetime("us", "UTC"),
    "remote_addr": pl.String,
    "remote_port": pl.Int32,
    "bytes": pl.Int64,
}


@dataclass
class Figure:
    """A figure of the report with its anchor, heading and a sentence on how to read it."""

    key: str
    heading: str
    caption: str
    figure: Any  # plotly.graph_objects.Figure (plotly is imported only by forensics.plots)


def incident_window(story: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """From an hour before first use to an hour after the last phase ends."""
    first = parse_time((story.get("first_use") or {}).get("time"))
    ends = [parse_time(p.get("end")) for p in story.get("phases") or [] if p.get("end")]
    end = max([t for t in ends if t] + ([first] if first else []), default=None)
    return (
        first - timedelta(hours=1) if first else None,
        end + timedelta(hours=1) if end else None,
    )


def story_marks(story: dict[str, Any]) -> dict[str, Any]:
    marks = {}
    first = (story.get("first_use") or {}).get("time")
    if first:
        marks["first use"] = first
    quarantine = (story.get("aws_quarantine") or {}).get("time")
    if quarantine:
        marks["AWS quarantine"] = quarantine
    contained = (story.get("containment") or {}).get("time")
    if contained:
        marks["containment"] = contained
    return marks


def gaps_for_plot(story: dict[str, Any]) -> list[dict[str, Any]]:
    """The story's coverage gaps, each tied to the source it concerns (by its kind)."""
    out = []
    for gap in (story.get("coverage") or {}).get("gaps") or []:
        kind = str(gap.get("kind") or "")
        source = gap.get("source")
        if not source:
            source = next(
                (
                    s
                    for word, s in (
                        ("flow", "vpc_flows"),
                        ("bill", "billing"),
                        ("finding", "findings"),
                        ("trail", "cloudtrail"),
                        ("hour", "cloudtrail"),
                    )
                    if word in kind
                ),
                None,
            )
        out.append({**gap, "source": source, "reason": kind or gap.get("detail") or "gap"})
    return out


def flow_instance(case: Case, story: dict[str, Any]) -> tuple[str | None, pl.DataFrame]:
    """The intrusion's instance to show traffic for, with its flows: a still-running one with
    flows first, else the one that moved the most bytes."""
    launched = (story.get("run_instances") or {}).get("instances") or []
    running = [i for i in story.get("still_running") or [] if i in launched]
    best: tuple[str | None, pl.DataFrame, int] = (None, pl.DataFrame(schema=NO_FLOWS), -1)
    for instance in running + [i for i in launched if i not in running]:
        flows = frames.instance_flows(case, instance)
        if flows.is_empty():
            continue
        if instance in running:
            return instance, flows
        total = int(flows["bytes"].sum() or 0)
        if total > best[2]:
            best = (instance, flows, total)
    return best[0], best[1]


def plots_time(t: datetime) -> str:
    """A time as the figures carry it (naive UTC text)."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _untitled(fig: Any) -> Any:
    """The figure without its own title when the page's heading already says it; a binned
    timeline keeps the note on its bins."""
    text = str(fig.layout.title.text or "")
    fig.update_layout(title_text=text[text.index("(") :] if "(" in text else None)
    return fig


def report_figures(
    case: Case,
    story: dict[str, Any],
    thresholds: list[dict[str, Any]] | None = None,
    events: pl.DataFrame | None = None,
) -> list[Figure]:
    """Every figure of the report, in reading order (`events`: see `timeline_events`)."""
    start, end = incident_window(story)
    marks = story_marks(story)
    keys = list(story.get("access_keys") or [])
    day_before = start - timedelta(hours=23) if start else None
    out = [
        Figure(
            "timeline",
            "Attack timeline",
            "Each marker is one event in its phase's lane; crosses are denied calls. Shaded "
            "bands are the phases' spans; lines mark first use, AWS's quarantine and the "
            "containment.",
            _untitled(plots.attack_timeline(story_frames.timeline_events(case, story, events), story)),
        ),
        Figure(
            "run-instances",
            "Launches by region",
            "RunInstances calls (all principals) per region in five-minute buckets around the "
            "intrusion: a burst across many regions at once is a miner's signature.",
            plots.region_heatmap(
                frames.region_activity(case, "RunInstances", from_time=start, to_time=end),
                "RunInstances by region (5-minute buckets)",
                marks=marks,
            ),
        ),
        Figure(
            "writes",
            "Writes by region",
            "Every write call (read_only false) per region around the intrusion: regions the "
            "account never used light up.",
            plots.region_heatmap(
                frames.region_activity(case, None, writes_only=True, from_time=start, to_time=end),
                "All write calls by region (5-minute buckets)",
                marks=marks,
            ),
        ),
        Figure(
            "key-activity",
            "The key's activity",
            "Calls signed by the investigated keys per 15 minutes, from a day before first use "
            "to the end of the incident, by outcome: the owner's routine, then the intrusion "
            "and the denials after the quarantine.",
            plots.api_call_volume(
                frames.call_volume(case, access_keys=keys, from_time=day_before, to_time=end, step_s=900),
                "API calls by the investigated keys (15-minute buckets)",
                900,
                marks,
            ),
        ),
        Figure(
            "entities",
            "Entities",
            "Who signed with which key, from which address, launching which instance; "
            "credentials the intrusion minted are red diamonds; instances still running are ringed in red.",
            plots.entity_graph(
                story_frames.entity_edges(case, story),
                highlight={i: "still running" for i in story.get("still_running") or []},
            ),
        ),
    ]
    instance, flows = flow_instance(case, story)
    out.append(
        Figure(
            "flows",
            "Network traffic of a launched instance",
            f"VPC flow bytes of {instance or 'the intrusion’s instances'} by remote address and "
            "the service's port (five-minute buckets): the intruder's SSH session on port 22, and "
            "mining pools, which listen on ports such as 3333, 4444, 14444.",
            plots.flow_volume(
                flows,
                f"Traffic of {instance or 'the launched instances'}",
                marks=marks,
                roles={ip: "the intruder" for ip in story.get("source_ips") or []},
            ),
        )
    )
    first = parse_time((story.get("first_use") or {}).get("time"))
    # Budgets count month-to-date spend, so the bill is drawn from the start of the month.
    cost_from = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0) if first else None
    cost = story.get("cost") or {}
    bill = plots.cost_by_region(
        frames.hourly_cost(case, from_time=cost_from),
        thresholds or [],
        incident_start=first,
        currency=cost.get("currency") or "USD",
    )
    if first is not None:
        # open on the incident (the month is there: zoom out, or double-click the plot)
        last = parse_time((story.get("coverage") or {}).get("to")) or (end or first)
        bill.update_xaxes(
            range=[plots_time(first - timedelta(hours=12)), plots_time(max(last, first) + timedelta(hours=1))]
        )
    out.append(
        Figure(
            "cost",
            "Cost by region and hour",
            "Unblended cost of every line item per usage hour and region (bars) and the "
            "month-to-date spend (line, right axis), with the budget alert thresholds where a "
            "budget was given (a star where the spend crossed one). The view opens on the "
            "incident, from 12 hours before first use; the whole month Budgets count is drawn: "
            "zoom out or double-click the plot to see it.",
            bill,
        )
    )
    out.append(
        Figure(
            "coverage",
            "Evidence coverage",
            "Records per source and region per hour; blank cells are hours with no record, "
            "red outlines are the gaps the investigation found.",
            plots.evidence_coverage(frames.coverage_cells(case), gaps_for_plot(story), step_seconds=3600),
        )
    )
    return out
