"""API Gateway integrations and Lambda authorizers can call their target: a Lambda function through its
permission (per stage and route, or for the authorizer) or the credentials role, or an AWS service (SQS,
S3, Step Functions, EventBridge, DynamoDB...) through the credentials role. An API defined by an inline
OpenAPI document (``SpecRestApi``) is read too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._api import (
    REST_API,
    Call,
    authorizer_source_arn,
    http_calls,
    request_values,
    rest_calls,
    service_action,
    spec_calls,
    spec_methods,
)
from .._context import service_call
from .._edges import (
    BUCKET,
    EVENT_BUS,
    FIREHOSE,
    GLOBAL_TABLE,
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
    not_in_app,
    role_may,
    trusts,
)
from .._env import account_of, known, region_of, resolve
from .._iam import Decision, Principal
from .._lambda import FunctionTarget, invoked_arn, invoked_function
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryApiIntegrations"
APIGATEWAY = "apigateway.amazonaws.com"
FIX = (
    "For an AWS service integration, give it a credentials role that trusts apigateway.amazonaws.com and "
    "may call the action on the target, key included (queue.grant_send_messages(role), "
    "state_machine.grant_start_execution(role), table.grant_write_data(role)); for a Lambda integration "
    "without credentials, add a Lambda permission for apigateway.amazonaws.com whose SourceArn covers this "
    "method on every stage (LambdaIntegration and HttpLambdaIntegration do), and one whose SourceArn is "
    "the authorizer (.../authorizers/<id>) for a Lambda authorizer (TokenAuthorizer, HttpLambdaAuthorizer "
    "do); an S3 path integration needs s3:PutObject/GetObject/DeleteObject on the objects (bucket.grant_put)"
)
#: The resource types each service's integration acts on.
_TARGETS = {
    "sqs": (QUEUE,),
    "sns": (TOPIC,),
    "states": (STATE_MACHINE,),
    "events": (EVENT_BUS,),
    "dynamodb": (TABLE, GLOBAL_TABLE),
    "kinesis": (KINESIS,),
    "firehose": (FIREHOSE,),
    "s3": (BUCKET,),
}
#: The key actions an S3 object call takes on an SSE-KMS bucket.
_S3_KEY_ACTIONS = {"s3:GetObject": ("kms:Decrypt",), "s3:PutObject": ("kms:GenerateDataKey",)}
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
    authorizers = ("AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer")
    yield from guarded(FAMILY, FIX, templates, authorizers, lambda a: _authorizer(templates, a))
    yield from guarded(FAMILY, FIX, templates, (REST_API,), lambda api: _spec(templates, api))


def _method(templates: Templates, method: Resource) -> Iterator[Edge]:
    integration = method.props.get("Integration") or {}
    if not isinstance(integration, Mapping) or integration.get("Type") not in ("AWS", "AWS_PROXY"):
        return
    target = invoked_function(templates, method.stack, integration.get("Uri"))
    role = resolve(templates, method.stack, integration.get("Credentials"), ROLE)
    if target is not None:
        calls = rest_calls(templates, method)
        yield _lambda(templates, method, "Properties.Integration.Uri", target, role, calls)
        return
    action = service_action(
        templates, method.stack, integration.get("Uri"), integration.get("IntegrationHttpMethod")
    )
    if isinstance(action, str):
        yield edge(FAMILY, method, "Properties.Integration.Uri", "its target", Decision(None, action), FIX)
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
        target = invoked_function(templates, integration.stack, props.get("IntegrationUri"))
        if target is None:
            decision = Decision(None, "its function is not defined in this app")
            yield edge(FAMILY, integration, "Properties.IntegrationUri", "its function", decision, FIX)
            return
        calls = http_calls(templates, integration)
        yield _lambda(templates, integration, "Properties.IntegrationUri", target, role, calls)
        return
    if not isinstance(subtype, str) or "-" not in subtype:
        decision = Decision(None, "its integration subtype is not known at synth")
        yield edge(FAMILY, integration, "Properties.IntegrationSubtype", "its target", decision, FIX)
        return
    service, _, api = subtype.partition("-")
    action = f"{_SUBTYPES.get(service, service.lower())}:{api}"
    yield _service(templates, integration, "Properties.CredentialsArn", props, action, role)


def _authorizer(templates: Templates, authorizer: Resource) -> Iterator[Edge]:
    """A Lambda authorizer (REST ``TOKEN``/``REQUEST``, HTTP and WebSocket ``REQUEST``): API Gateway
    invokes its function with the authorizer's ARN as ``aws:SourceArn``, or with its credentials role."""
    props = authorizer.props
    if props.get("Type", props.get("AuthorizerType")) not in ("TOKEN", "REQUEST"):
        return
    where = "Properties.AuthorizerUri"
    target = invoked_function(templates, authorizer.stack, props.get("AuthorizerUri"))
    if target is None:
        decision = Decision(None, "its function is not defined in this app")
        yield edge(FAMILY, authorizer, where, "its function", decision, FIX)
        return
    credentials = props.get("AuthorizerCredentials", props.get("AuthorizerCredentialsArn"))
    role = resolve(templates, authorizer.stack, credentials, ROLE)
    key = "RestApiId" if authorizer.type.startswith("AWS::ApiGateway::") else "ApiId"
    source_arn = authorizer_source_arn(templates, authorizer, key)
    calls: list[Call] | str = (
        [Call("any", source_arn)] if source_arn else "the authorizer's API is not known at synth"
    )
    yield _lambda(templates, authorizer, where, target, role, calls)


