"""QueueBufferedIngest: one test per default, per override and per error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match

from constructs_lib import ApiAuthorization, ConstructsLibValidationError, QueueBufferedIngest
from tests.conftest import make_function
from tests.harness import acknowledged_rules, assert_misconfigured, only_resource, resources_of, template_of


def build(stack: cdk.Stack, consumer: lambda_.IFunction, **props: Any) -> QueueBufferedIngest:
    return QueueBufferedIngest(stack, "Ingest", consumer=consumer, **props)


def queues(template: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(main queue, dead-letter queue) properties."""
    found = resources_of(template, "AWS::SQS::Queue")
    main = [r for r in found.values() if "RedrivePolicy" in r["Properties"]]
    dlq = [r for r in found.values() if "RedrivePolicy" not in r["Properties"]]
    assert len(main) == 1, found
    assert len(dlq) == 1, found
    return main[0]["Properties"], dlq[0]["Properties"]


def post_method(template: Any) -> dict[str, Any]:
    methods = [m for m in resources_of(template, "AWS::ApiGateway::Method").values()]
    posts = [m["Properties"] for m in methods if m["Properties"]["HttpMethod"] == "POST"]
    assert len(posts) == 1
    return posts[0]


def policy_statements(template: Any, role_logical_id_prefix: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"].get("Roles", []))
        if role_logical_id_prefix in roles:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


# ------------------------------------------------------------------------------------- front door


class TestFrontDoorDefaults:
    def test_regional_rest_api_with_post_on_messages(self, stack, consumer):
        build(stack, consumer)
        t = template_of(stack)
        api = only_resource(t, "AWS::ApiGateway::RestApi")
        assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
        t.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "messages"})
        assert post_method(t)["HttpMethod"] == "POST"

    def test_direct_sqs_integration_without_lambda_on_the_request_path(self, stack, consumer):
        build(stack, consumer)
        t = template_of(stack)
        integration = post_method(t)["Integration"]
        assert integration["Type"] == "AWS"
        assert ":sqs:path/" in json.dumps(integration["Uri"])
        assert integration["PassthroughBehavior"] == "NEVER"
        assert integration["RequestParameters"] == {
            "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
            "integration.request.header.Accept": "'application/json'",
        }
        assert list(integration["RequestTemplates"]) == ["application/json"]
        assert integration["RequestTemplates"]["application/json"].startswith(
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
        )
        # Nothing lets API Gateway invoke a function.
        assert not [
            p
            for p in resources_of(t, "AWS::Lambda::Permission").values()
            if "apigateway" in json.dumps(p["Properties"]["Principal"])
        ]

    def test_success_answers_202_with_message_id(self, stack, consumer):
        build(stack, consumer)
        responses = post_method(template_of(stack))["Integration"]["IntegrationResponses"]
        ok = [r for r in responses if r["StatusCode"].startswith("2")]
        assert len(ok) == 1
        assert ok[0]["StatusCode"] == "202"
        assert ok[0]["SelectionPattern"] == r"2\d{2}"
        template = ok[0]["ResponseTemplates"]["application/json"]
        assert '"messageId"' in template
        assert "SendMessageResult.MessageId" in template

    def test_no_sqs_failure_answers_2xx(self, stack, consumer):
        build(stack, consumer)
        responses = post_method(template_of(stack))["Integration"]["IntegrationResponses"]
        default = [r for r in responses if not r.get("SelectionPattern")]
        assert len(default) == 1
        assert default[0]["StatusCode"].startswith("5")
        by_pattern = {r.get("SelectionPattern"): r["StatusCode"] for r in responses}
        assert by_pattern[r"4\d{2}"].startswith("5")
        assert by_pattern[r"5\d{2}"].startswith("5")
        # Every non-success response is 4xx/5xx; only an SQS 2xx can select a 2xx.
        for response in responses:
            if response["StatusCode"].startswith("2"):
                assert response["SelectionPattern"].startswith("2")
            else:
                assert response["StatusCode"][0] in "45"

    def test_request_validator_checks_body_and_parameters(self, stack, consumer):
        build(stack, consumer)
        t = template_of(stack)
        t.has_resource_properties(
            "AWS::ApiGateway::RequestValidator",
            {"ValidateRequestBody": True, "ValidateRequestParameters": True},
        )
        method = post_method(t)
        assert "RequestValidatorId" in method
        assert list(method["RequestModels"]) == ["application/json"]

    def test_default_model_accepts_any_json_object(self, stack, consumer):
        build(stack, consumer)
        model = only_resource(template_of(stack), "AWS::ApiGateway::Model")["Properties"]
        assert model["ContentType"] == "application/json"
        assert model["Schema"]["type"] == "object"
        assert model["Schema"]["$schema"] == "http://json-schema.org/draft-04/schema#"

    def test_validation_failures_answer_400_in_json(self, stack, consumer):
        build(stack, consumer)
        responses = {
            r["Properties"]["ResponseType"]: r["Properties"]
            for r in resources_of(template_of(stack), "AWS::ApiGateway::GatewayResponse").values()
        }
        for kind in ("BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS"):
            assert responses[kind]["StatusCode"] == "400"
            template = responses[kind]["ResponseTemplates"]["application/json"]
            # Substitute the variables as API Gateway does: the result must stay valid JSON.
            rendered = template.replace("$context.error.messageString", json.dumps('Invalid request "body"'))
            rendered = rendered.replace("$context.requestId", "c0ffee")
            assert json.loads(rendered) == {"message": 'Invalid request "body"', "requestId": "c0ffee"}

    def test_stage_throttling_logging_and_tracing(self, stack, consumer):
        build(stack, consumer)
        t = template_of(stack)
        stage = only_resource(t, "AWS::ApiGateway::Stage")["Properties"]
        settings = stage["MethodSettings"][0]
        assert settings["HttpMethod"] == "*"
        assert settings["ResourcePath"] == "/*"
        assert settings["ThrottlingRateLimit"] == 100
        assert settings["ThrottlingBurstLimit"] == 200
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["DataTraceEnabled"] is False
        assert stage["TracingEnabled"] is True
        assert stage["StageName"] == "prod"
        access = stage["AccessLogSetting"]
        assert json.loads(access["Format"].replace("$context.", ""))["requestId"]
        log_groups = resources_of(t, "AWS::Logs::LogGroup")
        destination = json.dumps(access["DestinationArn"])
        [access_log_group] = [g for lid, g in log_groups.items() if lid in destination]
        assert access_log_group["Properties"]["RetentionInDays"] == 30

    def test_iam_authorization_by_default(self, stack, consumer):
        build(stack, consumer)
        assert post_method(template_of(stack))["AuthorizationType"] == "AWS_IAM"

    def test_url_is_the_post_endpoint(self, stack, consumer):
        ingest = build(stack, consumer, path="v1/orders")
        assert stack.resolve(ingest.url)["Fn::Join"][1][-1].endswith("/v1/orders")


