"""API Gateway integrations can call their target: the credentials role, or the function's permission."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._edges import QUEUE, ROLE, Edge, combine, edge, may, trusts
from .._iam import ACCOUNT, REGION, Decision, Principal, render, resolve
from .._lambda import function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryApiIntegrations"
APIGATEWAY = "apigateway.amazonaws.com"
FIX = (
    "For an AWS service integration, give it a credentials role that trusts apigateway.amazonaws.com and "
    "may call the action on the target, key included (queue.grant_send_messages(role)); for a Lambda "
    "integration without credentials, add a Lambda permission for apigateway.amazonaws.com whose "
    "SourceArn covers this method (LambdaIntegration does)"
)


def edges(templates: Templates) -> Iterator[Edge]:
    for method in templates.of_type("AWS::ApiGateway::Method"):
        integration = method.props.get("Integration") or {}
        if integration.get("Type") not in ("AWS", "AWS_PROXY"):
            continue
        uri = integration.get("Uri")
        target = function_target(templates, method.stack, uri)
        if target is not None:
            yield _lambda(templates, method, integration, target.function)
            continue
        queue = resolve(templates, method.stack, uri, QUEUE)
        rendered = render(templates, method.stack, uri) or ""
        if queue is not None or ":sqs:" in rendered:
            yield _queue(templates, method, integration, queue)


def _credentials(templates: Templates, method: Resource, integration: Mapping[str, Any]) -> Resource | None:
    return resolve(templates, method.stack, integration.get("Credentials"), ROLE)


def _queue(
    templates: Templates, method: Resource, integration: Mapping[str, Any], queue: Resource | None
) -> Edge:
    where = "Properties.Integration"
    role = _credentials(templates, method, integration)
    if queue is None or role is None:
        missing = "queue" if queue is None else "credentials role"
        return edge(
            FAMILY, method, where, "its queue", Decision(None, f"its {missing} is not in this app"), FIX
        )
    decision = combine(
        trusts(templates, role, APIGATEWAY),
        may(
            templates,
            Principal(role=role),
            ("sqs:SendMessage",),
            queue,
            key_actions=("kms:GenerateDataKey", "kms:Decrypt"),
        ),
    )
    return edge(FAMILY, method, f"{where}.Credentials", f"queue {queue.logical_id}", decision, FIX)


def _lambda(
    templates: Templates, method: Resource, integration: Mapping[str, Any], function: Resource
) -> Edge:
    where = "Properties.Integration.Uri"
    role = _credentials(templates, method, integration)
    if role is not None:
        decision = combine(
            trusts(templates, role, APIGATEWAY),
            may(templates, Principal(role=role), ("lambda:InvokeFunction",), function),
        )
        return edge(FAMILY, method, where, f"function {function.logical_id}", decision, FIX)
    source = _execute_api_arn(templates, method)
    if source is None:
        decision = Decision(None, "the method's API, stage or path is not known at synth")
        return edge(FAMILY, method, where, f"function {function.logical_id}", decision, FIX)
    context = {"aws:sourcearn": source, "aws:sourceaccount": ACCOUNT}
    decision = may(
        templates, Principal(service=APIGATEWAY), ("lambda:InvokeFunction",), function, context=context
    )
    return edge(FAMILY, method, where, f"function {function.logical_id}", decision, FIX)


def _execute_api_arn(templates: Templates, method: Resource) -> str | None:
    """``arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>``, as API Gateway sends it."""
    api = resolve(templates, method.stack, method.props.get("RestApiId"), "AWS::ApiGateway::RestApi")
    path = _path(templates, method.stack, method.props.get("ResourceId"))
    if api is None or path is None:
        return None
    stages = [
        s
        for s in templates.of_type("AWS::ApiGateway::Stage")
        if resolve(templates, s.stack, s.props.get("RestApiId"), api.type) == api
    ]
    stage = render(templates, stages[0].stack, {"Ref": stages[0].logical_id}) if len(stages) == 1 else None
    if stage is None:
        return None
    api_id = render(templates, api.stack, {"Ref": api.logical_id})
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{stage}/{method.props.get('HttpMethod')}{path}"


def _path(templates: Templates, stack: Any, value: Any) -> str | None:
    resource = resolve(templates, stack, value, "AWS::ApiGateway::Resource")
    if resource is None:
        return "/" if templates.references(stack, value, "AWS::ApiGateway::RestApi") else None
    parent = _path(templates, resource.stack, resource.props.get("ParentId"))
    part = resource.props.get("PathPart")
    if parent is None or not isinstance(part, str):
        return None
    return f"{parent.rstrip('/')}/{part}"


RULE = Rule(
    name=FAMILY,
    summary="An API Gateway integration cannot call its target: every request answers 5xx",
    fix=FIX,
    find=edge_findings(edges),
)
