"""Hostile content (issue 17): an intrusion whose attacker-typed fields (user agent, created user
name, instance type in the request, bucket name, role session name) hold HTML, Markdown links and
images, spreadsheet formulas and terminal escape sequences, shown through every text face.

The Markdown story is rendered with markdown-it-py (html=True, GFM tables) and opened, like the
HTML report, in Debian's Chromium: no injected element exists and no injected script ran, while
the hostile text is still shown (as text). CSV cells are neutralised; terminal output carries no
control sequence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import forensics
from tests.investigate import chain

# each payload sets window.__pwned if any renderer lets it run
UA = (
    'aws-cli/1.16.312 `<svg onload="window.__pwned=1"></svg>` ![i](http://127.0.0.1:9/i.png) '
    "[click](javascript:window.__pwned=2) \x1b[31mRED\x1b]8;;http://127.0.0.1:9/\x07link\x1b]8;;\x07"
)
USER = '=HYPERLINK("http://127.0.0.1:9/","svc")<img src=x onerror="window.__pwned=3"><a href="http://127.0.0.1:9/">u</a>'
INSTANCE_TYPE = 'c5.24xlarge<a href="javascript:window.__pwned=4">x</a>|pipe'
BUCKET = "@SUM(1)<b>bkt</b><script>window.__pwned=5</script>"
SESSION = "+x<style>body{display:none}</style>"
SUBSTITUTIONS = {
    chain.EVIL_CLI: UA,
    "backup-svc": USER,
    "c5.24xlarge": INSTANCE_TYPE,
    "alice-data": BUCKET,
    '"roleSessionName": "x"': f'"roleSessionName": {json.dumps(SESSION)}',
}
INJECTED = (
    "script:not([src]):not([type]) , img, iframe, style:not([data-own]), a[href^='javascript'], "
    "a[href*='127.0.0.1'], [onload], [onerror]"
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "forensics", *args], capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    evidence = chain.build(root / "evidence")
    for path in evidence.rglob("*.json"):
        text = path.read_text()
        for old, new in SUBSTITUTIONS.items():
            plain = old.startswith('"')
            text = text.replace(old, new if plain else json.dumps(new)[1:-1])
        path.write_text(text)
    with forensics.Case(root / "case.duckdb") as case:
        report = case.load([evidence], on_problem=lambda line: None)
    assert report.loaded > 0 and report.rejected == 0
    return root / "case.duckdb"


def _inspect(page) -> dict:
    return page.evaluate(
        """(sel) => ({
            pwned: window.__pwned === undefined ? null : window.__pwned,
            injected: Array.from(document.querySelectorAll(sel)).map(e => e.outerHTML.slice(0, 120)),
            text: document.body.innerText,
        })""",
        INJECTED,
    )


def _story_markdown(case: Path) -> str:
    done = cli("investigate", "--case", str(case), "--access-key", chain.ALICE_KEY, "--format", "md")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_markdown_story_renders_no_injected_element(hostile_case, browser):
    from markdown_it import MarkdownIt  # markdown-it-py: the dev extra installs it

    md = _story_markdown(hostile_case)
    # the hostile values are in the story (else this test would prove nothing)
    assert "svg onload" in md and "HYPERLINK" in md and "c5.24xlarge" in md
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    page = browser.new_page()
    try:
        page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
        page.set_content(f"<!doctype html><html><body>{html}</body></html>")
        page.wait_for_timeout(300)
        seen = _inspect(page)
    finally:
        page.close()
    assert seen["pwned"] is None
    assert seen["injected"] == []
    for shown in ('<svg onload="window.__pwned=1">', "![i](http://127.0.0.1:9/i.png)", "<img src=x"):
        assert shown in seen["text"]  # shown as text, not dropped
    assert "\x1b" not in md and "\x07" not in md  # and no terminal sequence when printed


def test_html_report_runs_no_injected_script(hostile_case, browser, tmp_path):
    out = tmp_path / "report.html"
    done = cli("report", "--case", str(hostile_case), "--access-key", chain.ALICE_KEY, "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = browser.new_page()
    try:
        page.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
        )
        page.goto(out.as_uri())
        page.wait_for_timeout(1500)  # plotly draws its figures
        seen = page.evaluate(
            """() => ({
                pwned: window.__pwned === undefined ? null : window.__pwned,
                injected: Array.from(document.querySelectorAll(
                    "img[src='x'], [onerror], [onload], a[href^='javascript'], a[href*='127.0.0.1']"
                )).map(e => e.outerHTML.slice(0, 120)),
                svgLinks: Array.from(document.querySelectorAll("svg a")).map(e => e.outerHTML.slice(0, 120)),
            })"""
        )
    finally:
        page.close()
    assert seen["pwned"] is None
    assert seen["injected"] == [] and seen["svgLinks"] == []


def test_csv_neutralises_formulas_and_only_text_cells(hostile_case):
    done = cli("query", "iam_credentials_created", "--case", str(hostile_case), "--format", "csv")
    assert done.returncode == 0, done.stderr
    import csv
    import io

    cells = [c for row in csv.reader(io.StringIO(done.stdout)) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert any(c.startswith("'=HYPERLINK") for c in cells), cells[:40]
    # JSON is never altered
    done = cli("query", "iam_credentials_created", "--case", str(hostile_case), "--format", "json")
    assert done.returncode == 0 and "'=HYPERLINK" not in done.stdout and "=HYPERLINK" in done.stdout


def test_terminal_tables_carry_no_control_sequence(hostile_case):
    done = cli("query", "access_key_first_seen", "--case", str(hostile_case), "--format", "table")
    assert done.returncode == 0, done.stderr
    with forensics.Case(hostile_case, read_only=True) as case:  # the rows do hold the sequences
        rows = case.query("access_key_first_seen").rows()
    assert any("\x1b]8;;" in str(v) for row in rows for v in row)
    assert not any(ch in done.stdout for ch in "\x1b\x07\x9b\r")


def test_problem_lines_on_stderr_carry_no_control_sequence(tmp_path):
    """Problem lines name the evidence: a file named with a terminal escape and a line break (a
    forged second `forensics:` line) is named on one plain line, and still loads what it can."""
    folder = tmp_path / "ev"
    folder.mkdir()
    hostile = folder / "a\x1b]0;pwned\x07\x1b[2J\nforensics: all clear.json"
    hostile.write_text('{"Records": [{"eventVersion": "1.08", ')  # cut short: one problem line
    done = cli("load", str(folder), "--case", str(tmp_path / "c.duckdb"))
    assert done.returncode in (0, 2), done.stderr
    assert "all clear" in done.stderr  # the file is named...
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr  # ...without its sequences
    lines = done.stderr.splitlines()
    assert all(line.startswith("forensics: ") for line in lines), lines
    assert not any(line.startswith("forensics: all clear") for line in lines)  # no forged line
