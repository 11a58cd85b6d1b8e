"""The breaker's metrics and alarms: the runtime's EMF records by circuit and state table, an alarm when a
circuit opens and when its state store fails, and the governor's read-error alarm per paused circuit."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation

from .._core import threshold_alarm, wire_alarms


class CircuitMetrics:
    """The metrics of one breaker's circuits, and the alarms on them.

    Args:
        scope: The construct the alarms belong to.
        table: The state table (a metric dimension: it tells two breakers apart).
        namespace: The EMF namespace the runtime writes to.
        alarm_topic: Where every alarm's ALARM and OK actions go (None: no actions).
        alarms: The construct's list of alarms, which each new alarm joins.
        attached: The circuits attached so far; at synth, a metric asked for another circuit is an error.
    """

    def __init__(
        self,
        scope: Construct,
        table: dynamodb.ITable,
        namespace: str,
        alarm_topic: sns.ITopic | None,
        alarms: list[cloudwatch.Alarm],
        attached: Callable[[], set[str]],
    ) -> None:
        self._scope = scope
        self._table = table
        self.namespace = namespace
        self._alarm_topic = alarm_topic
        self._alarms = alarms
        self._alarms_by_circuit: dict[str, tuple[cloudwatch.Alarm, cloudwatch.Alarm]] = {}
        self._pause_alarms: dict[str, cloudwatch.Alarm] = {}
        #: Every circuit a metric or an alarm was asked for.
        self.asked: set[str] = set()
        scope.node.add_validation(_MetricCircuitsAttached(self, attached))

    def metric(self, name: str, circuit_id: str, period: Duration | None) -> cloudwatch.Metric:
        """The runtime's metric ``name`` for ``circuit_id``: its sum over ``period`` (default 1 minute)."""
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map=self.dimensions(circuit_id),
            statistic="Sum",
            period=period or Duration.minutes(1),
        )

    def consumer_paused(self, circuit_id: str, period: Duration | None) -> cloudwatch.Metric:
        """1 while the governor keeps the circuit's consumers paused, else 0 (maximum over 1 minute)."""
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name="ConsumerPaused",
            dimensions_map=self.dimensions(circuit_id),
            statistic="Maximum",
            period=period or Duration.minutes(1),
        )

    def dimensions(self, circuit_id: str) -> dict[str, str]:
        """The runtime's dimensions: the circuit and the state table (which tells two breakers apart).

        A circuit asked for here must be attached by the time the app synthesizes, or its graphs and
        alarms would stay empty forever: synth fails otherwise.
        """
        self.asked.add(circuit_id)
        return {"CircuitId": circuit_id, "StateTable": self._table.table_name}

    def circuit_alarms(self, circuit_id: str) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        """The circuit's two alarms, made once: it opened, and its state store is failing."""
        if circuit_id not in self._alarms_by_circuit:
            name = re.sub(r"[^A-Za-z0-9]", "", circuit_id.title()) or "Circuit"
            digest = hashlib.sha256(circuit_id.encode()).hexdigest()[:8]
            opened = threshold_alarm(
                self._scope,
                f"{name}{digest}OpenedAlarm",
                self.metric("CircuitOpened", circuit_id, None),
                threshold=1,
                description=f"Circuit '{circuit_id}' opened: its downstream is failing",
            )
            store = threshold_alarm(
                self._scope,
                f"{name}{digest}StateStoreErrorsAlarm",
                self.metric("StateStoreErrors", circuit_id, None),
                threshold=1,
                description=f"Circuit '{circuit_id}' cannot use its state table, so the breaker fails open "
                "(or closed) instead of protecting the downstream; see the StateStoreError log lines",
            )
            wire_alarms([opened, store], self._alarm_topic)
            self._alarms_by_circuit[circuit_id] = (opened, store)
            self._alarms.extend([opened, store])
        return self._alarms_by_circuit[circuit_id]

    def read_error_alarm(self, circuit_id: str) -> cloudwatch.Alarm:
        """The alarm on the governor failing to read ``circuit_id`` (made once)."""
        if circuit_id not in self._pause_alarms:
            digest = hashlib.sha256(circuit_id.encode()).hexdigest()[:8]
            name = re.sub(r"[^A-Za-z0-9]", "", circuit_id.title()) or "Circuit"
            alarm = threshold_alarm(
                self._scope,
                f"{name}{digest}GovernorReadErrorsAlarm",
                self.metric("GovernorReadErrors", circuit_id, None),
                threshold=1,
                description=f"The governor could not read circuit '{circuit_id}' and resumed its consumers",
            )
            wire_alarms([alarm], self._alarm_topic)
            self._pause_alarms[circuit_id] = alarm
            self._alarms.append(alarm)
        return self._pause_alarms[circuit_id]


@jsii.implements(IValidation)
class _MetricCircuitsAttached:
    """At synth: every circuit a metric or alarm was asked for is attached to some function."""

    def __init__(self, metrics: CircuitMetrics, attached: Callable[[], set[str]]) -> None:
        self._metrics = metrics
        self._attached = attached

    def validate(self) -> list[str]:
        attached = self._attached()
        return [
            f"circuit_id: got {circuit!r} in a metric_* call, but no function is attached to that circuit of "
            f"this breaker (attached: {sorted(attached) or 'none'}), so its graph and alarms would stay "
            "empty; "
            "attach the function that calls it (breaker.attach(fn, circuit_id=...)) or fix the id"
            for circuit in sorted(self._metrics.asked - attached)
        ]
