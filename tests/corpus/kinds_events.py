"""Edge kinds of alarms, EventBridge rules, Scheduler schedules, event source mappings and destinations."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as schedule_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .kinds import (
    Break,
    deny_only,
    drop_permissions,
    function,
    grant_only,
    key,
    kind,
    override,
    queue,
    revoke,
    revoke_roles,
)

ALARMS, EVENTS, MAPPINGS, DESTINATIONS = (
    "DeliveryAlarmActions",
    "DeliveryEventTargets",
    "DeliveryEventSourceMappings",
    "DeliveryFunctionDestinations",
)


def alarm(scope: Construct, id: str = "Alarm") -> cloudwatch.Alarm:
    metric = cloudwatch.Metric(namespace="Team", metric_name="Errors")
    return metric.create_alarm(scope, id, threshold=1, evaluation_periods=1)


def table(scope: Construct) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )


def state_machine(scope: Construct) -> sfn.StateMachine:
    return sfn.StateMachine(
        scope, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(scope, "Step"))
    )


def delivery_stream(scope: Construct) -> firehose.DeliveryStream:
    return firehose.DeliveryStream(
        scope, "Firehose", destination=firehose.S3Bucket(s3.Bucket(scope, "Landing"))
    )


# ---------------------------------------------------------------------------------------- alarms

SQS_READ = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
KINESIS_READ = [
    "kinesis:DescribeStream",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
DYNAMODB_READ = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


def allow(actions: list[str], *resources: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=list(resources))


def deny_only_topic(scope: Construct, topic: sns.ITopic) -> Break:
    """A topic policy with the TLS Deny alone (``enforce_ssl``): it replaces SNS's default policy."""
    return lambda: sns.TopicPolicy(scope, "DenyOnly", topics=[topic], enforce_ssl=True) and None


@kind("AlarmTopic", ALARMS)
def _alarm_topic(targets_: Construct, sources_: Construct) -> Break:
    topic = sns.Topic(targets_, "Topic")
    alarm(sources_).add_alarm_action(cw_actions.SnsAction(topic))
    return deny_only_topic(targets_, topic)


@kind("AlarmEncryptedTopic", ALARMS)
def _alarm_encrypted_topic(targets_: Construct, sources_: Construct) -> Break:
    master_key = key(targets_)
    master_key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
    topic = sns.Topic(targets_, "Topic", master_key=master_key)
    alarm(sources_).add_alarm_action(cw_actions.SnsAction(topic))
    return lambda: override(topic, "KmsMasterKeyId", "alias/aws/sns")


@kind("AlarmFunction", ALARMS, together=True)
def _alarm_function(targets_: Construct, sources_: Construct) -> Break:
    alarm(sources_).add_alarm_action(cw_actions.LambdaAction(function(targets_)))
    return lambda: drop_permissions(targets_, sources_)


@kind("CompositeAlarmTopic", ALARMS)
def _composite_alarm(targets_: Construct, sources_: Construct) -> Break:
    topic = sns.Topic(targets_, "Topic")
    rule = cloudwatch.AlarmRule.any_of(alarm(sources_))
    cloudwatch.CompositeAlarm(sources_, "Composite", alarm_rule=rule).add_alarm_action(
        cw_actions.SnsAction(topic)
    )
    return deny_only_topic(targets_, topic)


# ---------------------------------------------------------------------------------------- rules


def _rule(sources_: Construct, target: events.IRuleTarget) -> events.Rule:
    return events.Rule(sources_, "Rule", schedule=events.Schedule.rate(Duration.minutes(1)), targets=[target])


@kind("RuleFunction", EVENTS)
def _rule_function(targets_: Construct, sources_: Construct) -> Break:
    _rule(sources_, targets.LambdaFunction(function(targets_)))
    return lambda: drop_permissions(targets_, sources_)


@kind("RuleQueue", EVENTS, together=True)
def _rule_queue(targets_: Construct, sources_: Construct) -> Break:
    target = queue(targets_)
    _rule(sources_, targets.SqsQueue(target))
    return lambda: deny_only(target.node.find_child("Policy"))


