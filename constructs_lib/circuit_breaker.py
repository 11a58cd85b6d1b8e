"""Circuit-breaker infrastructure: the shared state table, the runtime layer, and wiring for functions.

The breaker itself runs inside Lambda: ``constructs_lib.runtime.CircuitBreaker``. This construct
provisions what it needs and attaches functions to it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, CfnElement, CfnResource, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IValidation

from ._core import (
    Problems,
    acknowledge,
    acknowledge_checkov_function_defaults,
    acknowledge_xray_wildcard,
    cdk_warning,
    check_types,
    child_path,
    given_props,
    is_unresolved,
    local_bundling,
    merge_props,
    or_default,
    reserved_concurrency,
    threshold_alarm,
    timeout_seconds,
    underlying_function,
    visible_signature,
    wire_alarms,
)
from ._core.limits import MAPPING_CONCURRENCY_MAX, MAPPING_CONCURRENCY_MIN
from ._core.regions import environment_mismatch
from .runtime._capacity import (
    NEW_TABLE_READ_UNITS,
    NEW_TABLE_WRITE_UNITS,
    PARTITION_READ_UNITS,
    TABLE_QUOTA_UNITS,
    FleetNeed,
    fleet_need,
    fleet_write_units,
)
from .runtime._store import IAM_ACTIONS, TTL_ATTRIBUTE
from .runtime.breaker import DEFAULT_NAMESPACE, NAMESPACE_ENV, PAUSED_ENV, SETTINGS_ENV, TABLE_ENV
from .runtime.governor import (
    GOVERNED_ENV,
    LAMBDA_ACTIONS,
    PAUSE_MARKER_PREFIX,
    PROBE_CONCURRENCY,
    GovernedMapping,
)
from .runtime.settings import MAX_READ_COPIES, BreakerSettings

#: The busy containers one state item holds (``read_copies=1``): about 3,000 strongly consistent reads a
#: second at one read per 1 s cache period, with room for the writes of an outage's onset.
ONE_ITEM_CONTAINERS = 1_000

__all__ = ["CircuitBreaker", "CircuitBreakerWiring", "ConsumerPause"]

#: The governor's runtime (one the runtime layer supports).
GOVERNOR_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: pause_while_open warns when the queue's max_receive_count cannot ride out an outage this long.
OUTAGE_MINUTES_PLANNED_FOR = 30
#: How often the governor's schedule reconciles (it resumes a mapping at most this long after openUntil).
RECONCILE_SECONDS = 60


_PACKAGE_DIR = Path(__file__).resolve().parent
_LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_10,
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)
_DURATION_SETTINGS = ("window", "open_duration", "max_open_duration", "cache_ttl", "slow_call_duration")


def _covers(given: Any, reads: int, writes: int) -> bool:
    """``given`` (a WarmThroughput or its kwargs) is at least ``reads`` and ``writes``."""
    values = (
        given
        if isinstance(given, Mapping)
        else {
            "read_units_per_second": given.read_units_per_second,
            "write_units_per_second": given.write_units_per_second,
        }
    )
    read = values.get("read_units_per_second") or NEW_TABLE_READ_UNITS
    write = values.get("write_units_per_second") or NEW_TABLE_WRITE_UNITS
    return bool(read >= reads and write >= writes)


def receives_for_outage(settings: BreakerSettings, minutes: float = OUTAGE_MINUTES_PLANNED_FOR) -> int:
    """The max_receive_count a paused consumer needs to ride out an outage of ``minutes`` without a good
    message reaching the DLQ: 1 receive before the pause, 1 per half-open probe round (open periods
    double from open_duration up to max_open_duration, each followed by up to one reconcile tick), and
    1 to be processed after recovery."""
    elapsed, rounds, open_for = 0.0, 0, settings.open_duration
    while True:
        elapsed += open_for + RECONCILE_SECONDS
        if elapsed > minutes * 60:
            return 1 + rounds + 1
        rounds += 1
        open_for = min(open_for * 2, settings.max_open_duration)


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
        plan = _plan(scope, child_path(scope, id), given_props(locals()))
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self.table: dynamodb.ITable = plan.existing_table or dynamodb.Table(
            self, "Table", removal_policy=plan.removal_policy, **plan.table_kwargs
        )
        if plan.existing_table is None and _encryption_is_aws_owned_or_managed(plan.table_kwargs):
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
        self._governor: _GovernorParts | None = None
        self._governed: dict[str, dict[str, Any]] = {}
        self._pause_alarms: dict[str, cloudwatch.Alarm] = {}
        self._metric_circuits: set[str] = set()
        self._paused_by_function: dict[str, set[str]] = {}
        self._table_kwargs = plan.table_kwargs if plan.existing_table is None else None
        #: (function, circuit) -> (containers, cache_ttl, read_copies) of each fleet-mode attachment
        self._fleets: dict[tuple[str, str], tuple[int, float, int]] = {}
        self._throughput_warned: set[tuple[str, str]] = set()
        self.node.add_validation(_MetricCircuitsAttached(self))

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
        than about 1,000 containers at once: 32 holds to 20,000 (README, "The breaker at scale"). The grant
        already covers the copies, which are items of the same table. Every function on one circuit must
        use the same value, and the runtime refuses another (one circuit, one mode).

        ``expected_containers`` (fleet mode only; default: the function's reserved concurrency, else
        unknown) is how many of the function's containers call the circuit at once at peak. In fleet mode
        attach() pre-warms the state table for the fleets it knows (``WarmThroughput``, from
        ``constructs_lib.runtime._capacity.fleet_need``) when they need more than a new on-demand table
        serves at once.
        """
        target, settings = self._checked_attachment({**given_props(locals()), "function": function})
        self._warn_about_fleet_size(target, circuit_id, settings)
        wiring = self._wire(target, circuit_id, settings)
        self._plan_throughput(target, circuit_id, settings, expected_containers)
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
        facts, probe = self._checked_pause({**given_props(locals()), "mapping": mapping})
        governor = self._govern(mapping, circuit_id, facts, probe)
        self._tell_consumer_it_is_paused(facts.function_path, circuit_id)
        self._warn_about_receive_room(mapping, circuit_id, facts)
        return ConsumerPause(
            function=governor.function,
            stream_mapping=governor.stream_mapping,
            schedule=governor.schedule,
            failure_queue=governor.failure_queue,
            alarms=[*governor.alarms, self._read_error_alarm(circuit_id)],
            mapping=mapping,
            circuit_id=circuit_id,
        )

    def grant_runtime_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """The item-level actions the runtime uses (GetItem, UpdateItem), on this table only."""
        return self.table.grant(grantee, *IAM_ACTIONS)

    def grant_read_state(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read circuits' state items (GetItem, BatchGetItem), for dashboards and operators."""
        return self.table.grant(grantee, "dynamodb:GetItem", "dynamodb:BatchGetItem")

    def metric_consumer_paused(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 while the governor keeps the circuit's consumers paused, else 0 (maximum over 1 minute)."""
        return cloudwatch.Metric(
            namespace=self.metrics_namespace,
            metric_name="ConsumerPaused",
            dimensions_map=self._dimensions(circuit_id),
            statistic="Maximum",
            period=period or Duration.minutes(1),
        )

    def metric_circuit_opened(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Times the circuit opened (from the runtime's EMF records). Default: sum over 1 minute."""
        return self._metric("CircuitOpened", circuit_id, period)

    def metric_circuit_half_opened(
        self, circuit_id: str, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Times the circuit let probes through (OPEN -> HALF_OPEN). Default: sum over 1 minute."""
        return self._metric("CircuitHalfOpened", circuit_id, period)

    def metric_circuit_closed(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Times the circuit closed after successful probes. Default: sum over 1 minute."""
        return self._metric("CircuitClosed", circuit_id, period)

    def metric_calls_rejected(self, circuit_id: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Calls the circuit rejected. Default: sum over 1 minute."""
        return self._metric("CallsRejected", circuit_id, period)

    def metric_state_store_errors(
        self, circuit_id: str, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """DynamoDB failures the runtime met (and failed open or closed on). Default: sum over 1 minute."""
        return self._metric("StateStoreErrors", circuit_id, period)

    # ----------------------------------------------------------------------------------- internals

    def _checked_attachment(self, given: Mapping[str, Any]) -> tuple[lambda_.Function, dict[str, Any]]:
        """attach's arguments checked (every problem raised at once): the function and its settings."""
        problems = Problems(f"CircuitBreaker '{self.node.path}'.attach")
        if not check_types(problems, CircuitBreaker.attach, given):
            problems.raise_if_any()
        circuit_id = given["circuit_id"]
        target = _check_attach_target(problems, given["function"], circuit_id)
        settings = _circuit_settings(
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

    def _wire(
        self, target: lambda_.Function, circuit_id: str, settings: dict[str, Any]
    ) -> CircuitBreakerWiring:
        """The layer, the environment, the grant and the alarms of one attachment."""
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
        opened, store_errors = self._circuit_alarms(circuit_id)
        return CircuitBreakerWiring(
            function=target,
            circuit_id=circuit_id,
            environment=environment,
            settings=settings,
            layer_added=layer_added,
            grant=self.grant_runtime_access(target),
            alarm=opened,
            state_store_alarm=store_errors,
        )

    def _check_pausable(
        self, problems: Problems, mapping: lambda_.EventSourceMapping, circuit_id: str
    ) -> _MappingFacts | None:
        """What pause_while_open needs to know about ``mapping``, or None (with problems) when it cannot."""
        if not isinstance(mapping, lambda_.EventSourceMapping):
            problems.add("mapping", mapping, "must be a lambda_.EventSourceMapping defined in this app")
            return None
        if mapping.node.path in self._governed:
            problems.add(
                "mapping",
                mapping.node.path,
                f"already paused while circuit '{self._governed[mapping.node.path]['circuitId']}' is open; "
                "call pause_while_open once per mapping",
            )
        known = {c for per_circuit in self._settings_by_function.values() for c in per_circuit}
        if circuit_id not in known:
            problems.add(
                "circuit_id",
                circuit_id,
                f"is not a circuit of this breaker (known: {sorted(known) or 'none'}); attach the consumer "
                "first: breaker.attach(consumer, circuit_id=...)",
            )
        self._check_governable(problems, mapping)
        facts = _mapping_facts(mapping)
        if facts.source_type is not None and facts.source_type != "AWS::SQS::Queue":
            problems.add(
                "mapping",
                mapping.node.path,
                f"reads from {facts.source_type}; only SQS mappings can be paused this way (a paused stream "
                "mapping would let records expire)",
            )
        elif facts.function_path is None:
            problems.add("mapping", mapping.node.path, "its function is not defined in this app")
        elif circuit_id in known and circuit_id not in self._settings_by_function.get(
            facts.function_path, {}
        ):
            problems.add(
                "mapping",
                mapping.node.path,
                f"its function '{facts.function_path}' is not attached to circuit '{circuit_id}', so it "
                f"would never trip it; call breaker.attach(consumer, circuit_id='{circuit_id}') first",
            )
        return facts

    def _check_governable(self, problems: Problems, mapping: lambda_.EventSourceMapping) -> None:
        """The governor can follow this breaker's table and update ``mapping`` from this stack."""
        view = _stream_view_type(self.table)
        if self.table.table_stream_arn is None or view not in (None, "NEW_AND_OLD_IMAGES"):
            problems.add(
                "existing_table",
                f"{self.table.node.path} (stream: {view or 'none'})",
                "the governor reads each state change from the table's stream, comparing the old and new "
                "images; a missing or KEYS_ONLY/NEW_IMAGE/OLD_IMAGE stream skips every record, so a pause "
                "would wait up to a minute for the scheduled tick; enable a NEW_AND_OLD_IMAGES stream on "
                "the table, or let the construct create its table",
            )
        if Stack.of(mapping) is not Stack.of(self):
            problems.add(
                "mapping",
                mapping.node.path,
                f"is in stack '{Stack.of(mapping).stack_name}', and this breaker in "
                f"'{Stack.of(self).stack_name}': the governor this creates beside the breaker names the "
                "mapping, while the attached consumer reads the breaker's table, so each stack would depend "
                "on the other (a DependencyCycle at synth); create the CircuitBreaker in the mapping's stack "
                "and pass a table of the other stack as existing_table",
            )

    def _build_governor(self) -> _GovernorParts:
        """The governor function, its stream mapping, schedule, failure queue and alarms (one set)."""
        failure_queue = self._build_governor_failure_queue()
        function = self._build_governor_function(failure_queue)
        stream_mapping, schedule = self._build_governor_triggers(function, failure_queue)
        alarms = self._build_governor_alarms(function, failure_queue)
        return _GovernorParts(function, stream_mapping, schedule, failure_queue, alarms)

    def _build_governor_failure_queue(self) -> sqs.Queue:
        """Where the governor's failed stream batches and schedule ticks go (retained, alarmed)."""
        # SSE-SQS, not the AWS-managed KMS key: EventBridge delivers the schedule's failed ticks here as
        # the service principal events.amazonaws.com, which alias/aws/sqs's fixed key policy never admits.
        failure_queue = sqs.Queue(
            self,
            "GovernorFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            failure_queue,
            "checkov::CKV_AWS_27",
            "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check does not recognise; a "
            "KMS key would have to admit events.amazonaws.com, and the AWS-managed one never can",
        )
        acknowledge(
            failure_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This queue is itself the dead-letter destination of the governor's failed stream batches and "
            "ticks; an alarm fires on its first message",
        )
        return failure_queue

    def _build_governor_function(self, failure_queue: sqs.Queue) -> lambda_.Function:
        """The governor's function, its log group and its role."""
        log_group = logs.LogGroup(self, "GovernorLogs", retention=logs.RetentionDays.ONE_MONTH)
        role = iam.Role(
            self,
            "GovernorRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Pauses and resumes governed SQS mappings; reads the breaker's table and its stream",
        )
        log_group.grant_write(role)
        acknowledge_xray_wildcard(role)
        function = lambda_.Function(
            self,
            "Governor",
            runtime=GOVERNOR_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="constructs_lib.runtime.governor.handler",
            code=_runtime_function_code(),
            memory_size=256,
            timeout=Duration.seconds(30),
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=failure_queue,
            environment={TABLE_ENV: self.table.table_name, NAMESPACE_ENV: self.metrics_namespace},
            description="constructs_lib: pauses SQS consumers while their circuit is open",
        )
        acknowledge_checkov_function_defaults(function, log_group)
        acknowledge(
            function,
            "checkov::CKV_AWS_115",
            "Invoked by one stream mapping (Lambda runs one batch per table shard at a time) and a "
            "one-minute schedule, so its concurrency is already bounded; a reserved limit would only take "
            "from the account's pool",
        )
        self._grant_governor_table_access(role)
        return function

    def _grant_governor_table_access(self, role: iam.Role) -> None:
        """Reads circuits and the stream; writes and deletes only its own pause markers."""
        self.table.grant(role, "dynamodb:GetItem")
        # It writes and deletes only its own pause markers, never a circuit's item.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{PAUSE_MARKER_PREFIX}*"]}},
            )
        )
        if self.table.encryption_key is not None:
            self.table.encryption_key.grant_encrypt_decrypt(role)
        self.table.grant_stream_read(role)
        acknowledge(
            role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams has no resource-level permission, and X-Ray's PutTraceSegments and "
            "PutTelemetryRecords need Resource '*'; everything else names this table, its stream and the "
            "governed mappings",
        )

    def _build_governor_triggers(
        self, function: lambda_.Function, failure_queue: sqs.Queue
    ) -> tuple[lambda_.EventSourceMapping, events.Rule]:
        """The table's stream (reacts to transitions) and a one-minute schedule (reconciles)."""
        stream_mapping = lambda_.EventSourceMapping(
            self,
            "GovernorStream",
            target=function,
            event_source_arn=self.table.table_stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=10,
            retry_attempts=5,
            bisect_batch_on_error=True,
            max_record_age=Duration.hours(1),
            on_failure=lambda_event_sources.SqsDlq(failure_queue),
        )
        schedule = events.Rule(
            self,
            "GovernorSchedule",
            description="Reconciles every paused consumer with its circuit, so none stays paused by mistake",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(function, dead_letter_queue=failure_queue, retry_attempts=2)],
        )
        return stream_mapping, schedule

    def _build_governor_alarms(
        self, function: lambda_.Function, failure_queue: sqs.Queue
    ) -> list[cloudwatch.Alarm]:
        alarms = [
            threshold_alarm(
                self,
                "GovernorFailuresAlarm",
                failure_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description="The governor failed a stream batch or a tick: a consumer may not pause or "
                "resume",
            ),
            threshold_alarm(
                self,
                "GovernorErrorsAlarm",
                function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description="The governor's invocations failed",
            ),
        ]
        wire_alarms(alarms, self._alarm_topic)
        self.alarms.extend(alarms)
        return alarms

    def _read_error_alarm(self, circuit_id: str) -> cloudwatch.Alarm:
        if circuit_id not in self._pause_alarms:
            digest = hashlib.sha256(circuit_id.encode()).hexdigest()[:8]
            name = re.sub(r"[^A-Za-z0-9]", "", circuit_id.title()) or "Circuit"
            alarm = threshold_alarm(
                self,
                f"{name}{digest}GovernorReadErrorsAlarm",
                self._metric("GovernorReadErrors", circuit_id, None),
                threshold=1,
                description=f"The governor could not read circuit '{circuit_id}' and resumed its consumers",
            )
            wire_alarms([alarm], self._alarm_topic)
            self._pause_alarms[circuit_id] = alarm
            self.alarms.append(alarm)
        return self._pause_alarms[circuit_id]

    def _circuit_settings(self, circuit_id: str) -> BreakerSettings:
        """The circuit's settings as attach() wrote them (the first attached function's), with defaults."""
        for per_circuit in self._settings_by_function.values():
            if circuit_id in per_circuit:
                return BreakerSettings(**per_circuit[circuit_id])
        return BreakerSettings()

    def _check_settings_agree(
        self, problems: Problems, target: lambda_.Function, circuit_id: str, settings: Mapping[str, Any]
    ) -> None:
        """Every function on one circuit shares one state item, so they must count and open alike."""
        wanted = BreakerSettings(**settings)
        for path, per_circuit in self._settings_by_function.items():
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

    def _checked_pause(self, given: Mapping[str, Any]) -> tuple[_MappingFacts, int]:
        """pause_while_open's arguments checked (every problem raised at once): the mapping's facts and
        the probe concurrency."""
        problems = Problems(f"CircuitBreaker '{self.node.path}'.pause_while_open")
        if not check_types(problems, CircuitBreaker.pause_while_open, given):
            problems.raise_if_any()
        mapping, circuit_id, probe_concurrency = (
            given["mapping"],
            given["circuit_id"],
            given["probe_concurrency"],
        )
        facts = self._check_pausable(problems, mapping, circuit_id)
        probe = or_default(probe_concurrency, PROBE_CONCURRENCY)
        problems.check(
            is_unresolved(probe) or MAPPING_CONCURRENCY_MIN <= probe <= MAPPING_CONCURRENCY_MAX,
            "probe_concurrency",
            probe,
            f"must be between {MAPPING_CONCURRENCY_MIN} and {MAPPING_CONCURRENCY_MAX} (an SQS mapping's "
            "maximum concurrency range)",
        )
        configured = facts.max_concurrency if facts is not None else None
        if probe_concurrency is not None and configured is not None and probe_concurrency > configured:
            problems.add(
                "probe_concurrency",
                probe_concurrency,
                f"must not exceed the mapping's maximum concurrency ({configured}), which caps the probes "
                "anyway; lower it or remove it",
            )
        problems.raise_if_any()
        assert facts is not None
        return facts, probe

    def _govern(
        self, mapping: lambda_.EventSourceMapping, circuit_id: str, facts: _MappingFacts, probe: int
    ) -> _GovernorParts:
        """Register ``mapping`` with the governor (created with the first one) and let it update it."""
        governor = self._governor or self._build_governor()
        self._governor = governor
        self._governed[mapping.node.path] = GovernedMapping(
            mapping_id=mapping.event_source_mapping_id,
            circuit_id=circuit_id,
            max_concurrency=facts.max_concurrency,
            batch_size=facts.batch_size,
            probe_concurrency=probe,
        ).entry()
        governor.function.add_environment(
            GOVERNED_ENV, Stack.of(self).to_json_string(list(self._governed.values()))
        )
        governor.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(LAMBDA_ACTIONS), resources=[mapping.event_source_mapping_arn])
        )
        return governor

    def _warn_about_fleet_size(
        self, target: lambda_.Function, circuit_id: str, settings: Mapping[str, Any]
    ) -> None:
        """Warn when a function reserves more containers than one state item serves (fleet mode is off)."""
        reserved = reserved_concurrency(target)
        copies = settings.get("read_copies", BreakerSettings.read_copies)
        if reserved is not None and reserved > ONE_ITEM_CONTAINERS and copies == 1:
            cdk_warning(
                self,
                "breakerFleetMode",
                f"function '{target.node.path}' reserves {reserved} concurrent executions, and each of "
                f"them reads circuit '{circuit_id}''s one state item once a cache period: DynamoDB serves "
                "one item about 3,000 reads a second, which holds about "
                f"{ONE_ITEM_CONTAINERS:,} busy containers; pass read_copies=32 to attach() (fleet mode, "
                'README "The breaker at scale")',
            )

    def _plan_throughput(
        self, target: lambda_.Function, circuit_id: str, settings: Mapping[str, Any], expected: int | None
    ) -> None:
        """Pre-warm the table for every fleet-mode circuit whose fleet is known (expected_containers, or
        the function's reserved concurrency, summed over the circuit's functions): ``WarmThroughput`` on a
        table this construct created, else a warning, and a warning when no table within the default
        quota can serve a fleet."""
        copies = int(settings.get("read_copies", BreakerSettings.read_copies))
        containers = expected if expected is not None else reserved_concurrency(target)
        if copies == 1 or containers is None or is_unresolved(containers):
            return
        cache_ttl = float(settings.get("cache_ttl", BreakerSettings.cache_ttl))
        self._fleets[target.node.path, circuit_id] = (containers, cache_ttl, copies)
        needs = {}
        for circuit in {c for _, c in self._fleets}:
            fleets = [fleet for (_, c), fleet in self._fleets.items() if c == circuit]
            needs[circuit] = fleet_need(sum(f[0] for f in fleets), fleets[0][1], fleets[0][2])
        need = needs[circuit_id]
        if not need.fits:
            self._warn_too_few_copies(circuit_id, containers, cache_ttl, copies, need)
        reads = sum(n.warm_read_units for n in needs.values())
        copies_of = {circuit: fleet[2] for (_, circuit), fleet in self._fleets.items()}
        writes = math.ceil(sum(fleet_write_units(k) for k in copies_of.values()))
        if reads <= NEW_TABLE_READ_UNITS and writes <= NEW_TABLE_WRITE_UNITS:
            return  # a new on-demand table serves this at once
        if max(reads, writes) > TABLE_QUOTA_UNITS:
            self._warn_once(
                "breakerTableQuota",
                f"the fleets attached in fleet mode need about {reads:,} read units and {writes:,} write "
                f"units a second, above an on-demand table's default quota of {TABLE_QUOTA_UNITS:,}: ask "
                "AWS to raise the account's table-level throughput quota in this region, then pass "
                "table_props={'warm_throughput': dynamodb.WarmThroughput(...)} with the figures above; "
                f"until then the table is pre-warmed to the quota ({TABLE_QUOTA_UNITS:,})",
            )
        warm = dynamodb.WarmThroughput(
            read_units_per_second=min(reads, TABLE_QUOTA_UNITS) if reads > NEW_TABLE_READ_UNITS else None,
            write_units_per_second=min(writes, TABLE_QUOTA_UNITS) if writes > NEW_TABLE_WRITE_UNITS else None,
        )
        self._apply_warm_throughput(warm, reads, writes)

    def _warn_too_few_copies(
        self, circuit_id: str, containers: int, cache_ttl: float, copies: int, need: FleetNeed
    ) -> None:
        """Each copy takes more reads than a table within the default quota can place safely: say what
        would fit (more copies, else a longer cache or a raised quota)."""
        per_copy = need.read_units / copies
        enough = next(
            (k for k in range(copies + 1, MAX_READ_COPIES + 1) if fleet_need(containers, cache_ttl, k).fits),
            None,
        )
        fix = (
            f"pass read_copies={enough} (the fewest that fit)"
            if enough is not None
            else f"pass read_copies={MAX_READ_COPIES} and a longer cache_ttl, or raise the table-level "
            "throughput quota and pre-warm the table to "
            f"{fleet_need(containers, cache_ttl, MAX_READ_COPIES, max_partitions=1_000).warm_read_units:,} "
            "read units (table_props warm_throughput)"
        )
        self._warn_once(
            "breakerFleetCopies",
            f"circuit '{circuit_id}': {containers:,} containers reading one of {copies} copies every "
            f"{cache_ttl:g}s put {per_copy:,.0f} read units a second on each copy; a partition serves "
            f"{PARTITION_READ_UNITS:,}, so one holding {need.copies_per_partition + 1} of the copies is "
            f"overloaded, and the {need.partitions} partitions of the default table quota leave odds of "
            f"{need.overload_odds:.0%} that the copies' placement does it (reads are then throttled: late "
            f"news, never a wrong decision); {fix}",
            key=circuit_id,
        )

    def _apply_warm_throughput(self, warm: dynamodb.WarmThroughput, reads: int, writes: int) -> None:
        """Write ``warm`` on the table this construct created (on demand, with no warm throughput given in
        table_props); otherwise say what the table needs."""
        kwargs = self._table_kwargs
        cfn = self.table.node.default_child if kwargs is not None else None
        given = kwargs.get("warm_throughput") if kwargs is not None else None
        provisioned = kwargs is not None and kwargs.get("billing_mode") == dynamodb.BillingMode.PROVISIONED
        if isinstance(cfn, dynamodb.CfnTable) and given is None and not provisioned:
            cfn.warm_throughput = dynamodb.CfnTable.WarmThroughputProperty(
                read_units_per_second=warm.read_units_per_second,
                write_units_per_second=warm.write_units_per_second,
            )
            return
        if given is not None and _covers(given, reads, writes):
            return
        where = (
            "table_props['warm_throughput'] is lower"
            if given is not None
            else "the table is provisioned"
            if provisioned
            else f"existing_table '{self.table.node.path}' is not this construct's to change"
        )
        self._warn_once(
            "breakerTableWarmThroughput",
            f"the fleets attached in fleet mode need about {reads:,} read units a second (the partitions "
            f"that serve their copies wherever the key hash places them) and {writes:,} write units, more "
            f"than a new on-demand table serves at once ({NEW_TABLE_READ_UNITS:,} and "
            f"{NEW_TABLE_WRITE_UNITS:,}), and {where}: pre-warm the table (WarmThroughput) or give it that "
            "capacity, or the copies' reads are throttled until DynamoDB splits its partitions (the "
            "breaker's decisions hold, its news is late)",
        )

    def _warn_once(self, code: str, message: str, *, key: str = "") -> None:
        """One warning per code (and ``key``), with the figures known when it first applies."""
        if (code, key) not in self._throughput_warned:
            self._throughput_warned.add((code, key))
            cdk_warning(self, code, message)

    def _warn_about_receive_room(
        self, mapping: lambda_.EventSourceMapping, circuit_id: str, facts: _MappingFacts
    ) -> None:
        """Warn when the queue's receive count cannot carry a message through a planned-for outage."""
        needed = receives_for_outage(self._circuit_settings(circuit_id))
        if facts.max_receive_count is not None and facts.max_receive_count < needed:
            cdk_warning(
                self,
                "pauseReceiveRoom",
                f"the queue of '{mapping.node.path}' moves a message to its DLQ after "
                f"{facts.max_receive_count} receives, but a {OUTAGE_MINUTES_PLANNED_FOR}-minute outage of "
                f"circuit '{circuit_id}' can cost a message {needed - 1}: 1 before the pause and 1 per "
                "half-open probe round that draws it; raise max_receive_count to "
                f"{needed} or more to keep good messages out of the DLQ",
            )

    def _tell_consumer_it_is_paused(self, function_path: str | None, circuit_id: str) -> None:
        """The runtime refuses a fallback on a paused circuit: the record must be retried, not deleted."""
        if function_path is None:
            return
        paused = self._paused_by_function.setdefault(function_path, set())
        paused.add(circuit_id)
        for node in self.node.root.node.find_all():
            if isinstance(node, lambda_.Function) and node.node.path == function_path:
                node.add_environment(PAUSED_ENV, json.dumps(sorted(paused), separators=(",", ":")))
                return

    def _dimensions(self, circuit_id: str) -> dict[str, str]:
        """The runtime's dimensions: the circuit and the state table (which tells two breakers apart).

        A circuit asked for here must be attached by the time the app synthesizes, or its graphs and
        alarms would stay empty forever: synth fails otherwise.
        """
        self._metric_circuits.add(circuit_id)
        return {"CircuitId": circuit_id, "StateTable": self.table.table_name}

    def _metric(self, name: str, circuit_id: str, period: Duration | None) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map=self._dimensions(circuit_id),
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


@jsii.implements(IValidation)
class _MetricCircuitsAttached:
    """At synth: every circuit a metric or alarm was asked for is attached to some function."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker

    def validate(self) -> list[str]:
        attached = {c for per_circuit in self._breaker._settings_by_function.values() for c in per_circuit}
        return [
            f"circuit_id: got {circuit!r} in a metric_* call, but no function is attached to that circuit of "
            f"this breaker (attached: {sorted(attached) or 'none'}), so its graph and alarms would stay "
            "empty; "
            "attach the function that calls it (breaker.attach(fn, circuit_id=...)) or fix the id"
            for circuit in sorted(self._breaker._metric_circuits - attached)
        ]


@dataclass(frozen=True)
class _GovernorParts:
    function: lambda_.Function
    stream_mapping: lambda_.EventSourceMapping
    schedule: events.Rule
    failure_queue: sqs.Queue
    alarms: list[cloudwatch.Alarm]


@dataclass(frozen=True)
class ConsumerPause(_GovernorParts):
    """What ``CircuitBreaker.pause_while_open`` set up for one mapping.

    The governor ``function``, its ``stream_mapping``, ``schedule`` and ``failure_queue`` are shared by
    every mapping the breaker pauses; ``alarms`` are those that concern this mapping.
    """

    mapping: lambda_.EventSourceMapping
    circuit_id: str


@dataclass(frozen=True)
class _MappingFacts:
    source_type: str | None
    function_path: str | None
    max_concurrency: int | None
    batch_size: int
    max_receive_count: int | None


def _mapping_facts(mapping: lambda_.EventSourceMapping) -> _MappingFacts:
    """Read the source, function, scaling and the source queue's receive count from the mapping's L1."""
    cfn = mapping.node.default_child
    assert isinstance(cfn, lambda_.CfnEventSourceMapping)
    stack = Stack.of(mapping)
    # Logical ids of every element in the app (a queue may live in another stack), this stack's first.
    elements: dict[str, CfnElement] = {}
    for node in mapping.node.root.node.find_all():
        if isinstance(node, CfnElement):
            logical_id = Stack.of(node).resolve(node.logical_id)
            if logical_id not in elements or Stack.of(node) is stack:
                elements[logical_id] = node

    def referenced(value: Any) -> list[CfnElement]:
        names = re.findall(r'"(?:Ref|Fn::GetAtt)": \[?"([^"]+)"', json.dumps(stack.resolve(value)))
        return [elements[name] for name in names if name in elements]

    source = referenced(cfn.event_source_arn)
    source_type: str | None = None
    queue: sqs.CfnQueue | None = None
    if source and isinstance(source[0], CfnResource):
        source_type = source[0].cfn_resource_type
        queue = source[0] if isinstance(source[0], sqs.CfnQueue) else None
    elif isinstance(cfn.event_source_arn, str) and not Token.is_unresolved(cfn.event_source_arn):
        source_type = (
            "AWS::SQS::Queue" if ":sqs:" in cfn.event_source_arn else cfn.event_source_arn.split(":")[2]
        )
    elif cfn.starting_position is not None:
        source_type = "a stream"
    function_path = None
    for element in referenced(cfn.function_name):
        owner = element.node.scope
        if isinstance(owner, (lambda_.Function, lambda_.Alias, lambda_.Version)):
            function_path = underlying_function(owner).node.path
            break
    scaling = cfn.scaling_config
    concurrency = getattr(scaling, "maximum_concurrency", None)
    batch_size = cfn.batch_size
    redrive = Stack.of(queue).resolve(queue.redrive_policy) if queue is not None else None
    receives = redrive.get("maxReceiveCount") if isinstance(redrive, dict) else None
    return _MappingFacts(
        source_type=source_type,
        function_path=function_path,
        max_concurrency=None if concurrency is None or Token.is_unresolved(concurrency) else int(concurrency),
        batch_size=10 if batch_size is None or Token.is_unresolved(batch_size) else int(batch_size),
        max_receive_count=receives if isinstance(receives, int) else None,
    )


@dataclass(frozen=True, kw_only=True)
class _Plan:
    problems: Problems
    existing_table: dynamodb.ITable | None
    removal_policy: RemovalPolicy
    table_kwargs: dict[str, Any]
    metrics_namespace: str
    alarm_topic: sns.ITopic | None


def _plan(scope: Construct, where: str, given: Mapping[str, Any]) -> _Plan:
    """Check every prop, resolve defaults and merge the escape hatch; raise once with every problem."""
    problems = Problems(f"CircuitBreaker '{where}'")
    if not check_types(problems, CircuitBreaker.__init__, given):
        problems.raise_if_any()  # the checks below assume the right types
    existing_table = given["existing_table"]
    table_props = given["table_props"]
    _check_table_choice(problems, scope, given)
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
            # pause_while_open drives governed consumers from this stream; reading it from Lambda is free.
            "stream": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
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


def _check_table_choice(problems: Problems, scope: Construct, given: Mapping[str, Any]) -> None:
    """An existing table is usable here, and no prop that only a created table takes is given with it."""
    existing_table, table_props = given["existing_table"], given["table_props"]
    if existing_table is not None:
        _check_existing_table(problems, existing_table)
        mismatch = environment_mismatch(existing_table, scope)
        if mismatch:
            problems.add("existing_table", existing_table.node.path, mismatch)
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


def _stream_view_type(table: dynamodb.ITable) -> str | None:
    """The stream view type of a table defined in this app (None when unknown or absent)."""
    cfn = table.node.default_child if isinstance(table, dynamodb.Table) else None
    spec = getattr(cfn, "stream_specification", None)
    view = getattr(spec, "stream_view_type", None) if spec is not None else None
    return view if isinstance(view, str) and not Token.is_unresolved(view) else None


def _ttl_attribute(table: dynamodb.ITable) -> str | None:
    cfn = table.node.default_child if isinstance(table, dynamodb.Table) else None
    spec = getattr(cfn, "time_to_live_specification", None)
    if spec is None or not getattr(spec, "enabled", False):
        return None
    name = getattr(spec, "attribute_name", None)
    return name if isinstance(name, str) else None


def _check_existing_table(problems: Problems, table: dynamodb.ITable) -> None:
    """The runtime addresses items by a string ``id``; a table keyed otherwise turns the breaker off."""
    schema = table.schema_v2() if isinstance(table, dynamodb.Table) else None
    if schema is None:
        problems.warn(
            "breakerTableUnknown",
            f"existing_table '{table.node.path}' is imported, so its key schema cannot be checked at "
            f"synth: it must have the partition key 'id' (string) and no sort key, with TTL on "
            f"'{TTL_ATTRIBUTE}'; otherwise every state read fails and the breaker fails open (the "
            "StateStoreErrors alarm fires)",
        )
        return
    if _ttl_attribute(table) != TTL_ATTRIBUTE:
        problems.warn(
            "breakerTableTtl",
            f"existing_table '{table.node.path}' has no TTL on '{TTL_ATTRIBUTE}' (TTL: "
            f"{_ttl_attribute(table) or 'none'}), so idle circuits' items are never cleaned up; set "
            f"time_to_live_attribute='{TTL_ATTRIBUTE}' on the table (the breaker never relies on TTL for "
            "state changes)",
        )
    keys = [*schema.partition_keys, *(schema.sort_keys or [])]
    if [(k.name, k.type) for k in keys] != [("id", dynamodb.AttributeType.STRING)]:
        described = " + ".join(f"{k.name} ({k.type.name})" for k in keys)
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


def _encryption_is_aws_owned_or_managed(table_kwargs: Mapping[str, Any]) -> bool:
    return "encryption_key" not in table_kwargs and table_kwargs.get("encryption") in (
        None,
        dynamodb.TableEncryption.DEFAULT,
        dynamodb.TableEncryption.AWS_MANAGED,
    )


def _runtime_layer_code() -> lambda_.Code:
    """The package's own runtime files as ``python/constructs_lib/...``, copied at synth (no Docker)."""
    return _runtime_code("python/constructs_lib")


def _runtime_function_code() -> lambda_.Code:
    """The same files as a function's code, ``constructs_lib/...`` at the root (the governor)."""
    return _runtime_code("constructs_lib")


def _runtime_code(root: str) -> lambda_.Code:
    files = [_PACKAGE_DIR / "__init__.py", *sorted((_PACKAGE_DIR / "runtime").glob("*.py"))]
    digest = hashlib.sha256(root.encode())
    for path in files:
        digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return lambda_.Code.from_asset(
        str(_PACKAGE_DIR / "runtime"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest.hexdigest(),
        bundling=local_bundling(lambda out: _copy_files(files, out / root)),
    )


def _copy_files(files: list[Path], root: Path) -> None:
    for path in files:
        destination = root / path.relative_to(_PACKAGE_DIR)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
