"""The public contract every construct keeps: None means the default, invalid props create nothing,
origins are types, and nothing outside the package reaches into its private core."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

import constructs_lib
from constructs_lib import (
    ApiAuthorization,
    BucketCdnOrigin,
    CdnFrontedOrigin,
    CdnOrigin,
    CircuitBreaker,
    ConstructsLibValidationError,
    FunctionUrlCdnOrigin,
    QueueBufferedIngest,
    RestApiCdnOrigin,
    SnapStartFunction,
    java_code,
)
from tests.conftest import make_function, user_pool_authorization
from tests.harness import REPO_ROOT, new_stack, only_resource, template_of


def _code(stack: cdk.Stack) -> lambda_.Code:
    return lambda_.Code.from_bucket(s3.Bucket.from_bucket_name(stack, "CodeBucket", "code"), "fn.zip")


def _bucket_origin(stack: cdk.Stack) -> CdnOrigin:
    return CdnOrigin.bucket(s3.Bucket(stack, "Site"))


@dataclass(frozen=True)
class Subject:
    """A public constructor or factory, and how to build what it requires."""

    name: str
    call: Callable[..., Any]
    required: Callable[[cdk.Stack], dict[str, Any]]
    #: A callable whose signature lists the props (jsii's metaclass wraps construct classes).
    signature_of: Callable[..., Any]
    #: Builds the required props plus one invalid prop, for the "nothing is created" check.
    invalid: dict[str, Any] | None = None


def _attach(stack: cdk.Stack, **props: Any) -> Any:
    return CircuitBreaker(stack, "Breaker").attach(**props)


def _pause(stack: cdk.Stack, **props: Any) -> Any:
    consumer = make_function(stack, "OrderConsumer")
    ingest = QueueBufferedIngest(stack, "Ingest", consumer=consumer)
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(consumer, circuit_id="payments")
    return breaker.pause_while_open(ingest.event_source_mapping, **props)


SUBJECTS = [
    Subject(
        "QueueBufferedIngest",
        lambda stack, **p: QueueBufferedIngest(stack, "Subject", **p),
        lambda stack: {"consumer": make_function(stack)},
        QueueBufferedIngest.__init__,
        {"max_concurrency": 0},
    ),
    Subject(
        "CdnFrontedOrigin",
        lambda stack, **p: CdnFrontedOrigin(stack, "Subject", **p),
        lambda stack: {"default_origin": _bucket_origin(stack)},
        CdnFrontedOrigin.__init__,
        {"error_rate_threshold": 0},
    ),
    Subject(
        "SnapStartFunction",
        lambda stack, **p: SnapStartFunction(stack, "Subject", **p),
        lambda stack: {"code": _code(stack), "handler": "catalog.Handler::handleRequest"},
        SnapStartFunction.__init__,
        {"duration_alarm_ratio": 2},
    ),
    Subject(
        "CircuitBreaker",
        lambda stack, **p: CircuitBreaker(stack, "Subject", **p),
        lambda stack: {},
        CircuitBreaker.__init__,
        {"metrics_namespace": "has spaces"},
    ),
    Subject(
        "CircuitBreaker.attach",
        _attach,
        lambda stack: {"function": make_function(stack), "circuit_id": "payments"},
        CircuitBreaker.attach,
    ),
    Subject(
        "CircuitBreaker.pause_while_open",
        _pause,
        lambda stack: {"circuit_id": "payments"},
        CircuitBreaker.pause_while_open,
    ),
    Subject(
        "CdnOrigin.bucket",
        lambda stack, **p: CdnFrontedOrigin(stack, "Subject", default_origin=CdnOrigin.bucket(**p)),
        lambda stack: {"bucket": s3.Bucket(stack, "Site")},
        CdnOrigin.bucket,
    ),
    Subject(
        "CdnOrigin.function_url",
        lambda stack, **p: CdnFrontedOrigin(stack, "Subject", default_origin=CdnOrigin.function_url(**p)),
        lambda stack: {"function": make_function(stack)},
        CdnOrigin.function_url,
    ),
    Subject(
        "CdnOrigin.rest_api",
        lambda stack, **p: CdnFrontedOrigin(stack, "Subject", default_origin=CdnOrigin.rest_api(**p)),
        lambda stack: {
            "api": QueueBufferedIngest(
                stack, "Ingest", consumer=make_function(stack), authorization=user_pool_authorization(stack)
            ).api
        },
        CdnOrigin.rest_api,
    ),
    Subject(
        "ApiAuthorization.authorizer_of",
        lambda stack, **p: QueueBufferedIngest(
            stack, "Subject", consumer=make_function(stack), authorization=ApiAuthorization.authorizer_of(**p)
        ),
        lambda stack: {
            "authorizer": apigateway.TokenAuthorizer(
                stack, "Authorizer", handler=make_function(stack, "Auth")
            )
        },
        ApiAuthorization.authorizer_of,
    ),
]


def optional_props(subject: Subject) -> dict[str, inspect.Parameter]:
    params = inspect.signature(subject.signature_of).parameters
    return {
        name: p
        for name, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
    }


def template(subject: Subject, **overrides: Any) -> dict[str, Any]:
    stack = new_stack()
    subject.call(stack, **subject.required(stack), **overrides)
    return cdk.assertions.Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s.name)
def test_every_optional_prop_defaults_to_none(subject):
    props = optional_props(subject)
    assert props, f"{subject.name} has optional props to check"
    assert {name: p.default for name, p in props.items() if p.default is not None} == {}


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s.name)
def test_none_for_every_optional_prop_builds_the_defaults(subject):
    """Passing None for each optional prop (as aws-cdk-lib's bindings allow) builds what omitting it does."""
    nones = dict.fromkeys(optional_props(subject))
    assert template(subject, **nones) == template(subject)


def test_java_code_release_none_is_the_default():
    assert inspect.signature(java_code).parameters["release"].default is None


@pytest.mark.parametrize("subject", [s for s in SUBJECTS if s.invalid], ids=lambda s: s.name)
def test_invalid_props_create_nothing(subject):
    stack = new_stack()
    required = subject.required(stack)
    before = [child.node.path for child in stack.node.find_all()]
    with pytest.raises(ConstructsLibValidationError):
        subject.call(stack, **required, **subject.invalid)
    assert stack.node.try_find_child("Subject") is None
    assert [child.node.path for child in stack.node.find_all()] == before


def test_a_failed_construct_can_be_built_again_under_the_same_id():
    stack = new_stack()
    consumer = make_function(stack)
    with pytest.raises(ConstructsLibValidationError):
        QueueBufferedIngest(stack, "Ingest", consumer=consumer, batch_size=0)
    assert QueueBufferedIngest(stack, "Ingest", consumer=consumer).node.path == "TestStack/Ingest"


class TestOriginTypes:
    def test_factories_return_the_origin_types(self, stack):
        assert isinstance(CdnOrigin.bucket(s3.Bucket(stack, "B")), BucketCdnOrigin)
        assert isinstance(CdnOrigin.function_url(make_function(stack)), FunctionUrlCdnOrigin)
        api = QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack, "C")).api
        assert isinstance(CdnOrigin.rest_api(api), RestApiCdnOrigin)

    def test_the_base_class_cannot_be_constructed(self):
        with pytest.raises(TypeError, match="abstract"):
            CdnOrigin()  # type: ignore[abstract]

    def test_each_origin_type_holds_its_own_behavior_defaults(self, stack):
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(s3.Bucket(stack, "B")),
            additional_behaviors={"/api/*": CdnOrigin.function_url(make_function(stack))},
        )
        distribution = only_resource(template_of(stack), "AWS::CloudFront::Distribution")
        config = distribution["Properties"]["DistributionConfig"]
        bucket_methods = config["DefaultCacheBehavior"]["AllowedMethods"]
        api_methods = config["CacheBehaviors"][0]["AllowedMethods"]
        assert set(bucket_methods) == {"GET", "HEAD", "OPTIONS"}
        assert {"POST", "PUT", "DELETE"} <= set(api_methods)


