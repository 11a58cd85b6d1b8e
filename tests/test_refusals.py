"""Nothing that cannot work is accepted silently: each case a new user tried, refused (or warned about)
with the prop, the value and the fix."""

from __future__ import annotations

import inspect
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match

from constructs_lib import (
    ApiAuthorization,
    CdnFrontedOrigin,
    CdnOrigin,
    CircuitBreaker,
    QueueBufferedIngest,
    SnapStartFunction,
    java_code,
)
from tests.conftest import make_function, user_pool_authorization
from tests.harness import REPO_ROOT, assert_misconfigured, new_app, new_stack, template_of

CATALOG = REPO_ROOT / "apps" / "java" / "catalog"


def site(stack: cdk.Stack) -> CdnOrigin:
    return CdnOrigin.bucket(s3.Bucket(stack, "Site"))


# ------------------------------------------------------------------------------------ circuit breaker


class TestBreakerTable:
    def test_a_table_keyed_otherwise_is_refused(self, stack):
        table = dynamodb.Table(
            stack, "State", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
        )
        error = assert_misconfigured(
            lambda: CircuitBreaker(stack, "Breaker", existing_table=table),
            "existing_table",
            "partition key 'id'",
        )
        assert "keyed pk (STRING)" in str(error)

    def test_a_sort_key_is_refused_too(self, stack):
        table = dynamodb.Table(
            stack,
            "State",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="at", type=dynamodb.AttributeType.NUMBER),
        )
        assert_misconfigured(
            lambda: CircuitBreaker(stack, "Breaker", existing_table=table), "existing_table", "no sort key"
        )

    def test_a_fitting_table_is_used(self, stack):
        table = dynamodb.Table(
            stack, "State", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
        )
        assert CircuitBreaker(stack, "Breaker", existing_table=table).table is table

    def test_an_imported_table_warns_what_it_must_look_like(self, stack):
        table = dynamodb.Table.from_table_name(stack, "State", "circuits")
        CircuitBreaker(stack, "Breaker", existing_table=table).attach(make_function(stack), circuit_id="p")
        Annotations.from_stack(stack).has_warning(
            "/TestStack/Breaker", Match.string_like_regexp("partition key 'id' \\(string\\)")
        )

    def test_removal_policy_with_an_existing_table_is_refused(self, stack):
        table = dynamodb.Table.from_table_name(stack, "State", "circuits")
        assert_misconfigured(
            lambda: CircuitBreaker(
                stack, "Breaker", existing_table=table, removal_policy=RemovalPolicy.DESTROY
            ),
            "removal_policy",
            "only applies to a table the construct creates",
        )

    def test_every_attached_circuit_has_a_state_store_alarm(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        wiring = breaker.attach(make_function(stack), circuit_id="payments")
        alarms = template_of(stack).find_resources("AWS::CloudWatch::Alarm")
        [store] = [
            a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "StateStoreErrors"
        ]
        assert store["Dimensions"][0] == {"Name": "CircuitId", "Value": "payments"}
        assert store["Dimensions"][1]["Name"] == "StateTable"
        assert store["Threshold"] == 1
        assert wiring.state_store_alarm in breaker.alarms


def test_one_function_attached_to_two_breakers_is_refused_naming_both(stack):
    fn = make_function(stack)
    CircuitBreaker(stack, "Payments").attach(fn, circuit_id="payments")
    second = CircuitBreaker(stack, "Inventory")
    error = assert_misconfigured(
        lambda: second.attach(fn, circuit_id="inventory"), "function", "already attached to the breaker"
    )
    assert "'TestStack/Payments'" in str(error)
    assert "'TestStack/Inventory'" in str(error)


# ------------------------------------------------------------------------------------ queue consumer


@pytest.mark.parametrize(
    "key",
    ["retry_attempts", "bisect_batch_on_error", "starting_position", "max_record_age", "tumbling_window"],
)
def test_stream_only_mapping_settings_are_refused(stack, key):
    values = {
        "retry_attempts": 2,
        "bisect_batch_on_error": True,
        "starting_position": lambda_.StartingPosition.LATEST,
        "max_record_age": Duration.hours(1),
        "tumbling_window": Duration.seconds(30),
    }
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack, "Ingest", consumer=make_function(stack), event_source_mapping_props={key: values[key]}
        ),
        f"event_source_mapping_props[{key!r}]",
        "SQS event source mappings do not support it",
    )