class TestFrontDoorOverrides:
    def test_nested_path(self, stack, consumer):
        build(stack, consumer, path="/v1/orders/")
        t = template_of(stack)
        parts = sorted(
            r["Properties"]["PathPart"] for r in resources_of(t, "AWS::ApiGateway::Resource").values()
        )
        assert parts == ["orders", "v1"]

    def test_message_schema_becomes_the_model(self, stack, consumer):
        schema = {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {"id": {"type": "string", "minLength": 1}, "n": {"type": ["integer", "null"]}},
        }
        build(stack, consumer, message_schema=schema)
        model = only_resource(template_of(stack), "AWS::ApiGateway::Model")["Properties"]["Schema"]
        assert model["required"] == ["id"]
        assert model["additionalProperties"] is False
        assert model["properties"]["id"] == {"type": "string", "minLength": 1}
        assert model["properties"]["n"] == {"type": ["integer", "null"]}

    def test_throttling_and_stage_props(self, stack, consumer):
        build(stack, consumer, throttling_rate_limit=5, throttling_burst_limit=10, stage_name="v1")
        stage = only_resource(template_of(stack), "AWS::ApiGateway::Stage")["Properties"]
        assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 5
        assert stage["MethodSettings"][0]["ThrottlingBurstLimit"] == 10
        assert stage["StageName"] == "v1"

    def test_open_endpoint_is_acknowledged_with_the_users_reason(self, stack, consumer):
        reason = "public webhook from a partner that cannot sign requests"
        ingest = build(stack, consumer, authorization=ApiAuthorization.none(reason=reason))
        assert post_method(template_of(stack))["AuthorizationType"] == "NONE"
        acknowledged = acknowledged_rules(ingest.method)
        assert reason in acknowledged["AwsSolutions::AwsSolutions-APIG4"]
        assert reason in acknowledged["AwsSolutions::AwsSolutions-COG4"]

    def test_cognito_authorizer(self, stack, consumer):
        pool = cognito.UserPool(stack, "Pool")
        authorizer = apigateway.CognitoUserPoolsAuthorizer(stack, "Authorizer", cognito_user_pools=[pool])
        ingest = build(
            stack,
            consumer,
            authorization=ApiAuthorization.authorizer_of(authorizer, scopes=("orders/write",)),
        )
        method = post_method(template_of(stack))
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["AuthorizationScopes"] == ["orders/write"]
        assert "AwsSolutions::AwsSolutions-COG4" not in acknowledged_rules(ingest.method)

    def test_lambda_authorizer(self, stack, consumer):
        auth_fn = make_function(stack, "AuthFn")
        authorizer = apigateway.TokenAuthorizer(stack, "Authorizer", handler=auth_fn)
        build(stack, consumer, authorization=ApiAuthorization.authorizer_of(authorizer))
        assert post_method(template_of(stack))["AuthorizationType"] == "CUSTOM"

    def test_web_acl_is_associated_with_the_stage(self, stack, consumer):
        arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/ingest/abc"
        ingest = build(stack, consumer, web_acl_arn=arn)
        t = template_of(stack)
        t.has_resource_properties("AWS::WAFv2::WebACLAssociation", {"WebACLArn": arn})
        assert "AwsSolutions::AwsSolutions-APIG3" not in acknowledged_rules(ingest.api.deployment_stage)

    def test_api_props_pass_through(self, stack, consumer):
        build(stack, consumer, api_props={"rest_api_name": "orders-ingest", "cloud_watch_role": False})
        t = template_of(stack)
        t.has_resource_properties("AWS::ApiGateway::RestApi", {"Name": "orders-ingest"})
        t.resource_count_is("AWS::ApiGateway::Account", 0)


