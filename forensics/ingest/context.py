"""What a loader gets to work with: the connection, and one way to record problems and outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from .evidence import EvidenceFile
from .outcome import FileOutcome

EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Sniff:
    """A loader's verdict on a file: which of its formats, or a reason to skip it."""

    format: str
    skip: str | None = None  # e.g. 'skipped-digest', 'skipped-manifest'
    detail: str = ""
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class LoadContext:
    con: duckdb.DuckDBPyConnection
    on_problem: Callable[[str], None] = lambda line: None
    on_progress: Callable[[int], None] = lambda n: None
    outcomes: list[FileOutcome] = field(default_factory=list)

    def reject(self, path: str, position: str, reason: str, excerpt: str = "") -> None:
        """Quarantine what could not be parsed, and say so in one line."""
        self.con.execute(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, now())",
            [path, position, reason, excerpt[:EXCERPT_CHARS]],
        )
        self.on_problem(f"{path} ({position}): {reason}")

    def record(self, outcomes: list[FileOutcome]) -> None:
        """Write `sources` rows (chain of custody) for files whose fate is settled."""
        if not outcomes:
            return
        self.con.executemany(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                [
                    o.path,
                    o.sha256,
                    o.bytes,
                    o.format,
                    o.status,
                    o.records_read,
                    o.records_loaded,
                    o.duplicates,
                    o.rejected,
                    o.detail,
                ]
                for o in outcomes
            ],
        )
        self.outcomes.extend(outcomes)
        self.on_progress(len(outcomes))


def outcome_for(f: EvidenceFile, fmt: str, status: str, source: str, detail: str = "") -> FileOutcome:
    return FileOutcome(
        path=f.path,
        sha256=f.sha256,
        bytes=f.size,
        format=fmt,
        status=status,
        source=source,
        detail=detail,
    )