def test_settings_sqs_mappings_support_are_kept(stack):
    QueueBufferedIngest(
        stack,
        "Ingest",
        consumer=make_function(stack),
        event_source_mapping_props=lambda_.EventSourceMappingOptions(
            filters=[lambda_.FilterCriteria.filter({"body": {"kind": lambda_.FilterRule.is_equal("order")}})]
        ),
    )
    mapping = template_of(stack).find_resources("AWS::Lambda::EventSourceMapping")
    assert next(iter(mapping.values()))["Properties"]["FilterCriteria"]


def test_reserved_concurrency_below_max_concurrency_is_refused(stack):
    consumer = lambda_.Function(
        stack,
        "Consumer",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        timeout=Duration.seconds(30),
        reserved_concurrent_executions=2,
    )
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=consumer, max_concurrency=5),
        "max_concurrency",
        "lower max_concurrency to 2 or less",
    )


def test_a_message_age_alarm_beyond_the_retention_is_refused(stack):
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack,
            "Ingest",
            consumer=make_function(stack),
            max_message_age=Duration.days(2),
            queue_props={"retention_period": Duration.days(1)},
        ),
        "max_message_age",
        "can never fire",
    )


@pytest.mark.parametrize(
    ("prop", "value", "fix"),
    [
        ("batch_size", "10", "must be a whole number (int)"),
        ("batch_size", 5.5, "must be a whole number (int)"),
        ("max_receive_count", True, "must be a whole number (int)"),
        ("fifo", "yes", "must be True or False"),
        ("visibility_timeout", 300, "must be a Duration"),
        ("path", ["orders"], "must be a string"),
        ("queue_props", "retention", "must be an aws_sqs.QueueProps or a dict"),
        ("access_log_retention", 30, "must be a RetentionDays member"),
    ],
)
def test_wrong_types_get_the_same_kind_of_message(stack, prop, value, fix):
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), **{prop: value}),
        prop,
        fix,
    )


def test_tokens_still_pass_as_numbers(stack):
    size = cdk.CfnParameter(stack, "Size", type="Number").value_as_number
    QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), batch_size=size)


# ------------------------------------------------------------------------------------ CDN


@pytest.mark.parametrize(
    ("make_origin", "fix"),
    [
        (lambda s: CdnOrigin.function_url(s3.Bucket(s, "B")), "takes a Lambda function or its alias"),
        (lambda s: CdnOrigin.bucket(make_function(s)), "takes an S3 bucket"),
        (lambda s: CdnOrigin.rest_api(s3.Bucket(s, "B")), "takes an apigateway.RestApi"),
        (lambda s: s3.Bucket(s, "B"), "must be a CdnOrigin"),
    ],
)
def test_a_wrong_kind_of_origin_target_is_refused(stack, make_origin, fix):
    assert_misconfigured(
        lambda: CdnFrontedOrigin(stack, "Cdn", default_origin=make_origin(stack)), "default_origin", fix
    )


def test_a_bucket_in_another_region_is_refused_naming_both():
    app = new_app()
    storage = cdk.Stack(app, "Storage", env=cdk.Environment(region="eu-west-1"))
    edge = cdk.Stack(app, "Edge", env=cdk.Environment(region="us-east-1"))
    bucket = s3.Bucket(storage, "Site")
    error = assert_misconfigured(
        lambda: CdnFrontedOrigin(edge, "Cdn", default_origin=CdnOrigin.bucket(bucket)),
        "default_origin",
        "the bucket is in eu-west-1 and this distribution's stack in us-east-1",
    )
    assert "Storage/Site in eu-west-1" in str(error)


def test_a_behavior_that_reaches_no_api_resource_is_refused_naming_the_paths(stack):
    api = QueueBufferedIngest(
        stack,
        "Ingest",
        consumer=make_function(stack),
        path="orders",
        authorization=user_pool_authorization(stack),
    ).api
    error = assert_misconfigured(
        lambda: CdnFrontedOrigin(
            stack, "Cdn", default_origin=site(stack), additional_behaviors={"/api/*": CdnOrigin.rest_api(api)}
        ),
        "additional_behaviors['/api/*']",
        "matches none of the API's paths (/orders)",
    )
    assert "'/orders/*'" in str(error)