# ------------------------------------------------------------------------------------------ queue


class TestQueueDefaults:
    def test_aws_managed_kms_on_both_queues(self, stack, consumer):
        build(stack, consumer)
        main, dlq = queues(template_of(stack))
        assert main["KmsMasterKeyId"] == "alias/aws/sqs"
        assert dlq["KmsMasterKeyId"] == "alias/aws/sqs"

    def test_tls_only_queue_policies(self, stack, consumer):
        build(stack, consumer)
        policies = resources_of(template_of(stack), "AWS::SQS::QueuePolicy")
        assert len(policies) == 2
        for policy in policies.values():
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            assert any(
                s["Effect"] == "Deny"
                and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                and s["Principal"] == {"AWS": "*"}
                for s in statements
            )

    def test_dead_letter_queue_after_five_receives_kept_fourteen_days(self, stack, consumer):
        build(stack, consumer)
        main, dlq = queues(template_of(stack))
        assert main["RedrivePolicy"]["maxReceiveCount"] == 5
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert dlq["MessageRetentionPeriod"] >= main["MessageRetentionPeriod"]

    def test_visibility_timeout_is_six_times_the_consumer_timeout(self, stack, consumer):
        build(stack, consumer)
        main, _ = queues(template_of(stack))
        assert main["VisibilityTimeout"] == 6 * 30

    def test_visibility_timeout_includes_the_batching_window(self, stack, consumer):
        build(stack, consumer, max_batching_window=Duration.seconds(20))
        main, _ = queues(template_of(stack))
        assert main["VisibilityTimeout"] == 6 * 30 + 20

    def test_consumer_without_explicit_timeout_uses_lambdas_three_seconds(self, stack):
        build(stack, make_function(stack, "Fn", timeout=None))
        main, _ = queues(template_of(stack))
        assert main["VisibilityTimeout"] == 18

    def test_api_role_may_only_send_to_the_queue(self, stack, consumer):
        ingest = build(stack, consumer)
        statements = policy_statements(
            template_of(stack), stack.get_logical_id(ingest.api_role.node.default_child)
        )
        assert statements == [
            {
                "Action": "sqs:SendMessage",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [stack.get_logical_id(ingest.queue.node.default_child), "Arn"]},
            }
        ]


