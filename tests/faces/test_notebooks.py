"""The analysts' notebooks: stored clean, parameterised the papermill way, and executed end to
end against the sample incident (any error in any cell fails the test) the way a new user runs
them (`case_path = None`): the case lands in the cache directory, never in the checkout, and the
executed notebooks exported to HTML still carry every figure."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from forensics.report import notebook

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


REPO = NOTEBOOKS.parent
_SCRATCH = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".mypy_cache"}


def _checkout() -> dict[str, tuple[int, int]]:
    """Every file of the checkout (size, mtime), build and tool caches aside."""
    out = {}
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in _SCRATCH and not d.endswith(".egg-info")]
        for f in files:
            st = (Path(root) / f).stat()
            out[str(Path(root, f).relative_to(REPO))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def run(sample_case: Path, tmp_path_factory: pytest.TempPathFactory):
    """Execute a notebook with papermill and no parameters (`case_path = None`, as a new user
    runs it), its cache directory a temporary one already holding the sample case; the
    executed notebook back. The checkout must be the same afterwards."""
    import papermill

    out = tmp_path_factory.mktemp("notebooks")
    cache = tmp_path_factory.mktemp("cache")
    before = _checkout()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORENSICS_CACHE", str(cache))  # inherited by the kernels papermill starts
        held = notebook.default_case_path(REPO / "sample_data" / "evidence")
        held.parent.mkdir(parents=True)
        shutil.copyfile(sample_case, held)

        def execute(name: str) -> Any:
            target = out / f"{name}.ipynb"
            papermill.execute_notebook(
                str(NOTEBOOKS / f"{name}.ipynb"),
                str(target),
                parameters={},
                kernel_name="python3",
                cwd=str(NOTEBOOKS),
                progress_bar=False,
                execution_timeout=120,
            )
            return nbformat.read(target, as_version=4)

        yield execute
    assert _checkout() == before, "executing the notebooks changed the checkout"


def _exported(book: Any) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(book)
    return body


def _assert_figures_exported(book: Any) -> None:
    """The executed notebook as `jupyter nbconvert --to html` writes it: one figure div per
    Plotly output, each drawn from its own data, plotly.js inlined once, nothing unrenderable."""
    import json

    page = _exported(book)
    assert "not able to be represented" not in page
    figures = _figures(book)
    tags = re.findall(r'<div [^>]*class="plotly-graph-div"[^>]*>', page)
    divs = [re.search(r'id="([^"]+)"', tag).group(1) for tag in tags]
    assert len(divs) == len(figures) > 0
    for div, fig in zip(divs, figures, strict=True):
        # Plotly.newPlot("<div>", [traces...], layout, config): the traces this output carries
        call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div) + '"', page).start()
        drawn = page[call : page.index("</script>", call)]
        for trace in fig["data"]:
            if trace.get("name"):
                assert json.dumps(trace["name"])[1:-1] in drawn
            for value in (trace.get("x") or [])[:3]:
                assert json.dumps(value) in drawn
    assert len(re.findall(r"plotly\.js v\d", page)) == 1  # the library once, not per figure
    outputs = "".join(str(o.get("data", {}).get("text/html", "")) for o in _outputs(book))
    assert not re.search(r'<script[^>]+src="https?:', outputs)  # the figures fetch nothing


def test_leaked_key_triage_runs_end_to_end(run: Any, ground_truth: dict) -> None:
    book = run("01_leaked_key_triage")
    text = _text(book)
    assert repr(ground_truth["leaked_access_key"]) in text  # the key the hunt pointed at
    assert ground_truth["first_use"]["source_ip"] in text
    figures = _figures(book)
    assert len(figures) == 6  # two timelines, two heatmaps, the entity graph, the cost
    timeline = figures[0]
    assert timeline["layout"]["meta"]["lanes"][0] == "initial_access"
    assert "already loaded" in text  # the case held the evidence: nothing reloaded
    # every finding, grouped by detection, its principal shown whole
    for arn in (ground_truth["leaked_user"]["arn"], ground_truth["exfiltration"]["session_arn"]):
        assert arn in text
    assert text.count("<h4>guardduty_findings") == 1
    _assert_figures_exported(book)


def test_entity_profile_runs_and_draws_the_key_activity(run: Any, ground_truth: dict) -> None:
    book = run("02_entity_profile")
    figures = _figures(book)
    assert len(figures) == 1
    drawn = {t["name"]: sum(t["y"]) for t in figures[0]["data"]}
    assert drawn["denied"] == ground_truth["intrusion_denied"] + 1  # plus the owner's one
    assert ground_truth["attacker_ips"][0] in _text(book)
    assert "already loaded" in _text(book) and "0 records loaded" not in _text(book)
    _assert_figures_exported(book)


def test_cost_notebook_replays_the_budget(run: Any, ground_truth: dict) -> None:
    book = run("03_cost_and_budget_replay")
    figures = _figures(book)
    assert len(figures) == 2
    incident_only = figures[1]
    billed = sum(sum(t["y"]) for t in incident_only["data"] if t["type"] == "bar")
    # The launched instances' line items (volumes and addresses are billed on their own ids).
    assert 0 < billed <= ground_truth["incident_cost"]["total"] + 0.01
    assert "APN1-Lambda-GB-Second" in _text(book)  # the unrelated runaway Lambda, told apart
    text = _text(book)
    assert "already loaded" in text
    # the cost in words, not a raw dict of floats
    assert f"{ground_truth['incident_cost']['total']:,.2f} USD" in text
    assert "'by_region'" not in text and "by_hour" not in text
    assert "after first use" in text or "before first use" in text
    _assert_figures_exported(book)


def test_instance_credential_theft_follows_the_stolen_session(run: Any, ground_truth: dict) -> None:
    book = run("04_instance_credential_theft")
    exfil = ground_truth["exfiltration"]
    text = _text(book)
    assert exfil["access_key"] in text and exfil["outside_ip"] in text
    timeline, calls = _figures(book)[:2]
    lanes = timeline["layout"]["meta"]["lanes"]
    session = [
        (t["name"], y)
        for t in timeline["data"]
        for y in t["y"]
        if lanes[y] not in ("aws_response", "aws_findings")
    ]
    assert len(session) == exfil["event_count"]
    assert sum(1 for name, _ in session if name == "denied") == len(exfil["denied"])
    assert sum(sum(t["y"]) for t in calls["data"]) == exfil["event_count"]
    assert "already loaded" in text
    _assert_figures_exported(book)


def test_a_new_case_lands_in_the_cache_and_a_second_open_says_already_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.investigate import chain

    evidence = chain.build(tmp_path / "evidence")
    monkeypatch.setenv("FORENSICS_CACHE", str(tmp_path / "cache"))
    case, note = notebook.open_case(None, evidence)
    case.close()
    assert re.match(r"[1-9][\d,]* records loaded from [1-9]", note), note
    assert notebook.default_case_path(evidence).is_relative_to(tmp_path / "cache")
    case, again = notebook.open_case(None, evidence)
    case.close()
    assert again.startswith("Evidence already loaded"), again


def test_static_images_add_a_png_beside_the_interactive_figure(
    chromium: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    import plotly.graph_objects as go
    import plotly.io as pio

    from forensics.plots.notebook import use_notebook_renderer

    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(pio.renderers, "default", pio.renderers.default)
    name = use_notebook_renderer(static=True)
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2], name="calls"))
    bundle = pio.renderers._build_mime_bundle(fig.to_dict(), renderers_string=name)
    png = bundle["image/png"]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"  # for GitHub, which runs no script
    assert 'class="plotly-graph-div"' in bundle["text/html"]  # for exported HTML
    assert "application/vnd.plotly.v1+json" in bundle  # for JupyterLab
    assert "mathjax" not in bundle["text/html"].lower()
