"""``ApiAuthorization``: how callers authenticate to a ``QueueBufferedIngest`` API."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigateway

from .._core import Problems, acknowledge
from .._core.types import checked_arguments

__all__ = ["ApiAuthorization"]


@dataclass(frozen=True, kw_only=True)
class ApiAuthorization:
    """How callers authenticate to the ingest API. Build one with a factory method."""

    authorization_type: apigateway.AuthorizationType
    authorizer: apigateway.IAuthorizer | None = None
    scopes: tuple[str, ...] = ()
    open_reason: str | None = None
    api_key_required: bool = False

    @staticmethod
    def iam() -> ApiAuthorization:
        """SigV4-signed requests, allowed by the caller's IAM policy (the default)."""
        return ApiAuthorization(authorization_type=apigateway.AuthorizationType.IAM)

    @staticmethod
    @checked_arguments("ApiAuthorization.authorizer_of")
    def authorizer_of(
        authorizer: apigateway.IAuthorizer, *, scopes: tuple[str, ...] | None = None
    ) -> ApiAuthorization:
        """A Cognito user-pool or Lambda (token/request) authorizer; ``scopes`` for Cognito OAuth scopes,
        a list or tuple of scope names (``["orders/write"]``). Default: no scopes."""
        kind = authorizer.authorization_type or apigateway.AuthorizationType.CUSTOM
        return ApiAuthorization(authorization_type=kind, authorizer=authorizer, scopes=tuple(scopes or ()))

    @staticmethod
    @checked_arguments("ApiAuthorization.none")
    def none(*, reason: str) -> ApiAuthorization:
        """An open endpoint. ``reason`` is recorded as the acknowledgment of the cdk-nag findings."""
        return ApiAuthorization(authorization_type=apigateway.AuthorizationType.NONE, open_reason=reason)

    def with_api_key(self) -> ApiAuthorization:
        """The same authorization, and every request must also carry an API key (``x-api-key``) of a usage
        plan on the API's stage; create the plan and its keys on ``ingest.api``."""
        return dataclasses.replace(self, api_key_required=True)


def check_authorization(problems: Problems, authorization: ApiAuthorization) -> ApiAuthorization:
    """Scopes only with Cognito; an open endpoint needs a specific reason. Returns ``authorization``."""
    if authorization.scopes and authorization.authorization_type != apigateway.AuthorizationType.COGNITO:
        problems.add(
            "authorization",
            list(authorization.scopes),
            "OAuth scopes only apply to a Cognito user-pool authorizer; API Gateway ignores them for "
            f"{authorization.authorization_type.name} authorization; remove the scopes",
        )
    if authorization.authorization_type == apigateway.AuthorizationType.NONE:
        reason = (authorization.open_reason or "").strip()
        problems.check(
            len(reason) >= 20,
            "authorization",
            authorization.open_reason,
            "ApiAuthorization.none(reason=...) needs a specific reason (20+ characters) why this endpoint "
            "may be called without authentication",
        )
    return authorization


def acknowledge_authorization(method: apigateway.Method, authorization: ApiAuthorization) -> None:
    """The cdk-nag findings the chosen authorization answers, acknowledged on the method with why."""
    kind = authorization.authorization_type
    if kind == apigateway.AuthorizationType.COGNITO:
        return
    if kind == apigateway.AuthorizationType.NONE:
        reason = f"Open endpoint requested explicitly: {authorization.open_reason}"
        acknowledge(method, "AwsSolutions::AwsSolutions-APIG4", reason)
        acknowledge(method, "AwsSolutions::AwsSolutions-COG4", reason)
        return
    reason = {
        apigateway.AuthorizationType.IAM: "Callers authenticate with SigV4 and are authorized by IAM "
        "policy (ApiAuthorization.iam()); a Cognito user pool is not required for service producers",
        apigateway.AuthorizationType.CUSTOM: "Callers are authorized by the Lambda authorizer passed in "
        "ApiAuthorization.authorizer_of(); a Cognito user pool is not required",
    }[kind]
    acknowledge(method, "AwsSolutions::AwsSolutions-COG4", reason)
