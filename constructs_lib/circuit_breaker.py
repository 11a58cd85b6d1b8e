"""Circuit-breaker infrastructure: the shared state table, the runtime layer, and wiring for functions.

The breaker itself runs inside Lambda: ``constructs_lib.runtime.CircuitBreaker``. This construct
provisions what it needs and attaches functions to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import AssetHashType, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._core import (
    Problems,
    check_types,
    child_path,
    given_props,
    is_unresolved,
    local_bundling,
    merge_props,
    or_default,
    seconds,
    threshold_alarm,
    underlying_function,
    visible_signature,
    wire_alarms,
)
from .runtime._store import IAM_ACTIONS, TTL_ATTRIBUTE
from .runtime.breaker import DEFAULT_NAMESPACE, NAMESPACE_ENV, SETTINGS_ENV, TABLE_ENV
from .runtime.settings import BreakerSettings

__all__ = ["CircuitBreaker", "CircuitBreakerWiring"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_10,
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)


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


@visible_signature
class CircuitBreaker(Construct):
    """The DynamoDB table that holds every circuit's state, and a layer with ``constructs_lib.runtime``.

    Runtime side (inside the function)::

        from constructs_lib.runtime import CircuitBreaker
        breaker = CircuitBreaker("payments")

    Args:
        existing_table: Use this table instead of creating one (partition key ``id`` of type string, TTL
            on ``expiresAt``). Default: a new table.
        removal_policy: What happens to a new table when it leaves the stack. Default: ``RETAIN``.
        table_props: Extra settings of a new table: a ``dynamodb.TableProps`` or a dict of its keyword
            arguments. Default: none.
        metrics_namespace: The EMF namespace the runtime writes to and the alarms read. Default:
            ``ConstructsLib/CircuitBreaker``.
        alarm_topic: SNS topic for every alarm's ALARM and OK actions. Default: no actions.

    ``None`` for any optional prop means its default.

    Raises:
        ConstructsLibValidationError: listing every invalid prop at once; nothing is created then.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        existing_table: dynamodb.ITable | None = None,
        removal_policy: RemovalPolicy | None = None,
        table_props: dynamodb.TableProps | Mapping[str, Any] | None = None,
        metrics_namespace: str | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        plan = _plan(child_path(scope, id), given_props(locals()))
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self.table: dynamodb.ITable = plan.existing_table or dynamodb.Table(
            self, "Table", removal_policy=plan.removal_policy, **plan.table_kwargs
        )
        self.layer = lambda_.LayerVersion(
            self,
            "RuntimeLayer",
            code=_runtime_layer_code(),
            compatible_runtimes=list(_LAYER_RUNTIMES),
            compatible_architectures=[lambda_.Architecture.ARM_64, lambda_.Architecture.X86_64],
            description="constructs_lib.runtime: a circuit breaker with shared state in DynamoDB",
        )
        self.metrics_namespace = plan.metrics_namespace
        self.alarms: list[cloudwatch.Alarm] = []
        self._alarm_topic = plan.alarm_topic
        self._alarms_by_circuit: dict[str, tuple[cloudwatch.Alarm, cloudwatch.Alarm]] = {}
        self._settings_by_function: dict[str, dict[str, dict[str, Any]]] = {}

    # ----------------------------------------------------------------------------------- public API

    def attach(
        self,
        function: lambda_.IFunction,
        *,
        circuit_id: str,
        failure_threshold: int | None = None,
        window: Duration | None = None,
        open_duration: Duration | None = None,
        max_open_duration: Duration | None = None,
        half_open_max_calls: int | None = None,
        success_threshold: int | None = None,
        cache_ttl: Duration | None = None,
        fail_open: bool | None = None,
        slow_call_duration: Duration | None = None,
    ) -> CircuitBreakerWiring:
        """Wire ``function`` (a Function, Version or Alias defined in this app) to the circuit ``circuit_id``.

        Adds the runtime layer (Python functions), sets ``CIRCUIT_BREAKER_TABLE``,
        ``CIRCUIT_BREAKER_NAMESPACE`` and this circuit's settings in ``CIRCUIT_BREAKER_SETTINGS`` (unset
        settings keep the runtime's defaults), grants ``dynamodb:GetItem`` and ``dynamodb:UpdateItem`` on
        this table only, and creates an alarm that fires when the circuit opens. Attach one function to
        several circuits by calling this once per circuit.
        """
        problems = Problems(f"CircuitBreaker '{self.node.path}'.attach")
        if not check_types(problems, CircuitBreaker.attach, {**given_props(locals()), "function": function}):
            problems.raise_if_any()
        target = _check_attach_target(problems, function, circuit_id)
        settings = _circuit_settings(
            problems,
            failure_threshold=failure_threshold,
            window=window,
            open_duration=open_duration,
            max_open_duration=max_open_duration,
            half_open_max_calls=half_open_max_calls,
            success_threshold=success_threshold,
            cache_ttl=cache_ttl,
            fail_open=fail_open,
            slow_call_duration=slow_call_duration,
        )
        if target is not None:
            self._check_function_is_free(problems, target)
        problems.raise_if_any()
        assert target is not None
        per_circuit = self._settings_by_function.setdefault(target.node.path, {})
        layer_added = not per_circuit
        if layer_added:
            target.add_layers(self.layer)
        per_circuit[circuit_id] = settings
        environment = {
            TABLE_ENV: self.table.table_name,
            NAMESPACE_ENV: self.metrics_namespace,
            SETTINGS_ENV: json.dumps(per_circuit, sort_keys=True, separators=(",", ":")),
        }
        for name, value in environment.items():
            target.add_environment(name, value)
        return CircuitBreakerWiring(
            function=target,
            circuit_id=circuit_id,
            environment=environment,
            settings=settings,
            layer_added=layer_added,
            grant=self.grant_runtime_access(target),
            alarm=self._circuit_alarms(circuit_id)[0],
            state_store_alarm=self._circuit_alarms(circuit_id)[1],
        )

    def _check_function_is_free(self, problems: Problems, target: lambda_.Function) -> None:
        """A function reads one table and one settings variable: it can be wired to one breaker only."""
        for node in target.node.root.node.find_all():
            if (
                isinstance(node, CircuitBreaker)
                and node is not self
                and target.node.path in node._settings_by_function
            ):
                problems.add(
                    "function",
                    target.node.path,
                    f"is already attached to the breaker '{node.node.path}'; a function has one "
                    f"CIRCUIT_BREAKER_TABLE, so '{self.node.path}' would overwrite it; attach every "
                    "circuit of this function to one breaker",
                )

    def grant_runtime_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """The item-level actions the runtime uses (GetItem, UpdateItem), on this table only."""
        return self.table.grant(grantee, *IAM_ACTIONS)

    def grant_read_state(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read circuits' state items (GetItem, BatchGetItem), for dashboards and operators."""
        return self.table.grant(grantee, "dynamodb:GetItem", "dynamodb:BatchGetItem")

    def metric_circuit_opened(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Times the circuit opened (from the runtime's EMF records). Default: sum over 1 minute."""
        return self._metric("CircuitOpened", circuit_id, period)

    def metric_calls_rejected(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Calls the circuit rejected. Default: sum over 1 minute."""
        return self._metric("CallsRejected", circuit_id, period)

    def metric_state_store_errors(
        self, circuit_id: str, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """DynamoDB failures the runtime met (and failed open or closed on). Default: sum over 1 minute."""
        return self._metric("StateStoreErrors", circuit_id, period)

    # ----------------------------------------------------------------------------------- internals

    def _metric(self, name: str, circuit_id: str, period: Duration | None) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map={"CircuitId": circuit_id},
            statistic="Sum",
            period=period or Duration.minutes(1),
        )

    def _circuit_alarms(self, circuit_id: str) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        """The circuit's two alarms, made once: it opened, and its state store is failing."""
        if circuit_id not in self._alarms_by_circuit:
            name = re.sub(r"[^A-Za-z0-9]", "", circuit_id.title()) or "Circuit"
            digest = hashlib.sha256(circuit_id.encode()).hexdigest()[:8]
            opened = threshold_alarm(
                self,
                f"{name}{digest}OpenedAlarm",
                self.metric_circuit_opened(circuit_id),
                threshold=1,
                description=f"Circuit '{circuit_id}' opened: its downstream is failing",
            )
            store = threshold_alarm(
                self,
                f"{name}{digest}StateStoreErrorsAlarm",
                self.metric_state_store_errors(circuit_id),
                threshold=1,
                description=f"Circuit '{circuit_id}' cannot use its state table, so the breaker fails open "
                "(or closed) instead of protecting the downstream; see the StateStoreError log lines",
            )
            wire_alarms([opened, store], self._alarm_topic)
            self._alarms_by_circuit[circuit_id] = (opened, store)
            self.alarms.extend([opened, store])
        return self._alarms_by_circuit[circuit_id]


@dataclass(frozen=True, kw_only=True)
class _Plan:
    problems: Problems
    existing_table: dynamodb.ITable | None
    removal_policy: RemovalPolicy
    table_kwargs: dict[str, Any]
    metrics_namespace: str
    alarm_topic: sns.ITopic | None


def _plan(where: str, given: Mapping[str, Any]) -> _Plan:
    """Check every prop, resolve defaults and merge the escape hatch; raise once with every problem."""
    problems = Problems(f"CircuitBreaker '{where}'")
    if not check_types(problems, CircuitBreaker.__init__, given):
        problems.raise_if_any()  # the checks below assume the right types
    existing_table = given["existing_table"]
    table_props = given["table_props"]
    if existing_table is not None:
        _check_existing_table(problems, existing_table)
        if given["removal_policy"] is not None:
            problems.add(
                "removal_policy",
                given["removal_policy"],
                "only applies to a table the construct creates; existing_table keeps its own removal policy, "
                "so remove removal_policy",
            )
    if existing_table is not None and table_props:
        problems.add(
            "table_props",
            table_props,
            "existing_table is used as it is; pass one of the two, not both",
        )
    table_kwargs = merge_props(
        problems,
        prop_name="table_props",
        l2_class=dynamodb.Table,
        struct_class=dynamodb.TableProps,
        defaults={
            "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
            "encryption": dynamodb.TableEncryption.AWS_MANAGED,
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        },
        user=table_props,
        required={
            "partition_key": dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            "time_to_live_attribute": TTL_ATTRIBUTE,
        },
        owned={"removal_policy": "removal_policy"},
        security_defaults=("encryption", "point_in_time_recovery_specification"),
    )
    namespace = or_default(given["metrics_namespace"], DEFAULT_NAMESPACE)
    problems.check(
        bool(re.fullmatch(r"[A-Za-z0-9._/#:-]{1,255}", namespace)),
        "metrics_namespace",
        namespace,
        "must be 1-255 letters, digits or . _ / # : -",
    )
    problems.raise_if_any()
    return _Plan(
        problems=problems,
        existing_table=existing_table,
        removal_policy=or_default(given["removal_policy"], RemovalPolicy.RETAIN),
        table_kwargs=table_kwargs,
        metrics_namespace=namespace,
        alarm_topic=given["alarm_topic"],
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
        if target.runtime.name not in {runtime.name for runtime in _LAYER_RUNTIMES}:
            problems.add(
                "function",
                f"{target.node.path} ({target.runtime.name})",
                "the breaker's runtime is a Python layer, which this runtime cannot load; attach "
                f"functions on {', '.join(r.name for r in _LAYER_RUNTIMES)}",
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


_DURATION_SETTINGS = ("window", "open_duration", "max_open_duration", "cache_ttl", "slow_call_duration")


def _check_existing_table(problems: Problems, table: dynamodb.ITable) -> None:
    """The runtime addresses items by a string ``id``; a table keyed otherwise turns the breaker off."""
    schema = table.schema() if isinstance(table, dynamodb.Table) else None
    if schema is None:
        problems.warn(
            "breakerTableUnknown",
            f"existing_table '{table.node.path}' is imported, so its key schema cannot be checked at "
            f"synth: it must have the partition key 'id' (string) and no sort key, with TTL on "
            f"'{TTL_ATTRIBUTE}'; otherwise every state read fails and the breaker fails open (the "
            "StateStoreErrors alarm fires)",
        )
        return
    key = schema.partition_key
    if key is None:
        return
    if key.name != "id" or key.type != dynamodb.AttributeType.STRING or schema.sort_key is not None:
        described = f"{key.name} ({key.type.name})" + (
            f" + sort key {schema.sort_key.name}" if schema.sort_key else ""
        )
        problems.add(
            "existing_table",
            f"{table.node.path} keyed {described}",
            "the breaker's runtime reads and writes items by the partition key 'id' of type string with no "
            "sort key; give it such a table, or let the construct create one",
        )


def _circuit_settings(problems: Problems, **given: Any) -> dict[str, Any]:
    """The runtime settings that were given, as plain JSON values, checked by ``BreakerSettings``."""
    for name in _DURATION_SETTINGS:
        value = given.get(name)
        if value is not None and not isinstance(value, Duration):
            problems.add(name, value, "must be a Duration, for example Duration.seconds(30)")
            given[name] = None
    settings = {
        name: seconds(value) if isinstance(value, Duration) else value
        for name, value in given.items()
        if value is not None and not is_unresolved(value)
    }
    for name, value, fix in BreakerSettings.problems_of(settings):
        problems.add(name, given.get(name, value), fix)
    return settings


def _runtime_layer_code() -> lambda_.Code:
    """The package's own runtime files as ``python/constructs_lib/...``, copied at synth (no Docker)."""
    files = [_PACKAGE_DIR / "__init__.py", *sorted((_PACKAGE_DIR / "runtime").glob("*.py"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return lambda_.Code.from_asset(
        str(_PACKAGE_DIR / "runtime"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest.hexdigest(),
        bundling=local_bundling(lambda out: _copy_files(files, out / "python" / "constructs_lib")),
    )


def _copy_files(files: list[Path], root: Path) -> None:
    for path in files:
        destination = root / path.relative_to(_PACKAGE_DIR)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