def aws_managed_queue_key(target: sqs.IQueue) -> Break:
    """The queue encrypted with alias/aws/sqs, whose policy no service principal passes."""

    def apply() -> None:
        override(target, "KmsMasterKeyId", "alias/aws/sqs")
        override(target, "SqsManagedSseEnabled", None)

    return apply


@kind("RuleEncryptedQueue", EVENTS, together=True)
def _rule_encrypted_queue(targets_: Construct, sources_: Construct) -> Break:
    target = queue(targets_, encryption=sqs.QueueEncryption.SQS_MANAGED)
    _rule(sources_, targets.SqsQueue(target))
    return aws_managed_queue_key(target)


@kind("RuleTopic", EVENTS)
def _rule_topic(targets_: Construct, sources_: Construct) -> Break:
    topic = sns.Topic(targets_, "Topic")
    _rule(sources_, targets.SnsTopic(topic))
    return lambda: deny_only(topic.node.find_child("Policy"))


@kind("RuleDeadLetterQueue", EVENTS, together=True)
def _rule_dead_letter(targets_: Construct, sources_: Construct) -> Break:
    dead_letter = queue(targets_, "DeadLetters")
    _rule(sources_, targets.LambdaFunction(function(targets_), dead_letter_queue=dead_letter))
    return lambda: deny_only(dead_letter.node.find_child("Policy"))


