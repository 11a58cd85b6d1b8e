"""Which function a value invokes, and whether it names a version or alias (qualified) or not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._env import lookup, render, render_arn
from ._model import Piece, Reference, Resource, Stack, Templates

FUNCTION = "AWS::Lambda::Function"
SQS_QUEUE = "AWS::SQS::Queue"


@dataclass(frozen=True)
class FunctionTarget:
    """The function a value invokes, and the qualifier it invokes it with (an alias name, a version, or
    None for the unqualified function). A version number only deploy time knows is the version's
    symbol (``«Stack/Version.Version»``)."""

    function: Resource
    qualifier: str | None = None

    @property
    def qualified(self) -> bool:
        return self.qualifier is not None


def function_target(templates: Templates, stack: Stack, value: Any) -> FunctionTarget | None:
    """The function that ``value`` (a name, an ARN, an integration URI...) invokes, if synth knows it.

    A function's own ``Ref``/``Arn`` is unqualified unless a ``:qualifier`` follows it; a version, an
    alias, or the ``FunctionArn`` of a function URL with a ``Qualifier`` is qualified.
    """
    pieces = templates.pieces(stack, value)
    functions = [
        index
        for index, piece in enumerate(pieces)
        if isinstance(piece, Reference)
        and piece.resource.type == FUNCTION
        and piece.attribute in (None, "Arn")
    ]
    if functions:
        # An integration URI names the function once in its path (``functions/<arn>[:qualifier]/...``)
        # and may split its ARN for the partition and region: the last mention is the one invoked.
        last = functions[-1]
        function = pieces[last]
        assert isinstance(function, Reference)
        return FunctionTarget(function.resource, _following_qualifier(templates, pieces[last + 1 :]))
    for piece in pieces:
        if not isinstance(piece, Reference):
            continue
        resource = piece.resource
        if resource.type == "AWS::Lambda::Alias" and piece.attribute in (None, "AliasArn"):
            inner = function_target(templates, resource.stack, resource.props.get("FunctionName"))
            name = resource.props.get("Name")
            qualifier = (
                name if isinstance(name, str) else f"«{resource.stack.name}/{resource.logical_id}.Name»"
            )
            return FunctionTarget(inner.function, qualifier) if inner else None
        if resource.type == "AWS::Lambda::Version" and piece.attribute in (None, "FunctionArn"):
            inner = function_target(templates, resource.stack, resource.props.get("FunctionName"))
            version = f"«{resource.stack.name}/{resource.logical_id}.Version»"
            return FunctionTarget(inner.function, version) if inner else None
        if resource.type == "AWS::Lambda::Url" and piece.attribute == "FunctionArn":
            inner = function_target(templates, resource.stack, resource.props.get("TargetFunctionArn"))
            given = resource.props.get("Qualifier")
            if inner:
                return FunctionTarget(inner.function, given if isinstance(given, str) else inner.qualifier)
    return None


def _following_qualifier(templates: Templates, rest: list[Piece]) -> str | None:
    """The qualifier a ``:qualifier`` after a function's ARN names (``[arn, ":live"]``, or ``[arn, ":",
    version number]``), else None."""
    if not rest or not isinstance(rest[0], str) or not rest[0].startswith(":"):
        return None
    text = rest[0][1:]
    qualifier = re.split(r"[:/]", text, maxsplit=1)[0]
    if qualifier:
        return qualifier
    following = rest[1] if len(rest) > 1 else None
    if isinstance(following, Reference):
        resource, attribute = following.resource, following.attribute
        return f"«{resource.stack.name}/{resource.logical_id}{'.' + attribute if attribute else ''}»"
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


_FUNCTION_ARN = re.compile(
    r"^(?P<base>arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:]+)(?::(?P<qualifier>[^:]+))?$"
)
_FUNCTION_NAME = re.compile(r"^(?:\d{12}:function:)?(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")


def invoked_function(templates: Templates, stack: Stack, value: Any) -> FunctionTarget | None:
    """Like :func:`function_target`, and also a function of the app named by a literal name or ARN
    (``Function.from_function_arn`` of a function in another stack, with no export), qualifier kept."""
    found = function_target(templates, stack, value)
    if found is not None:
        return found
    rendered = render(templates, stack, value)
    if rendered is None:
        return None
    match = _FUNCTION_ARN.match(rendered) or _FUNCTION_NAME.match(rendered)
    if match is None:
        return None
    key = match.group("base") if "base" in match.groupdict() else match.group("name")
    function = lookup(templates, stack, key, FUNCTION)
    return FunctionTarget(function, match.group("qualifier")) if function else None


def invoked_arn(templates: Templates, target: FunctionTarget) -> str:
    """The ARN a caller invokes: the function's, with ``:<qualifier>`` for an alias or a version."""
    arn = render_arn(templates, target.function)
    return f"{arn}:{target.qualifier}" if target.qualifier is not None else arn