class TestQueueOverrides:
    def test_customer_managed_key_and_its_grants_for_the_api_role(self, stack, consumer):
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        ingest = build(stack, consumer, encryption_key=key)
        t = template_of(stack)
        key_id = stack.get_logical_id(key.node.default_child)
        main, dlq = queues(t)
        assert main["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert dlq["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        statements = policy_statements(t, stack.get_logical_id(ingest.api_role.node.default_child))
        kms_statements = [s for s in statements if "kms:Decrypt" in json.dumps(s["Action"])]
        assert len(kms_statements) == 1
        assert sorted(kms_statements[0]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert kms_statements[0]["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert ingest.encryption_key is key

    def test_fifo_queues_take_the_group_id_from_a_required_header(self, stack, consumer):
        build(stack, consumer, fifo=True)
        t = template_of(stack)
        main, dlq = queues(t)
        assert main["FifoQueue"] is True
        assert dlq["FifoQueue"] is True
        # Distinct requests are never merged: no content-based deduplication unless asked for.
        assert "ContentBasedDeduplication" not in main
        method = post_method(t)
        assert method["RequestParameters"] == {"method.request.header.X-Message-Group-Id": True}
        template = method["Integration"]["RequestTemplates"]["application/json"]
        assert "MessageGroupId=$util.urlEncode($groupId)" in template
        assert "MessageDeduplicationId=$util.urlEncode($dedupId)" in template

    def test_content_based_deduplication_is_an_explicit_fifo_opt_in(self, stack, consumer):
        build(stack, consumer, fifo=True, content_based_deduplication=True)
        main, _ = queues(template_of(stack))
        assert main["ContentBasedDeduplication"] is True

    def test_fifo_with_a_custom_group_header(self, stack, consumer):
        build(stack, consumer, fifo=True, message_group_id_header="X-Tenant")
        method = post_method(template_of(stack))
        assert method["RequestParameters"] == {"method.request.header.X-Tenant": True}

    def test_max_receive_count_and_explicit_visibility_timeout(self, stack, consumer):
        build(stack, consumer, max_receive_count=8, visibility_timeout=Duration.minutes(10))
        main, _ = queues(template_of(stack))
        assert main["RedrivePolicy"]["maxReceiveCount"] == 8
        assert main["VisibilityTimeout"] == 600

    def test_queue_props_override_defaults(self, stack, consumer):
        build(
            stack,
            consumer,
            queue_props={"retention_period": Duration.days(7), "removal_policy": cdk.RemovalPolicy.RETAIN},
        )
        t = template_of(stack)
        main, _ = queues(t)
        assert main["MessageRetentionPeriod"] == 7 * 24 * 3600
        queue_resources = [
            r for r in resources_of(t, "AWS::SQS::Queue").values() if "RedrivePolicy" in r["Properties"]
        ]
        assert queue_resources[0]["DeletionPolicy"] == "Retain"

    def test_overriding_a_security_default_warns(self, stack, consumer):
        build(stack, consumer, queue_props={"enforce_ssl": False})
        warnings = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp(r"queue_props\['enforce_ssl'\] overrides a security default")
        )
        assert len(warnings) == 1

    def test_keeping_a_security_default_does_not_warn(self, stack, consumer):
        build(stack, consumer, queue_props={"enforce_ssl": True, "retention_period": Duration.days(2)})
        assert not Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("security default")
        )

    def test_imported_consumer_with_explicit_visibility_timeout(self, stack):
        imported = lambda_.Function.from_function_arn(
            stack, "Imported", "arn:aws:lambda:eu-west-1:123456789012:function:orders"
        )
        build(stack, imported, visibility_timeout=Duration.minutes(6))
        main, _ = queues(template_of(stack))
        assert main["VisibilityTimeout"] == 360
        warnings = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("imported without its role")
        )
        assert len(warnings) == 1


