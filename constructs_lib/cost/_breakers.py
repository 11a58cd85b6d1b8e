"""The breaker's traffic: each guarded circuit's calls, and the state reads and writes they cause.

As ``constructs_lib.runtime`` reads it: a circuit's own item is read strongly consistent (a read unit
each); in fleet mode (``read_copies`` above 1) a container reads one of the circuit's copies, eventually
consistent (half a read unit each), and the circuit's item only when a copy is missing or not trusted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checks._lambda import FUNCTION, sqs_mappings
from ..checks._model import Resource, Templates
from ..runtime._copies import CACHE_JITTER
from ..runtime.breaker import PAUSED_ENV, SETTINGS_ENV, TABLE_ENV
from ..runtime.settings import BreakerSettings
from ._arrivals import periods_with_events
from ._usage import Usage

#: Read units of one read of an item up to 4 KB: strongly consistent, and eventually consistent.
STRONG_READ_UNITS = 1.0
EVENTUAL_READ_UNITS = 0.5


@dataclass
class Circuit:
    """One circuit guarded in one function: its calls and the state reads and writes they cause."""

    function: Resource
    table: Resource | None
    circuit_id: str
    cache_ttl: float
    calls: float
    containers: float
    paused: bool = False
    #: The circuit's ``read_copies`` (fleet mode above 1).
    read_copies: int = 1

    @property
    def fleet(self) -> bool:
        return self.read_copies > 1


def circuits(templates: Templates, usage: Usage, work: Mapping[Resource, float]) -> list[Circuit]:
    """Each guarded circuit's calls, from the ``work`` (messages, else invocations) of the function that
    guards it."""
    found = []
    for function in templates.of_type(FUNCTION):
        environment = env(function)
        if TABLE_ENV not in environment:
            continue
        tables = templates.references(function.stack, environment[TABLE_ENV], "AWS::DynamoDB::Table")
        paused = _json_list(environment.get(PAUSED_ENV))
        for circuit_id, settings in _json(environment.get(SETTINGS_ENV)).items():
            found.append(
                Circuit(
                    function,
                    tables[0] if tables else None,
                    circuit_id,
                    float(settings.get("cache_ttl", BreakerSettings.cache_ttl)),
                    work.get(function, 0.0) * usage.downstream_calls_per_message,
                    containers(templates, function, usage),
                    circuit_id in paused,
                    int(settings.get("read_copies", BreakerSettings.read_copies)),
                )
            )
    return found


def containers(templates: Templates, function: Resource, usage: Usage) -> float:
    """Warm containers of ``function``: its mapping's maximum concurrency, its reserved concurrency, or the
    profile's ``warm_containers``."""
    caps = [
        float(m.mapping.props["ScalingConfig"]["MaximumConcurrency"])
        for m in sqs_mappings(templates)
        if m.function == function and "MaximumConcurrency" in (m.mapping.props.get("ScalingConfig") or {})
    ]
    reserved = function.props.get("ReservedConcurrentExecutions")
    if caps:
        return sum(caps)
    return float(reserved) if isinstance(reserved, int | float) and reserved else usage.warm_containers


def breaker_reads(circuit: Circuit) -> float:
    """State reads a month: each container reads once in every cache period in which it calls.

    With calls arriving at random (Poisson), a period holds a call with probability ``1 - e^-rate``, where
    ``rate`` is a container's calls per period: about one read per call when calls are sparse, and one
    read per period (per thousand calls at 1,000 calls a second and a 1 s cache) when they are dense.
    """
    return _per_period(circuit, circuit.calls)


def breaker_read_units(circuit: Circuit) -> float:
    """Read request units of those reads: a circuit's own item is read strongly consistent, a fleet-mode
    copy eventually consistent (half a unit)."""
    return breaker_reads(circuit) * (EVENTUAL_READ_UNITS if circuit.fleet else STRONG_READ_UNITS)


def breaker_writes(circuit: Circuit, usage: Usage) -> float:
    """Failure records while closed, plus each opening's transitions (open, half-open, close).

    In fleet mode (``read_copies`` above 1) a container writes its failures once per cache period in
    which it had any, each transition is also written to every copy, and each opening's end takes up to
    one half-open claim per copy.
    """
    openings = usage.circuit_openings if circuit.calls > 0 else 0.0
    failures = circuit.calls * usage.downstream_failure_ratio
    if not circuit.fleet:
        return failures + openings * 3
    return _per_period(circuit, failures) + openings * (3 * (1 + circuit.read_copies) + circuit.read_copies)


def _per_period(circuit: Circuit, events: float) -> float:
    """Periods a month in which a container has at least one of ``events`` (spread at random)."""
    if events <= 0:
        return 0.0
    period = circuit.cache_ttl * (1.0 if not circuit.fleet else 1.0 + CACHE_JITTER / 2)
    return periods_with_events(events, circuit.containers, period)


def env(function: Resource) -> dict[str, Any]:
    """A function's environment variables."""
    variables = (function.props.get("Environment") or {}).get("Variables") or {}
    return dict(variables) if isinstance(variables, Mapping) else {}


def _json(value: Any) -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads(value) if isinstance(value, str) else {}
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _json_list(value: Any) -> list[Any]:
    try:
        loaded = json.loads(value) if isinstance(value, str) else []
    except json.JSONDecodeError:
        return []
    return loaded if isinstance(loaded, list) else []
