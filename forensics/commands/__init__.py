"""CLI verbs that orchestrate several parts of the library, one module per verb group.

Each module registers its commands on `forensics.cli.app` when imported; list it here.
"""

from . import sample_demo  # noqa: F401  (sample, demo)
