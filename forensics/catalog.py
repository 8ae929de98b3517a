"""The canned query catalogue: `.sql` files under `queries/<source>/`, each with a YAML header.

Queries are looked up by id from here (never attached as attributes), and their parameters are
declared in the header so they can be checked and bound, never pasted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .attack import names as attack_names
from .errors import ForensicsError, ParameterError, UnknownQueryError

_HEADER = re.compile(r"^\s*/\*\s*---\s*\n(.*?)\n\s*---\s*\*/", re.S)


def queries_dir() -> Path:
    """`forensics/queries` in a wheel; the repository's top-level `queries/` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "queries", here.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise ForensicsError("the query catalogue (queries/) is missing from this installation")


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "VARCHAR"
    default: Any = None
    description: str = ""

    def coerce(self, value: Any) -> Any:
        """Turn a CLI string (or a Python value) into the declared type."""
        if value is None or not isinstance(value, str):
            return value
        t = self.type.upper()
        try:
            if t in ("INTEGER", "BIGINT"):
                return int(value)
            if t == "DOUBLE":
                return float(value)
            if t == "BOOLEAN":
                return value.strip().lower() in ("1", "true", "yes", "y")
            if t in ("TIMESTAMP", "TIMESTAMPTZ"):
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            if t.endswith("[]"):
                return [v.strip() for v in value.split(",") if v.strip()]
        except ValueError as exc:
            raise ParameterError(f"parameter {self.name!r} expects {t}: {exc}") from None
        return value


@dataclass(frozen=True)
class Query:
    id: str
    title: str
    kind: str
    sources: tuple[str, ...]
    sql: str
    path: str
    tactic: str | None = None
    # every tactic the detection's behaviour serves, the primary (`tactic`) first (DESIGN.md)
    tactics: tuple[str, ...] = ()
    attack: tuple[str, ...] = ()
    severity: str | None = None
    params: tuple[Param, ...] = ()
    description: str = ""
    falsepositives: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        """Declared parameters with defaults filled in; unknown names are an error."""
        names = {p.name for p in self.params}
        unknown = set(given) - names
        if unknown:
            raise ParameterError(
                f"query {self.id!r} has no parameter {', '.join(sorted(unknown))}; "
                f"it takes: {', '.join(sorted(names)) or 'none'}"
            )
        bound = {}
        for p in self.params:
            value = p.coerce(given[p.name]) if p.name in given else p.default
            if f"${p.name}" in self.sql:
                bound[p.name] = value
        return bound

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "sources": list(self.sources),
            "tactic": self.tactic,
            "tactics": list(self.tactics),
            "attack": list(self.attack),
            "attack_names": attack_names(self.attack),
            "rule": bool(self.meta.get("rule")),
            "severity": self.severity,
            "params": {p.name: {"type": p.type, "default": p.default} for p in self.params},
            "description": self.description,
        }


def parse_query(path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    m = _HEADER.match(text)
    if not m:
        raise ForensicsError("query file has no /* --- YAML --- */ header", path=str(path))
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ForensicsError(f"query header is not valid YAML: {exc}", path=str(path)) from None
    if meta.get("id") != path.stem:
        raise ForensicsError(f"query id {meta.get('id')!r} differs from file stem", path=str(path))
    params = tuple(
        Param(
            name=name,
            type=str((spec or {}).get("type", "VARCHAR")),
            default=(spec or {}).get("default"),
            description=str((spec or {}).get("description", "")),
        )
        for name, spec in (meta.get("params") or {}).items()
    )
    tactic = meta.get("tactic")
    tactics = tuple(dict.fromkeys([t for t in [tactic, *(meta.get("tactics") or ())] if t]))
    return Query(
        id=meta["id"],
        title=meta.get("title", meta["id"]),
        kind=meta.get("kind", "detection"),
        sources=tuple(meta.get("sources") or ()),
        sql=text[m.end() :].strip().rstrip(";"),
        path=str(path),
        tactic=tactic,
        tactics=tactics,
        attack=tuple(meta.get("attack") or ()),
        severity=meta.get("severity"),
        params=params,
        description=(meta.get("description") or "").strip(),
        falsepositives=tuple(meta.get("falsepositives") or ()),
        meta=meta,
    )


@lru_cache(maxsize=4)
def _load_catalog(root: str) -> dict[str, Query]:
    out: dict[str, Query] = {}
    for path in sorted(Path(root).rglob("*.sql")):
        q = parse_query(path)
        if q.id in out:
            raise ForensicsError(f"duplicate query id {q.id!r}", path=str(path))
        out[q.id] = q
    if (Path(root) / "rules").is_dir():  # single-event rules (forensics.rules), one entry each
        from .rules import as_queries

        for rid, q in as_queries().items():
            if rid in out:
                raise ForensicsError(f"rule id {rid!r} is also a query id", path=q.path)
            out[rid] = q
    return out


def catalog() -> dict[str, Query]:
    """All canned queries and single-event rules by id."""
    return dict(_load_catalog(str(queries_dir())))


def get_query(query_id: str) -> Query:
    try:
        return catalog()[query_id]
    except KeyError:
        raise UnknownQueryError(f"no query {query_id!r}; `forensics queries` lists the catalogue") from None
