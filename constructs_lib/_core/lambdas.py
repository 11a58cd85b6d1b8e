"""Facts about a Lambda target that constructs need at synth time."""

from __future__ import annotations

from aws_cdk import Token
from aws_cdk import aws_lambda as lambda_

from .limits import LAMBDA_DEFAULT_TIMEOUT_SECONDS, snap_start_applies


def underlying_function(target: lambda_.IFunction) -> lambda_.IFunction:
    """The function behind a Version or an Alias (the target itself otherwise)."""
    if isinstance(target, lambda_.Alias):
        return underlying_function(target.version)
    if isinstance(target, lambda_.Version):
        return target.lambda_
    return target


def _cfn_function(target: lambda_.IFunction) -> lambda_.CfnFunction | None:
    child = underlying_function(target).node.default_child
    return child if isinstance(child, lambda_.CfnFunction) else None


def timeout_seconds(target: lambda_.IFunction) -> int | None:
    """The function's timeout in seconds; None when it is imported or a token."""
    cfn = _cfn_function(target)
    if cfn is None:
        return None
    value = cfn.timeout
    if value is None:
        return LAMBDA_DEFAULT_TIMEOUT_SECONDS
    if Token.is_unresolved(value):
        return None
    return int(value)


def reserved_concurrency(target: lambda_.IFunction) -> int | None:
    """The function's reserved concurrency; None when it has none, is imported or is a token."""
    cfn = _cfn_function(target)
    value = cfn.reserved_concurrent_executions if cfn is not None else None
    if value is None or Token.is_unresolved(value):
        return None
    return int(value)


def has_snap_start(target: lambda_.IFunction) -> bool:
    """True when the function behind ``target`` has SnapStart on published versions."""
    cfn = _cfn_function(target)
    return cfn is not None and snap_start_applies(cfn.snap_start)


def is_qualified(target: lambda_.IFunction) -> bool:
    return isinstance(target, (lambda_.Alias, lambda_.Version))


def unqualified_snapstart_fix(target: lambda_.IFunction) -> str | None:
    """The fix to report when ``target`` is an unqualified SnapStart function, else None.

    SnapStart only applies to published versions: invoking the unqualified function runs $LATEST with
    no snapshot, so callers must be bound to an alias or a version.
    """
    if is_qualified(target) or not has_snap_start(target):
        return None
    return (
        "this function has SnapStart enabled, which only applies to published versions; "
        "pass its alias (for example SnapStartFunction.alias or function.add_alias('live')) instead"
    )
