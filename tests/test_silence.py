"""Nothing silent, second round: each mistake a new user made with the newer features is refused, warned or
supported, and the correct setups named beside them pass untouched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import (
    ApiAuthorization,
    CdnFrontedOrigin,
    CdnOrigin,
    CircuitBreaker,
    ConstructsLibValidationError,
    QueueBufferedIngest,
    SnapStartFunction,
    testing,
)
from constructs_lib.checks import ServerlessPatternsChecks
from constructs_lib.runtime import CircuitBreaker as RuntimeBreaker
from constructs_lib.runtime import CircuitOpenError, InvalidSettingsError
from constructs_lib.testing.velocity import IngestMethod
from tests import breaker_support
from tests.conftest import make_function, user_pool_authorization
from tests.harness import FEATURE_FLAGS, REPO_ROOT, assert_misconfigured, new_stack, template_of

# ------------------------------------------------------------------------------------ the runtime

STATE = breaker_support.TABLE


@pytest.fixture
def breaker(aws, clock, events):
    return breaker_support.make_breaker(clock, events, failure_threshold=2)


def test_guard_works_with_and_without_parentheses(breaker):
    calls: list[str] = []

    @breaker.guard
    def bare(x: str) -> str:
        calls.append(x)
        return x.upper()

    @breaker.guard()
    def called(x: str) -> str:
        calls.append(x)
        return x

    assert bare("a") == "A"
    assert called("b") == "b"
    assert calls == ["a", "b"], "the downstream is called in both forms"


def test_guard_counts_failures_of_coroutines_and_rejects_them_when_open(breaker):
    attempts = 0

    @breaker.guard
    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            asyncio.run(flaky())
    with pytest.raises(CircuitOpenError):
        asyncio.run(flaky())
    assert attempts == 2, "the open circuit rejects the third call before the coroutine runs"


def test_guard_refuses_a_fallback_passed_positionally(breaker):
    with pytest.raises(TypeError, match="fallback by keyword"):
        breaker.guard("not a function")


def test_call_works_as_a_context_manager_with_and_without_parentheses(breaker):
    for block in (breaker.call, breaker.call()):
        with pytest.raises(ConnectionError), block:
            raise ConnectionError("down")
    with pytest.raises(CircuitOpenError), breaker.call:
        pass


@pytest.mark.parametrize("value", [[KeyError], KeyError, (KeyError, ValueError)])
def test_exception_lists_and_single_classes_are_accepted(value):
    breaker = RuntimeBreaker("payments", table_name=STATE, ignored_exceptions=value)
    assert KeyError in breaker.ignored_exceptions


@pytest.mark.parametrize("value", ["KeyError", [KeyError, "ValueError"], 42])
def test_anything_but_exception_classes_is_refused_at_construction(value):
    with pytest.raises(InvalidSettingsError, match=r"ignored_exceptions=.*must be an exception class"):
        RuntimeBreaker("payments", table_name=STATE, ignored_exceptions=value)


def test_a_circuit_id_the_environment_does_not_list_is_refused_naming_the_attached_ones(monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_SETTINGS", json.dumps({"payments": {}, "tenant:42": {}}))
    with pytest.raises(InvalidSettingsError, match="'payments', 'tenant:42'"):
        RuntimeBreaker("payment", table_name=STATE)
    RuntimeBreaker("payments", table_name=STATE)  # an attached id passes


def test_a_fallback_on_a_paused_circuit_is_refused_at_decoration(monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_PAUSED_CIRCUITS", json.dumps(["payments"]))
    breaker = RuntimeBreaker("payments", table_name=STATE)
    with pytest.raises(InvalidSettingsError, match=r"batch item failure|retried"):
        breaker.guard(fallback=lambda order: {"status": "deferred"})
    breaker.guard()  # without a fallback: CircuitOpenError reaches the batch processor
    other = RuntimeBreaker("inventory", table_name=STATE)
    other.guard(fallback=lambda: None)  # another, unpaused circuit keeps its fallback


# ------------------------------------------------------------------------------------ attach and pause


def attached_ingest(stack: cdk.Stack, breaker: CircuitBreaker, **attach: Any) -> QueueBufferedIngest:
    consumer = make_function(stack)
    breaker.attach(consumer, circuit_id="payments", **attach)
    return QueueBufferedIngest(stack, "Ingest", consumer=consumer, max_receive_count=10)


def test_two_functions_on_one_circuit_with_different_settings_are_refused(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(make_function(stack, "A"), circuit_id="payments", failure_threshold=3)
    assert_misconfigured(
        lambda: breaker.attach(make_function(stack, "B"), circuit_id="payments", failure_threshold=5),
        "settings",
        "one state item",
    )
    breaker.attach(make_function(stack, "C"), circuit_id="payments", failure_threshold=3)  # the same: fine


def test_a_slow_call_duration_at_or_above_the_timeout_is_refused(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    fn = make_function(stack, timeout=Duration.seconds(30))
    assert_misconfigured(
        lambda: breaker.attach(fn, circuit_id="payments", slow_call_duration=Duration.seconds(30)),
        "slow_call_duration",
        "below the timeout",
    )
    breaker.attach(fn, circuit_id="payments", slow_call_duration=Duration.seconds(5))


def test_a_metric_of_a_circuit_nobody_attaches_fails_synth():
    stack = new_stack()
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(make_function(stack), circuit_id="payments")
    breaker.metric_calls_rejected("payment")
    with pytest.raises(RuntimeError, match=r"circuit_id: got 'payment'.*attached: \['payments'\]"):
        template_of(stack)


def test_two_breakers_with_one_circuit_id_alarm_on_their_own_state_only(stack):
    dev, prod = CircuitBreaker(stack, "Dev"), CircuitBreaker(stack, "Prod")
    dev.attach(make_function(stack, "DevFn"), circuit_id="payments")
    prod.attach(make_function(stack, "ProdFn"), circuit_id="payments")
    dimensions = {
        json.dumps(alarm["Properties"]["Dimensions"], sort_keys=True)
        for alarm in template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "CircuitOpened"
    }
    assert len(dimensions) == 2, "each breaker's alarm reads its own table's metrics"


def stream_table(
    stack: cdk.Stack, view: dynamodb.StreamViewType | None, ttl: str | None = "expiresAt"
) -> Any:
    return dynamodb.Table(
        stack,
        "State",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        stream=view,
        time_to_live_attribute=ttl,
    )


@pytest.mark.parametrize("view", [dynamodb.StreamViewType.KEYS_ONLY, dynamodb.StreamViewType.NEW_IMAGE, None])
def test_a_table_whose_stream_cannot_carry_the_state_is_refused_for_pausing(stack, view):
    breaker = CircuitBreaker(stack, "Breaker", existing_table=stream_table(stack, view))
    ingest = attached_ingest(stack, breaker)
    assert_misconfigured(
        lambda: breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments"),
        "existing_table",
        "NEW_AND_OLD_IMAGES",
    )


def test_a_table_without_ttl_on_the_expiry_attribute_warns(stack):
    CircuitBreaker(stack, "Breaker", existing_table=stream_table(stack, None, ttl=None))
    CircuitBreaker(stack, "Fine", existing_table=stream_table(new_stack(), None))
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("no TTL on 'expiresAt'")
    )
    assert [w.id for w in warnings] == ["/TestStack/Breaker"]
    assert "acknowledge_warning('constructs_lib:breakerTableTtl'" in warnings[0].entry.data


def test_the_consumer_learns_which_of_its_circuits_are_paused(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    ingest = attached_ingest(stack, breaker)
    breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments")
    functions = template_of(stack).find_resources("AWS::Lambda::Function")
    consumer = functions[stack.get_logical_id(ingest.consumer.node.default_child)]["Properties"]
    assert consumer["Environment"]["Variables"]["CIRCUIT_BREAKER_PAUSED_CIRCUITS"] == '["payments"]'


# ------------------------------------------------------------------------------------ existing resources


def queue_pair(stack: cdk.Stack, *, dlq_days: int = 14, **queue: Any) -> sqs.Queue:
    dlq = sqs.Queue(stack, "Dlq", retention_period=Duration.days(dlq_days), enforce_ssl=True)
    return sqs.Queue(
        stack,
        "Queue",
        visibility_timeout=Duration.seconds(180),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dlq),
        **{"retention_period": Duration.days(4), "enforce_ssl": True, **queue},
    )


def constructs_lib_warnings(stack: cdk.Stack) -> list[str]:
    return [
        w.entry.data
        for w in Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("constructs_lib"))
    ]


def test_an_existing_queue_whose_dlq_keeps_messages_less_long_is_refused(stack):
    queue = queue_pair(stack, dlq_days=2)
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), existing_queue=queue),
        "existing_queue",
        "at least as long as the queue",
    )


def test_an_existing_queue_without_encryption_or_tls_only_warns(stack):
    queue = queue_pair(stack, encryption=sqs.QueueEncryption.UNENCRYPTED, enforce_ssl=False)
    QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), existing_queue=queue)
    warnings = " ".join(constructs_lib_warnings(stack))
    assert "is not encrypted at rest" in warnings
    assert "accepts requests without TLS" in warnings


def test_an_existing_queue_like_the_constructs_own_passes_untouched(stack):
    QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), existing_queue=queue_pair(stack))
    assert constructs_lib_warnings(stack) == []


# ------------------------------------------------------------------------------------ the first trial


def test_a_burst_limit_below_the_rate_limit_is_refused(stack):
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack,
            "Ingest",
            consumer=make_function(stack),
            throttling_rate_limit=100,
            throttling_burst_limit=50,
        ),
        "throttling_burst_limit",
        "at least throttling_rate_limit",
    )


@pytest.mark.parametrize("props", [{"enforce_ssl": False}, sqs.QueueProps(enforce_ssl=False)])
def test_turning_enforce_ssl_off_warns_in_either_form(stack, props):
    QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), queue_props=props)
    assert any("queue_props['enforce_ssl']" in w for w in constructs_lib_warnings(stack))


def test_a_breaker_setting_refused_by_its_default_names_the_setting_that_was_given(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    error = assert_misconfigured(
        lambda: breaker.attach(make_function(stack), circuit_id="payments", open_duration=Duration.hours(1)),
        "max_open_duration",
        "raise max_open_duration too",
    )
    assert "got 'its default (300s), with open_duration=3600s'" in str(error)
    assert "got None" not in str(error)


# ------------------------------------------------------------------------------------ CDN


def ingest_api(stack: cdk.Stack, path: str = "api/orders") -> Any:
    from tests.conftest import user_pool_authorization

    return QueueBufferedIngest(
        stack,
        "Ingest",
        consumer=make_function(stack),
        path=path,
        authorization=user_pool_authorization(stack),
    ).api


def test_the_rewrite_on_an_app_behavior_serves_that_apps_index():
    from tests.test_seams import run_viewer_request

    stack = new_stack()
    CdnFrontedOrigin(
        stack,
        "Cdn",
        default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site"), single_page_app=True),
        additional_behaviors={"/app/*": CdnOrigin.bucket(s3.Bucket(stack, "App"), single_page_app=True)},
    )
    [function] = template_of(stack).find_resources("AWS::CloudFront::Function").values()
    code = function["Properties"]["FunctionCode"]
    requests = [{"uri": u, "method": "GET"} for u in ("/app/products/1", "/app", "/products/1", "/app/a.js")]
    assert run_viewer_request(code, requests) == [
        "/app/index.html",
        "/app/index.html",
        "/index.html",
        "/app/a.js",
    ]


def test_a_single_page_app_with_distribution_wide_404_responses_is_refused(stack):
    spa = CdnOrigin.bucket(s3.Bucket(stack, "Site"), single_page_app=True)
    assert_misconfigured(
        lambda: CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=spa,
            distribution_props={
                "error_responses": [
                    cloudfront.ErrorResponse(
                        http_status=404, response_http_status=200, response_page_path="/"
                    )
                ]
            },
        ),
        "distribution_props['error_responses']",
        "replace the APIs' 403/404",
    )


def test_a_post_api_behind_a_get_head_behavior_is_refused(stack):
    api = ingest_api(stack)
    assert_misconfigured(
        lambda: CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")),
            additional_behaviors={
                "/api/*": CdnOrigin.rest_api(api, allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD)
            },
        ),
        "additional_behaviors['/api/*']",
        "CloudFront answers these methods 403",
    )


def test_an_origin_option_of_another_factory_is_refused_with_a_message(stack):
    with pytest.raises(ConstructsLibValidationError, match=r"only CdnOrigin\.bucket does"):
        CdnOrigin.rest_api(ingest_api(stack), single_page_app=True)  # type: ignore[call-arg]


def test_an_api_without_a_deployment_is_refused_with_a_message(stack):
    api = apigateway.RestApi(stack, "Api", deploy=False)
    api.root.add_method("GET", apigateway.MockIntegration())
    assert_misconfigured(
        lambda: CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.rest_api(api)),
        "default_origin",
        "deploy=True",
    )


def test_a_proxy_api_behind_a_prefix_behavior_passes():
    stack = new_stack()
    from tests.conftest import user_pool_authorization

    auth = user_pool_authorization(stack)
    api = apigateway.LambdaRestApi(
        stack,
        "Api",
        handler=make_function(stack),
        default_method_options=apigateway.MethodOptions(
            authorization_type=auth.authorization_type, authorizer=auth.authorizer
        ),
    )
    CdnFrontedOrigin(
        stack,
        "Cdn",
        default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")),
        additional_behaviors={"/api/*": CdnOrigin.rest_api(api)},
    )
    template_of(stack).resource_count_is("AWS::CloudFront::Distribution", 1)


def test_an_error_rate_given_as_a_fraction_warns(stack):
    CdnFrontedOrigin(
        stack, "Cdn", default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")), error_rate_threshold=0.05
    )
    assert any("0.05% (not 5%)" in w for w in constructs_lib_warnings(stack))


# ---------------------------------------------------------------------------- the storefront as a template


def test_moving_the_breaker_into_another_stack_than_the_mapping_is_refused_before_a_cycle():
    app = cdk.App()
    stateful, stateless = cdk.Stack(app, "Stateful"), cdk.Stack(app, "Stateless")
    breaker = CircuitBreaker(stateful, "Breaker")
    consumer = make_function(stateless)
    breaker.attach(consumer, circuit_id="payments")
    ingest = QueueBufferedIngest(stateless, "Ingest", consumer=consumer, max_receive_count=10)
    assert_misconfigured(
        lambda: breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments"),
        "mapping",
        "DependencyCycle",
    )


def test_a_site_bucket_in_another_stack_than_the_distribution_is_refused_before_a_cycle():
    app = cdk.App()
    stateful, stateless = cdk.Stack(app, "Stateful"), cdk.Stack(app, "Stateless")
    site = s3.Bucket(stateful, "Site")
    assert_misconfigured(
        lambda: CdnFrontedOrigin(stateless, "Cdn", default_origin=CdnOrigin.bucket(site)),
        "default_origin",
        "DependencyCycle",
    )


def test_an_environment_agnostic_stateful_stack_is_refused_before_cannot_use_cross_environment():
    app = cdk.App()
    stateful = cdk.Stack(app, "Stateful")
    stateless = cdk.Stack(app, "Stateless", env=cdk.Environment(account="123456789012", region="us-east-1"))
    queue = queue_pair(stateful)
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stateless, "Ingest", consumer=make_function(stateless), existing_queue=queue
        ),
        "existing_queue",
        "same env",
    )
    table = dynamodb.Table(
        stateful, "T", partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
    )
    assert_misconfigured(
        lambda: CircuitBreaker(stateless, "B", existing_table=table), "existing_table", "same env"
    )


# ---------------------------------------------------------------------------- the pack and the test kit


def test_documented_opt_ins_pass_the_pack(tmp_path):
    def build(app: cdk.App) -> cdk.App:
        testing.checked_app(app)
        stack = cdk.Stack(app, "OptIns")
        QueueBufferedIngest(
            stack, "Fifo", consumer=make_function(stack), fifo=True, content_based_deduplication=True
        )
        api = apigateway.RestApi(stack, "Api")
        api.root.add_resource("data").add_method(
            "GET",
            apigateway.MockIntegration(integration_responses=[{"statusCode": "200"}]),
            method_responses=[{"statusCode": "200"}],
            authorization_type=apigateway.AuthorizationType.IAM,
        )
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")),
            additional_behaviors={"/data*": CdnOrigin.rest_api(api, iam_signed_for_origin_host=True)},
        )
        return app

    report = testing.check_policy(build, tmp_path, context=FEATURE_FLAGS)
    patterns = [f for f in report.findings if f.plugin == "ServerlessPatterns"]
    assert patterns == []
    acknowledged = {rule for rules in report.acknowledgments.values() for rule in rules}
    assert "ServerlessPatterns::ServerlessPatterns-FifoApiDeduplication" in acknowledged
    assert "ServerlessPatterns::ServerlessPatterns-CdnNoIamAuthorizedApi" in acknowledged


@pytest.mark.parametrize(
    ("args", "kwargs", "prop"),
    [
        ((), {"rules": []}, "rules"),
        ((), {"rules": "ServerlessPatterns-SqsVisibilityTimeout"}, "rules"),
        ((object(),), {}, "scope"),
    ],
)
def test_the_pack_refuses_an_empty_selection_a_string_and_a_scope(args, kwargs, prop):
    with pytest.raises(ConstructsLibValidationError) as raised:
        ServerlessPatternsChecks(*args, **kwargs)
    assert [p.prop for p in raised.value.problems] == [prop]
    assert "S', 'e', 'r'" not in str(raised.value), "a string is reported as a string, not letter by letter"


def test_check_policy_refuses_a_report_of_no_pack_and_never_reads_a_stale_one(tmp_path):
    (tmp_path / "validation-report.json").write_text(
        '{"pluginReports": [{"pluginName": "Stale", "violations": []}]}'
    )

    def no_packs(app: cdk.App) -> cdk.App:
        queue_pair(cdk.Stack(app, "Plain"))
        return app

    with pytest.raises(ValueError, match="no policy pack ran"):
        testing.check_policy(no_packs, str(tmp_path), context=FEATURE_FLAGS)


def test_check_policy_refuses_a_builder_that_returns_nothing(tmp_path):
    with pytest.raises(TypeError, match="must return the App"):
        testing.check_policy(lambda app: None, tmp_path)  # type: ignore[arg-type,return-value]


def test_the_test_kit_takes_templates_and_picks_one_post_method():
    stack = new_stack()
    for path in ("a", "b"):
        QueueBufferedIngest(stack, f"Ingest{path}", consumer=make_function(stack, f"Fn{path}"), path=path)
    template = Template.from_stack(stack)
    assert testing.scrubbed(template) == testing.scrubbed(template.to_json())
    with pytest.raises(ValueError, match=r"found /a \(IngestaApi\w+\), /b \(IngestbApi\w+\); pass path="):
        IngestMethod.from_template(template)
    assert IngestMethod.from_template(template, path="b").method["HttpMethod"] == "POST"


def test_the_test_kit_refuses_two_apis_with_one_path_naming_them():
    stack = new_stack()
    for name in ("Orders", "Returns"):
        QueueBufferedIngest(stack, name, consumer=make_function(stack, f"{name}Consumer"))
    template = Template.from_stack(stack)
    with pytest.raises(
        ValueError, match=r"/messages \(OrdersApi\w+\), /messages \(ReturnsApi\w+\).*pass api="
    ):
        IngestMethod.from_template(template, path="messages")
    picked = IngestMethod.from_template(template, path="messages", api="ReturnsApi")
    assert picked.method["RestApiId"]["Ref"].startswith("ReturnsApi")


# ------------------------------------------------------------------------------------ SnapStart


def test_an_x86_snapstart_function_with_arm64_only_layers_is_refused(stack):
    layer = lambda_.LayerVersion(
        stack,
        "Layer",
        code=lambda_.Code.from_asset(str(REPO_ROOT / "apps" / "handlers" / "hello_api")),
        compatible_architectures=[lambda_.Architecture.ARM_64],
    )
    assert_misconfigured(
        lambda: SnapStartFunction(
            stack,
            "Fn",
            code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            function_props={"layers": [layer]},
        ),
        "function_props['layers']",
        "Architecture.ARM_64",
    )


def snapstart_with_role(stack: cdk.Stack, role: iam.IRole) -> SnapStartFunction:
    return SnapStartFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        function_props={"role": role},
    )


def test_a_snapstart_function_with_the_users_own_role_keeps_its_log_permissions(stack):
    snapstart_with_role(
        stack, iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    )
    [policy] = template_of(stack).find_resources("AWS::IAM::Policy").values()
    actions = [s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert ["logs:CreateLogStream", "logs:PutLogEvents"] in actions


def test_a_snapstart_function_with_an_immutable_role_warns_that_its_logs_could_be_lost(stack):
    snapstart_with_role(
        stack, iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/fixed", mutable=False)
    )
    assert any("logs could be lost" in w for w in constructs_lib_warnings(stack))


def test_an_object_of_the_wrong_kind_is_named_by_its_class_not_its_address(stack):
    from aws_cdk import aws_lambda_event_sources as event_sources

    breaker = CircuitBreaker(stack, "Breaker")
    source = event_sources.SqsEventSource(sqs.Queue(stack, "Q"))
    with pytest.raises(ConstructsLibValidationError) as raised:
        breaker.pause_while_open(source, circuit_id="payments")  # type: ignore[arg-type]
    message = str(raised.value)
    assert "object at 0x" not in message
    assert "got an aws_cdk SqsEventSource; must be an aws_lambda.EventSourceMapping" in message


# ------------------------------------------------------------------------------------ wrong types


def test_scopes_given_as_one_string_are_refused_not_split_into_letters(stack):
    pool_authorizer = user_pool_authorization(stack).authorizer
    assert pool_authorizer is not None
    with pytest.raises(ConstructsLibValidationError) as raised:
        ApiAuthorization.authorizer_of(pool_authorizer, scopes="orders/write")  # type: ignore[arg-type]
    [problem] = raised.value.problems
    assert (problem.prop, problem.value) == ("scopes", "orders/write")
    assert "must be a list" in problem.fix
    given = ApiAuthorization.authorizer_of(pool_authorizer, scopes=["orders/write"])  # type: ignore[arg-type]
    assert given.scopes == ("orders/write",)


@pytest.mark.parametrize(
    ("factory", "make_target", "option"),
    [
        (CdnOrigin.bucket, lambda s: s3.Bucket(s, "Site"), "single_page_app"),
        (CdnOrigin.rest_api, lambda s: apigateway.RestApi(s, "Api"), "iam_signed_for_origin_host"),
    ],
)
def test_a_string_where_a_bool_belongs_is_refused(stack, factory, make_target, option):
    target = make_target(stack)
    with pytest.raises(ConstructsLibValidationError) as raised:
        factory(target, **{option: "false"})
    [problem] = raised.value.problems
    assert (problem.prop, problem.value) == (option, "false")
    assert "True or False" in problem.fix
    factory(target, **{option: False})  # the documented form passes


def test_check_policy_refuses_a_string_for_its_switches(tmp_path):
    with pytest.raises(ConstructsLibValidationError, match="acknowledgments: got 'false'"):
        testing.check_policy(testing.checked_app, tmp_path, acknowledgments="false")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ test kit


def test_checked_app_twice_reports_each_finding_once(tmp_path):
    def build(app: cdk.App) -> cdk.App:
        testing.checked_app(app)
        testing.checked_app(app)  # a helper and a fixture both register the packs
        queue_pair(cdk.Stack(app, "Twice"), enforce_ssl=False)
        return app

    report = testing.check_policy(build, tmp_path, context=FEATURE_FLAGS)
    assert report.findings, "the app must have findings for the test to mean anything"
    lines = report.finding_lines
    assert len(lines) == len(set(lines)), [line for line in lines if lines.count(line) > 1]


def test_a_pack_that_ran_and_found_nothing_counts_as_having_run(tmp_path):
    def only_this_pack(app: cdk.App) -> cdk.App:
        cdk.Validations.of(app).add_plugins(ServerlessPatternsChecks())
        queue_pair(cdk.Stack(app, "Clean"))
        return app

    report = testing.check_policy(only_this_pack, tmp_path, context=FEATURE_FLAGS)
    assert report.plugins == ["ServerlessPatterns"]
    assert report.findings == []


def test_scrubbed_keeps_pinned_digests_and_scrubs_only_asset_hashes():
    digest_a, digest_b, asset = "a" * 64, "b" * 64, "c" * 64

    def template(digest: str) -> dict[str, Any]:
        return {
            "Resources": {
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Code": {"S3Key": f"{asset}.zip"},
                        "Environment": {"Variables": {"PINNED_SHA256": digest}},
                    },
                    "Metadata": {"aws:asset:path": f"asset.{asset}"},
                },
                "Image": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Code": {"ImageUri": f"1.dkr.ecr.eu-west-1.amazonaws.com/repo:{asset}"}},
                },
            }
        }

    scrubbed_a = testing.scrubbed(template(digest_a))
    assert testing.scrubbed(template(digest_b)) != scrubbed_a
    function = scrubbed_a["Resources"]["Fn"]
    assert function["Properties"]["Code"]["S3Key"] == "<asset-hash>.zip"
    assert function["Properties"]["Environment"]["Variables"]["PINNED_SHA256"] == digest_a
    assert function["Metadata"]["aws:asset:path"] == "asset.<asset-hash>"
    image = scrubbed_a["Resources"]["Image"]["Properties"]["Code"]["ImageUri"]
    assert image.endswith("repo:<asset-hash>")
