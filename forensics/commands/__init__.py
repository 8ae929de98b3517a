"""CLI verbs that orchestrate several parts of the library, one module per verb group.

Each module registers its commands on `forensics.cli.app` when imported; list it here.
"""

from . import investigate  # noqa: F401, I001  (investigate, profile, budget)
from . import sample_demo  # noqa: F401  (sample, demo)
from . import report  # noqa: F401  (report)
from . import hunt  # noqa: F401  (hunt)
from . import verify  # noqa: F401  (verify)
from . import acquire  # noqa: F401  (acquire)
from . import lake  # noqa: F401  (export, pull)
