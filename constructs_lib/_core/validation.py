"""One error type for every misconfiguration, and a collector that reports all problems at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from aws_cdk import Annotations, Duration, Token
from constructs import IConstruct

from .errors import ConstructsLibValidationError as ConstructsLibValidationError
from .errors import Problem as Problem
from .errors import describe

T = TypeVar("T")


class Problems:
    """Collects problems (and warnings) while a construct checks its props, then raises them together.

    Checks run before the construct adds itself to the tree, so warnings are held here and written
    with :meth:`emit_warnings` once the construct exists.
    """

    def __init__(self, construct: str) -> None:
        self._construct = construct
        self._problems: list[Problem] = []
        self._warnings: list[tuple[str, str]] = []

    def add(self, prop: str, value: Any, fix: str) -> None:
        self._problems.append(Problem(prop, value, fix))

    def warn(self, code: str, message: str) -> None:
        """Record a CDK warning (``constructs_lib:<code>``) for a setting only deploy time can judge."""
        self._warnings.append((code, message))

    def emit_warnings(self, scope: IConstruct) -> None:
        """Write the recorded warnings on ``scope`` (the construct, once it exists)."""
        for code, message in self._warnings:
            cdk_warning(scope, code, message)

    def check(self, ok: bool, prop: str, value: Any, fix: str) -> None:
        """Record a problem unless ``ok``."""
        if not ok:
            self.add(prop, value, fix)

    def __bool__(self) -> bool:
        return bool(self._problems)

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    def raise_if_any(self) -> None:
        if self._problems:
            raise ConstructsLibValidationError(self._construct, self._problems)


def cdk_warning(scope: IConstruct, code: str, message: str) -> None:
    """A CDK warning ``constructs_lib:<code>`` on ``scope``, for what works but is risky, or what only deploy
    time can judge; it says how to acknowledge it once the risk is accepted."""
    Annotations.of(scope).add_warning_v2(
        f"constructs_lib:{code}",
        f"{message}. Once accepted, acknowledge it next to the construct: "
        f"Annotations.of(construct).acknowledge_warning('constructs_lib:{code}', '<why it is fine here>')",
    )


def child_path(scope: IConstruct, id: str) -> str:
    """The path a construct ``id`` will have under ``scope``, before it is created."""
    return f"{scope.node.path}/{id}" if scope.node.path else id


def given_props(frame_locals: Mapping[str, Any]) -> dict[str, Any]:
    """A constructor's props as given: its ``locals()`` without ``self``, ``scope`` and ``id``."""
    return {k: v for k, v in frame_locals.items() if k not in {"self", "scope", "id", "__class__"}}


def or_default(value: T | None, default: T) -> T:
    """``value``, or ``default`` when it is None (None always means "the default")."""
    return default if value is None else value


def is_unresolved(value: Any) -> bool:
    """True when ``value`` is (or wraps) a token that only resolves at deploy time."""
    if value is None:
        return False
    if isinstance(value, Duration):
        return bool(value.is_unresolved())
    if isinstance(value, bool):
        return False
    if isinstance(value, (str, int, float)):
        return bool(Token.is_unresolved(value))
    return False


def seconds(value: Duration | None) -> float | None:
    """Seconds in a resolved Duration (fractions kept); None when it is absent or a token."""
    if value is None or is_unresolved(value):
        return None
    return float(value.to_milliseconds(integral=False)) / 1000


def check_whole_seconds(problems: Problems, given: Mapping[str, Any], *names: str) -> None:
    """Record a problem for each Duration of ``names`` in ``given`` that is not a whole number of
    seconds, where CloudFormation takes whole seconds (jsii would otherwise fail with its own error)."""
    for name in names:
        value = given.get(name)
        exact = seconds(value) if isinstance(value, Duration) else None
        if exact is not None and exact != int(exact):
            problems.add(
                name,
                value,
                f"CloudFormation takes it in whole seconds; use Duration.seconds({max(1, round(exact))})",
            )


_describe = describe
