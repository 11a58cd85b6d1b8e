"""Where a breaker's wiring and settings come from: the environment ``attach()`` writes, checked.

The CDK construct writes these variables on every function it attaches; the runtime reads them here, and
refuses what could not work (a circuit the function is not attached to, a mode other than attach()'s).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .settings import BreakerSettings, InvalidSettingsError

TABLE_ENV = "CIRCUIT_BREAKER_TABLE"
SETTINGS_ENV = "CIRCUIT_BREAKER_SETTINGS"
NAMESPACE_ENV = "CIRCUIT_BREAKER_NAMESPACE"
#: JSON list of the circuits whose consumer ``pause_while_open`` pauses (set on the consumer by attach).
PAUSED_ENV = "CIRCUIT_BREAKER_PAUSED_CIRCUITS"
DEFAULT_NAMESPACE = "ConstructsLib/CircuitBreaker"

_log = logging.getLogger("constructs_lib.runtime")


def resolve_settings(circuit_id: str, given: BreakerSettings | Mapping[str, Any] | None) -> BreakerSettings:
    """The circuit's settings: ``given`` (whole, or some over the environment's entry), else the entry. A
    ``read_copies`` other than attach()'s (its default included) is refused: one circuit, one mode."""
    from_env = settings_from_env(circuit_id)
    if given is not None and not isinstance(given, (BreakerSettings, Mapping)):
        raise InvalidSettingsError(
            circuit_id, [("settings", given, "pass a BreakerSettings, a mapping of settings, or None")]
        )
    if isinstance(given, BreakerSettings):
        resolved = given
        problems = [
            (
                name,
                getattr(given, name),
                f"attach() configured {value!r} ({SETTINGS_ENV}); pass that, or "
                "pass settings=None to use attach()'s, or change attach()",
            )
            for name, value in (from_env or {}).items()
            if name in BreakerSettings.names() and name != "read_copies" and getattr(given, name) != value
        ]
    else:
        resolved = BreakerSettings.resolve(circuit_id, given or {}, from_env or {})
        problems = []
    if from_env is not None:
        problems.extend(mode_problems(resolved, from_env))
    if problems:
        raise InvalidSettingsError(circuit_id, problems)
    return resolved


def mode_problems(resolved: BreakerSettings, from_env: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """Every container of a circuit reads the copies every transition writes, or none: a container that
    read copies nobody writes would let calls through an OPEN circuit."""
    configured = from_env.get("read_copies", BreakerSettings.read_copies)
    if resolved.read_copies == configured:
        return []
    source = "" if "read_copies" in from_env else ", its default"
    return [
        (
            "read_copies",
            resolved.read_copies,
            f"attach() configured read_copies={configured} for this circuit ({SETTINGS_ENV}{source}); "
            "one circuit has one mode, as every container must read the copies every transition "
            "writes: leave read_copies out of the runtime's settings, or pass "
            f"read_copies={resolved.read_copies} to attach()",
        )
    ]


def settings_from_env(circuit_id: str) -> dict[str, Any] | None:
    """The circuit's entry in ``CIRCUIT_BREAKER_SETTINGS`` (None: attach() wrote none for it)."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        return None
    try:
        settings = json.loads(raw)
    except json.JSONDecodeError:
        _log.warning("%s is not valid JSON; using defaults", SETTINGS_ENV)
        return None
    if isinstance(settings, dict) and settings and circuit_id not in settings:
        raise InvalidSettingsError(
            circuit_id,
            [
                (
                    "circuit_id",
                    circuit_id,
                    f"this function is attached to {', '.join(repr(c) for c in sorted(settings))} only "
                    f"({SETTINGS_ENV}); use one of those ids, or attach() the function to this circuit",
                )
            ],
        )
    entry = settings.get(circuit_id) if isinstance(settings, dict) else None
    return entry if isinstance(entry, dict) else None


def paused_circuits() -> list[str]:
    """The circuits whose queue consumer ``pause_while_open`` pauses (``CIRCUIT_BREAKER_PAUSED_CIRCUITS``)."""
    try:
        paused = json.loads(os.environ.get(PAUSED_ENV, "[]"))
    except json.JSONDecodeError:
        return []
    return [str(c) for c in paused] if isinstance(paused, list) else []


def exception_types(circuit_id: str, name: str, value: Any) -> tuple[type[BaseException], ...]:
    """An exception class, or a tuple or list of them, as a tuple; anything else is refused by name."""
    items = (value,) if isinstance(value, type) else value
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        items = (items,)
    items = tuple(items)
    wrong = [item for item in items if not (isinstance(item, type) and issubclass(item, BaseException))]
    if wrong:
        raise InvalidSettingsError(
            circuit_id,
            [(name, value, "must be an exception class or a tuple/list of them, e.g. (ConnectionError,)")],
        )
    return items
