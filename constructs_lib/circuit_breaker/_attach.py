"""attach(): the checks of a function and its circuit's settings, and the wiring (the runtime layer, the
environment the runtime reads, the grant and the circuit's alarms)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .._core import (
    Problems,
    cdk_warning,
    check_types,
    is_unresolved,
    reserved_concurrency,
    timeout_seconds,
    underlying_function,
)
from ..runtime._store import IAM_ACTIONS
from ..runtime.breaker import NAMESPACE_ENV, SETTINGS_ENV, TABLE_ENV
from ..runtime.settings import BreakerSettings
from ._layer import LAYER_RUNTIMES
from ._metrics import CircuitMetrics

#: The busy containers one state item holds (``read_copies=1``): about 3,000 strongly consistent reads a
#: second at one read per 1 s cache period, with room for the writes of an outage's onset.
ONE_ITEM_CONTAINERS = 1_000
_DURATION_SETTINGS = ("window", "open_duration", "max_open_duration", "cache_ttl", "slow_call_duration")


@dataclass(frozen=True)
class CircuitBreakerWiring:
    """What ``CircuitBreaker.attach`` did to one function, for inspection and tests."""

    function: lambda_.Function
    circuit_id: str
    environment: Mapping[str, str]
    settings: Mapping[str, Any]
    layer_added: bool
    grant: iam.Grant
    alarm: cloudwatch.Alarm
    #: Fires when the runtime cannot use the state table (and so fails open or closed).
    state_store_alarm: cloudwatch.Alarm


class Attachments:
    """The functions attached to one breaker, each with its circuits' settings.

    Args:
        scope: The breaker (problems and warnings name it).
        table: The state table, granted to each function.
        layer: The runtime layer, added to each function once.
        metrics: Makes each circuit's alarms.
        held_elsewhere: The path of another breaker a function (by path) is attached to, if any.
    """

    def __init__(
        self,
        scope: Construct,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        metrics: CircuitMetrics,
        held_elsewhere: Callable[[str], str | None],
    ) -> None:
        self._scope = scope
        self._table = table
        self._layer = layer
        self._metrics = metrics
        self._held_elsewhere = held_elsewhere
        #: function path -> circuit id -> the settings attach() wrote for it
        self.by_function: dict[str, dict[str, dict[str, Any]]] = {}

    def circuits(self) -> set[str]:
        """Every circuit some function is attached to."""
        return {circuit for per_circuit in self.by_function.values() for circuit in per_circuit}

    def checked(
        self, given: Mapping[str, Any], signature: Callable[..., Any]
    ) -> tuple[lambda_.Function, dict[str, Any]]:
        """attach's arguments (typed as ``signature``) checked, every problem raised at once: the function
        and its settings."""
        problems = Problems(f"CircuitBreaker '{self._scope.node.path}'.attach")
        if not check_types(problems, signature, given):
            problems.raise_if_any()
        circuit_id = given["circuit_id"]
        target = _check_attach_target(problems, given["function"], circuit_id)
        settings = _settings_given(
            problems, **{name: given[name] for name in BreakerSettings.names() if name in given}
        )
        _check_expected_containers(problems, given["expected_containers"], settings)
        if target is not None:
            self._check_function_is_free(problems, target)
            self._check_settings_agree(problems, target, circuit_id, settings)
            _check_slow_call_below_timeout(problems, target, given["slow_call_duration"])
        problems.raise_if_any()
        assert target is not None
        return target, settings

    def wire(
        self, target: lambda_.Function, circuit_id: str, settings: dict[str, Any]
    ) -> CircuitBreakerWiring:
        """The layer, the environment, the grant and the alarms of one attachment."""
        per_circuit = self.by_function.setdefault(target.node.path, {})
        layer_added = not per_circuit
        if layer_added:
            target.add_layers(self._layer)
        per_circuit[circuit_id] = settings
        environment = {
            TABLE_ENV: self._table.table_name,
            NAMESPACE_ENV: self._metrics.namespace,
            SETTINGS_ENV: json.dumps(per_circuit, sort_keys=True, separators=(",", ":")),
        }
        for name, value in environment.items():
            target.add_environment(name, value)
        opened, store_errors = self._metrics.circuit_alarms(circuit_id)
        return CircuitBreakerWiring(
            function=target,
            circuit_id=circuit_id,
            environment=environment,
            settings=settings,
            layer_added=layer_added,
            grant=self._table.grant(target, *IAM_ACTIONS),
            alarm=opened,
            state_store_alarm=store_errors,
        )

    def circuit_settings(self, circuit_id: str) -> BreakerSettings:
        """The circuit's settings as attach() wrote them (the first attached function's), with defaults."""
        for per_circuit in self.by_function.values():
            if circuit_id in per_circuit:
                return BreakerSettings(**per_circuit[circuit_id])
        return BreakerSettings()

    def _check_settings_agree(
        self, problems: Problems, target: lambda_.Function, circuit_id: str, settings: Mapping[str, Any]
    ) -> None:
        """Every function on one circuit shares one state item, so they must count and open alike."""
        wanted = BreakerSettings(**settings)
        for path, per_circuit in self.by_function.items():
            if path == target.node.path or circuit_id not in per_circuit:
                continue
            other = BreakerSettings(**per_circuit[circuit_id])
            differ = [n for n in BreakerSettings.names() if getattr(other, n) != getattr(wanted, n)]
            if differ:
                problems.add(
                    "settings",
                    {n: getattr(wanted, n) for n in differ},
                    f"function '{path}' is attached to circuit '{circuit_id}' with "
                    f"{ {n: getattr(other, n) for n in differ} }; both read and write one state item, so the "
                    "circuit would open and close by whichever function counts first; give both the same "
                    "settings, or use two circuit ids",
                )
                return

    def _check_function_is_free(self, problems: Problems, target: lambda_.Function) -> None:
        """A function reads one table and one settings variable: it can be wired to one breaker only."""
        other = self._held_elsewhere(target.node.path)
        if other is not None:
            problems.add(
                "function",
                target.node.path,
                f"is already attached to the breaker '{other}'; a function has one "
                f"CIRCUIT_BREAKER_TABLE, so '{self._scope.node.path}' would overwrite it; attach every "
                "circuit of this function to one breaker",
            )

    def warn_about_fleet_size(
        self, target: lambda_.Function, circuit_id: str, settings: Mapping[str, Any]
    ) -> None:
        """Warn when a function reserves more containers than one state item serves (fleet mode is off)."""
        reserved = reserved_concurrency(target)
        copies = settings.get("read_copies", BreakerSettings.read_copies)
        if reserved is not None and reserved > ONE_ITEM_CONTAINERS and copies == 1:
            cdk_warning(
                self._scope,
                "breakerFleetMode",
                f"function '{target.node.path}' reserves {reserved} concurrent executions, and each of "
                f"them reads circuit '{circuit_id}''s one state item once a cache period: DynamoDB serves "
                "one item about 3,000 reads a second, which holds about "
                f"{ONE_ITEM_CONTAINERS:,} busy containers; pass read_copies=32 to attach() (fleet mode, "
                'see docs/patterns/circuit-breaker.md, "The breaker at scale")',
            )


def _check_attach_target(
    problems: Problems, function: lambda_.IFunction, circuit_id: str
) -> lambda_.Function | None:
    """The Function behind ``function`` (None when it is not one defined in this app)."""
    target = underlying_function(function)
    problems.check(
        bool(re.fullmatch(r"[^\s]{1,256}", circuit_id)),
        "circuit_id",
        circuit_id,
        "must be 1-256 characters without spaces, for example 'payments' or 'tenant:42'",
    )
    if isinstance(target, lambda_.Function):
        if target.runtime.name not in {runtime.name for runtime in LAYER_RUNTIMES}:
            problems.add(
                "function",
                f"{target.node.path} ({target.runtime.name})",
                "the breaker's runtime is a Python layer, which this runtime cannot load; attach "
                f"functions on {', '.join(r.name for r in LAYER_RUNTIMES)}",
            )
            return None
        return target
    problems.add(
        "function",
        function.node.path,
        "attach needs a lambda_.Function defined in this app (or its Version or Alias); for an "
        "imported function, set the CIRCUIT_BREAKER_* variables and grant_runtime_access() yourself",
    )
    return None


def _check_slow_call_below_timeout(
    problems: Problems, target: lambda_.Function, slow_call_duration: Duration | None
) -> None:
    """A call can only be slow if it ends before the function's timeout."""
    slow = _seconds(slow_call_duration) if isinstance(slow_call_duration, Duration) else None
    limit = timeout_seconds(target)
    if slow is not None and limit is not None and slow >= limit:
        problems.add(
            "slow_call_duration",
            slow_call_duration,
            f"must be below the timeout of '{target.node.path}' ({limit:g}s): a call that slow is cut off by "
            "Lambda first, so it would never count as slow; lower it, or raise the function's timeout",
        )