def _spec(templates: Templates, api: Resource) -> Iterator[Edge]:
    """An API defined by an OpenAPI document: each Lambda integration of an inline ``Body`` decided per
    stage; a document in S3 (``BodyS3Location``) cannot be read at synth."""
    if "BodyS3Location" in api.props:
        why = "its OpenAPI definition is a file in S3 (BodyS3Location), which the pack does not read"
        yield edge(FAMILY, api, "Properties.BodyS3Location", "its integrations", Decision(None, why), FIX)
        return
    for path, verb, integration in spec_methods(api):
        where = f"Properties.Body.paths.{path}"
        kind = str(integration.get("type", "")).lower()
        target = invoked_function(templates, api.stack, integration.get("uri"))
        role = resolve(templates, api.stack, integration.get("credentials"), ROLE)
        if kind in ("aws", "aws_proxy") and target is not None:
            yield _lambda(templates, api, where, target, role, spec_calls(templates, api, verb, path))
        elif kind in ("aws", "aws_proxy"):
            why = (
                f"its {verb} {path} integration calls an AWS service, which the pack does not read in OpenAPI"
            )
            yield edge(FAMILY, api, where, f"{verb} {path}", Decision(None, why), FIX)


def _lambda(
    templates: Templates,
    source: Resource,
    where: str,
    target: FunctionTarget,
    role: Resource | None,
    calls: list[Call] | str,
) -> Edge:
    function = target.function
    arn = invoked_arn(templates, target) if target.qualified else None
    name = label(function) if arn is None else f"{label(function)} (qualifier {target.qualifier})"
    if role is not None:
        decision = combine(
            trusts(templates, role, APIGATEWAY),
            may(templates, Principal(role=role), ("lambda:InvokeFunction",), function, arn=arn),
        )
        return edge(FAMILY, source, where, name, decision, FIX)
    if isinstance(calls, str):
        return edge(FAMILY, source, where, name, Decision(None, calls), FIX)
    decisions = []
    for call in calls:
        context = service_call(APIGATEWAY, call.arn, account_of(source.stack))
        found = may(
            templates,
            Principal(service=APIGATEWAY),
            ("lambda:InvokeFunction",),
            function,
            arn=arn,
            context=context,
        )
        on = f"on stage {call.stage}: " if call.stage != "any" else ""
        decisions.append(Decision(found.allowed, f"{on}{found.why}"))
    return edge(FAMILY, source, where, name, combine(*decisions), FIX)


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
            else not_in_app(given, "credentials role")
        )
        return edge(FAMILY, source, where, action, Decision(False if given is None else None, why), FIX)
    kinds = _TARGETS.get(action.split(":")[0], ("-",))
    named = [
        r for value in request_values(integration) for r in templates.references(source.stack, value, *kinds)
    ]
    targets = list(dict.fromkeys(named))
    trust = trusts(templates, role, APIGATEWAY)
    if len(targets) == 1:
        sends = SEND.get(targets[0].type, ((), ()))
        key_actions = sends[1] if action in sends[0] else _S3_KEY_ACTIONS.get(action, ())
        decision = may(templates, Principal(role=role), (action,), targets[0], key_actions=key_actions)
        return edge(FAMILY, source, where, f"{action} on {label(targets[0])}", combine(trust, decision), FIX)
    if not targets and not all(known(value) for value in request_values(integration)):
        decision = combine(trust, Decision(None, "its request names a target only deploy time knows"))
        return edge(FAMILY, source, where, action, decision, FIX)
    if kinds == (EVENT_BUS,) and not targets:
        bus = f"arn:aws:events:{region_of(source.stack)}:{account_of(source.stack)}:event-bus/default"
        decision = role_may(templates, role, action, bus, account=account_of(source.stack))
        return edge(FAMILY, source, where, f"the default event bus {bus}", combine(trust, decision), FIX)
    return edge(FAMILY, source, where, action, combine(trust, any_resource(templates, role, action)), FIX)


RULE = Rule(
    name=FAMILY,
    summary="An API Gateway integration or Lambda authorizer cannot call its target: every request "
    "answers 5xx",
    fix=FIX,
    find=edge_findings(edges),
)
