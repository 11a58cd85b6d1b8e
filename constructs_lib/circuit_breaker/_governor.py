"""The governor: one function per breaker that follows the state table's stream (and a one-minute
schedule) and pauses or resumes the SQS mappings ``pause_while_open`` hands it."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
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
from constructs import Construct

from .._core import (
    acknowledge,
    acknowledge_checkov_function_defaults,
    acknowledge_xray_wildcard,
    threshold_alarm,
    wire_alarms,
)
from ..runtime.breaker import NAMESPACE_ENV, TABLE_ENV
from ..runtime.governor import PAUSE_MARKER_PREFIX
from ._layer import runtime_function_code

#: The governor's runtime (one the runtime layer supports).
GOVERNOR_RUNTIME = lambda_.Runtime.PYTHON_3_14


@dataclass(frozen=True)
class GovernorParts:
    """The governor: its function, stream mapping, schedule, failure queue and alarms (one per breaker)."""

    function: lambda_.Function
    stream_mapping: lambda_.EventSourceMapping
    schedule: events.Rule
    failure_queue: sqs.Queue
    alarms: list[cloudwatch.Alarm]


class GovernorBuilder:
    """Builds one breaker's governor on ``scope``, with the construct ids it has always had.

    Args:
        scope: The breaker.
        table: The state table whose stream the governor follows.
        namespace: The EMF namespace it writes to.
        alarm_topic: Where its alarms' actions go (None: no actions).
        alarms: The breaker's list of alarms, which the governor's join.
    """

    def __init__(
        self,
        scope: Construct,
        table: dynamodb.ITable,
        namespace: str,
        alarm_topic: sns.ITopic | None,
        alarms: list[cloudwatch.Alarm],
    ) -> None:
        self._scope = scope
        self._table = table
        self._namespace = namespace
        self._alarm_topic = alarm_topic
        self._alarms = alarms

    def build(self) -> GovernorParts:
        """The governor function, its stream mapping, schedule, failure queue and alarms (one set)."""
        failure_queue = self._build_governor_failure_queue()
        function = self._build_governor_function(failure_queue)
        stream_mapping, schedule = self._build_governor_triggers(function, failure_queue)
        alarms = self._build_governor_alarms(function, failure_queue)
        return GovernorParts(function, stream_mapping, schedule, failure_queue, alarms)

    def _build_governor_failure_queue(self) -> sqs.Queue:
        """Where the governor's failed stream batches and schedule ticks go (retained, alarmed)."""
        # SSE-SQS, not the AWS-managed KMS key: EventBridge delivers the schedule's failed ticks here as
        # the service principal events.amazonaws.com, which alias/aws/sqs's fixed key policy never admits.
        failure_queue = sqs.Queue(
            self._scope,
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
        log_group = logs.LogGroup(self._scope, "GovernorLogs", retention=logs.RetentionDays.ONE_MONTH)
        role = iam.Role(
            self._scope,
            "GovernorRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Pauses and resumes governed SQS mappings; reads the breaker's table and its stream",
        )
        log_group.grant_write(role)
        acknowledge_xray_wildcard(role)
        function = lambda_.Function(
            self._scope,
            "Governor",
            runtime=GOVERNOR_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="constructs_lib.runtime.governor.handler",
            code=runtime_function_code(),
            memory_size=256,
            timeout=Duration.seconds(30),
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=failure_queue,
            environment={TABLE_ENV: self._table.table_name, NAMESPACE_ENV: self._namespace},
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
        self._table.grant(role, "dynamodb:GetItem")
        # It writes and deletes only its own pause markers, never a circuit's item.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
                resources=[self._table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{PAUSE_MARKER_PREFIX}*"]}},
            )
        )
        if self._table.encryption_key is not None:
            self._table.encryption_key.grant_encrypt_decrypt(role)
        self._table.grant_stream_read(role)
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
            self._scope,
            "GovernorStream",
            target=function,
            event_source_arn=self._table.table_stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=10,
            retry_attempts=5,
            bisect_batch_on_error=True,
            max_record_age=Duration.hours(1),
            on_failure=lambda_event_sources.SqsDlq(failure_queue),
        )
        schedule = events.Rule(
            self._scope,
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
                self._scope,
                "GovernorFailuresAlarm",
                failure_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description="The governor failed a stream batch or a tick: a consumer may not pause or "
                "resume",
            ),
            threshold_alarm(
                self._scope,
                "GovernorErrorsAlarm",
                function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description="The governor's invocations failed",
            ),
        ]
        wire_alarms(alarms, self._alarm_topic)
        self._alarms.extend(alarms)
        return alarms
