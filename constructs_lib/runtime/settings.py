"""The circuit breaker's settings, defined once: names, defaults, types and checks.

The runtime (``CircuitBreaker`` inside Lambda) and the CDK construct's ``attach()`` both use
:class:`BreakerSettings`, so a value one side refuses is refused by the other. Durations are seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BreakerSettings", "InvalidSettingsError"]

#: The most read copies a circuit may have (each transition writes every copy).
MAX_READ_COPIES = 64
_COUNTS = ("failure_threshold", "half_open_max_calls", "success_threshold")
_POSITIVE_DURATIONS = ("window", "open_duration", "max_open_duration", "probe_timeout", "idle_expiry")


class InvalidSettingsError(ValueError):
    """Settings that the breaker cannot work with; ``problems`` lists ``(name, value, fix)``."""

    def __init__(self, circuit_id: str, problems: list[tuple[str, Any, str]]) -> None:
        self.problems = problems
        details = "; ".join(f"{name}={value!r}: {fix}" for name, value, fix in problems)
        super().__init__(f"circuit '{circuit_id}': invalid settings {details}")


@dataclass(frozen=True, kw_only=True)
class BreakerSettings:
    """How one circuit behaves. Every field has a default; durations are seconds.

    Args:
        failure_threshold: Failures within ``window`` that open the circuit. Default: 5.
        window: Length of the failure-counting window, from its first failure. Default: 60.
        open_duration: How long the circuit stays open the first time. Default: 30.
        max_open_duration: Cap of the open time, which doubles with each consecutive re-open. Default: 300.
        half_open_max_calls: Probes allowed at once across all containers while HALF_OPEN. Default: 1.
        success_threshold: Probe successes that close the circuit. Default: 1.
        cache_ttl: How long a container trusts its last read of a CLOSED or HALF_OPEN state. Default: 1.
            Fractions of a second are fine; 0 (read on every call) only with ``read_copies`` 1.
        fail_open: Let calls through when DynamoDB itself fails (logged and counted). Default: True. A
            throttled store is not a failed one: the state the container read last decides instead.
        slow_call_duration: Calls slower than this count as failures. Default: None (off).
        probe_timeout: How long a probe's lease lasts; a crashed probe frees its slot after it. Default: 30.
        idle_expiry: TTL of the item after its last write; only cleans up idle circuits. Default: 7 days.
        read_copies: Copies of the circuit's state that containers read, one at random per read. 1 (the
            default) reads the circuit's item itself and writes every failure as it happens, which holds to
            about 1,000 containers calling at once. Above 1 the breaker is in fleet mode: transitions are
            copied to that many items, a container counts its failures locally and writes them with its
            next read, and only one container per copy may try a half-open probe at a time. 32 holds to
            20,000 containers (docs/patterns/circuit-breaker.md, "The breaker at scale"). At most 64. One
            circuit has one value: every container on it must read the copies that every transition writes.
    """

    failure_threshold: int = 5
    window: float = 60.0
    open_duration: float = 30.0
    max_open_duration: float = 300.0
    half_open_max_calls: int = 1
    success_threshold: int = 1
    cache_ttl: float = 1.0
    fail_open: bool = True
    slow_call_duration: float | None = None
    probe_timeout: float = 30.0
    idle_expiry: float = 7 * 24 * 3600.0
    read_copies: int = 1

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def problems_of(cls, values: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
        """Every problem with ``values`` (unset names take their defaults): ``(name, value, fix)``."""
        found: list[tuple[str, Any, str]] = [
            (name, value, f"not a breaker setting; use one of {', '.join(cls.names())}")
            for name, value in values.items()
            if name not in cls.names()
        ]
        merged = {**dataclasses.asdict(cls()), **{k: v for k, v in values.items() if k in cls.names()}}
        for name in _COUNTS:
            value = merged[name]
            if not _is_int(value) or value < 1:
                found.append((name, value, "must be a whole number of at least 1"))
        for name in (*_POSITIVE_DURATIONS, "slow_call_duration"):
            value = merged[name]
            if value is None and name == "slow_call_duration":
                continue
            if not _is_number(value) or value <= 0:
                found.append((name, value, "must be a number of seconds above 0"))
        if not _is_number(merged["cache_ttl"]) or merged["cache_ttl"] < 0:
            found.append(("cache_ttl", merged["cache_ttl"], "must be a number of seconds, 0 or more"))
        if not _is_int(merged["read_copies"]) or not 1 <= merged["read_copies"] <= MAX_READ_COPIES:
            found.append(
                ("read_copies", merged["read_copies"], f"must be a whole number from 1 to {MAX_READ_COPIES}")
            )
        if not isinstance(merged["fail_open"], bool):
            found.append(("fail_open", merged["fail_open"], "must be True or False"))
        if found:
            return found
        if merged["read_copies"] > 1 and merged["cache_ttl"] == 0:
            found.append(
                (
                    "cache_ttl",
                    merged["cache_ttl"],
                    f"must be above 0 with read_copies={merged['read_copies']}: fleet mode bounds the "
                    "table's load to one copy read per container per cache period and writes a container's "
                    "failures with its next read; with 0 every call would read a copy and write its own "
                    "failures, so use a cache period (the default is 1 s, 0.5 s is fine) or read_copies=1",
                )
            )
        if merged["max_open_duration"] < merged["open_duration"]:
            found.append(
                (
                    "max_open_duration",
                    merged["max_open_duration"],
                    f"must be at least open_duration ({merged['open_duration']:g}s)",
                )
            )
        if merged["idle_expiry"] <= merged["max_open_duration"]:
            found.append(
                (
                    "idle_expiry",
                    merged["idle_expiry"],
                    f"must be longer than max_open_duration ({merged['max_open_duration']:g}s)",
                )
            )
        return found

    @classmethod
    def resolve(cls, circuit_id: str, *layers: Mapping[str, Any]) -> BreakerSettings:
        """Settings from ``layers`` (the first that sets a name wins; None means unset), else defaults.

        Raises:
            InvalidSettingsError: listing every problem.
        """
        values: dict[str, Any] = {}
        for layer in reversed(layers):
            values.update({k: v for k, v in layer.items() if v is not None})
        problems = cls.problems_of(values)
        if problems:
            raise InvalidSettingsError(circuit_id, problems)
        return cls(**values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
