"""Escape-hatch merging: defaults, then the user's values, then what the construct requires."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .validation import Problems, _describe

_SIGNATURE_CACHE: dict[Callable[..., Any], frozenset[str]] = {}


def accepted_kwargs(l2_class: Callable[..., Any]) -> frozenset[str]:
    """The keyword arguments an L2 constructor (or a props struct) takes, besides scope and id."""
    if l2_class not in _SIGNATURE_CACHE:
        params = inspect.signature(l2_class.__init__).parameters
        _SIGNATURE_CACHE[l2_class] = frozenset(
            name
            for name, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in {"scope", "id"}
        )
    return _SIGNATURE_CACHE[l2_class]


def struct_or_mapping(
    problems: Problems, prop_name: str, value: Any, struct_class: type[Any] | None
) -> dict[str, Any]:
    """An escape hatch as a plain dict: the struct's set fields, or the mapping's items.

    Anything else is recorded as a problem (and treated as empty).
    """
    if value is None:
        return {}
    if struct_class is not None and isinstance(value, struct_class):
        fields = {name: getattr(value, name) for name in accepted_kwargs(struct_class)}
        return {name: field for name, field in fields.items() if field is not None}
    if isinstance(value, Mapping):
        return dict(value)
    struct = f"{struct_class.__module__.split('.')[-1]}.{struct_class.__name__} or " if struct_class else ""
    problems.add(prop_name, value, f"must be {struct}a dict of keyword arguments")
    return {}


def merge_props(
    problems: Problems,
    *,
    prop_name: str,
    l2_class: Callable[..., Any],
    defaults: Mapping[str, Any],
    user: Any,
    struct_class: type[Any] | None = None,
    required: Mapping[str, Any] | None = None,
    owned: Mapping[str, str] | None = None,
    refused: Mapping[str, str] | None = None,
    security_defaults: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge an escape hatch (a ``struct_class`` instance or a mapping) into the kwargs for one L2.

    Order: ``defaults``, then ``user``, then ``required``. Problems are recorded (not raised) for keys the
    L2 does not accept, for keys in ``required`` or ``owned`` (which maps a key to the dedicated prop
    the user should set instead), and for keys in ``refused`` (which maps a key the L2 accepts but that
    cannot work here to the fix). Overriding a key in ``security_defaults`` with a different value records
    a warning.
    """
    given = struct_or_mapping(problems, prop_name, user, struct_class)
    required = dict(required or {})
    owned = dict(owned or {})
    refused = dict(refused or {})
    valid = accepted_kwargs(l2_class)
    l2_name = getattr(l2_class, "__qualname__", str(l2_class))
    for key in sorted(given):
        if key not in valid:
            problems.add(
                f"{prop_name}[{key!r}]",
                given[key],
                f"{l2_name} has no such argument; valid keys: {', '.join(sorted(valid - required.keys()))}",
            )
        elif key in refused:
            problems.add(f"{prop_name}[{key!r}]", given[key], refused[key])
        elif key in owned:
            problems.add(
                f"{prop_name}[{key!r}]", given[key], f"set by the construct; use {owned[key]} instead"
            )
        elif key in required:
            problems.add(
                f"{prop_name}[{key!r}]",
                given[key],
                f"the construct must set this itself (to {_describe(required[key])}); remove it",
            )
    for key in security_defaults:
        if key in given and key in defaults and given[key] != defaults[key]:
            problems.warn(
                f"securityDefaultOverridden:{prop_name}.{key}",
                f"{prop_name}[{key!r}] overrides a security default ({_describe(defaults[key])}) "
                f"with {_describe(given[key])}; make sure this is intended",
            )
    merged = dict(defaults)
    merged.update({k: v for k, v in given.items() if k in valid})
    merged.update(required)
    return merged
