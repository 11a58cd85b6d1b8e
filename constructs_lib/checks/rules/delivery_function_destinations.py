"""A function's asynchronous destinations and dead-letter target accept what its role sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._edges import (
    BUCKET,
    EVENT_BUS,
    FUNCTION,
    QUEUE,
    TOPIC,
    Edge,
    deliver,
    edge,
    guarded,
    mapping,
    role_of_function,
)
from .._iam import Decision, Principal
from .._lambda import function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryFunctionDestinations"
FIX = (
    "Grant the function's role send rights on the destination (queue.grant_send_messages, "
    "topic.grant_publish, function.grant_invoke, events:PutEvents on the event bus, s3:PutObject and "
    "s3:ListBucket on the bucket), including its KMS key"
)
#: What Lambda sends an asynchronous invocation's record to, as the function's role.
DESTINATIONS = (QUEUE, TOPIC, FUNCTION, EVENT_BUS, BUCKET)


def edges(templates: Templates) -> Iterator[Edge]:
    yield from guarded(
        FAMILY, FIX, templates, (FUNCTION,), lambda function: _dead_letter(templates, function)
    )
    configs = ("AWS::Lambda::EventInvokeConfig",)
    yield from guarded(FAMILY, FIX, templates, configs, lambda config: _destinations(templates, config))


def _dead_letter(templates: Templates, function: Resource) -> Iterator[Edge]:
    target = mapping(function.props.get("DeadLetterConfig")).get("TargetArn")
    if target is not None:
        where = "Properties.DeadLetterConfig.TargetArn"
        yield _send(templates, function, function, where, target, "dead-letter ", (QUEUE, TOPIC))


def _destinations(templates: Templates, config: Resource) -> Iterator[Edge]:
    found = function_target(templates, config.stack, config.props.get("FunctionName"))
    for outcome in ("OnSuccess", "OnFailure"):
        destination = mapping(mapping(config.props.get("DestinationConfig")).get(outcome)).get("Destination")
        if destination is None:
            continue
        where = f"Properties.DestinationConfig.{outcome}.Destination"
        if found is None:
            decision = Decision(None, "its function is not in this app")
            yield edge(FAMILY, config, where, "its destination", decision, FIX)
            continue
        yield _send(templates, found.function, config, where, destination, f"{outcome} ", DESTINATIONS)


def _send(
    templates: Templates,
    function: Resource,
    source: Resource,
    where: str,
    value: Any,
    label: str,
    kinds: tuple[str, ...],
) -> Edge:
    role = role_of_function(templates, function)
    if role is None:
        decision = Decision(None, "its role is not in this app")
        return edge(FAMILY, source, where, "its destination", decision, FIX)
    name, decision = deliver(templates, Principal(role=role), source.stack, value, kinds=kinds)
    return edge(FAMILY, source, where, f"{label}{name}", decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="A function's asynchronous destination or dead-letter target refuses its role: failed events "
    "are dropped",
    fix=FIX,
    find=edge_findings(edges),
)
