"""EventBridge Pipes: the pipe's role may read its source (an SQS queue, a DynamoDB or Kinesis stream),
invoke its enrichment, reach its target and a stream source's dead-letter queue or topic, each through
the target's resource and key policies."""

from __future__ import annotations

from collections.abc import Iterator

from .._edges import (
    EVENT_BUS,
    FIREHOSE,
    FUNCTION,
    KINESIS,
    QUEUE,
    ROLE,
    STATE_MACHINE,
    TOPIC,
    Edge,
    called,
    combine,
    deliver,
    edge,
    guarded,
    label,
    mapping,
    may,
    not_in_app,
    target_of,
    trusts,
)
from .._env import account_of, known, render_arn, resolve
from .._iam import Decision, Principal
from .._model import Resource, Templates
from .._rule import Rule, edge_findings
from .delivery_event_source_mappings import read

FAMILY = "DeliveryPipes"
PIPES = "pipes.amazonaws.com"
PIPE = "AWS::Pipes::Pipe"
FIX = (
    "Give the pipe a role that trusts pipes.amazonaws.com and may read the source "
    "(queue.grant_consume_messages, table.grant_stream_read, stream.grant_read), invoke the enrichment "
    "(function.grant_invoke, states:StartSyncExecution) and send to the target (queue.grant_send_messages, "
    "topic.grant_publish, events:PutEvents, states:StartExecution) and to a stream source's dead-letter "
    "queue or topic, keys included"
)
TARGETS = (QUEUE, TOPIC, FUNCTION, EVENT_BUS, STATE_MACHINE, KINESIS, FIREHOSE)


def edges(templates: Templates) -> Iterator[Edge]:
    yield from guarded(FAMILY, FIX, templates, (PIPE,), lambda pipe: _pipe(templates, pipe))


def _pipe(templates: Templates, pipe: Resource) -> Iterator[Edge]:
    role = resolve(templates, pipe.stack, pipe.props.get("RoleArn"), ROLE)
    if role is None:
        decision = Decision(None, not_in_app(pipe.props.get("RoleArn"), "role"))
        yield edge(FAMILY, pipe, "Properties.RoleArn", "its source and target", decision, FIX)
        return
    trust = trusts(
        templates, role, PIPES, source_arn=render_arn(templates, pipe), source_account=account_of(pipe.stack)
    )
    principal = Principal(role=role)
    source = read(templates, FAMILY, FIX, pipe, principal, pipe.props.get("Source"), "Properties.Source")
    yield _with(source, trust)
    enrichment = pipe.props.get("Enrichment")
    if enrichment is not None:
        yield _with(_enrichment(templates, pipe, principal, enrichment), trust)
    name, decision = _target(templates, pipe, principal)
    yield edge(FAMILY, pipe, "Properties.Target", name, combine(trust, decision), FIX)
    yield from _dead_letter(templates, pipe, principal, trust)


#: Where a stream source names its dead-letter queue or topic.
_SOURCE_PARAMETERS = ("DynamoDBStreamParameters", "KinesisStreamParameters")


def _dead_letter(
    templates: Templates, pipe: Resource, principal: Principal, trust: Decision
) -> Iterator[Edge]:
    """A stream source's dead-letter queue or topic, which the pipe sends failed records to with its role."""
    parameters = mapping(pipe.props.get("SourceParameters"))
    for key in _SOURCE_PARAMETERS:
        value = mapping(mapping(parameters.get(key)).get("DeadLetterConfig")).get("Arn")
        if value is None:
            continue
        name, decision = deliver(templates, principal, pipe.stack, value, kinds=(QUEUE, TOPIC))
        where = f"Properties.SourceParameters.{key}.DeadLetterConfig.Arn"
        yield edge(FAMILY, pipe, where, f"dead-letter {name}", combine(trust, decision), FIX)


def _with(found: Edge, trust: Decision) -> Edge:
    return Edge(
        found.family,
        found.source,
        found.location,
        found.description,
        combine(trust, found.decision),
        found.fix,
    )


def _enrichment(templates: Templates, pipe: Resource, principal: Principal, value: object) -> Edge:
    where = "Properties.Enrichment"
    found = called(templates, pipe.stack, value, (FUNCTION, STATE_MACHINE))
    if isinstance(found, str):
        return edge(FAMILY, pipe, where, "its enrichment", Decision(None, found), FIX)
    target, arn = found
    # A state machine enriches synchronously: an EXPRESS workflow started with StartSyncExecution.
    action = "lambda:InvokeFunction" if target.type == FUNCTION else "states:StartSyncExecution"
    decision = may(templates, principal, (action,), target, arn=arn)
    return edge(FAMILY, pipe, where, f"enrichment {label(target)}", decision, FIX)


def _target(templates: Templates, pipe: Resource, principal: Principal) -> tuple[str, Decision]:
    value = pipe.props.get("Target")
    target = target_of(templates, pipe.stack, value, (STATE_MACHINE,))
    if isinstance(target, Resource):
        given = pipe.props.get("TargetParameters")
        if not known(given):
            both = may(templates, principal, ("states:StartExecution", "states:StartSyncExecution"), target)
            why = "its invocation type is not known at synth, and the role may not start both ways"
            return label(target), both if both.allowed is True else Decision(None, why)
        parameters = mapping(mapping(given).get("StepFunctionStateMachineParameters"))
        synchronous = parameters.get("InvocationType", "REQUEST_RESPONSE") == "REQUEST_RESPONSE"
        action = "states:StartSyncExecution" if synchronous else "states:StartExecution"
        return label(target), may(templates, principal, (action,), target)
    return deliver(templates, principal, pipe.stack, value, kinds=TARGETS)


RULE = Rule(
    name=FAMILY,
    summary="An EventBridge pipe cannot read its source, invoke its enrichment or reach its target with "
    "its role: the pipe stops, or its records are lost",
    fix=FIX,
    find=edge_findings(edges),
)