def _settings_given(problems: Problems, **given: Any) -> dict[str, Any]:
    """The runtime settings that were given, as plain JSON values, checked by ``BreakerSettings``."""
    for name in _DURATION_SETTINGS:
        value = given.get(name)
        if value is not None and not isinstance(value, Duration):
            problems.add(name, value, "must be a Duration, for example Duration.seconds(30)")
            given[name] = None
    settings = {
        name: _seconds(value) if isinstance(value, Duration) else value
        for name, value in given.items()
        if value is not None and not is_unresolved(value)
    }
    for name, value, fix in BreakerSettings.problems_of(settings):
        if given.get(name) is None:  # the default of a setting that was not given: say which was set
            set_ = ", ".join(f"{k}={_seconds_or_value(v)}" for k, v in settings.items())
            problems.add(name, f"its default ({value:g}s), with {set_}", f"{fix}; raise {name} too")
        else:
            problems.add(name, given[name], fix)
    return settings


def _seconds(value: Duration) -> float:
    """A Duration's seconds, fractions included (``Duration.millis(500)`` is 0.5, as the runtime takes it)."""
    return float(value.to_seconds(integral=False))


def _check_expected_containers(problems: Problems, expected: int | None, settings: Mapping[str, Any]) -> None:
    """``expected_containers`` sizes fleet mode's pre-warming: a whole number, and fleet mode on."""
    if expected is None or is_unresolved(expected):
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 1:
        problems.add("expected_containers", expected, "must be a whole number of at least 1")
        return
    copies = settings.get("read_copies", BreakerSettings.read_copies)
    if copies == 1:
        problems.add(
            "expected_containers",
            expected,
            "only sizes fleet mode's pre-warming (read_copies above 1): with read_copies=1 every container "
            "reads the circuit's one item, which one partition serves whatever the table's warm throughput; "
            + (
                "pass read_copies=32 too"
                if expected > ONE_ITEM_CONTAINERS
                else f"remove it, or pass read_copies too (above {ONE_ITEM_CONTAINERS:,} containers)"
            ),
        )


def _seconds_or_value(value: Any) -> str:
    return f"{value:g}s" if isinstance(value, float) else repr(value)
