"""SNS subscriptions and S3 event notifications reach their queues, topics, functions and delivery
streams; a subscription's dead-letter queue accepts what SNS moves there."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._context import service_call
from .._edges import (
    BUCKET,
    FIREHOSE,
    FUNCTION,
    QUEUE,
    ROLE,
    TOPIC,
    Edge,
    combine,
    deliver,
    edge,
    guarded,
    label,
    mapping,
    may,
    source_call,
    target_of,
    trusts,
)
from .._env import account_of, render, resolve, unknown_why
from .._iam import Decision, Principal
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliverySubscriptions"
SNS, S3 = "sns.amazonaws.com", "s3.amazonaws.com"
FIX = (
    "Allow the publishing service (sns.amazonaws.com or s3.amazonaws.com, with aws:SourceArn = the topic "
    "or bucket) in the queue or topic policy, or with a Lambda permission, and encrypt the target with "
    "SSE-SQS or a customer managed key that grants the service (an AWS managed key never can); a Firehose "
    "subscription needs a role that trusts sns.amazonaws.com and may firehose:PutRecord(Batch); a "
    "subscription's dead-letter queue needs the same Allow for sns.amazonaws.com and a key that grants it"
)
#: (configurations, the target's key in AWS::S3::Bucket, in aws-cdk-lib's Custom::S3BucketNotifications)
_NOTIFICATIONS = (
    ("QueueConfigurations", "Queue", QUEUE),
    ("QueueConfigurations", "QueueArn", QUEUE),
    ("TopicConfigurations", "Topic", TOPIC),
    ("TopicConfigurations", "TopicArn", TOPIC),
    ("LambdaConfigurations", "Function", FUNCTION),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", FUNCTION),
)
#: What SNS calls on a Firehose delivery stream as the subscription role (SNS developer guide,
#: "Prerequisites for subscribing Firehose delivery streams").
FIREHOSE_PUT = ("firehose:PutRecord", "firehose:PutRecordBatch")


def edges(templates: Templates) -> Iterator[Edge]:
    subscriptions = ("AWS::SNS::Subscription",)
    yield from guarded(FAMILY, FIX, templates, subscriptions, lambda s: _subscription(templates, s))
    yield from guarded(FAMILY, FIX, templates, (BUCKET,), lambda b: _notifications(templates, b, b))
    custom = ("Custom::S3BucketNotifications",)
    yield from guarded(FAMILY, FIX, templates, custom, lambda c: _notifications(templates, c, None))


def _subscription(templates: Templates, subscription: Resource) -> Iterator[Edge]:
    props = subscription.props
    protocol = props.get("Protocol")
    dead_letter = mapping(props.get("RedrivePolicy")).get("deadLetterTargetArn")
    if protocol not in ("sqs", "lambda", "firehose") and dead_letter is None:
        return
    topic_arn = render(templates, subscription.stack, props.get("TopicArn"))
    if topic_arn is None:
        decision = Decision(None, f"its topic {unknown_why(props.get('TopicArn'))}")
        yield edge(FAMILY, subscription, "Properties.TopicArn", "its endpoint", decision, FIX)
        return
    topic = resolve(templates, subscription.stack, props.get("TopicArn"), TOPIC)
    source_account = account_of(topic.stack) if topic else account_of(subscription.stack)
    if dead_letter is not None:
        # SNS moves what it cannot deliver to the queue itself, as sns.amazonaws.com for the topic.
        name, decision = deliver(
            templates,
            Principal(service=SNS),
            subscription.stack,
            dead_letter,
            context=service_call(SNS, topic_arn, source_account),
            kinds=(QUEUE,),
        )
        where = "Properties.RedrivePolicy.deadLetterTargetArn"
        yield edge(FAMILY, subscription, where, f"dead-letter {name}", decision, FIX)
    if protocol not in ("sqs", "lambda", "firehose"):
        return
    if protocol == "firehose":
        yield _firehose(templates, subscription, topic_arn, source_account)
        return
    context = service_call(SNS, topic_arn, source_account)
    kinds = (QUEUE,) if protocol == "sqs" else (FUNCTION,)
    name, decision = deliver(
        templates,
        Principal(service=SNS),
        subscription.stack,
        props.get("Endpoint"),
        context=context,
        kinds=kinds,
    )
    yield edge(FAMILY, subscription, "Properties.Endpoint", name, decision, FIX)


def _firehose(templates: Templates, subscription: Resource, topic_arn: str, source_account: str) -> Edge:
    props = subscription.props
    role = resolve(templates, subscription.stack, props.get("SubscriptionRoleArn"), ROLE)
    stream = target_of(templates, subscription.stack, props.get("Endpoint"), (FIREHOSE,))
    if role is None or isinstance(stream, str):
        why = stream if isinstance(stream, str) else "its subscription role is not defined in this app"
        return edge(
            FAMILY, subscription, "Properties.Endpoint", "its delivery stream", Decision(None, why), FIX
        )
    decision = combine(
        trusts(templates, role, SNS, source_arn=topic_arn, source_account=source_account),
        may(templates, Principal(role=role), FIREHOSE_PUT, stream),
    )
    return edge(FAMILY, subscription, "Properties.SubscriptionRoleArn", label(stream), decision, FIX)


def _notifications(templates: Templates, source: Resource, bucket: Resource | None) -> Iterator[Edge]:
    configuration = source.props.get("NotificationConfiguration")
    if not isinstance(configuration, Mapping):
        return
    if bucket is None:
        bucket = resolve(templates, source.stack, source.props.get("BucketName"), BUCKET)
    for prop, key, kind in _NOTIFICATIONS:
        entries = configuration.get(prop)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, Mapping) or key not in entry:
                continue
            where = f"Properties.NotificationConfiguration.{prop}.{index}.{key}"
            yield _notification(templates, source, bucket, entry.get(key), kind, where)


def _notification(
    templates: Templates, source: Resource, bucket: Resource | None, value: Any, kind: str, where: str
) -> Edge:
    if bucket is None:
        return edge(FAMILY, source, where, "its target", Decision(None, "its bucket is not in this app"), FIX)
    name, decision = deliver(
        templates,
        Principal(service=S3),
        source.stack,
        value,
        context=source_call(templates, S3, bucket),
        kinds=(kind,),
    )
    return edge(FAMILY, source, where, name, decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="An SNS subscription or S3 event notification cannot deliver to its endpoint: messages are lost",
    fix=FIX,
    find=edge_findings(edges),
)
