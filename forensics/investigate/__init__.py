"""From one indicator to the whole story of an intrusion (DESIGN.md, `investigate`), entity
profiles in the spirit of Amazon Detective, and budget replay."""

from __future__ import annotations

from .context import Scope
from .story import investigate

__all__ = ["Scope", "investigate"]
