"""The JSON Schemas of the CLI's JSON documents (`schema_version` 1.x), shipped in the package.

from forensics.schemas import schema
jsonschema.validate(findings, schema("hunt"))
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

DOCUMENTS = ("load", "hunt", "investigate", "profile", "budget", "queries")


@cache
def schema(document: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one document: load, hunt, investigate, profile,
    budget or queries."""
    if document not in DOCUMENTS:
        raise KeyError(f"no schema {document!r}: one of {', '.join(DOCUMENTS)}")
    text = resources.files(__package__).joinpath(f"{document}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
