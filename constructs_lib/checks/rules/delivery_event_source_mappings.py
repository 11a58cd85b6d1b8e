"""Event source mappings can read their source and write their on-failure destination, as the function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._edges import (
    BUCKET,
    GLOBAL_TABLE,
    KINESIS,
    QUEUE,
    TABLE,
    TOPIC,
    Edge,
    combine,
    deliver,
    edge,
    guarded,
    label,
    mapping,
    may,
    not_in_app,
    role_of_function,
    target_of,
)
from .._env import render, render_arn, resolve
from .._iam import Decision, Principal
from .._lambda import function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryEventSourceMappings"
FIX = (
    "Grant the function's role what the mapping calls as it: on a queue sqs:ReceiveMessage, "
    "sqs:DeleteMessage and sqs:GetQueueAttributes (queue.grant_consume_messages), kms:Decrypt on the "
    "queue's key; on a stream the read actions (table.grant_stream_read, stream.grant_read), and on an "
    "enhanced fan-out consumer kinesis:SubscribeToShard and kinesis:DescribeStreamConsumer too; and send "
    "rights on the on-failure destination"
)
SQS_READ = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
_DYNAMODB_STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
STREAM_READ = {
    TABLE: _DYNAMODB_STREAM_READ,
    GLOBAL_TABLE: _DYNAMODB_STREAM_READ,
    KINESIS: (
        "kinesis:DescribeStream",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ),
}
CONSUMER = "AWS::Kinesis::StreamConsumer"
#: What Lambda calls on an enhanced fan-out consumer (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html).
CONSUMER_READ = ("kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer")


def edges(templates: Templates) -> Iterator[Edge]:
    mappings = ("AWS::Lambda::EventSourceMapping",)
    yield from guarded(FAMILY, FIX, templates, mappings, lambda mapping: _mapping(templates, mapping))


def _mapping(templates: Templates, mapping_: Resource) -> Iterator[Edge]:
    source = mapping_.props.get("EventSourceArn")
    if source is None:
        return  # a self-managed Kafka source: read over the network, not through IAM
    target = function_target(templates, mapping_.stack, mapping_.props.get("FunctionName"))
    role = role_of_function(templates, target.function) if target else None
    if role is None:
        decision = Decision(None, "its function or the function's role is not defined in this app")
        yield edge(FAMILY, mapping_, "Properties.FunctionName", "its source", decision, FIX)
        return
    yield read(templates, FAMILY, FIX, mapping_, Principal(role=role), source, "Properties.EventSourceArn")
    failure = mapping(mapping(mapping_.props.get("DestinationConfig")).get("OnFailure")).get("Destination")
    if failure is not None:
        name, decision = deliver(
            templates, Principal(role=role), mapping_.stack, failure, kinds=(QUEUE, TOPIC, BUCKET)
        )
        yield edge(
            FAMILY, mapping_, "Properties.DestinationConfig.OnFailure.Destination", name, decision, FIX
        )


def read(
    templates: Templates,
    family: str,
    fix: str,
    source: Resource,
    principal: Principal,
    value: Any,
    location: str,
) -> Edge:
    """``principal`` (a function's or a pipe's role) reads the queue or stream that ``value`` names."""
    found = target_of(templates, source.stack, value, (QUEUE,))
    queue = found if isinstance(found, Resource) else None
    if queue is not None:
        decision = may(templates, principal, SQS_READ, queue, key_actions=("kms:Decrypt",))
        return edge(family, source, location, label(queue), decision, fix)
    consumer = resolve(templates, source.stack, value, CONSUMER)
    stream_value = consumer.props.get("StreamARN") if consumer else value
    stream_stack = consumer.stack if consumer else source.stack
    stream = resolve(templates, stream_stack, stream_value, *STREAM_READ)
    if stream is not None:
        arn = render(templates, stream_stack, stream_value) or render_arn(templates, stream)
        key_actions = ("kms:Decrypt",) if stream.type == KINESIS else ()
        decisions = [
            may(templates, principal, STREAM_READ[stream.type], stream, arn=arn, key_actions=key_actions)
        ]
        if consumer is not None:
            decisions.append(
                may(templates, principal, CONSUMER_READ, consumer, arn=render_arn(templates, consumer))
            )
        name = label(consumer) if consumer else f"the stream of {label(stream)}"
        return edge(family, source, location, name, combine(*decisions), fix)
    shown = render(templates, source.stack, value)
    why = f"its source {shown} is not defined in this app" if shown else not_in_app(value, "source")
    decision = Decision(None, why)
    return edge(family, source, location, "its source", decision, fix)


RULE = Rule(
    name=FAMILY,
    summary="An event source mapping cannot read its source or write its on-failure destination: it "
    "fails to create, or records are lost",
    fix=FIX,
    find=edge_findings(edges),
)
