"""API Gateway integrations can call their target: a Lambda function through its permission (per stage
and route), or an AWS service (SQS, Step Functions, EventBridge, DynamoDB...) through the credentials role."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._api import Call, http_calls, request_values, rest_calls, service_action
from .._context import service_call
from .._edges import (
    EVENT_BUS,
    FIREHOSE,
    KINESIS,
    QUEUE,
    ROLE,
    SEND,
    STATE_MACHINE,
    TABLE,
    TOPIC,
    Edge,
    any_resource,
    combine,
    edge,
    guarded,
    label,
    may,
    role_may,
    trusts,
)
from .._env import account_of, known, region_of, resolve
from .._iam import Decision, Principal
from .._lambda import function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryApiIntegrations"
APIGATEWAY = "apigateway.amazonaws.com"
FIX = (
    "For an AWS service integration, give it a credentials role that trusts apigateway.amazonaws.com and "
    "may call the action on the target, key included (queue.grant_send_messages(role), "
    "state_machine.grant_start_execution(role), table.grant_write_data(role)); for a Lambda integration "
    "without credentials, add a Lambda permission for apigateway.amazonaws.com whose SourceArn covers this "
    "method on every stage (LambdaIntegration and HttpLambdaIntegration do)"
)
#: The resource type each service's integration acts on.
_TARGETS = {
    "sqs": QUEUE,
    "sns": TOPIC,
    "states": STATE_MACHINE,
    "events": EVENT_BUS,
    "dynamodb": TABLE,
    "kinesis": KINESIS,
    "firehose": FIREHOSE,
}
#: HTTP API integration subtypes' service names → IAM prefixes.
_SUBTYPES = {
    "SQS": "sqs",
    "EventBridge": "events",
    "StepFunctions": "states",
    "Kinesis": "kinesis",
    "AppConfig": "appconfig",
}


def edges(templates: Templates) -> Iterator[Edge]:
    yield from guarded(FAMILY, FIX, templates, ("AWS::ApiGateway::Method",), lambda m: _method(templates, m))
    integrations = ("AWS::ApiGatewayV2::Integration",)
    yield from guarded(FAMILY, FIX, templates, integrations, lambda i: _http(templates, i))


def _method(templates: Templates, method: Resource) -> Iterator[Edge]:
    integration = method.props.get("Integration") or {}
    if not isinstance(integration, Mapping) or integration.get("Type") not in ("AWS", "AWS_PROXY"):
        return
    target = function_target(templates, method.stack, integration.get("Uri"))
    role = resolve(templates, method.stack, integration.get("Credentials"), ROLE)
    if target is not None:
        calls = rest_calls(templates, method)
        yield _lambda(templates, method, "Properties.Integration.Uri", target.function, role, calls)
        return
    action = service_action(templates, method.stack, integration.get("Uri"))
    if action is None:
        decision = Decision(None, "its integration's URI is not known at synth")
        yield edge(FAMILY, method, "Properties.Integration.Uri", "its target", decision, FIX)
        return
    service, api = action
    yield _service(templates, method, "Properties.Integration", integration, f"{service}:{api}", role)


def _http(templates: Templates, integration: Resource) -> Iterator[Edge]:
    props = integration.props
    if props.get("IntegrationType") != "AWS_PROXY":
        return
    role = resolve(templates, integration.stack, props.get("CredentialsArn"), ROLE)
    subtype = props.get("IntegrationSubtype")
    if subtype is None:
        target = function_target(templates, integration.stack, props.get("IntegrationUri"))
        if target is None:
            decision = Decision(None, "its function is not defined in this app")
            yield edge(FAMILY, integration, "Properties.IntegrationUri", "its function", decision, FIX)
            return
        calls = http_calls(templates, integration)
        yield _lambda(templates, integration, "Properties.IntegrationUri", target.function, role, calls)
        return
    if not isinstance(subtype, str) or "-" not in subtype:
        decision = Decision(None, "its integration subtype is not known at synth")
        yield edge(FAMILY, integration, "Properties.IntegrationSubtype", "its target", decision, FIX)
        return
    service, _, api = subtype.partition("-")
    action = f"{_SUBTYPES.get(service, service.lower())}:{api}"
    yield _service(templates, integration, "Properties.CredentialsArn", props, action, role)


def _lambda(
    templates: Templates,
    source: Resource,
    where: str,
    function: Resource,
    role: Resource | None,
    calls: list[Call] | str,
) -> Edge:
    if role is not None:
        decision = combine(
            trusts(templates, role, APIGATEWAY),
            may(templates, Principal(role=role), ("lambda:InvokeFunction",), function),
        )
        return edge(FAMILY, source, where, label(function), decision, FIX)
    if isinstance(calls, str):
        return edge(FAMILY, source, where, label(function), Decision(None, calls), FIX)
    decisions = []
    for call in calls:
        context = service_call(APIGATEWAY, call.arn, account_of(source.stack))
        found = may(
            templates, Principal(service=APIGATEWAY), ("lambda:InvokeFunction",), function, context=context
        )
        decisions.append(Decision(found.allowed, f"on stage {call.stage}: {found.why}"))
    return edge(FAMILY, source, where, label(function), combine(*decisions), FIX)


def _service(
    templates: Templates,
    source: Resource,
    where: str,
    integration: Mapping[str, Any],
    action: str,
    role: Resource | None,
) -> Edge:
    if role is None:
        given = integration.get("Credentials", integration.get("CredentialsArn"))
        why = (
            "it has no credentials role, so API Gateway cannot call the service"
            if given is None
            else "its credentials role is not defined in this app, so its policies cannot be read"
        )
        return edge(FAMILY, source, where, action, Decision(False if given is None else None, why), FIX)
    kind = _TARGETS.get(action.split(":")[0])
    named = [
        r
        for value in request_values(integration)
        for r in templates.references(source.stack, value, kind or "-")
    ]
    targets = list(dict.fromkeys(named))
    trust = trusts(templates, role, APIGATEWAY)
    if len(targets) == 1:
        sends = SEND.get(targets[0].type, ((), ()))
        key_actions = sends[1] if action in sends[0] else ()
        decision = may(templates, Principal(role=role), (action,), targets[0], key_actions=key_actions)
        return edge(FAMILY, source, where, f"{action} on {label(targets[0])}", combine(trust, decision), FIX)
    if not targets and not all(known(value) for value in request_values(integration)):
        decision = combine(trust, Decision(None, "its request names a target only deploy time knows"))
        return edge(FAMILY, source, where, action, decision, FIX)
    if kind == EVENT_BUS and not targets:
        bus = f"arn:aws:events:{region_of(source.stack)}:{account_of(source.stack)}:event-bus/default"
        decision = role_may(templates, role, action, bus, account=account_of(source.stack))
        return edge(FAMILY, source, where, f"the default event bus {bus}", combine(trust, decision), FIX)
    return edge(FAMILY, source, where, action, combine(trust, any_resource(templates, role, action)), FIX)


RULE = Rule(
    name=FAMILY,
    summary="An API Gateway integration cannot call its target: every request answers 5xx",
    fix=FIX,
    find=edge_findings(edges),
)