# --------------------------------------------------------------------------------------- consumer


class TestConsumer:
    def test_event_source_mapping_defaults(self, stack, consumer):
        build(stack, consumer)
        esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
        assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert esm["BatchSize"] == 10
        assert esm["ScalingConfig"] == {"MaximumConcurrency": 5}
        assert "MaximumBatchingWindowInSeconds" not in esm
        assert esm["FunctionName"] == {"Ref": stack.get_logical_id(consumer.node.default_child)}

    def test_batching_overrides(self, stack, consumer):
        build(stack, consumer, batch_size=100, max_batching_window=Duration.seconds(10), max_concurrency=50)
        esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
        assert esm["BatchSize"] == 100
        assert esm["MaximumBatchingWindowInSeconds"] == 10
        assert esm["ScalingConfig"] == {"MaximumConcurrency": 50}

    def test_consumer_may_consume_and_mapping_waits_for_the_grant(self, stack, consumer):
        build(stack, consumer)
        t = template_of(stack)
        actions = {
            a
            for s in policy_statements(t, stack.get_logical_id(consumer.role.node.default_child))
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        }
        assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions
        esm = only_resource(t, "AWS::Lambda::EventSourceMapping")
        assert any("DefaultPolicy" in d for d in esm["DependsOn"])

    def test_alias_consumer_is_the_mapping_target(self, stack):
        fn = make_function(stack, "Fn", snap_start=True)
        alias = lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)
        ingest = build(stack, alias)
        esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
        function_name = json.dumps(esm["FunctionName"])
        assert stack.get_logical_id(alias.node.default_child) in function_name
        assert ":live" in function_name
        assert ingest.consumer is alias

    def test_version_consumer(self, stack, consumer):
        build(stack, consumer.current_version)
        esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
        assert "Version" in json.dumps(esm["FunctionName"])

    def test_event_source_mapping_props_pass_through(self, stack, consumer):
        build(stack, consumer, event_source_mapping_props={"enabled": False})
        esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
        assert esm["Enabled"] is False
        assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# ----------------------------------------------------------------------------------------- alarms


class TestAlarms:
    def _alarms_by_metric(self, stack: cdk.Stack) -> dict[str, dict[str, Any]]:
        alarms = resources_of(template_of(stack), "AWS::CloudWatch::Alarm").values()
        return {a["Properties"]["MetricName"]: a["Properties"] for a in alarms}

    def test_four_alarms_by_default(self, stack, consumer):
        ingest = build(stack, consumer)
        alarms = self._alarms_by_metric(stack)
        assert set(alarms) == {
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
            "Errors",
            "5XXError",
        }
        assert len(ingest.alarms) == 4
        assert alarms["ApproximateNumberOfMessagesVisible"]["Threshold"] == 1
        assert (
            alarms["ApproximateNumberOfMessagesVisible"]["ComparisonOperator"]
            == "GreaterThanOrEqualToThreshold"
        )
        assert alarms["ApproximateAgeOfOldestMessage"]["Threshold"] == 300
        assert alarms["Errors"]["Threshold"] == 1
        assert alarms["5XXError"]["Threshold"] == 1
        for alarm in alarms.values():
            assert "AlarmActions" not in alarm

    def test_dlq_alarm_watches_the_dead_letter_queue(self, stack, consumer):
        ingest = build(stack, consumer)
        alarm = self._alarms_by_metric(stack)["ApproximateNumberOfMessagesVisible"]
        dlq_id = stack.get_logical_id(ingest.dead_letter_queue.node.default_child)
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]

    def test_max_message_age(self, stack, consumer):
        build(stack, consumer, max_message_age=Duration.minutes(15))
        assert self._alarms_by_metric(stack)["ApproximateAgeOfOldestMessage"]["Threshold"] == 900

    def test_alarm_topic_gets_alarm_and_ok_actions_of_every_alarm(self, stack, consumer):
        topic = sns.Topic(stack, "Topic")
        build(stack, consumer, alarm_topic=topic)
        topic_ref = {"Ref": stack.get_logical_id(topic.node.default_child)}
        for alarm in self._alarms_by_metric(stack).values():
            assert alarm["AlarmActions"] == [topic_ref]
            assert alarm["OKActions"] == [topic_ref]


