"""Escape-hatch merging: defaults, then the user's values, then what the construct requires."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aws_cdk import Annotations
from constructs import Construct

from .validation import Problems, _describe

_SIGNATURE_CACHE: dict[Callable[..., Any], frozenset[str]] = {}


def accepted_kwargs(l2_class: Callable[..., Any]) -> frozenset[str]:
    """The keyword arguments an L2 constructor takes, besides scope and id."""
    if l2_class not in _SIGNATURE_CACHE:
        params = inspect.signature(l2_class.__init__).parameters
        _SIGNATURE_CACHE[l2_class] = frozenset(
            name
            for name, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in {"scope", "id"}
        )
    return _SIGNATURE_CACHE[l2_class]


def merge_props(
    scope: Construct,
    problems: Problems,
    *,
    prop_name: str,
    l2_class: Callable[..., Any],
    defaults: Mapping[str, Any],
    user: Mapping[str, Any] | None,
    required: Mapping[str, Any] | None = None,
    owned: Mapping[str, str] | None = None,
    security_defaults: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge an escape-hatch mapping into the kwargs for one L2.

    Order: ``defaults``, then ``user``, then ``required``. Problems are recorded (not raised) for keys the
    L2 does not accept and for keys in ``required`` or ``owned`` (which maps a key to the dedicated prop
    the user should set instead). Overriding a key in ``security_defaults`` with a different value adds a
    CDK warning on ``scope``.
    """
    user = dict(user or {})
    required = dict(required or {})
    owned = dict(owned or {})
    valid = accepted_kwargs(l2_class)
    l2_name = getattr(l2_class, "__qualname__", str(l2_class))
    for key in sorted(user):
        if key not in valid:
            problems.add(
                f"{prop_name}[{key!r}]",
                user[key],
                f"{l2_name} has no such argument; valid keys: {', '.join(sorted(valid - required.keys()))}",
            )
        elif key in owned:
            problems.add(
                f"{prop_name}[{key!r}]", user[key], f"set by the construct; use {owned[key]} instead"
            )
        elif key in required:
            problems.add(
                f"{prop_name}[{key!r}]",
                user[key],
                f"the construct must set this itself (to {_describe(required[key])}); remove it",
            )
    for key in security_defaults:
        if key in user and key in defaults and user[key] != defaults[key]:
            Annotations.of(scope).add_warning_v2(
                f"constructs_lib:securityDefaultOverridden:{prop_name}.{key}",
                f"{prop_name}[{key!r}] overrides a security default ({_describe(defaults[key])}) "
                f"with {_describe(user[key])}; make sure this is intended",
            )
    merged = dict(defaults)
    merged.update({k: v for k, v in user.items() if k in valid})
    merged.update(required)
    return merged
