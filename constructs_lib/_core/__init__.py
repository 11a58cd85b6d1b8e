"""Private helpers shared by every pattern. Nothing here is public API."""

from .alarms import ABOVE, threshold_alarm, wire_alarms
from .bundling import local_bundling
from .lambdas import (
    has_snap_start,
    reserved_concurrency,
    timeout_seconds,
    underlying_function,
    unqualified_snapstart_fix,
)
from .nag import (
    LOG_GROUP_KMS_REASON,
    acknowledge,
    acknowledge_checkov_function_defaults,
    acknowledge_xray_wildcard,
)
from .props import merge_props
from .types import check_types, checked_arguments, visible_signature
from .validation import (
    ConstructsLibValidationError,
    Problem,
    Problems,
    cdk_warning,
    child_path,
    given_props,
    is_unresolved,
    or_default,
    seconds,
)

__all__ = [
    "ABOVE",
    "LOG_GROUP_KMS_REASON",
    "ConstructsLibValidationError",
    "Problem",
    "Problems",
    "acknowledge",
    "acknowledge_checkov_function_defaults",
    "acknowledge_xray_wildcard",
    "cdk_warning",
    "check_types",
    "checked_arguments",
    "child_path",
    "given_props",
    "has_snap_start",
    "is_unresolved",
    "local_bundling",
    "merge_props",
    "or_default",
    "reserved_concurrency",
    "seconds",
    "threshold_alarm",
    "timeout_seconds",
    "underlying_function",
    "unqualified_snapstart_fix",
    "visible_signature",
    "wire_alarms",
]