@pytest.mark.parametrize(
    ("props", "prop", "fix"),
    [
        ({"web_acl_rate_limit": 500}, "web_acl_rate_limit", "ignored without create_web_acl=True"),
        (
            {"origin_latency_threshold": Duration.seconds(1)},
            "origin_latency_threshold",
            "ignored without enable_additional_metrics=True",
        ),
        (
            {"log_retention": Duration.days(7), "log_bucket": "own"},
            "log_retention",
            "only applies to the log bucket the construct creates",
        ),
    ],
)
def test_props_that_would_be_ignored_are_refused(stack, props, prop, fix):
    if props.get("log_bucket") == "own":
        props = {**props, "log_bucket": s3.Bucket(stack, "Logs")}
    assert_misconfigured(
        lambda: CdnFrontedOrigin(stack, "Cdn", default_origin=site(stack), **props), prop, fix
    )


def test_a_stack_without_a_region_is_warned_about_cloudfront_metrics():
    stack = new_stack()
    CdnFrontedOrigin(stack, "Cdn", default_origin=site(stack))
    Annotations.from_stack(stack).has_warning(
        "/TestStack/Cdn", Match.string_like_regexp("this stack has no region")
    )


# ------------------------------------------------------------------------------------ SnapStart


def test_a_role_from_function_props_still_writes_the_function_logs(stack):
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    snap = SnapStartFunction(
        stack,
        "Snap",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        function_props={"role": role},
    )
    policies = template_of(stack).find_resources("AWS::IAM::Policy")
    role_id = stack.get_logical_id(role.node.default_child)
    log_group_id = stack.get_logical_id(snap.log_group.node.default_child)
    granted = [
        statement
        for policy in policies.values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("logs:PutLogEvents" in s["Action"] and log_group_id in str(s["Resource"]) for s in granted), (
        granted
    )
    assert isinstance(snap.log_group, logs.LogGroup)


@pytest.mark.parametrize(
    ("runtime", "release", "prop", "fix"),
    [
        (lambda_.Runtime.JAVA_11, None, "runtime", "java_code(release=17), whose classes java11 cannot load"),
        (lambda_.Runtime.JAVA_17, 21, "runtime", "use Runtime.JAVA_21 or newer"),
        (lambda_.Runtime.PYTHON_3_13, None, "code", "a Java jar cannot run on python3.13"),
    ],
)
def test_java_code_only_on_a_java_runtime_that_can_load_it(stack, runtime, release, prop, fix):
    code = java_code(CATALOG, release=release)
    assert_misconfigured(
        lambda: SnapStartFunction(
            stack, "Catalog", code=code, handler="catalog.CatalogHandler::handleRequest", runtime=runtime
        ),
        prop,
        fix,
    )


# ------------------------------------------------------------------------------------ the Python API


@pytest.mark.parametrize(
    "construct", [QueueBufferedIngest, CdnFrontedOrigin, SnapStartFunction, CircuitBreaker]
)
def test_editors_and_help_see_the_real_keyword_only_signature(construct):
    signature = inspect.signature(construct)
    params: dict[str, Any] = dict(signature.parameters)
    assert list(params)[:2] == ["scope", "id"]
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in params.items() if name not in {"scope", "id"}
    )
    assert "alarm_topic" in params
    assert "(*args" not in str(signature)


# ------------------------------------------------------------------------------------ found by the review


def test_a_cloudfront_scope_web_acl_on_the_api_stage_is_refused(stack):
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/11111111-2222-3333-4444-555555555555"
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), web_acl_arn=arn),
        "web_acl_arn",
        "REGIONAL WAFv2 web ACL",
    )


def test_a_stage_name_api_gateway_refuses_is_refused(stack):
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), stage_name="prod v2"),
        "stage_name",
        "letters, digits, '-' or '_'",
    )


def test_oauth_scopes_without_a_cognito_authorizer_are_refused(stack):
    authorizer = apigateway.TokenAuthorizer(stack, "Tokens", handler=make_function(stack, "Auth"))
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack,
            "Ingest",
            consumer=make_function(stack),
            authorization=ApiAuthorization.authorizer_of(authorizer, scopes=("orders/write",)),
        ),
        "authorization",
        "OAuth scopes only apply to a Cognito user-pool authorizer",
    )


def test_an_encryption_key_that_the_queue_props_would_ignore_is_refused(stack):
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack,
            "Ingest",
            consumer=make_function(stack),
            encryption_key=kms.Key(stack, "Key"),
            queue_props={"encryption": sqs.QueueEncryption.SQS_MANAGED},
        ),
        "queue_props['encryption']",
        "encryption_key is given, but this encryption would ignore it",
    )


