"""pause_while_open(): a queue consumer's SQS mapping paused while its circuit is open, by the governor,
and what the mapping must be for that to work (and for a good message to ride out an outage)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnElement, CfnResource, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import Problems, cdk_warning, check_types, is_unresolved, or_default, underlying_function
from .._core.limits import MAPPING_CONCURRENCY_MAX, MAPPING_CONCURRENCY_MIN
from ..runtime.breaker import PAUSED_ENV
from ..runtime.governor import GOVERNED_ENV, LAMBDA_ACTIONS, PROBE_CONCURRENCY, GovernedMapping
from ..runtime.settings import BreakerSettings
from ._attach import Attachments
from ._governor import GovernorBuilder, GovernorParts
from ._metrics import CircuitMetrics
from ._table import stream_view_type

#: pause_while_open warns when the queue's max_receive_count cannot ride out an outage this long.
OUTAGE_MINUTES_PLANNED_FOR = 30
#: How often the governor's schedule reconciles (it resumes a mapping at most this long after openUntil).
RECONCILE_SECONDS = 60


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
class ConsumerPause(GovernorParts):
    """What ``CircuitBreaker.pause_while_open`` set up for one mapping.

    The governor ``function``, its ``stream_mapping``, ``schedule`` and ``failure_queue`` are shared by
    every mapping the breaker pauses; ``alarms`` are those that concern this mapping.
    """

    mapping: lambda_.EventSourceMapping
    circuit_id: str


class ConsumerPauses:
    """The mappings one breaker pauses, and the governor (built with the first) that pauses them.

    Args:
        scope: The breaker.
        table: The state table, whose stream the governor follows.
        metrics: Makes each paused circuit's read-error alarm.
        attachments: The breaker's attached functions: a paused consumer must be one of them.
        alarm_topic: Where the governor's alarms' actions go (None: no actions).
        alarms: The breaker's list of alarms.
    """

    def __init__(
        self,
        scope: Construct,
        table: dynamodb.ITable,
        metrics: CircuitMetrics,
        attachments: Attachments,
        alarm_topic: sns.ITopic | None,
        alarms: list[cloudwatch.Alarm],
    ) -> None:
        self._scope = scope
        self._table = table
        self._metrics = metrics
        self._attachments = attachments
        self._builder = GovernorBuilder(scope, table, metrics.namespace, alarm_topic, alarms)
        self._governor: GovernorParts | None = None
        self._governed: dict[str, dict[str, Any]] = {}
        self._paused_by_function: dict[str, set[str]] = {}

    def pause(self, given: Mapping[str, Any], signature: Callable[..., Any]) -> ConsumerPause:
        """What ``pause_while_open`` does with its arguments ``given`` (typed as ``signature``)."""
        mapping, circuit_id = given["mapping"], given["circuit_id"]
        facts, probe = self._checked(given, signature)
        governor = self._govern(mapping, circuit_id, facts, probe)
        self._tell_consumer_it_is_paused(facts.function_path, circuit_id)
        self._warn_about_receive_room(mapping, circuit_id, facts)
        return ConsumerPause(
            function=governor.function,
            stream_mapping=governor.stream_mapping,
            schedule=governor.schedule,
            failure_queue=governor.failure_queue,
            alarms=[*governor.alarms, self._metrics.read_error_alarm(circuit_id)],
            mapping=mapping,
            circuit_id=circuit_id,
        )

    def _checked(self, given: Mapping[str, Any], signature: Callable[..., Any]) -> tuple[_MappingFacts, int]:
        """pause_while_open's arguments (typed as ``signature``) checked, every problem raised at once: the
        mapping's facts and the probe concurrency."""
        problems = Problems(f"CircuitBreaker '{self._scope.node.path}'.pause_while_open")
        if not check_types(problems, signature, given):
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
        known = self._attachments.circuits()
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
        elif circuit_id in known and circuit_id not in self._attachments.by_function.get(
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
        view = stream_view_type(self._table)
        if self._table.table_stream_arn is None or view not in (None, "NEW_AND_OLD_IMAGES"):
            problems.add(
                "existing_table",
                f"{self._table.node.path} (stream: {view or 'none'})",
                "the governor reads each state change from the table's stream, comparing the old and new "
                "images; a missing or KEYS_ONLY/NEW_IMAGE/OLD_IMAGE stream skips every record, so a pause "
                "would wait up to a minute for the scheduled tick; enable a NEW_AND_OLD_IMAGES stream on "
                "the table, or let the construct create its table",
            )
        if Stack.of(mapping) is not Stack.of(self._scope):
            problems.add(
                "mapping",
                mapping.node.path,
                f"is in stack '{Stack.of(mapping).stack_name}', and this breaker in "
                f"'{Stack.of(self._scope).stack_name}': the governor this creates beside the breaker names "
                "the mapping, while the attached consumer reads the breaker's table, so each stack would "
                "depend on the other (a DependencyCycle at synth); create the CircuitBreaker in the "
                "mapping's stack and pass a table of the other stack as existing_table",
            )

    def _govern(
        self, mapping: lambda_.EventSourceMapping, circuit_id: str, facts: _MappingFacts, probe: int
    ) -> GovernorParts:
        """Register ``mapping`` with the governor (created with the first one) and let it update it."""
        governor = self._governor or self._builder.build()
        self._governor = governor
        self._governed[mapping.node.path] = GovernedMapping(
            mapping_id=mapping.event_source_mapping_id,
            circuit_id=circuit_id,
            max_concurrency=facts.max_concurrency,
            batch_size=facts.batch_size,
            probe_concurrency=probe,
        ).entry()
        governor.function.add_environment(
            GOVERNED_ENV, Stack.of(self._scope).to_json_string(list(self._governed.values()))
        )
        governor.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(LAMBDA_ACTIONS), resources=[mapping.event_source_mapping_arn])
        )
        return governor

    def _tell_consumer_it_is_paused(self, function_path: str | None, circuit_id: str) -> None:
        """The runtime refuses a fallback on a paused circuit: the record must be retried, not deleted."""
        if function_path is None:
            return
        paused = self._paused_by_function.setdefault(function_path, set())
        paused.add(circuit_id)
        for node in self._scope.node.root.node.find_all():
            if isinstance(node, lambda_.Function) and node.node.path == function_path:
                node.add_environment(PAUSED_ENV, json.dumps(sorted(paused), separators=(",", ":")))
                return

    def _warn_about_receive_room(
        self, mapping: lambda_.EventSourceMapping, circuit_id: str, facts: _MappingFacts
    ) -> None:
        """Warn when the queue's receive count cannot carry a message through a planned-for outage."""
        needed = receives_for_outage(self._attachments.circuit_settings(circuit_id))
        if facts.max_receive_count is not None and facts.max_receive_count < needed:
            cdk_warning(
                self._scope,
                "pauseReceiveRoom",
                f"the queue of '{mapping.node.path}' moves a message to its DLQ after "
                f"{facts.max_receive_count} receives, but a {OUTAGE_MINUTES_PLANNED_FOR}-minute outage of "
                f"circuit '{circuit_id}' can cost a message {needed - 1}: 1 before the pause and 1 per "
                "half-open probe round that draws it; raise max_receive_count to "
                f"{needed} or more to keep good messages out of the DLQ",
            )


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