@kind("RuleStateMachine", EVENTS)
def _rule_state_machine(targets_: Construct, sources_: Construct) -> Break:
    role = iam.Role(sources_, "RuleRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    _rule(sources_, targets.SfnStateMachine(state_machine(targets_), role=role))
    return lambda: revoke(role)


@kind("RuleEventBus", EVENTS)
def _rule_event_bus(targets_: Construct, sources_: Construct) -> Break:
    role = iam.Role(sources_, "RuleRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    _rule(sources_, targets.EventBus(events.EventBus(targets_, "Bus"), role=role))
    return lambda: revoke(role)


@kind("RuleKinesisStream", EVENTS)
def _rule_kinesis(targets_: Construct, sources_: Construct) -> Break:
    _rule(sources_, targets.KinesisStream(kinesis.Stream(targets_, "Stream")))
    return lambda: revoke_roles(targets_, sources_, named="EventsRole")


@kind("RuleFirehose", EVENTS)
def _rule_firehose(targets_: Construct, sources_: Construct) -> Break:
    _rule(sources_, targets.FirehoseDeliveryStream(delivery_stream(targets_)))
    return lambda: revoke_roles(targets_, sources_, named="EventsRole")


# ---------------------------------------------------------------------------------------- schedules


def _schedule(scope: Construct, target: scheduler.IScheduleTarget) -> scheduler.Schedule:
    return scheduler.Schedule(
        scope, "Schedule", schedule=scheduler.ScheduleExpression.rate(Duration.minutes(5)), target=target
    )


def _schedule_role(scope: Construct) -> iam.Role:
    """A role as aws-cdk-lib's targets write it: trusted by Scheduler for this account's default group."""
    stack = cdk.Stack.of(scope)
    group = stack.format_arn(service="scheduler", resource="schedule-group", resource_name="default")
    return iam.Role(
        scope,
        "ScheduleRole",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": group}},
        ),
    )


def _scheduled(sources_: Construct, target: scheduler.IScheduleTarget, role: iam.Role) -> Break:
    _schedule(sources_, target)
    return lambda: revoke(role)


@kind("ScheduleFunction", EVENTS)
def _schedule_function(targets_: Construct, sources_: Construct) -> Break:
    role = _schedule_role(sources_)
    return _scheduled(sources_, schedule_targets.LambdaInvoke(function(targets_), role=role), role)


@kind("ScheduleQueue", EVENTS)
def _schedule_queue(targets_: Construct, sources_: Construct) -> Break:
    role = _schedule_role(sources_)
    target = queue(targets_, encryption_master_key=key(targets_))
    return _scheduled(sources_, schedule_targets.SqsSendMessage(target, role=role), role)


@kind("ScheduleTopic", EVENTS)
def _schedule_topic(targets_: Construct, sources_: Construct) -> Break:
    role = _schedule_role(sources_)
    return _scheduled(sources_, schedule_targets.SnsPublish(sns.Topic(targets_, "Topic"), role=role), role)


@kind("ScheduleEventBus", EVENTS)
def _schedule_event_bus(targets_: Construct, sources_: Construct) -> Break:
    role = _schedule_role(sources_)
    entry = schedule_targets.EventBridgePutEventsEntry(
        event_bus=events.EventBus(targets_, "Bus"),
        source="team.orders",
        detail_type="tick",
        detail=scheduler.ScheduleTargetInput.from_object({}),
    )
    return _scheduled(sources_, schedule_targets.EventBridgePutEvents(entry, role=role), role)


@kind("ScheduleStateMachine", EVENTS)
def _schedule_state_machine(targets_: Construct, sources_: Construct) -> Break:
    role = _schedule_role(sources_)
    target = schedule_targets.StepFunctionsStartExecution(state_machine(targets_), role=role)
    return _scheduled(sources_, target, role)


@kind("ScheduleUniversal", EVENTS)
def _schedule_universal(targets_: Construct, sources_: Construct) -> Break:
    target, role = queue(targets_), _schedule_role(sources_)
    universal = schedule_targets.Universal(
        service="sqs",
        action="sendMessage",
        input=scheduler.ScheduleTargetInput.from_object(
            {"QueueUrl": target.queue_url, "MessageBody": "tick"}
        ),
        policy_statements=[allow(["sqs:SendMessage"], target.queue_arn)],
        role=role,
    )
    _schedule(sources_, universal)
    # The broken twin's role may call another API than the one the schedule names.
    return lambda: grant_only(role, allow(["sqs:GetQueueAttributes"], target.queue_arn))


@kind("ScheduleDeadLetterQueue", EVENTS)
def _schedule_dead_letter(targets_: Construct, sources_: Construct) -> Break:
    role, fn = _schedule_role(sources_), function(targets_)
    _schedule(
        sources_,
        schedule_targets.LambdaInvoke(fn, role=role, dead_letter_queue=queue(targets_, "DeadLetters")),
    )
    # Still may invoke; only the dead-letter queue refuses.
    return lambda: grant_only(role, allow(["lambda:InvokeFunction"], fn.function_arn))


# ---------------------------------------------------------------------------------------- mappings


def _sqs_source(target: sqs.IQueue) -> sources.SqsEventSource:
    return sources.SqsEventSource(target, report_batch_item_failures=True, max_concurrency=2)


@kind("SqsConsumer", MAPPINGS)
def _sqs_consumer(targets_: Construct, sources_: Construct) -> Break:
    fn = function(sources_)
    fn.add_event_source(_sqs_source(queue(targets_)))
    return lambda: revoke(fn.role)


@kind("SqsEncryptedConsumer", MAPPINGS)
def _sqs_encrypted_consumer(targets_: Construct, sources_: Construct) -> Break:
    fn, target = function(sources_), queue(targets_, encryption_master_key=key(targets_))
    fn.add_event_source(_sqs_source(target))
    return lambda: grant_only(fn.role, allow(SQS_READ, target.queue_arn))  # not the key


def _latest(**failure: object) -> dict[str, object]:
    return {"starting_position": lambda_.StartingPosition.LATEST, **failure}


@kind("DynamoStreamConsumer", MAPPINGS)
def _dynamo_stream(targets_: Construct, sources_: Construct) -> Break:
    fn = function(sources_)
    fn.add_event_source(sources.DynamoEventSource(table(targets_), **_latest()))  # type: ignore[arg-type]
    return lambda: revoke(fn.role)


@kind("KinesisConsumer", MAPPINGS)
def _kinesis_stream(targets_: Construct, sources_: Construct) -> Break:
    fn = function(sources_)
    fn.add_event_source(sources.KinesisEventSource(kinesis.Stream(targets_, "Stream"), **_latest()))  # type: ignore[arg-type]
    return lambda: revoke(fn.role)


@kind("KinesisFanOutConsumer", MAPPINGS)
def _kinesis_fan_out(targets_: Construct, sources_: Construct) -> Break:
    fn, stream = function(sources_), kinesis.Stream(targets_, "Stream")
    consumer = kinesis.StreamConsumer(targets_, "Consumer", stream=stream, stream_consumer_name="fan-out")
    fn.add_event_source(sources.KinesisConsumerEventSource(consumer, **_latest()))  # type: ignore[arg-type]
    return lambda: grant_only(fn.role, allow(KINESIS_READ, stream.stream_arn))  # the stream, not the consumer


@kind("StreamFailureQueue", MAPPINGS)
def _stream_failure_queue(targets_: Construct, sources_: Construct) -> Break:
    fn, source = function(sources_), table(targets_)
    failures = queue(targets_, "Failures", encryption_master_key=key(targets_))
    fn.add_event_source(sources.DynamoEventSource(source, **_latest(on_failure=sources.SqsDlq(failures))))  # type: ignore[arg-type]
    return lambda: grant_only(fn.role, allow(DYNAMODB_READ, source.table_stream_arn or ""))


def _kinesis_failure(targets_: Construct, sources_: Construct, failure: lambda_.IEventSourceDlq) -> Break:
    fn, stream = function(sources_), kinesis.Stream(targets_, "Stream")
    fn.add_event_source(sources.KinesisEventSource(stream, **_latest(on_failure=failure)))  # type: ignore[arg-type]
    return lambda: grant_only(fn.role, allow(KINESIS_READ, stream.stream_arn))


@kind("StreamFailureTopic", MAPPINGS)
def _stream_failure_topic(targets_: Construct, sources_: Construct) -> Break:
    topic = sns.Topic(targets_, "Failures", master_key=key(targets_))
    return _kinesis_failure(targets_, sources_, sources.SnsDlq(topic))


@kind("StreamFailureBucket", MAPPINGS)
def _stream_failure_bucket(targets_: Construct, sources_: Construct) -> Break:
    bucket = s3.Bucket(targets_, "Failures")
    return _kinesis_failure(targets_, sources_, sources.S3OnFailureDestination(bucket))


# ---------------------------------------------------------------------------------------- destinations


def _destination(sources_: Construct, **outcomes: object) -> Break:
    fn = function(sources_, **outcomes)
    return lambda: revoke(fn.role)


@kind("DeadLetterQueue", DESTINATIONS)
def _dead_letter_queue(targets_: Construct, sources_: Construct) -> Break:
    # SSE-SQS: aws-cdk-lib grants a function sqs:SendMessage on its dead-letter queue and nothing on a
    # customer managed key, which SQS needs (kms:GenerateDataKey) to accept the message.
    return _destination(sources_, dead_letter_queue=queue(targets_, "DeadLetters"))


@kind("DeadLetterTopic", DESTINATIONS)
def _dead_letter_topic(targets_: Construct, sources_: Construct) -> Break:
    return _destination(sources_, dead_letter_topic=sns.Topic(targets_, "DeadLetters"))


@kind("DestinationQueue", DESTINATIONS)
def _destination_queue(targets_: Construct, sources_: Construct) -> Break:
    target = queue(targets_, "Failures", encryption_master_key=key(targets_))
    return _destination(sources_, on_failure=destinations.SqsDestination(target))


@kind("DestinationTopic", DESTINATIONS)
def _destination_topic(targets_: Construct, sources_: Construct) -> Break:
    target = sns.Topic(targets_, "Successes", master_key=key(targets_))
    return _destination(sources_, on_success=destinations.SnsDestination(target))


@kind("DestinationFunction", DESTINATIONS)
def _destination_function(targets_: Construct, sources_: Construct) -> Break:
    return _destination(sources_, on_failure=destinations.LambdaDestination(function(targets_, "Next")))


@kind("DestinationDefaultEventBus", DESTINATIONS, together=True)
def _destination_event_bus(targets_: Construct, sources_: Construct) -> Break:
    return _destination(sources_, on_success=destinations.EventBridgeDestination())


@kind("DestinationEventBus", DESTINATIONS)
def _destination_custom_bus(targets_: Construct, sources_: Construct) -> Break:
    bus = events.EventBus(targets_, "Bus")
    return _destination(sources_, on_success=destinations.EventBridgeDestination(bus))


@kind("DestinationBucket", DESTINATIONS)
def _destination_bucket(targets_: Construct, sources_: Construct) -> Break:
    return _destination(sources_, on_failure=destinations.S3Destination(s3.Bucket(targets_, "Failures")))
