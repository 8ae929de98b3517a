"""Fixtures for the faces (figures, report, notebooks): the sample case opened read-only once,
its story from the real investigation, and the incident's timeline frame."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import forensics
from forensics.report import story_frames

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def sample(sample_case: Path) -> Iterator[forensics.Case]:
    """The sample incident's case, read-only, shared by every face test."""
    with forensics.Case(sample_case, read_only=True) as case:
        yield case


@pytest.fixture(scope="session")
def story(sample: forensics.Case, ground_truth: dict) -> dict[str, Any]:
    """The investigate story of the leaked key, as the report and notebooks compute it."""
    return sample.investigate(access_key=ground_truth["leaked_access_key"])


@pytest.fixture(scope="session")
def timeline(sample: forensics.Case, story: dict[str, Any]) -> pl.DataFrame:
    return story_frames.timeline_events(sample, story)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        # CI installs it and says so: there a missing browser is a failure, never a skip
        if os.environ.get("FORENSICS_REQUIRE_CHROMIUM"):
            pytest.fail("FORENSICS_REQUIRE_CHROMIUM is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    """One headless Chromium for a test module (each test opens its own page): a launch costs
    seconds, a page next to nothing. Module-scoped, so Playwright's loop is gone before the
    notebooks and kaleido run theirs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def key_chain(chain_case: Path) -> Iterator[forensics.Case]:
    """The investigate tests' key-chaining intrusion (minted keys, a role session, a created
    user), the session's one load of it (tests/conftest.py), opened read-only."""
    with forensics.Case(chain_case, read_only=True) as case:
        yield case
