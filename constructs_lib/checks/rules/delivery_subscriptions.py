"""SNS subscriptions and S3 event notifications reach their queues, topics and functions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._edges import BUCKET, QUEUE, TOPIC, Edge, deliver, edge, source_context
from .._iam import ACCOUNT, Decision, Principal, render, resolve
from .._lambda import FUNCTION
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliverySubscriptions"
FIX = (
    "Allow the publishing service (sns.amazonaws.com or s3.amazonaws.com, with aws:SourceArn = the topic "
    "or bucket) in the queue or topic policy, or with a Lambda permission, and encrypt the target with "
    "SSE-SQS or a customer managed key that grants the service (an AWS managed key never can)"
)
#: (configurations, target key in AWS::S3::Bucket, target key in CDK's Custom::S3BucketNotifications)
_NOTIFICATIONS = (
    ("QueueConfigurations", "Queue", "QueueArn"),
    ("TopicConfigurations", "Topic", "TopicArn"),
    ("LambdaConfigurations", "Function", "LambdaFunctionArn"),
)


def edges(templates: Templates) -> Iterator[Edge]:
    sns = Principal(service="sns.amazonaws.com")
    for subscription in templates.of_type("AWS::SNS::Subscription"):
        protocol = subscription.props.get("Protocol")
        if protocol not in ("sqs", "lambda"):
            continue
        topic_arn = render(templates, subscription.stack, subscription.props.get("TopicArn"))
        if topic_arn is None:
            decision = Decision(None, "its topic is not known at synth")
            yield edge(FAMILY, subscription, "Properties.TopicArn", "its endpoint", decision, FIX)
            continue
        context = {"aws:sourcearn": topic_arn, "aws:sourceaccount": ACCOUNT}
        kinds = (QUEUE,) if protocol == "sqs" else (FUNCTION,)
        name, decision = deliver(
            templates,
            sns,
            subscription.stack,
            subscription.props.get("Endpoint"),
            context=context,
            kinds=kinds,
        )
        yield edge(FAMILY, subscription, "Properties.Endpoint", name, decision, FIX)
    yield from _notifications(templates)


def _notifications(templates: Templates) -> Iterator[Edge]:
    s3 = Principal(service="s3.amazonaws.com")
    sources: list[tuple[Resource, Resource | None, Any]] = [
        (b, b, b.props.get("NotificationConfiguration")) for b in templates.of_type(BUCKET)
    ]
    sources += [
        (
            c,
            resolve(templates, c.stack, c.props.get("BucketName"), BUCKET),
            c.props.get("NotificationConfiguration"),
        )
        for c in templates.of_type("Custom::S3BucketNotifications")
    ]
    for source, bucket, configuration in sources:
        if not isinstance(configuration, Mapping):
            continue
        for prop, bucket_key, custom_key in _NOTIFICATIONS:
            for index, entry in enumerate(configuration.get(prop) or []):
                key = bucket_key if bucket_key in entry else custom_key
                where = f"Properties.NotificationConfiguration.{prop}.{index}.{key}"
                if bucket is None:
                    decision = Decision(None, "its bucket is not in this app")
                    yield edge(FAMILY, source, where, "its target", decision, FIX)
                    continue
                kinds = {"Queue": (QUEUE,), "Topic": (TOPIC,), "Function": (FUNCTION,)}[bucket_key]
                name, decision = deliver(
                    templates, s3, source.stack, entry.get(key), context=source_context(bucket), kinds=kinds
                )
                yield edge(FAMILY, source, where, name, decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="An SNS subscription or S3 event notification cannot deliver to its endpoint: messages are lost",
    fix=FIX,
    find=edge_findings(edges),
)