def test_an_origin_key_generation_without_a_rest_api_origin_is_refused(stack):
    assert_misconfigured(
        lambda: CdnFrontedOrigin(stack, "Cdn", default_origin=site(stack), origin_secret_generation=2),
        "origin_secret_generation",
        "this distribution has none",
    )


def test_java_tool_options_on_a_python_runtime_are_refused(stack):
    assert_misconfigured(
        lambda: SnapStartFunction(
            stack,
            "Fn",
            code=lambda_.Code.from_inline("def handler(e, c): pass"),
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            java_tool_options="-Xshare:auto",
        ),
        "java_tool_options",
        "only Java runtimes read JAVA_TOOL_OPTIONS",
    )


def test_a_probe_concurrency_above_the_mappings_is_refused(stack):
    consumer = make_function(stack, "OrderConsumer")
    ingest = QueueBufferedIngest(stack, "Ingest", consumer=consumer, max_concurrency=3)
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(consumer, circuit_id="payments")
    assert_misconfigured(
        lambda: breaker.pause_while_open(
            ingest.event_source_mapping, circuit_id="payments", probe_concurrency=4
        ),
        "probe_concurrency",
        "must not exceed the mapping's maximum concurrency (3)",
    )


def test_an_iam_opt_in_on_an_api_without_iam_methods_is_warned_about(stack):
    api = QueueBufferedIngest(
        stack, "Ingest", consumer=make_function(stack), authorization=user_pool_authorization(stack)
    ).api
    CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.rest_api(api, iam_signed_for_origin_host=True))
    Annotations.from_stack(stack).has_warning("/TestStack/Cdn", Match.string_like_regexp("has no effect"))


def test_a_message_age_alarm_beyond_an_existing_queues_retention_is_refused(stack):
    dead_letters = sqs.Queue(stack, "Dead")
    queue = sqs.Queue(
        stack,
        "Orders",
        visibility_timeout=Duration.seconds(180),
        retention_period=Duration.hours(1),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dead_letters),
    )
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack,
            "Ingest",
            consumer=make_function(stack),
            existing_queue=queue,
            max_message_age=Duration.hours(2),
        ),
        "max_message_age",
        "can never fire",
    )


@pytest.mark.parametrize(
    ("prop", "value"),
    [("queue_props", {"retention_period": Duration.days(2)}), ("max_receive_count", 3), ("fifo", True)],
)
def test_an_existing_queue_keeps_its_own_settings(stack, prop, value):
    queue = sqs.Queue(
        stack,
        "Orders",
        visibility_timeout=Duration.seconds(180),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=sqs.Queue(stack, "Dead")),
    )
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack, "Ingest", consumer=make_function(stack), existing_queue=queue, **{prop: value}
        ),
        prop,
        "existing_queue has its own",
    )


def test_an_existing_queue_without_a_dead_letter_queue_is_refused(stack):
    queue = sqs.Queue(stack, "Orders", visibility_timeout=Duration.seconds(180))
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), existing_queue=queue),
        "existing_queue",
        "needs a dead-letter queue",
    )


@pytest.mark.parametrize(
    ("build", "prop"),
    [
        (
            lambda s, d: QueueBufferedIngest(s, "Ingest", consumer=make_function(s), visibility_timeout=d),
            "visibility_timeout",
        ),
        (
            lambda s, d: QueueBufferedIngest(s, "Ingest", consumer=make_function(s), max_batching_window=d),
            "max_batching_window",
        ),
        (
            lambda s, d: QueueBufferedIngest(s, "Ingest", consumer=make_function(s), max_message_age=d),
            "max_message_age",
        ),
        (
            lambda s, d: CdnFrontedOrigin(
                s, "Cdn", default_origin=CdnOrigin.bucket(s3.Bucket(s, "Site")), log_retention=d
            ),
            "log_retention",
        ),
        (
            lambda s, d: SnapStartFunction(
                s,
                "Catalog",
                code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
                handler="index.handler",
                runtime=lambda_.Runtime.PYTHON_3_13,
                timeout=d,
            ),
            "timeout",
        ),
    ],
)
def test_a_fraction_of_a_second_where_cloudformation_takes_whole_seconds_is_refused(stack, build, prop):
    """Not jsii's CannotConvertedIntoWhole from deep inside aws-cdk-lib: the prop, the value and the fix."""
    fractional = Duration.millis(86_400_500 if prop == "log_retention" else 190_500)
    assert_misconfigured(lambda: build(stack, fractional), prop, "whole seconds; use Duration.seconds(")
