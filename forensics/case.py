"""`Case`: one DuckDB file per investigation; every face (notebook, CLI, report) goes through it."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from . import catalog, connection, derived, vocabulary
from .errors import CaseLockedError, ForensicsError, NoSpaceError, QueryError
from .ingest import load_paths
from .ingest.outcome import LoadReport
from .schema import create_tables, outdated_tables, upgrade

if TYPE_CHECKING:  # polars loads on first query: a load does not need it
    import polars as pl

log = logging.getLogger(__name__)
_LOCK = re.compile(r"Could not set lock on file|Conflicting lock", re.I)
_PID = re.compile(r"PID (\d+)")
_NO_SPACE = re.compile(r"No space left on device|Disk quota exceeded", re.I)
_WRITING = re.compile(r'(?:write|writing|open|create|extend)[^"]*"([^"]+)"', re.I)


def no_space(exc: BaseException, fallback: Path) -> str | None:
    """The path that could not be written when `exc` (or what it was raised from) is a full
    disk: a ROLLBACK that fails after it ("no transaction is active") hides the first error."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        text = str(seen)
        full = isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT)
        if full or _NO_SPACE.search(text):
            where = _WRITING.search(text)
            target = getattr(seen, "filename", None) or (where.group(1) if where else str(fallback))
            return str(target)
        seen = seen.__cause__ or seen.__context__
    return None


