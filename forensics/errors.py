"""The library's own exceptions: every engine error reaches the analyst naming the case, query or file."""

from __future__ import annotations


class ForensicsError(Exception):
    """Base class: one clear line for the analyst, with the file (and line) or query it concerns."""

    def __init__(self, message: str, *, path: str | None = None, position: str | None = None):
        self.path = path
        self.position = position
        where = ""
        if path:
            where = f"{path}: " if not position else f"{path} ({position}): "
        super().__init__(f"{where}{message}")


class CaseLockedError(ForensicsError):
    """Another process holds the case file open for writing (DuckDB allows one writer)."""


class QueryError(ForensicsError):
    """A query failed in the engine; names the query id."""

    def __init__(self, query_id: str, message: str):
        self.query_id = query_id
        super().__init__(f"query {query_id!r} failed: {message}")


class UnknownQueryError(ForensicsError):
    """No query with that id in the catalogue."""


class ParameterError(ForensicsError):
    """A query parameter is missing, unknown or of the wrong type."""


class IndicatorNotFoundError(ForensicsError):
    """The indicator (key, principal, address, instance) is not in the case."""


class LoadError(ForensicsError):
    """Nothing could be loaded, or the loader was asked for something impossible."""


class NoSpaceError(ForensicsError):
    """The disk holding the case (or DuckDB's spill folder) is full; the case is left as it was."""
