"""An API behind CloudFront does not use IAM authorization: CloudFront breaks the SigV4 signature."""

from __future__ import annotations

from collections.abc import Iterator

from .._cdn import fronted_resources
from .._model import Resource, Templates
from .._rule import Finding, Rule

REST_API, HTTP_API = "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"


def _find(templates: Templates) -> Iterator[Finding]:
    fronted = fronted_resources(templates, REST_API, HTTP_API)
    if not fronted:
        return
    for method in templates.of_type("AWS::ApiGateway::Method"):
        if method.props.get("AuthorizationType") == "AWS_IAM":
            for api in templates.references(method.stack, method.props.get("RestApiId"), REST_API):
                if api in fronted:
                    yield _finding(method, str(method.props.get("HttpMethod")), api, fronted[api])
    for route in templates.of_type("AWS::ApiGatewayV2::Route"):
        if route.props.get("AuthorizationType") == "AWS_IAM":
            for api in templates.references(route.stack, route.props.get("ApiId"), HTTP_API):
                if api in fronted:
                    yield _finding(route, f"route {route.props.get('RouteKey')}", api, fronted[api])


def _finding(method: Resource, what: str, api: Resource, distribution: Resource) -> Finding:
    return Finding(
        method,
        f"{what} uses AWS_IAM, and distribution {distribution.path} fronts its API {api.path}: a "
        "signature made for the distribution's host and path never matches what the API receives, so "
        "every signed request gets 403",
        "Properties.AuthorizationType",
    )


RULE = Rule(
    name="CdnNoIamAuthorizedApi",
    summary="An API Gateway method or HTTP API route with IAM authorization is behind CloudFront, which "
    "rewrites the Host header and path that the caller's SigV4 signature covers",
    fix="Authorize with a Cognito user pool, JWT or Lambda authorizer (Authorization is forwarded), or let "
    "callers sign for the API's own endpoint and not route them through the distribution",
    find=_find,
)
