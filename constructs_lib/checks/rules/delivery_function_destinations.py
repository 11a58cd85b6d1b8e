"""A function's asynchronous destinations and dead-letter target accept what its role sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._edges import QUEUE, TOPIC, Edge, deliver, edge, role_of_function
from .._iam import Decision, Principal
from .._lambda import FUNCTION, function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryFunctionDestinations"
FIX = (
    "Grant the function's role send rights on the destination (queue.grant_send_messages, "
    "topic.grant_publish, function.grant_invoke), including its KMS key"
)


def edges(templates: Templates) -> Iterator[Edge]:
    for function in templates.of_type(FUNCTION):
        target = (function.props.get("DeadLetterConfig") or {}).get("TargetArn")
        if target is not None:
            yield _send(
                templates, function, function, "Properties.DeadLetterConfig.TargetArn", target, "dead-letter "
            )
    for config in templates.of_type("AWS::Lambda::EventInvokeConfig"):
        found = function_target(templates, config.stack, config.props.get("FunctionName"))
        for outcome in ("OnSuccess", "OnFailure"):
            destination = ((config.props.get("DestinationConfig") or {}).get(outcome) or {}).get(
                "Destination"
            )
            if destination is None:
                continue
            where = f"Properties.DestinationConfig.{outcome}.Destination"
            if found is None:
                yield edge(
                    FAMILY,
                    config,
                    where,
                    "its destination",
                    Decision(None, "its function is not in this app"),
                    FIX,
                )
                continue
            yield _send(templates, found.function, config, where, destination, f"{outcome} ")


def _send(
    templates: Templates, function: Resource, source: Resource, where: str, value: Any, label: str
) -> Edge:
    role = role_of_function(templates, function)
    if role is None:
        return edge(
            FAMILY, source, where, "its destination", Decision(None, "its role is not in this app"), FIX
        )
    name, decision = deliver(
        templates, Principal(role=role), source.stack, value, kinds=(QUEUE, TOPIC, FUNCTION)
    )
    return edge(FAMILY, source, where, f"{label}{name}", decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="A function's asynchronous destination or dead-letter target refuses its role: failed events "
    "are dropped",
    fix=FIX,
    find=edge_findings(edges),
)
