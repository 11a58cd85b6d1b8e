"""A REST API behind CloudFront does not use IAM authorization: CloudFront breaks the SigV4 signature."""

from __future__ import annotations

from collections.abc import Iterator

from .._cdn import fronted_resources
from .._model import Templates
from .._rule import Finding, Rule

REST_API = "AWS::ApiGateway::RestApi"


def _find(templates: Templates) -> Iterator[Finding]:
    fronted = fronted_resources(templates, REST_API)
    if not fronted:
        return
    for method in templates.of_type("AWS::ApiGateway::Method"):
        if method.props.get("AuthorizationType") != "AWS_IAM":
            continue
        for api in templates.references(method.stack, method.props.get("RestApiId"), REST_API):
            if api in fronted:
                yield Finding(
                    method,
                    f"{method.props.get('HttpMethod')} uses AWS_IAM, and distribution "
                    f"{fronted[api].logical_id} fronts its API {api.logical_id}: a signature made for the "
                    "distribution's host and path never matches what the API receives, so every signed "
                    "request gets 403",
                    "Properties.AuthorizationType",
                )


RULE = Rule(
    name="CdnNoIamAuthorizedApi",
    summary="A REST API method with IAM authorization is behind CloudFront, which rewrites the Host header "
    "and path that the caller's SigV4 signature covers",
    fix="Authorize with a Cognito user pool, JWT or Lambda authorizer (Authorization is forwarded), or let "
    "callers sign for the API's own endpoint and not route them through the distribution",
    find=_find,
)