def test_nothing_outside_the_package_imports_its_private_core():
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("apps", "benchmarks")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if re.search(r"constructs_lib\._core|from constructs_lib import _core", path.read_text())
    ]
    assert offenders == []
    assert callable(constructs_lib.acknowledge)


def test_acknowledge_is_public_and_refuses_a_vague_reason(stack):
    queue = s3.Bucket(stack, "Logs")
    with pytest.raises(ValueError, match="needs a specific reason"):
        constructs_lib.acknowledge(queue, "AwsSolutions::AwsSolutions-S1", "fine")
    constructs_lib.acknowledge(queue, "AwsSolutions::AwsSolutions-S1", "this bucket only holds test data")
    rules = [m.data for m in queue.node.metadata if m.type == "aws:cdk:acknowledged-rules"]
    assert rules == [{"AwsSolutions::AwsSolutions-S1": "this bucket only holds test data"}]


def test_durations_in_props_are_not_confused_with_numbers(stack):
    """A Duration where the breaker expects one is converted; a bare number is refused with the fix."""
    breaker = CircuitBreaker(stack, "Breaker")
    wiring = breaker.attach(make_function(stack), circuit_id="a", window=Duration.seconds(30))
    assert wiring.settings == {"window": 30.0}
    with pytest.raises(ConstructsLibValidationError, match=r"window: got 30; must be a Duration"):
        breaker.attach(make_function(stack, "Other"), circuit_id="b", window=30)
