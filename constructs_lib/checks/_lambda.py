"""Which function a value invokes, and whether it names a version or alias (qualified) or not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._model import Reference, Resource, Stack, Templates

FUNCTION = "AWS::Lambda::Function"
SQS_QUEUE = "AWS::SQS::Queue"


@dataclass(frozen=True)
class FunctionTarget:
    function: Resource
    qualified: bool


def function_target(templates: Templates, stack: Stack, value: Any) -> FunctionTarget | None:
    """The function that ``value`` (a name, an ARN, an integration URI...) invokes, if synth knows it.

    A function's own ``Ref``/``Arn`` is unqualified unless a ``:qualifier`` follows it; a version, an
    alias, or the ``FunctionArn`` of a function URL with a ``Qualifier`` is qualified.
    """
    pieces = templates.pieces(stack, value)
    for index, piece in enumerate(pieces):
        if not isinstance(piece, Reference):
            continue
        resource = piece.resource
        if resource.type == FUNCTION and piece.attribute in (None, "Arn"):
            following = pieces[index + 1] if index + 1 < len(pieces) else None
            return FunctionTarget(resource, isinstance(following, str) and following.startswith(":"))
        if resource.type in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            inner = function_target(templates, resource.stack, resource.props.get("FunctionName"))
            return FunctionTarget(inner.function, True) if inner else None
        if resource.type == "AWS::Lambda::Url" and piece.attribute == "FunctionArn":
            inner = function_target(templates, resource.stack, resource.props.get("TargetFunctionArn"))
            if inner:
                return FunctionTarget(inner.function, inner.qualified or "Qualifier" in resource.props)
    return None


@dataclass(frozen=True)
class SqsMapping:
    """An event source mapping that reads an SQS queue; ``queue``/``function`` are None when unknown."""

    mapping: Resource
    queue: Resource | None
    function: Resource | None


def sqs_mappings(templates: Templates) -> Iterator[SqsMapping]:
    """Every event source mapping whose source is an SQS queue (a queue resource or an SQS ARN)."""
    for mapping in templates.of_type("AWS::Lambda::EventSourceMapping"):
        source = mapping.props.get("EventSourceArn")
        queues = templates.references(mapping.stack, source, SQS_QUEUE)
        if not queues and ":sqs:" not in templates.literal_text(mapping.stack, source):
            continue
        target = function_target(templates, mapping.stack, mapping.props.get("FunctionName"))
        yield SqsMapping(mapping, queues[0] if queues else None, target.function if target else None)
