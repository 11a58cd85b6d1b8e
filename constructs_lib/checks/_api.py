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


def service_action(templates: Templates, stack: Stack, uri: Any) -> tuple[str, str] | None:
    """``(service, Action)`` of a REST AWS integration's URI (``...:sqs:path/...`` sends SendMessage)."""
    match = _SERVICE_URI.match(render(templates, stack, uri) or "")
    if match is None:
        return None
    service = match.group("service")
    if match.group("kind") == "path":
        return (service, "SendMessage") if service == "sqs" else (service, "")
    return service, match.group("rest").split("&", 1)[0].split("/", 1)[0]


def request_values(integration: Mapping[str, Any]) -> list[Any]:
    """Where an integration names its target: request templates and parameters, and its URI."""
    return [
        integration.get("RequestTemplates"),
        integration.get("RequestParameters"),
        integration.get("Uri"),
        integration.get("IntegrationUri"),
    ]
