"""The CircuitBreaker construct: the state table, the runtime layer, and its public API. Each concern is
a collaborator of its own: ``Attachments`` (attach()), ``TableThroughput`` (fleet mode's pre-warming),
``CircuitMetrics`` (metrics and alarms) and ``ConsumerPauses`` (pause_while_open and its governor)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._core import acknowledge, child_path, given_props, visible_signature
from ..runtime._store import IAM_ACTIONS
from . import _table
from ._attach import Attachments, CircuitBreakerWiring
from ._layer import LAYER_RUNTIMES, runtime_layer_code
from ._metrics import CircuitMetrics
from ._pause import ConsumerPause, ConsumerPauses
from ._throughput import TableThroughput


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
        plan = _table.plan(scope, child_path(scope, id), given_props(locals()), CircuitBreaker.__init__)
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self.table: dynamodb.ITable = plan.existing_table or dynamodb.Table(
            self, "Table", removal_policy=plan.removal_policy, **plan.table_kwargs
        )
        if plan.existing_table is None and _table.encryption_is_aws_owned_or_managed(plan.table_kwargs):
            acknowledge(
                self.table,
                "checkov::CKV_AWS_119",
                "DynamoDB encrypts the table at rest with an AWS key; it holds circuit state (counters, "
                "timestamps), no customer data. Pass table_props with TableEncryption.CUSTOMER_MANAGED for a "
                "key of your own",
            )
        self.layer = lambda_.LayerVersion(
            self,
            "RuntimeLayer",
            code=runtime_layer_code(),
            compatible_runtimes=list(LAYER_RUNTIMES),
            compatible_architectures=[lambda_.Architecture.ARM_64, lambda_.Architecture.X86_64],
            description="constructs_lib.runtime: a circuit breaker with shared state in DynamoDB",
        )
        self.metrics_namespace = plan.metrics_namespace
        self.alarms: list[cloudwatch.Alarm] = []
        self._metrics = CircuitMetrics(
            self, self.table, plan.metrics_namespace, plan.alarm_topic, self.alarms, self._attached_circuits
        )
        self._attachments = Attachments(self, self.table, self.layer, self._metrics, self._breaker_holding)
        self._throughput = TableThroughput(
            self, self.table, plan.table_kwargs if plan.existing_table is None else None
        )
        self._pauses = ConsumerPauses(
            self, self.table, self._metrics, self._attachments, plan.alarm_topic, self.alarms
        )

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
        read_copies: int | None = None,
        expected_containers: int | None = None,
    ) -> CircuitBreakerWiring:
        """Wire ``function`` (a Function, Version or Alias defined in this app) to the circuit ``circuit_id``.

        Adds the runtime layer, sets ``CIRCUIT_BREAKER_TABLE``, ``CIRCUIT_BREAKER_NAMESPACE`` and this
        circuit's settings in ``CIRCUIT_BREAKER_SETTINGS`` (unset settings keep the runtime's defaults,
        ``BreakerSettings``), grants ``dynamodb:GetItem`` and ``dynamodb:UpdateItem`` on this table only,
        and creates the circuit's two alarms: it opened, and its state store fails. Attach one function to
        several circuits by calling this once per circuit, all on one breaker. The function must run on a
        Python runtime the layer supports (3.10 to 3.14).

        Durations may hold fractions of a second (``Duration.millis(500)``), as the runtime's do.

        ``read_copies`` (1 to 64; default 1) puts the circuit in fleet mode for functions that run more
        than about 1,000 containers at once: 32 holds to 20,000 (docs/patterns/circuit-breaker.md, "The
        breaker at scale"). The grant already covers the copies, which are items of the same table.
        Every function on one circuit must use the same value, and the runtime refuses another (one
        circuit, one mode).

        ``expected_containers`` (fleet mode only; default: the function's reserved concurrency, else
        unknown) is how many of the function's containers call the circuit at once at peak. In fleet mode
        attach() pre-warms the state table for the fleets it knows (``WarmThroughput``, from
        ``constructs_lib.runtime._capacity.fleet_need``) when they need more than a new on-demand table
        serves at once.
        """
        attachments = self._attachments
        given = {**given_props(locals()), "function": function}
        target, settings = attachments.checked(given, CircuitBreaker.attach)
        attachments.warn_about_fleet_size(target, circuit_id, settings)
        wiring = attachments.wire(target, circuit_id, settings)
        self._throughput.plan(target, circuit_id, settings, expected_containers)
        return wiring

    def pause_while_open(
        self,
        mapping: lambda_.EventSourceMapping,
        *,
        circuit_id: str,
        probe_concurrency: int | None = None,
    ) -> ConsumerPause:
        """Stop ``mapping`` (an SQS event source mapping) from receiving while ``circuit_id`` is open.

        A governor function, shared by every mapping this breaker pauses, follows the state table's
        stream: when the circuit opens, it disables the mapping within seconds, so messages wait in the
        queue instead of spending receive counts on the way to the DLQ. At ``openUntil`` (within a
        minute: a scheduled tick reconciles every mapping with its circuit) the mapping receives again,
        one message per batch at ``probe_concurrency``, so the consumer's first calls are the half-open
        probes; when the circuit closes, the configured batch size and concurrency come back. A circuit
        that cannot be read never keeps a mapping paused. The consumer must be attached to the circuit
        (``attach``) and report ``CircuitOpenError`` records as batch item failures.

        Args:
            mapping: An SQS event source mapping defined in this app, for example
                ``QueueBufferedIngest.event_source_mapping``.
            circuit_id: A circuit attached to the mapping's function.
            probe_concurrency: Maximum concurrency while probing (2..1000). Default: 2.

        Raises:
            ConstructsLibValidationError: listing every problem at once.
        """
        return self._pauses.pause(
            {**given_props(locals()), "mapping": mapping}, CircuitBreaker.pause_while_open
        )

    def grant_runtime_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """The item-level actions the runtime uses (GetItem, UpdateItem), on this table only."""
        return self.table.grant(grantee, *IAM_ACTIONS)

    def grant_read_state(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read circuits' state items (GetItem, BatchGetItem), for dashboards and operators."""
        return self.table.grant(grantee, "dynamodb:GetItem", "dynamodb:BatchGetItem")

    def metric_consumer_paused(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 while the governor keeps the circuit's consumers paused, else 0 (maximum over 1 minute)."""
        return self._metrics.consumer_paused(circuit_id, period)

    def metric_circuit_opened(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Times the circuit opened (from the runtime's EMF records). Default: sum over 1 minute."""
        return self._metrics.metric("CircuitOpened", circuit_id, period)

    def metric_circuit_half_opened(
        self, circuit_id: str, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Times the circuit let probes through (OPEN -> HALF_OPEN). Default: sum over 1 minute."""
        return self._metrics.metric("CircuitHalfOpened", circuit_id, period)

    def metric_circuit_closed(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Times the circuit closed after successful probes. Default: sum over 1 minute."""
        return self._metrics.metric("CircuitClosed", circuit_id, period)

    def metric_calls_rejected(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Calls the circuit rejected. Default: sum over 1 minute."""
        return self._metrics.metric("CallsRejected", circuit_id, period)

    def metric_state_store_errors(
        self, circuit_id: str, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """DynamoDB failures the runtime met (and failed open or closed on). Default: sum over 1 minute."""
        return self._metrics.metric("StateStoreErrors", circuit_id, period)

    def _attached_circuits(self) -> set[str]:
        return self._attachments.circuits()

    def _breaker_holding(self, function_path: str) -> str | None:
        """Another breaker of this app that ``function_path`` is attached to (its path), if any."""
        for node in self.node.root.node.find_all():
            if (
                isinstance(node, CircuitBreaker)
                and node is not self
                and function_path in node._attachments.by_function
            ):
                return node.node.path
        return None
