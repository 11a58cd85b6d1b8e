"""API Gateway as the pack reads it: each method's or route's stages, and the ARNs API Gateway sends.

A call through an API carries ``aws:SourceArn`` =
``arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>``: one per stage, so a Lambda
permission that covers one stage and not another delivers on one stage only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._env import account_of, region_of, render, resolve
from ._model import Resource, Stack, Templates

REST_API = "AWS::ApiGateway::RestApi"
HTTP_API = "AWS::ApiGatewayV2::Api"
_SERVICE_URI = re.compile(
    r"^arn:[^:]*:apigateway:[^:]*:(?P<service>[a-z0-9-]+):(?P<kind>path|action)/(?P<rest>.*)$"
)


@dataclass(frozen=True)
class Call:
    """One way a method or route is called: on ``stage``, with ``arn`` as ``aws:SourceArn``."""

    stage: str
    arn: str


def _stages(templates: Templates, api: Resource, types: tuple[str, ...], key: str) -> list[str | None]:
    """The stage names of ``api`` (None for a name only deploy time knows)."""

    def build() -> dict[Resource, list[str | None]]:
        found: dict[Resource, list[str | None]] = {}
        for stage in templates.of_type(*types):
            if "StageName" not in stage.props:
                continue
            owner = resolve(templates, stage.stack, stage.props.get(key), api.type)
            if owner is not None:
                found.setdefault(owner, []).append(
                    render(templates, stage.stack, stage.props.get("StageName"))
                )
        return found

    index: dict[Resource, list[str | None]] = templates.memo(("stages", types), build)
    return list(dict.fromkeys(index.get(api, [])))


def _execute_api(api: Resource, stage: str, method: str, path: str) -> str:
    api_id = f"«{api.stack.name}/{api.logical_id}»"
    return (
        f"arn:aws:execute-api:{region_of(api.stack)}:{account_of(api.stack)}:{api_id}/{stage}/{method}{path}"
    )


def rest_calls(templates: Templates, method: Resource) -> list[Call] | str:
    """Each stage's call of a REST API method, or why synth cannot know them."""
    api = resolve(templates, method.stack, method.props.get("RestApiId"), REST_API)
    path = rest_path(templates, method.stack, method.props.get("ResourceId"))
    if api is None or path is None:
        return "the method's API or path is not known at synth"
    stages = _stages(templates, api, ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"), "RestApiId")
    if not stages or None in stages:
        return "the API's stages are not known at synth"
    verb = str(method.props.get("HttpMethod"))
    return [Call(stage, _execute_api(api, stage, verb, path)) for stage in stages if stage is not None]


def rest_path(templates: Templates, stack: Stack, value: Any) -> str | None:
    resource = resolve(templates, stack, value, "AWS::ApiGateway::Resource")
    if resource is None:
        return "/" if templates.references(stack, value, REST_API) else None
    parent = rest_path(templates, resource.stack, resource.props.get("ParentId"))
    part = resource.props.get("PathPart")
    if parent is None or not isinstance(part, str):
        return None
    return f"{parent.rstrip('/')}/{part}"


def http_calls(templates: Templates, integration: Resource) -> list[Call] | str:
    """Each call of an HTTP API integration (per route and stage), or why synth cannot know them."""
    api = resolve(templates, integration.stack, integration.props.get("ApiId"), HTTP_API)
    if api is None:
        return "the integration's API is not known at synth"
    routes = [
        route
        for route in templates.of_type("AWS::ApiGatewayV2::Route")
        if integration in templates.references(route.stack, route.props.get("Target"), integration.type)
    ]
    stages = _stages(templates, api, ("AWS::ApiGatewayV2::Stage",), "ApiId")
    if not routes:
        return "no route of this app sends to it"
    if not stages or None in stages:
        return "the API's stages are not known at synth"
    calls = []
    for route in routes:
        key = route.props.get("RouteKey")
        if not isinstance(key, str):
            return "a route's key is not known at synth"
        verb, _, path = key.partition(" ")
        for stage in stages:
            calls.append(Call(f"{stage} {key}", _execute_api(api, str(stage), verb, path)))
    return calls


#: What an S3 path integration calls, by its HTTP method (S3's REST API: PUT Object, GET Object...).
_S3_PATH_ACTIONS = {
    "PUT": "PutObject",
    "POST": "PutObject",
    "GET": "GetObject",
    "HEAD": "GetObject",
    "DELETE": "DeleteObject",
}


def service_action(
    templates: Templates, stack: Stack, uri: Any, http_method: Any = None
) -> tuple[str, str] | str:
    """``(service, Action)`` of a REST AWS integration's URI (``...:sqs:path/...`` sends SendMessage; an
    S3 path integration's action follows its HTTP method), or why synth cannot tell."""
    match = _SERVICE_URI.match(render(templates, stack, uri) or "")
    if match is None:
        return "its integration's URI is not known at synth"
    service = match.group("service")
    if match.group("kind") == "action":
        return service, match.group("rest").split("&", 1)[0].split("/", 1)[0]
    if service == "sqs":
        return service, "SendMessage"
    if service == "s3":
        action = _S3_PATH_ACTIONS.get(str(http_method).upper())
        if action is not None and "/" in match.group("rest").strip("/"):
            return service, action
        return (
            f"the S3 path integration calls {http_method} on {match.group('rest') or 'the service root'}, "
            "whose IAM action the pack does not model"
        )
    return f"the pack does not model the {service} service's path integrations"


def authorizer_source_arn(templates: Templates, authorizer: Resource, key: str) -> str | None:
    """The ``aws:SourceArn`` API Gateway sends when it invokes an authorizer's function:
    ``arn:aws:execute-api:<region>:<account>:<api id>/authorizers/<authorizer id>``."""
    api = resolve(templates, authorizer.stack, authorizer.props.get(key), REST_API, HTTP_API)
    if api is None:
        return None
    api_id = f"«{api.stack.name}/{api.logical_id}»"
    authorizer_id = f"«{authorizer.stack.name}/{authorizer.logical_id}»"
    prefix = f"arn:aws:execute-api:{region_of(api.stack)}:{account_of(api.stack)}"
    return f"{prefix}:{api_id}/authorizers/{authorizer_id}"


def spec_methods(api: Resource) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(path, METHOD, x-amazon-apigateway-integration)`` of each operation of an inline OpenAPI
    ``Body`` (a ``SpecRestApi`` from ``ApiDefinition.from_inline``)."""
    paths = api.props.get("Body", {}).get("paths") if isinstance(api.props.get("Body"), Mapping) else None
    found = []
    for path, operations in (paths or {}).items() if isinstance(paths, Mapping) else ():
        for verb, operation in (operations or {}).items() if isinstance(operations, Mapping) else ():
            integration = (
                operation.get("x-amazon-apigateway-integration") if isinstance(operation, Mapping) else None
            )
            if isinstance(integration, Mapping):
                method = "*" if str(verb).lower() == "x-amazon-apigateway-any-method" else str(verb).upper()
                found.append((str(path), method, integration))
    return found


def spec_calls(templates: Templates, api: Resource, method: str, path: str) -> list[Call] | str:
    """Each stage's call of an OpenAPI operation of ``api``."""
    stages = _stages(templates, api, ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"), "RestApiId")
    if not stages or None in stages:
        return "the API's stages are not known at synth"
    return [Call(stage, _execute_api(api, stage, method, path)) for stage in stages if stage is not None]


def request_values(integration: Mapping[str, Any]) -> list[Any]:
    """Where an integration names its target: request templates and parameters, and its URI."""
    return [
        integration.get("RequestTemplates"),
        integration.get("RequestParameters"),
        integration.get("Uri"),
        integration.get("IntegrationUri"),
    ]
