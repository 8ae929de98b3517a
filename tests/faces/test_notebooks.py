"""The analysts' notebooks: stored clean, parameterised the papermill way, and executed end to
end against the sample incident (any error in any cell fails the test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = [
    "01_leaked_key_triage",
    "02_entity_profile",
    "03_cost_and_budget_replay",
    "04_instance_credential_theft",
]


def _outputs(book: Any) -> list[dict[str, Any]]:
    return [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _figures(book: Any) -> list[dict[str, Any]]:
    return [
        o["data"]["application/vnd.plotly.v1+json"]
        for o in _outputs(book)
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]


def _text(book: Any) -> str:
    parts = []
    for o in _outputs(book):
        parts.append(o.get("text", ""))
        for kind in ("text/plain", "text/markdown", "text/html"):
            parts.append(str(o.get("data", {}).get(kind, "")))
    return "\n".join(parts)


def test_the_notebooks_are_all_there() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs_with_one_parameters_cell(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(book)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert tagged == [code[0]]
    assert "case_path = None" in tagged[0].source
    assert book.metadata.kernelspec.name == "python3"


@pytest.fixture(scope="module")
def run(sample_case: Path, tmp_path_factory: pytest.TempPathFactory):
    """Execute a notebook with papermill against the sample case; the executed notebook back."""
    import papermill

    out = tmp_path_factory.mktemp("notebooks")

    def execute(name: str) -> Any:
        target = out / f"{name}.ipynb"
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(target),
            parameters={"case_path": str(sample_case)},
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            execution_timeout=120,
        )
        return nbformat.read(target, as_version=4)

    return execute


def test_leaked_key_triage_runs_end_to_end(run: Any, ground_truth: dict) -> None:
    book = run("01_leaked_key_triage")
    text = _text(book)
    assert repr(ground_truth["leaked_access_key"]) in text  # the key the hunt pointed at
    assert ground_truth["first_use"]["source_ip"] in text
    figures = _figures(book)
    assert len(figures) == 6  # two timelines, two heatmaps, the entity graph, the cost
    timeline = figures[0]
    assert timeline["layout"]["meta"]["lanes"][0] == "initial_access"


def test_entity_profile_runs_and_draws_the_key_activity(run: Any, ground_truth: dict) -> None:
    book = run("02_entity_profile")
    figures = _figures(book)
    assert len(figures) == 1
    drawn = {t["name"]: sum(t["y"]) for t in figures[0]["data"]}
    assert drawn["denied"] == ground_truth["intrusion_denied"] + 1  # plus the owner's one
    assert ground_truth["attacker_ips"][0] in _text(book)


def test_cost_notebook_replays_the_budget(run: Any, ground_truth: dict) -> None:
    book = run("03_cost_and_budget_replay")
    figures = _figures(book)
    assert len(figures) == 2
    incident_only = figures[1]
    billed = sum(sum(t["y"]) for t in incident_only["data"] if t["type"] == "bar")
    # The launched instances' line items (volumes and addresses are billed on their own ids).
    assert 0 < billed <= ground_truth["incident_cost"]["total"] + 0.01
    assert "APN1-Lambda-GB-Second" in _text(book)  # the unrelated runaway Lambda, told apart


def test_instance_credential_theft_follows_the_stolen_session(run: Any, ground_truth: dict) -> None:
    book = run("04_instance_credential_theft")
    exfil = ground_truth["exfiltration"]
    text = _text(book)
    assert exfil["access_key"] in text and exfil["outside_ip"] in text
    timeline, calls = _figures(book)[:2]
    lanes = timeline["layout"]["meta"]["lanes"]
    session = [(t["name"], y) for t in timeline["data"] for y in t["y"] if lanes[y] != "aws_response"]
    assert len(session) == exfil["event_count"]
    assert sum(1 for name, _ in session if name == "denied") == len(exfil["denied"])
    assert sum(sum(t["y"]) for t in calls["data"]) == exfil["event_count"]
