"""What a loader gets to work with: the connection, and one way to record problems and outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from .evidence import EvidenceFile
from .outcome import FileOutcome

EXCERPT_CHARS = 300
_REJECT_COLUMNS = ("source_file", "position", "reason", "excerpt")
_SOURCE_COLUMNS = (
    "path",
    "sha256",
    "bytes",
    "format",
    "status",
    "records_read",
    "records_loaded",
    "duplicates",
    "rejected",
    "detail",
)
_SOURCE_SCHEMA = pa.schema(
    [
        (
            c,
            pa.int64()
            if c in ("bytes", "records_read", "records_loaded", "duplicates", "rejected")
            else pa.string(),
        )
        for c in _SOURCE_COLUMNS
    ]
)


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

    pending_rejects: list[tuple[str, str, str, str]] = field(default_factory=list)
    tally: dict[str, Any] = field(default_factory=dict)  # a loader's counts, said once per load

    def reject(self, path: str, position: str, reason: str, excerpt: str = "") -> None:
        """Quarantine what could not be parsed, and say so in one line (written in bulk)."""
        self.pending_rejects.append((path, position, reason, excerpt[:EXCERPT_CHARS]))
        self.on_problem(f"{path} ({position}): {reason}")

    def flush(self) -> None:
        """Write quarantined records in one statement (row-by-row inserts cost ms each)."""
        if not self.pending_rejects:
            return
        rows = list(zip(*self.pending_rejects, strict=True))
        table = pa.table({name: list(col) for name, col in zip(_REJECT_COLUMNS, rows, strict=True)})
        self.con.register("pending_rejects", table)
        self.con.execute("INSERT INTO rejects SELECT *, now() FROM pending_rejects")
        self.con.unregister("pending_rejects")
        self.pending_rejects.clear()

    def record(self, outcomes: list[FileOutcome]) -> None:
        """Write `sources` rows (chain of custody) for files whose fate is settled."""
        self.flush()
        if not outcomes:
            return
        table = pa.table(
            {name: [getattr(o, name) for o in outcomes] for name in _SOURCE_COLUMNS},
            schema=_SOURCE_SCHEMA,
        )
        self.con.register("pending_sources", table)
        self.con.execute(
            f"INSERT INTO sources ({', '.join(_SOURCE_COLUMNS)}, loaded_at) "
            "SELECT *, now() FROM pending_sources"
        )
        self.con.unregister("pending_sources")
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
