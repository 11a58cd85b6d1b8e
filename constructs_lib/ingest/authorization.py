"""``ApiAuthorization``: how callers authenticate to a ``QueueBufferedIngest`` API."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigateway

from .._core.types import checked_arguments

__all__ = ["ApiAuthorization"]


@dataclass(frozen=True, kw_only=True)
class ApiAuthorization:
    """How callers authenticate to the ingest API. Build one with a factory method."""

    authorization_type: apigateway.AuthorizationType
    authorizer: apigateway.IAuthorizer | None = None
    scopes: tuple[str, ...] = ()
    open_reason: str | None = None

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
