"""Private helpers shared by every pattern. Nothing here is public API."""

from .alarms import wire_alarms
from .lambdas import has_snapstart, timeout_seconds, underlying_function, unqualified_snapstart_fix
from .nag import acknowledge
from .props import accepted_kwargs, merge_props
from .validation import ConstructsLibValidationError, Problem, Problems, is_unresolved, seconds

__all__ = [
    "ConstructsLibValidationError",
    "Problem",
    "Problems",
    "accepted_kwargs",
    "acknowledge",
    "has_snapstart",
    "is_unresolved",
    "merge_props",
    "seconds",
    "timeout_seconds",
    "underlying_function",
    "unqualified_snapstart_fix",
    "wire_alarms",
]
