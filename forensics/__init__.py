"""forensics: investigate AWS security incidents from exported evidence, in one DuckDB case file."""

from .case import Case
from .errors import (
    CaseLockedError,
    ForensicsError,
    IndicatorNotFoundError,
    ParameterError,
    QueryError,
    UnknownQueryError,
)

__version__ = "0.1.0"

__all__ = [
    "Case",
    "CaseLockedError",
    "ForensicsError",
    "IndicatorNotFoundError",
    "ParameterError",
    "QueryError",
    "UnknownQueryError",
    "__version__",
]
