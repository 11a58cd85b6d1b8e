"""Private helpers shared by every pattern. Nothing here is public API.

The helpers are imported lazily, so that modules which need none of aws_cdk (``errors``, ``limits``, and
through them the cost model's command line) import without starting jsii's runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .alarms import ABOVE, threshold_alarm, wire_alarms
    from .bundling import local_bundling
    from .errors import ConstructsLibValidationError, Problem
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
        Problems,
        cdk_warning,
        check_whole_seconds,
        child_path,
        given_props,
        is_unresolved,
        or_default,
        seconds,
    )

_EXPORTS = {
    "ABOVE": ".alarms",
    "threshold_alarm": ".alarms",
    "wire_alarms": ".alarms",
    "local_bundling": ".bundling",
    "has_snap_start": ".lambdas",
    "reserved_concurrency": ".lambdas",
    "timeout_seconds": ".lambdas",
    "underlying_function": ".lambdas",
    "unqualified_snapstart_fix": ".lambdas",
    "LOG_GROUP_KMS_REASON": ".nag",
    "acknowledge": ".nag",
    "acknowledge_checkov_function_defaults": ".nag",
    "acknowledge_xray_wildcard": ".nag",
    "merge_props": ".props",
    "check_types": ".types",
    "checked_arguments": ".types",
    "visible_signature": ".types",
    "ConstructsLibValidationError": ".errors",
    "Problem": ".errors",
    "Problems": ".validation",
    "cdk_warning": ".validation",
    "check_whole_seconds": ".validation",
    "child_path": ".validation",
    "given_props": ".validation",
    "is_unresolved": ".validation",
    "or_default": ".validation",
    "seconds": ".validation",
}
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
    "check_whole_seconds",
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


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
