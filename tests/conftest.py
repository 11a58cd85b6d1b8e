from __future__ import annotations

import os
from typing import Any

# Before aws_cdk starts jsii's node runtime, which reads it: the apps the tests build skip aws-cdk-lib's
# built-in CloudFormation validation (a WebAssembly engine that costs each test process about 3 s of
# CPU and every template 17 ms per resource). cfn-lint checks every sample template, and test_apps runs
# the built-in engine over the default app and its broken twin.
os.environ.setdefault("CDK_VALIDATION", "false")

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_

from constructs_lib import ApiAuthorization
from tests.harness import new_app, new_stack

# Fixtures of the circuit-breaker runtime tests (moto table, fake clock, captured EMF lines), and the
# corpus of correct apps (corpus_assemblies: form → assembly directory) the pack and cost model run over.
pytest_plugins = ["tests.breaker_support", "tests.corpus.fixtures"]


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


#: Modules that take longest run first, so the workers of `make test` finish together.
LONGEST_FIRST = (
    "test_breaker_fleet.py",
    "test_storefront_browser.py",
    "test_java_catalog.py",
    "test_circuit_breaker.py",
    "test_storefront_outage_unpaused.py",
    "test_package.py",
    "test_silence.py",
    "test_storefront_journey.py",
    "test_cdn.py",
    "test_checks.py",
    "test_docs.py",
    "test_storefront_outage_paused.py",
    "test_docs_examples.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each module is kept


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show the figure lines that tests record (``record_property("figures", ...)``), also under xdist."""
    lines = [
        value
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", [])
        if name == "figures"
    ]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def plain_assembly() -> Any:
    """The plain aws-cdk-lib apps of tests/cost_apps.py in one cloud assembly (cached on disk)."""
    from tests.assembly_cache import cached_assembly
    from tests.cost_apps import synth_plain_apps

    return cached_assembly("plain-apps", synth_plain_apps)
