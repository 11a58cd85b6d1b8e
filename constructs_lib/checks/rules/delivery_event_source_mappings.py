"""Event source mappings can read their source and write their on-failure destination, as the function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._edges import QUEUE, TOPIC, Edge, combine, deliver, edge, may, role_of_function
from .._iam import Decision, Principal, render, resolve
from .._lambda import function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryEventSourceMappings"
FIX = (
    "Grant the function's role what the mapping calls as it: on a queue sqs:ReceiveMessage, "
    "sqs:DeleteMessage and sqs:GetQueueAttributes (queue.grant_consume_messages), kms:Decrypt on the "
    "queue's key; on a stream the read actions (table.grant_stream_read, stream.grant_read); and send "
    "rights on the on-failure destination"
)
SQS_READ = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
STREAM_READ = {
    "AWS::DynamoDB::Table": (
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ),
    "AWS::Kinesis::Stream": (
        "kinesis:DescribeStream",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ),
}


def edges(templates: Templates) -> Iterator[Edge]:
    for mapping in templates.of_type("AWS::Lambda::EventSourceMapping"):
        target = function_target(templates, mapping.stack, mapping.props.get("FunctionName"))
        role = role_of_function(templates, target.function) if target else None
        source = mapping.props.get("EventSourceArn")
        if role is None:
            decision = Decision(None, "its function or the function's role is not defined in this app")
            yield edge(FAMILY, mapping, "Properties.FunctionName", "its source", decision, FIX)
            continue
        yield _read(templates, mapping, role, source)
        failure = ((mapping.props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if failure is not None:
            name, decision = deliver(
                templates, Principal(role=role), mapping.stack, failure, kinds=(QUEUE, TOPIC)
            )
            yield edge(
                FAMILY, mapping, "Properties.DestinationConfig.OnFailure.Destination", name, decision, FIX
            )


def _read(templates: Templates, mapping: Resource, role: Resource, source: Any) -> Edge:
    location, principal = "Properties.EventSourceArn", Principal(role=role)
    queue = resolve(templates, mapping.stack, source, QUEUE)
    if queue is not None:
        decision = may(templates, principal, SQS_READ, queue, key_actions=("kms:Decrypt",))
        return edge(FAMILY, mapping, location, f"queue {queue.logical_id}", decision, FIX)
    stream = resolve(templates, mapping.stack, source, *STREAM_READ)
    if stream is not None:
        arn = render(templates, mapping.stack, source)
        decision = combine(
            *(may(templates, principal, (action,), stream, arn=arn) for action in STREAM_READ[stream.type])
        )
        return edge(FAMILY, mapping, location, f"the stream of {stream.logical_id}", decision, FIX)
    shown = render(templates, mapping.stack, source) or "a value only deploy time knows"
    decision = Decision(None, f"its source {shown} is not defined in this app")
    return edge(FAMILY, mapping, location, "its source", decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="An event source mapping cannot read its source or write its on-failure destination: it "
    "fails to create, or records are lost",
    fix=FIX,
    find=edge_findings(edges),
)
