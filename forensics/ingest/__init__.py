"""Ingest: one loader per source format, an explicit registry, provenance for every file.

Each loader module exposes `SOURCE`, `sniff(EvidenceFile) -> Sniff | None` and
`load(LoadContext, [(EvidenceFile, Sniff)])`, and records every file's outcome through the context.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Container, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import duckdb

from .. import connection
from . import (
    addresses,
    billing,
    cloudtrail,
    cloudtrail_lake,
    findings,
    ocsf_cloudtrail,
    ocsf_vpcflow,
    side_files,
    vpcflow,
)
from .context import LoadContext, Sniff, outcome_for
from .evidence import EvidenceFile, Unreadable, inspect, looks_binary, walk
from .outcome import FileOutcome, LoadReport
from .salvage import too_large
from .tabular import environment_failure, unexpected_reason

# Order matters: the first loader whose sniff recognises a file gets it.
# CloudTrail Lake results before CloudTrail: their rows name CloudTrail fields too.
LOADERS: list[ModuleType] = [
    cloudtrail_lake,
    cloudtrail,
    findings,
    ocsf_cloudtrail,
    ocsf_vpcflow,
    vpcflow,
    billing,
]
from ..integrity import loader as _custody  # noqa: E402  (acquisition.json, public keys: skipped)

LOADERS.insert(0, _custody)

INSPECT_THREADS = 4  # files fingerprinted at once
EXCERPT_BYTES = 512  # of a file's head kept after sniffing, for reject excerpts
SOURCES = ("auto", "cloudtrail", "vpcflow", "billing", "findings")

__all__ = ["LOADERS", "SOURCES", "FileOutcome", "LoadReport", "load_paths", "register"]


def register(module: ModuleType) -> None:
    """Add a loader module to the registry (used by the loaders' own package imports)."""
    if module not in LOADERS:
        LOADERS.append(module)


def load_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | os.PathLike[str]],
    source: str = "auto",
    on_problem: Callable[[str], None] = lambda line: None,
    progress: Callable[[str, int, int], None] | None = None,
    exclude: Iterable[str | os.PathLike[str]] = (),
) -> LoadReport:
    """Load every evidence file under `paths` into the case; return what happened to each.

    `exclude` names files that are never evidence (the case file itself and its WAL).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    paths = list(paths)
    skip = {os.path.realpath(p) for p in exclude}
    skip_names = {os.path.basename(p) for p in skip}
    # realpath costs a syscall per path component: only for files that could be excluded
    files = [f for f in walk(paths) if f.name not in skip_names or os.path.realpath(f) not in skip]
    total = len(files)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("loading", done, total)

    ctx = LoadContext(con=con, on_problem=on_problem, on_progress=advance)
    known = {
        (path, sha): None
        # every file already judged (loaded, skipped or rejected): same content, same verdict
        for path, sha in con.execute("SELECT path, sha256 FROM sources").fetchall()
    }
    known_sha = {sha: path for path, sha in known}
    loaders = [m for m in LOADERS if source in ("auto", m.SOURCE)]
    # by module: the Security Lake and CloudTrail Lake loaders share their tables' SOURCE
    routed: dict[ModuleType, list[tuple[EvidenceFile, Sniff]]] = {m: [] for m in loaders}
    settled: list[FileOutcome] = []
    unchanged: list[FileOutcome] = []
    seen_now: dict[str, str] = {}

    # Hashing and head decompression release the GIL: a few threads keep both cores busy.
    with ThreadPoolExecutor(max_workers=INSPECT_THREADS) as pool:
        examined = list(pool.map(lambda path: _examine(path, known), files))
    for f, verdict in examined:
        if not f.sha256:  # not readable (no content to fingerprint): judged afresh every time
            settled.append(outcome_for(f, "unknown", "rejected", "", str(verdict)))
            ctx.reject(f.path, "path", str(verdict))
            continue
        if (f.path, f.sha256) in known:
            o = outcome_for(f, "", "skipped-already-loaded", "", "already in the case")
            unchanged.append(o)
            continue
        first = known_sha.get(f.sha256) or seen_now.get(f.sha256)
        if first:
            settled.append(outcome_for(f, "", "skipped-already-loaded", "", f"same content as {first}"))
            continue
        seen_now[f.sha256] = f.path
        if not isinstance(verdict, str) and verdict[0] not in loaders and verdict[0] is not side_files:
            # another source's evidence: not this load's business, and not recorded, so a
            # later load without --source still picks it up
            o = outcome_for(f, verdict[1].format, "skipped-other-source", verdict[0].SOURCE)
            o.detail = f"{verdict[0].SOURCE} evidence; this load was limited to --source {source}"
            unchanged.append(o)
            continue
        if isinstance(verdict, str):
            settled.append(outcome_for(f, "unknown", "rejected", "", verdict))
            ctx.reject(f.path, "byte 0", verdict, f.head_text[:200] if f.head else "")
        else:
            module, sniff = verdict
            if sniff.skip:
                settled.append(outcome_for(f, sniff.format, sniff.skip, module.SOURCE, sniff.detail))
            else:
                routed[module].append((f, sniff))

    ctx.record(settled)
    advance(len(unchanged))
    for module in loaders:
        if routed[module]:
            try:
                module.load(ctx, routed[module])
            except Exception as exc:  # a loader's bug: its unsettled files are rejected, the rest goes on
                if environment_failure(exc):
                    raise
                _reject_unsettled(ctx, module.SOURCE, routed[module], exc)
    ctx.flush()
    addresses.fill(con)  # the new addresses of this load, each looked up once
    from .. import integrity  # an acquired folder: its seal and every file's digest verdict

    integrity.after_load(con, paths, on_problem)
    # the whole load is checkpointed here (Case.load holds it in the WAL until now, so that a
    # full disk can undo it): with the load's memory cap lifted, as for the salvage
    with connection.memory_cap_lifted(con):
        con.execute("CHECKPOINT")
    return LoadReport(files=ctx.outcomes + unchanged)


def _reject_unsettled(
    ctx: LoadContext, source: str, items: list[tuple[EvidenceFile, Sniff]], exc: Exception
) -> None:
    with contextlib.suppress(duckdb.Error):
        ctx.con.execute("ROLLBACK")  # whatever the loader left open
    ctx.pending_rejects.clear()
    settled = {o.path for o in ctx.outcomes}
    reason = unexpected_reason(exc)
    for f, _ in items:
        if f.path not in settled:
            ctx.reject(f.path, "file", reason)
    ctx.record(
        [outcome_for(f, s.format, "rejected", source, reason) for f, s in items if f.path not in settled]
    )


def _examine(
    path: os.PathLike[str], known: Container[tuple[str, str]]
) -> tuple[EvidenceFile, tuple[ModuleType, Sniff] | str | None]:
    """Fingerprint and sniff one file (not one already in the case), then keep only the start
    of its head for excerpts: 100,000 small files must not hold 64 KiB each in memory."""
    try:
        f = inspect(path, known)
    except Unreadable as exc:  # a dangling link, a link loop, an unreadable file: one problem
        return EvidenceFile(str(path), 0, "", "none", b""), str(exc)
    try:
        verdict = None if (f.path, f.sha256) in known else _sniff(f, LOADERS)
    except Exception as exc:  # a sniffer's bug must not stop the load: this file is rejected
        verdict = f"could not be recognised: {type(exc).__name__}: {exc}"
    f.head = f.head[:EXCERPT_BYTES]
    return f, verdict


def _sniff(f: EvidenceFile, loaders: list[ModuleType]) -> tuple[ModuleType, Sniff] | str:
    """The loader that recognises the file, or the reason none does."""
    if f.size == 0:
        return "empty file"
    if f.compression in ("gzip", "zip") and not f.head:
        return f"{f.compression} archive could not be decompressed"
    for module in loaders:
        verdict = module.sniff(f)
        if verdict is not None:
            return too_large(f, verdict.options) or (module, verdict)
    side = side_files.sniff(f)  # plainly not evidence (README, labels, checksums): skipped
    if side is not None:
        return side_files, side
    if f.compression != "parquet" and looks_binary(f.head):
        return "binary content, not a known evidence format"
    head = f.head_text.lstrip()
    if head.startswith(("{", "[")):
        return "JSON document of no known evidence format (not CloudTrail, flow log, billing or findings)"
    return "unrecognised format (not CloudTrail, VPC flow log, billing export or findings)"