class Case:
    """An investigation's case file.

    Open read-write to load evidence, read-only to analyse (several readers may share a case,
    DuckDB allows one writer). Use as a context manager so the file is closed promptly.
    """

    # Whether a load writes the derived snapshot (forensics.derived). Only the query fixtures'
    # in-memory case (forensics.fixtures) turns it off: each of its cases is loaded, queried
    # once and emptied, so a snapshot would cost more than the views computing; the views give
    # the same rows either way (tests/vocabulary/test_derived.py checks the snapshot itself).
    _write_snapshot: bool = True

    def __init__(self, path: str | os.PathLike[str], read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._analysis: duckdb.DuckDBPyConnection | None = None  # the queries' cursor, made on use
        self._analysis_stale = False  # a load since: its vocabulary is installed again before use
        if read_only and not self.path.exists():
            raise ForensicsError("no case file here (load evidence first)", path=str(self.path))
        new = not self.path.exists()
        try:
            self._open()
        except Exception as exc:
            full = no_space(exc, self.path.parent)
            if full is None:
                raise
            with contextlib.suppress(Exception):
                self.con.close()
            if new:  # no half-made case left behind
                for leftover in (self.path, Path(f"{self.path}.wal")):
                    leftover.unlink(missing_ok=True)
            outcome = "no case was written" if new else "the case was left as it was"
            raise NoSpaceError(f"no space left on {full}; {outcome}") from None

    def _open(self) -> None:
        read_only = self.read_only
        try:
            self.con = connection.open_case_file(self.path, read_only)
        except duckdb.IOException as exc:
            if _LOCK.search(str(exc)):
                pid = _PID.search(str(exc))
                holder = f" (process {pid.group(1)})" if pid else ""
                raise CaseLockedError(
                    f"case is locked by another writer{holder}; close it there, or open this case read-only",
                    path=str(self.path),
                ) from None
            raise ForensicsError(f"cannot open case: {exc}", path=str(self.path)) from None
        except duckdb.Error as exc:
            raise ForensicsError(f"cannot open case: {exc}", path=str(self.path)) from None
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws its own progress bar on stdout for long statements: it would corrupt
        # `--json` output, and the CLI has its own on stderr. (In Jupyter DuckDB refuses to
        # touch the setting without ipywidgets; there the bar is a widget and harmless.)
        with contextlib.suppress(duckdb.Error):
            self.con.execute("SET enable_progress_bar = false")
        if not read_only:
            self.con.execute("SET preserve_insertion_order = false")
            create_tables(self.con)
            vocabulary.install(self.con, derived=False)
            if upgrade(self.con):  # older rows rewritten in place: a snapshot of them is stale
                derived.drop(self.con)
            self._refresh_derived()
        if outdated := outdated_tables(self.con):
            self.con.close()
            detail = "; ".join(f"{t} lacks {', '.join(cols)}" for t, cols in outdated.items())
            raise ForensicsError(
                f"case file was written by an older version of forensics ({detail}); "
                "load the evidence into a new case",
                path=str(self.path),
            )
        if read_only:
            vocabulary.install(self.con)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._forget_analysis()
        self.con.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Case({str(self.path)!r}, {mode})"

    # -- evidence ----------------------------------------------------------------------------
    def load(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        source: str = "auto",
        on_problem: Callable[[str], None] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> LoadReport:
        """Load evidence files and folders (recursively); return the per-file load report.

        Problems (bad files, unparseable records) go to the `rejects` table and, one line each,
        to `on_problem` (by default a warning on the `forensics.case` logger). Files already in
        the case are not read again.
        """
        if self.read_only:
            raise ForensicsError("case is open read-only; open it read-write to load", path=str(self.path))
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if on_problem is None:
            on_problem = log.warning
        self._forget_analysis(keep=True)  # what it cached describes the evidence before this load
        vocabulary.install(self.con, derived=False)  # the loader reads the evidence, not a snapshot
        try:
            own = [self.path, Path(f"{self.path}.wal")]
            with connection.journalled_load(self.con), connection.load_settings(self.con):
                report = load_paths(
                    self.con, paths, source, on_problem=on_problem, progress=progress, exclude=own
                )
            self._refresh_derived()
            return report
        except FileNotFoundError as exc:
            self._forget_analysis()
            raise ForensicsError(str(exc)) from None
        except Exception as exc:
            self._forget_analysis()  # a cursor keeps the database open: undo_load closes it
            full = no_space(exc, self.path.parent)
            if full is None:
                raise
            # nothing of this load reached the case file (it was held in the WAL): drop it
            connection.undo_load(self.con, self.path)
            self.con = connection.open_case_file(self.path, read_only=True)
            raise NoSpaceError(f"no space left on {full}; the case is as it was before this load") from None

    def _refresh_derived(self) -> None:
        """Recompute the derived tables (forensics.derived) when the evidence or the vocabulary
        changed since they were written, then point the views at them. The plain vocabulary
        must be installed on the connection."""
        views = vocabulary.SHARED_VIEWS
        stale = len(derived.fresh_views(self.con, views, vocabulary.sql_text())) < len(views)
        has_events = bool(self.con.execute("SELECT 1 FROM cloudtrail LIMIT 1").fetchall())
        if stale and self._write_snapshot and (has_events or derived.has_snapshot(self.con)):
            if not derived.refresh(self.con):  # failed: its views may read tables it rolled back
                vocabulary.install(self.con)
            return  # written: the views already read the new tables
        vocabulary.read_snapshot(self.con)  # the plain vocabulary is installed: no second install

    # -- questions ---------------------------------------------------------------------------
    def sql(self, text: str, **params: Any) -> pl.DataFrame:
        """Run SQL with named parameters (`$name`) bound by DuckDB; a Polars frame back."""
        return self._run("sql", text, params)

    def query(self, query_id: str, **params: Any) -> pl.DataFrame:
        """Run a canned query from the catalogue by id, with its declared parameters."""
        q = catalog.get_query(query_id)
        return self._run(q.id, q.sql, q.bind(params))

    def queries(self) -> dict[str, catalog.Query]:
        """The catalogue of canned queries by id."""
        return catalog.catalog()

    def cache_shared_views(self) -> None:
        """Compute the vocabulary's case-wide views once for the queries that follow (the hunt
        runs every detection; most read the same few); a load forgets them."""
        vocabulary.cache_shared_views(self._analysis_cursor())

    def _analysis_cursor(self) -> duckdb.DuckDBPyConnection:
        """One cursor for this case's queries, with the vocabulary installed once."""
        if self._analysis is None:
            self._analysis = connection.cursor(self.con)
        elif self._analysis_stale:
            # as a new cursor would hold it: no cached view, the derived snapshot where fresh
            # (a fresh install costs most of a small fixture's run; this keeps what is the same)
            vocabulary.install(self._analysis)
        self._analysis_stale = False
        return self._analysis

    def _forget_analysis(self, keep: bool = False) -> None:
        """Close the queries' cursor; with `keep`, keep it open but install its vocabulary
        again (dropping what it cached) before its next use."""
        if self._analysis is not None and keep:
            self._analysis_stale = True
        elif self._analysis is not None:
            self._analysis.close()
            self._analysis = None

    def _run(self, name: str, text: str, params: dict[str, Any]) -> pl.DataFrame:
        try:
            return self._analysis_cursor().sql(text, params=params or None).pl()
        except duckdb.Error as exc:
            raise QueryError(name, str(exc).splitlines()[0]) from None

    def tables(self) -> dict[str, int]:
        """Row counts of the case's tables, for a quick summary."""
        names = ["cloudtrail", "vpc_flows", "billing", "findings", "sources", "rejects"]
        return {t: self.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in names}

    # -- investigation (forensics.investigate) -----------------------------------------------
    def investigate(
        self,
        access_key: str | None = None,
        principal: str | None = None,
        ip: str | None = None,
        instance: str | None = None,
        from_time: Any = None,
        to_time: Any = None,
        known_ips: Iterable[str] = (),
        responders: Iterable[str] = (),
        resource: str | None = None,
    ) -> dict[str, Any]:
        """The whole story of an intrusion from one indicator (DESIGN.md's `investigate`); for a
        Lambda function (`resource`, or `principal` its role) the automation story."""
        from .investigate import api

        return api.investigate(
            self.con,
            access_key,
            principal,
            ip,
            instance,
            from_time,
            to_time,
            known_ips,
            responders,
            resource,
        )

    def timeline(
        self,
        access_key: str | None = None,
        principal: str | None = None,
        ip: str | None = None,
        instance: str | None = None,
        from_time: Any = None,
        to_time: Any = None,
        known_ips: Iterable[str] = (),
        responders: Iterable[str] = (),
        resource: str | None = None,
    ) -> tuple[dict[str, Any], pl.DataFrame]:
        """The story and its phased events as one frame (time, phase, actor, action, ...)."""
        from .investigate import api

        return api.timeline(
            self.con, access_key, principal, ip, instance, from_time, to_time, known_ips, responders, resource
        )

    def profile(
        self,
        entity: str,
        kind: str | None = None,
        from_time: Any = None,
        to_time: Any = None,
        baseline_days: int = 45,
    ) -> dict[str, Any]:
        """An entity's profile (key, principal, address, instance or region) in a scope window."""
        from .investigate import api

        return api.profile(self.con, entity, kind, from_time, to_time, baseline_days)

    def budget_replay(
        self,
        budget: float,
        thresholds: Iterable[float] = (20, 50, 70),
        lag_hours: float = 8.0,
        month: str | None = None,
        **indicator: Any,
    ) -> dict[str, Any]:
        """When each budget alert would have fired, compared with first use and quarantine."""
        from .investigate import api

        return api.budget_replay(self.con, budget, thresholds, lag_hours, month, **indicator)