# -------------------------------------------------------------------------------- grants, metrics


class TestGrantsAndMetrics:
    def test_grant_send_messages(self, stack, consumer):
        ingest = build(stack, consumer)
        role = iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        ingest.grant_send_messages(role)
        actions = json.dumps(
            policy_statements(template_of(stack), stack.get_logical_id(role.node.default_child))
        )
        assert "sqs:SendMessage" in actions

    def test_grant_redrive(self, stack, consumer):
        ingest = build(stack, consumer)
        role = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
        ingest.grant_redrive(role)
        statements = policy_statements(template_of(stack), stack.get_logical_id(role.node.default_child))
        dlq_arn = {"Fn::GetAtt": [stack.get_logical_id(ingest.dead_letter_queue.node.default_child), "Arn"]}
        queue_arn = {"Fn::GetAtt": [stack.get_logical_id(ingest.queue.node.default_child), "Arn"]}
        on_dlq = {a for s in statements if s["Resource"] == dlq_arn for a in _actions(s)}
        on_queue = {a for s in statements if s["Resource"] == queue_arn for a in _actions(s)}
        assert {"sqs:StartMessageMoveTask", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= on_dlq
        assert "sqs:SendMessage" in on_queue
        assert "sqs:SendMessage" not in on_dlq

    def test_metric_age_of_oldest_message(self, stack, consumer):
        ingest = build(stack, consumer)
        metric = ingest.metric_approximate_age_of_oldest_message()
        assert metric.metric_name == "ApproximateAgeOfOldestMessage"
        assert metric.statistic == "Maximum"

    def test_exposed_attributes(self, stack, consumer):
        ingest = build(stack, consumer)
        assert isinstance(ingest.api, apigateway.RestApi)
        assert isinstance(ingest.queue, sqs.Queue)
        assert isinstance(ingest.dead_letter_queue, sqs.Queue)
        assert isinstance(ingest.event_source_mapping, lambda_.EventSourceMapping)
        assert ingest.consumer is consumer

    def test_child_ids_are_stable(self, stack, consumer):
        ingest = build(stack, consumer)
        ids = {c.node.id for c in ingest.node.children}
        assert {"Queue", "DeadLetterQueue", "Api", "ApiRole", "EventSourceMapping", "AccessLogs"} <= ids


# ----------------------------------------------------------------------------------------- errors


def _snapstart_function(stack: cdk.Stack) -> lambda_.Function:
    return make_function(stack, "Snap", snap_start=True)


def _imported(stack: cdk.Stack) -> lambda_.IFunction:
    return lambda_.Function.from_function_arn(
        stack, "Imp", "arn:aws:lambda:eu-west-1:123456789012:function:x"
    )


ERROR_CASES: list[tuple[str, Callable[[cdk.Stack], dict[str, Any]], str, str]] = [
    ("concurrency too low", lambda s: {"max_concurrency": 1}, "max_concurrency", "between 2 and 1000"),
    ("concurrency too high", lambda s: {"max_concurrency": 1001}, "max_concurrency", "between 2 and 1000"),
    ("batch without window", lambda s: {"batch_size": 11}, "batch_size", "between 1 and 10"),
    ("fifo batch", lambda s: {"fifo": True, "batch_size": 20}, "batch_size", "FIFO queues allow at most 10"),
    (
        "fifo window",
        lambda s: {"fifo": True, "max_batching_window": Duration.seconds(5)},
        "max_batching_window",
        "FIFO queues do not support a batching window",
    ),
    (
        "window too long",
        lambda s: {"max_batching_window": Duration.minutes(6)},
        "max_batching_window",
        "at most 5",
    ),
    (
        "visibility below 6x",
        lambda s: {"visibility_timeout": Duration.seconds(60)},
        "visibility_timeout",
        "at least 180 seconds: 6 x the consumer's 30s timeout",
    ),
    (
        "imported consumer",
        lambda s: {"consumer": _imported(s)},
        "visibility_timeout",
        "timeout of consumer 'TestStack/Imp' is unknown",
    ),
    (
        "unqualified snapstart",
        lambda s: {"consumer": _snapstart_function(s)},
        "consumer",
        "pass its alias",
    ),
    (
        "unknown queue prop",
        lambda s: {"queue_props": {"retention": Duration.days(1)}},
        "queue_props['retention']",
        "valid keys: ",
    ),
    (
        "owned queue prop",
        lambda s: {"queue_props": {"visibility_timeout": Duration.seconds(900)}},
        "queue_props['visibility_timeout']",
        "use visibility_timeout instead",
    ),
    (
        "required mapping prop",
        lambda s: {"event_source_mapping_props": {"report_batch_item_failures": False}},
        "event_source_mapping_props['report_batch_item_failures']",
        "the construct must set this itself",
    ),
    ("bad path", lambda s: {"path": "orders/{id}"}, "path", "segments of letters"),
    ("receive count", lambda s: {"max_receive_count": 0}, "max_receive_count", "between 1 and 1000"),
    (
        "schema keyword",
        lambda s: {"message_schema": {"type": "object", "properties": {"a": {"type": "text"}}}},
        "message_schema['properties']['a']['type']",
        "must be one of",
    ),
    (
        "schema draft",
        lambda s: {"message_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema"}},
        "message_schema['$schema']",
        "draft 4",
    ),
    (
        "open without reason",
        lambda s: {"authorization": ApiAuthorization.none(reason="ok")},
        "authorization",
        "needs a specific reason",
    ),
    (
        "dlq keeps less than queue",
        lambda s: {"dead_letter_queue_props": {"retention_period": Duration.days(1)}},
        "dead_letter_queue_props['retention_period']",
        "at least the queue's retention period",
    ),
    ("rate limit", lambda s: {"throttling_rate_limit": 0}, "throttling_rate_limit", "positive"),
    (
        "group header without fifo",
        lambda s: {"message_group_id_header": "X-Tenant"},
        "message_group_id_header",
        "only used with fifo=True",
    ),
    ("message age", lambda s: {"max_message_age": Duration.days(15)}, "max_message_age", "at most 14 days"),
    (
        "content-based deduplication without fifo",
        lambda s: {"content_based_deduplication": True},
        "content_based_deduplication",
        "only FIFO queues deduplicate",
    ),
    (
        "content-based deduplication in queue_props",
        lambda s: {"fifo": True, "queue_props": {"content_based_deduplication": True}},
        "queue_props['content_based_deduplication']",
        "use content_based_deduplication instead",
    ),
]


