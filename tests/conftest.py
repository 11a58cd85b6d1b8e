from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_

from constructs_lib import ApiAuthorization
from tests.harness import new_app, new_stack

# Fixtures of the circuit-breaker runtime tests (moto table, fake clock, captured EMF lines).
pytest_plugins = ["tests.breaker_support"]


@pytest.fixture
def app() -> cdk.App:
    return new_app()


@pytest.fixture
def stack(app: cdk.App) -> cdk.Stack:
    return new_stack(app)


DEFAULT_TIMEOUT = Duration.seconds(30)


def make_function(
    stack: cdk.Stack,
    id: str = "Consumer",
    *,
    timeout: Duration | None = DEFAULT_TIMEOUT,
    snap_start: bool = False,
    runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_14,
) -> lambda_.Function:
    """A small inline function to wire into constructs under test."""
    return lambda_.Function(
        stack,
        id,
        runtime=runtime,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        timeout=timeout,
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
    )


def user_pool_authorization(stack: cdk.Stack) -> ApiAuthorization:
    """A Cognito user-pool authorizer: the kind of authorization that works through CloudFront."""
    pool = cognito.UserPool(stack, "Users")
    authorizer = apigateway.CognitoUserPoolsAuthorizer(stack, "UserPoolAuthorizer", cognito_user_pools=[pool])
    return ApiAuthorization.authorizer_of(authorizer)


@pytest.fixture
def consumer(stack: cdk.Stack) -> lambda_.Function:
    return make_function(stack)