@pytest.mark.parametrize(
    ("make_props", "prop", "fix"),
    [pytest.param(make, prop, fix, id=name) for name, make, prop, fix in ERROR_CASES],
)
def test_misconfiguration_raises_with_prop_value_and_fix(stack, consumer, make_props, prop, fix):
    props = make_props(stack)
    target = props.pop("consumer", consumer)
    assert_misconfigured(lambda: build(stack, target, **props), prop, fix)


def test_all_problems_are_reported_at_once(stack, consumer):
    with pytest.raises(ConstructsLibValidationError) as raised:
        build(stack, consumer, max_concurrency=0, batch_size=0, path="", max_receive_count=-1)
    assert {p.prop for p in raised.value.problems} == {
        "max_concurrency",
        "batch_size",
        "path",
        "max_receive_count",
    }
    assert "4 problem(s)" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_nothing_is_created_when_props_are_invalid(stack, consumer):
    with pytest.raises(ConstructsLibValidationError):
        build(stack, consumer, max_concurrency=0)
    template_of_stack = template_of(stack)
    template_of_stack.resource_count_is("AWS::SQS::Queue", 0)


def test_tokens_are_not_validated_as_values(stack, consumer):
    concurrency = cdk.CfnParameter(stack, "Concurrency", type="Number").value_as_number
    visibility = cdk.CfnParameter(stack, "Visibility", type="Number").value_as_number
    build(stack, consumer, max_concurrency=concurrency, visibility_timeout=Duration.seconds(visibility))
    esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
    assert esm["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "Concurrency"}}


# --------------------------------------------------------------------------------------- helpers


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]
