"""The ServerlessPatterns policy pack: each rule has an app that trips it and one that passes.

Every test app is a stack built from plain aws-cdk-lib constructs, as a team writes them by hand. All of
them synthesize once, in one App with the pack registered, and each stack's findings are read from the
validation report that synth writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as apigatewayv2_authorizers
from aws_cdk import aws_apigatewayv2_integrations as apigatewayv2_integrations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import ConstructsLibValidationError, acknowledge, testing
from constructs_lib.checks import ALL_RULES, ServerlessPatternsChecks, run_rules
from constructs_lib.checks._model import Stack, Templates
from tests import checks_pairs as pairs
from tests.assembly_cache import cached_assembly
from tests.corpus import expect
from tests.corpus.apps import ENV as CORPUS_ENV
from tests.corpus.kinds import KINDS, deny_only
from tests.harness import FEATURE_FLAGS, REPO_ROOT, new_app

Build = Callable[[cdk.Stack], object]


def function(
    stack: cdk.Stack, id: str = "Fn", *, snap_start: bool = False, timeout: int = 30
) -> lambda_.Function:
    return lambda_.Function(
        stack,
        id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        timeout=Duration.seconds(timeout),
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
    )


def sqs_consumer(
    stack: cdk.Stack,
    *,
    visibility: int = 180,
    report: bool = True,
    max_concurrency: int | None = 2,
    target: lambda_.IFunction | None = None,
) -> sqs.Queue:
    queue = sqs.Queue(stack, "Queue", visibility_timeout=Duration.seconds(visibility))
    (target or function(stack)).add_event_source(
        event_sources.SqsEventSource(
            queue, report_batch_item_failures=report, max_concurrency=max_concurrency
        )
    )
    return queue


def rest_api(
    stack: cdk.Stack, *, authorization: apigateway.AuthorizationType | None = None
) -> apigateway.RestApi:
    api = apigateway.RestApi(stack, "Api")
    api.root.add_method(
        "GET",
        apigateway.MockIntegration(
            integration_responses=[{"statusCode": "200"}], request_templates={"application/json": "{}"}
        ),
        method_responses=[{"statusCode": "200"}],
        authorization_type=authorization,
    )
    return api


def distribution(
    stack: cdk.Stack,
    origin: cloudfront.IOrigin,
    *,
    cache_policy: cloudfront.ICachePolicy = cloudfront.CachePolicy.CACHING_DISABLED,
    origin_request_policy: cloudfront.IOriginRequestPolicy | None = (
        cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
    ),
) -> cloudfront.Distribution:
    return cloudfront.Distribution(
        stack,
        "Cdn",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origin,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
        ),
    )


def reserved(stack: cdk.Stack, concurrency: int) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Reserved",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
        timeout=Duration.seconds(30),
        reserved_concurrent_executions=concurrency,
    )


def disabled_consumer(stack: cdk.Stack, fn: lambda_.IFunction) -> None:
    """A consumer paused the documented way: its mapping disabled."""
    queue = sqs.Queue(stack, "Queue", visibility_timeout=Duration.seconds(180))
    fn.add_event_source(
        event_sources.SqsEventSource(queue, report_batch_item_failures=True, max_concurrency=2, enabled=False)
    )


def http_api_behind_cdn(stack: cdk.Stack, *, iam_route: bool) -> None:
    """An HTTP API with a Lambda route, fronted by CloudFront through its endpoint's host name."""
    api = apigatewayv2.HttpApi(stack, "HttpApi")
    api.add_routes(
        path="/orders",
        methods=[apigatewayv2.HttpMethod.POST],
        integration=apigatewayv2_integrations.HttpLambdaIntegration("Orders", function(stack)),
        authorizer=apigatewayv2_authorizers.HttpIamAuthorizer() if iam_route else None,
    )
    host = cdk.Fn.select(2, cdk.Fn.split("/", api.api_endpoint))
    distribution(stack, origins.HttpOrigin(host))


def iam_url(stack: cdk.Stack, fn: lambda_.IFunction | None = None) -> lambda_.FunctionUrl:
    return (fn or function(stack)).add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)


def fifo_ingest(stack: cdk.Stack, *, content_based_deduplication: bool) -> None:
    queue = sqs.Queue(stack, "Orders", fifo=True, content_based_deduplication=content_based_deduplication)
    role = iam.Role(stack, "ApiRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
    queue.grant_send_messages(role)
    api = apigateway.RestApi(stack, "Api")
    template = "Action=SendMessage&MessageGroupId=orders&MessageBody=$util.urlEncode($input.body)"
    if not content_based_deduplication:
        template += "&MessageDeduplicationId=$context.requestId"
    api.root.add_method(
        "POST",
        apigateway.AwsIntegration(
            service="sqs",
            path=f"{cdk.Aws.ACCOUNT_ID}/{queue.queue_name}",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=role,
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
                },
                request_templates={"application/json": template},
                integration_responses=[{"statusCode": "200"}],
            ),
        ),
        method_responses=[{"statusCode": "200"}],
    )


def snapstart_alias(stack: cdk.Stack) -> lambda_.Alias:
    fn = function(stack, snap_start=True)
    return lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)


# ---------------------------------------------------------------------------------------- delivery edges
# Each edge kind built from plain aws-cdk-lib code, once broken and once working.

MANAGED_SQS_KEY = sqs.QueueEncryption.KMS_MANAGED  # alias/aws/sqs: no service principal can use it


def alarm_to(stack: cdk.Stack, topic: sns.ITopic) -> None:
    metric = cloudwatch.Metric(namespace="Team", metric_name="Errors")
    alarm = metric.create_alarm(stack, "Alarm", threshold=1, evaluation_periods=1)
    alarm.add_alarm_action(cw_actions.SnsAction(topic))


def deliverable_topic(stack: cdk.Stack) -> sns.Topic:
    """As apps/common.py builds it: TLS-only, a key CloudWatch may use, an Allow for the account's alarms."""
    key = kms.Key(stack, "Key")
    key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
    topic = sns.Topic(stack, "Topic", enforce_ssl=True, master_key=key)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        )
    )
    return topic


def raw_rule_target(stack: cdk.Stack, arn: str) -> None:
    """An EventBridge rule written as L1, with no resource policy for its target."""
    events.CfnRule(stack, "Rule", schedule_expression="rate(1 minute)", targets=[{"id": "t", "arn": arn}])


def schedule_of(stack: cdk.Stack, *, granted: bool) -> None:
    fn = function(stack)
    role = iam.Role(stack, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
    if granted:
        fn.grant_invoke(role)
    scheduler.CfnSchedule(
        stack,
        "Schedule",
        schedule_expression="rate(5 minutes)",
        flexible_time_window={"mode": "OFF"},
        target={"arn": fn.function_arn, "roleArn": role.role_arn},
    )


def mapping_of(stack: cdk.Stack, queue: sqs.Queue, fn: lambda_.Function) -> None:
    lambda_.EventSourceMapping(
        stack,
        "Mapping",
        target=fn,
        event_source_arn=queue.queue_arn,
        report_batch_item_failures=True,
        max_concurrency=2,
    )


def consumer_granted_sqs_only(stack: cdk.Stack) -> None:
    """The role may receive, but the queue's customer managed key was never granted to it."""
    queue = sqs.Queue(
        stack, "Queue", visibility_timeout=Duration.seconds(180), encryption_master_key=kms.Key(stack, "Key")
    )
    fn = function(stack)
    queue.grant(fn, "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    mapping_of(stack, queue, fn)


def stream_consumer(stack: cdk.Stack, *, granted: bool) -> None:
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )
    fn = function(stack)
    if granted:
        fn.add_event_source(
            event_sources.DynamoEventSource(table, starting_position=lambda_.StartingPosition.LATEST)
        )
    else:
        lambda_.EventSourceMapping(
            stack,
            "Mapping",
            target=fn,
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
        )


def function_dead_letter(stack: cdk.Stack, *, granted: bool) -> None:
    queue = sqs.Queue(stack, "Dlq")
    if granted:
        lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
            dead_letter_queue=queue,
        )
        return
    fn = function(stack)
    cfn = fn.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    cfn.add_property_override("DeadLetterConfig", {"TargetArn": queue.queue_arn})


def failure_destination(stack: cdk.Stack) -> None:
    topic = sns.Topic(stack, "Failures")
    lambda_.CfnEventInvokeConfig(
        stack,
        "Invoke",
        function_name=function(stack).function_name,
        qualifier="$LATEST",
        destination_config={"onFailure": {"destination": topic.topic_arn}},
    )


def sqs_api(stack: cdk.Stack, *, key: bool = False, grant: str = "all") -> None:
    """A REST API that sends to SQS through a credentials role (granted all, SQS only, or nothing)."""
    queue = sqs.Queue(stack, "Queue", encryption_master_key=kms.Key(stack, "Key") if key else None)
    role = iam.Role(stack, "ApiRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
    if grant == "all":
        queue.grant_send_messages(role)
    elif grant == "sqs":
        queue.grant(role, "sqs:SendMessage")
    api = apigateway.RestApi(stack, "Api")
    api.root.add_method(
        "POST",
        apigateway.AwsIntegration(
            service="sqs",
            path=f"{cdk.Aws.ACCOUNT_ID}/{queue.queue_name}",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=role,
                request_templates={"application/json": "Action=SendMessage&MessageBody=$input.body"},
                integration_responses=[{"statusCode": "200"}],
            ),
        ),
        method_responses=[{"statusCode": "200"}],
    )


def lambda_api_without_permission(stack: cdk.Stack) -> None:
    fn = function(stack)
    api = apigateway.RestApi(stack, "Api")
    api.root.add_method(
        "GET",
        apigateway.Integration(
            type=apigateway.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=f"arn:{cdk.Aws.PARTITION}:apigateway:{cdk.Aws.REGION}:lambda:path/2015-03-31/functions/"
            f"{fn.function_arn}/invocations",
        ),
    )


def oac_bucket(stack: cdk.Stack, *, encryption: s3.BucketEncryption, policy: bool = True) -> None:
    bucket = s3.Bucket(stack, "Site", encryption=encryption)
    distribution(stack, origins.S3BucketOrigin.with_origin_access_control(bucket))
    if not policy:
        bucket.node.try_remove_child("Policy")


def oac_function_url_without_permission(stack: cdk.Stack) -> None:
    oac = cloudfront.FunctionUrlOriginAccessControl(stack, "Oac")
    origin = origins.FunctionUrlOrigin(iam_url(stack), origin_access_control_id=oac.origin_access_control_id)
    distribution(stack, origin)


def subscribed_queue(stack: cdk.Stack, encryption: sqs.QueueEncryption) -> None:
    queue, topic = sqs.Queue(stack, "Queue", encryption=encryption), sns.Topic(stack, "Topic")
    if encryption == sqs.QueueEncryption.SQS_MANAGED:
        topic.add_subscription(subscriptions.SqsSubscription(queue))
        return
    # SqsSubscription refuses an AWS managed key itself; written by hand, with the queue policy it needs.
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
        )
    )
    sns.CfnSubscription(
        stack, "Subscription", topic_arn=topic.topic_arn, protocol="sqs", endpoint=queue.queue_arn
    )


def subscribed_function_without_permission(stack: cdk.Stack) -> None:
    sns.CfnSubscription(
        stack,
        "Subscription",
        topic_arn=sns.Topic(stack, "Topic").topic_arn,
        protocol="lambda",
        endpoint=function(stack).function_arn,
    )


def notified_queue(stack: cdk.Stack, encryption: sqs.QueueEncryption) -> None:
    bucket = s3.Bucket(stack, "Uploads")
    queue = sqs.Queue(stack, "Queue", encryption=encryption)
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue))


def cognito_api(stack: cdk.Stack, *, client: bool) -> None:
    pool = cognito.UserPool(stack, "Users")
    if client:
        pool.add_client("Web")
    authorizer = apigateway.CognitoUserPoolsAuthorizer(stack, "Authorizer", cognito_user_pools=[pool])
    api = rest_api(stack)
    api.root.add_resource("orders").add_method(
        "GET",
        apigateway.MockIntegration(
            integration_responses=[{"statusCode": "200"}], request_templates={"application/json": "{}"}
        ),
        method_responses=[{"statusCode": "200"}],
        authorizer=authorizer,
    )


DELIVERY_CASES: dict[str, dict[str, dict[str, Build]]] = {
    "DeliveryAlarmActions": {
        "trips": {
            "DenyOnlyTopicPolicy": lambda s: alarm_to(s, sns.Topic(s, "Topic", enforce_ssl=True)),
            "AwsManagedKey": lambda s: alarm_to(
                s, sns.Topic(s, "Topic", master_key=kms.Alias.from_alias_name(s, "Managed", "alias/aws/sns"))
            ),
        },
        "passes": {
            "DefaultTopicPolicy": lambda s: alarm_to(s, sns.Topic(s, "Topic")),
            "AllowedAndKeyed": lambda s: alarm_to(s, deliverable_topic(s)),
        },
    },
    "DeliveryEventTargets": {
        "trips": {
            "AwsManagedKeyDlq": lambda s: events.Rule(
                s,
                "Rule",
                schedule=events.Schedule.rate(Duration.minutes(1)),
                targets=[
                    targets.LambdaFunction(
                        function(s), dead_letter_queue=sqs.Queue(s, "Dlq", encryption=MANAGED_SQS_KEY)
                    )
                ],
            ),
            "MissingLambdaPermission": lambda s: raw_rule_target(s, function(s).function_arn),
            "QueueWithoutPolicy": lambda s: raw_rule_target(s, sqs.Queue(s, "Queue").queue_arn),
            "ScheduleRoleMayNotInvoke": lambda s: schedule_of(s, granted=False),
        },
        "passes": {
            "LambdaAndSseSqsDlq": lambda s: events.Rule(
                s,
                "Rule",
                schedule=events.Schedule.rate(Duration.minutes(1)),
                targets=[targets.LambdaFunction(function(s), dead_letter_queue=sqs.Queue(s, "Dlq"))],
            ),
            "Queue": lambda s: events.Rule(
                s,
                "Rule",
                schedule=events.Schedule.rate(Duration.minutes(1)),
                targets=[targets.SqsQueue(sqs.Queue(s, "Queue"))],
            ),
            "ScheduleRoleMayInvoke": lambda s: schedule_of(s, granted=True),
        },
    },
    "DeliveryEventSourceMappings": {
        "trips": {
            "RoleMayNotReceive": lambda s: mapping_of(
                s, sqs.Queue(s, "Queue", visibility_timeout=Duration.seconds(180)), function(s)
            ),
            "KeyNotGranted": consumer_granted_sqs_only,
            "StreamNotGranted": lambda s: stream_consumer(s, granted=False),
        },
        "passes": {
            "Sqs": lambda s: sqs_consumer(s),
            "Stream": lambda s: stream_consumer(s, granted=True),
        },
    },
    "DeliveryFunctionDestinations": {
        "trips": {
            "DeadLetterQueue": lambda s: function_dead_letter(s, granted=False),
            "OnFailureTopic": failure_destination,
        },
        "passes": {"DeadLetterQueue": lambda s: function_dead_letter(s, granted=True)},
    },
    "DeliveryApiIntegrations": {
        "trips": {
            "RoleMayNotSend": lambda s: sqs_api(s, grant="none"),
            "KeyNotGranted": lambda s: sqs_api(s, key=True, grant="sqs"),
            "LambdaWithoutPermission": lambda_api_without_permission,
        },
        "passes": {
            "Sqs": lambda s: sqs_api(s, key=True),
            "LambdaRestApi": lambda s: apigateway.LambdaRestApi(s, "Api", handler=function(s)),
        },
    },
    "DeliveryCloudFrontOrigins": {
        "trips": {
            "AwsManagedBucketKey": lambda s: oac_bucket(s, encryption=s3.BucketEncryption.KMS_MANAGED),
            "NoBucketPolicy": lambda s: oac_bucket(
                s, encryption=s3.BucketEncryption.S3_MANAGED, policy=False
            ),
            "FunctionUrlWithoutPermission": oac_function_url_without_permission,
        },
        "passes": {
            "Bucket": lambda s: oac_bucket(s, encryption=s3.BucketEncryption.S3_MANAGED),
            "FunctionUrl": lambda s: distribution(
                s, origins.FunctionUrlOrigin.with_origin_access_control(iam_url(s))
            ),
        },
    },
    "DeliverySubscriptions": {
        "trips": {
            "QueueWithAwsManagedKey": lambda s: subscribed_queue(s, MANAGED_SQS_KEY),
            "FunctionWithoutPermission": subscribed_function_without_permission,
            "NotificationToAwsManagedKey": lambda s: notified_queue(s, MANAGED_SQS_KEY),
        },
        "passes": {
            "Queue": lambda s: subscribed_queue(s, sqs.QueueEncryption.SQS_MANAGED),
            "Function": lambda s: sns.Topic(s, "Topic").add_subscription(
                subscriptions.LambdaSubscription(function(s))
            ),
            "Notification": lambda s: notified_queue(s, sqs.QueueEncryption.SQS_MANAGED),
        },
    },
    "DeliveryCognitoAuthorizers": {
        "trips": {"": lambda s: cognito_api(s, client=False)},
        "passes": {"": lambda s: cognito_api(s, client=True)},
    },
    "DeliveryStateMachineTasks": {
        "trips": {"TaskRoleMayNotInvoke": lambda s: KINDS["TaskInvokeFunction"].build(s, s)()},
        "passes": {"TaskInvoke": lambda s: KINDS["TaskInvokeFunction"].build(s, s)},
    },
    "DeliveryPipes": {
        "trips": {"RoleMayNotSend": lambda s: KINDS["PipeQueueToQueue"].build(s, s)()},
        "passes": {"QueueToQueue": lambda s: KINDS["PipeQueueToQueue"].build(s, s)},
    },
    "DeliveryUndecided": {
        "trips": {
            "ImportedTopic": lambda s: alarm_to(
                s, sns.Topic.from_topic_arn(s, "Topic", "arn:aws:sns:us-east-1:111122223333:someone-elses")
            ),
        },
        "passes": {"": lambda s: alarm_to(s, sns.Topic(s, "Topic"))},
    },
}


#: Per rule: stacks that trip it (each only it) and stacks that pass (no finding of any rule).
CASES: dict[str, dict[str, dict[str, Build]]] = {
    "SnapStartInvokedQualified": {
        "trips": {
            "EventSourceMapping": lambda s: sqs_consumer(s, target=function(s, snap_start=True)),
            "Permission": lambda s: function(s, snap_start=True).grant_invoke(
                iam.ServicePrincipal("events.amazonaws.com")
            ),
            "ApiIntegration": lambda s: apigateway.LambdaRestApi(
                s, "Api", handler=function(s, snap_start=True)
            ),
            "FunctionUrl": lambda s: iam_url(s, function(s, snap_start=True)),
        },
        "passes": {
            "EventSourceMapping": lambda s: sqs_consumer(s, target=snapstart_alias(s)),
            "Permission": lambda s: snapstart_alias(s).grant_invoke(
                iam.ServicePrincipal("events.amazonaws.com")
            ),
            "ApiIntegration": lambda s: apigateway.LambdaRestApi(s, "Api", handler=snapstart_alias(s)),
            "CloudFrontOrigin": lambda s: distribution(
                s, origins.FunctionUrlOrigin.with_origin_access_control(iam_url(s, snapstart_alias(s)))
            ),
        },
    },
    "SqsReportsBatchItemFailures": {
        "trips": {"": lambda s: sqs_consumer(s, report=False)},
        "passes": {"": lambda s: sqs_consumer(s)},
    },
    "SqsVisibilityTimeout": {
        # Under the function's timeout Lambda refuses the mapping (an error); under 6 x it, a warning.
        "trips": {
            "": lambda s: sqs_consumer(s, visibility=20),
            "UnderGuidance": lambda s: sqs_consumer(s, visibility=179),
        },
        "passes": {"": lambda s: sqs_consumer(s, visibility=180)},
    },
    "SqsConsumerConcurrency": {
        "trips": {"": lambda s: sqs_consumer(s, max_concurrency=None)},
        "passes": {
            "MaxConcurrency": lambda s: sqs_consumer(s, max_concurrency=5),
            "Reserved": lambda s: sqs_consumer(
                s,
                max_concurrency=None,
                target=lambda_.Function(
                    s,
                    "Reserved",
                    runtime=lambda_.Runtime.PYTHON_3_13,
                    handler="index.handler",
                    code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
                    timeout=Duration.seconds(30),
                    reserved_concurrent_executions=5,
                ),
            ),
        },
    },
    "SqsConsumerCanRun": {
        "trips": {"": lambda s: sqs_consumer(s, target=reserved(s, 0))},
        "passes": {
            "Reserved": lambda s: sqs_consumer(s, target=reserved(s, 5)),
            "ZeroButDisabled": lambda s: disabled_consumer(s, reserved(s, 0)),
        },
    },
    "CdnApiCacheKeyAuthorization": {
        "trips": {
            "RestApi": lambda s: distribution(
                s, origins.RestApiOrigin(rest_api(s)), cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED
            ),
            "CustomPolicy": lambda s: distribution(
                s,
                origins.FunctionUrlOrigin.with_origin_access_control(iam_url(s)),
                cache_policy=cloudfront.CachePolicy(
                    s, "Policy", header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Accept")
                ),
            ),
        },
        "passes": {
            "Disabled": lambda s: distribution(s, origins.RestApiOrigin(rest_api(s))),
            "AuthorizationInKey": lambda s: distribution(
                s,
                origins.RestApiOrigin(rest_api(s)),
                cache_policy=cloudfront.CachePolicy(
                    s, "Policy", header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization")
                ),
            ),
        },
    },
    "CdnApiHostHeader": {
        "trips": {
            "AllViewer": lambda s: distribution(
                s,
                origins.RestApiOrigin(rest_api(s)),
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
            ),
            "CustomPolicy": lambda s: distribution(
                s,
                origins.FunctionUrlOrigin.with_origin_access_control(iam_url(s)),
                origin_request_policy=cloudfront.OriginRequestPolicy(
                    s, "Policy", header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list("Host")
                ),
            ),
        },
        "passes": {
            "ExceptHost": lambda s: distribution(s, origins.RestApiOrigin(rest_api(s))),
            "OtherOriginWithAllViewer": lambda s: distribution(
                s,
                origins.HttpOrigin("example.com"),
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
            ),
        },
    },
    "CdnFunctionUrlAuth": {
        "trips": {
            "": lambda s: distribution(
                s,
                origins.FunctionUrlOrigin(
                    function(s).add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
                ),
            )
        },
        "passes": {
            "": lambda s: distribution(s, origins.FunctionUrlOrigin.with_origin_access_control(iam_url(s))),
            "NoneNotFronted": lambda s: function(s).add_function_url(
                auth_type=lambda_.FunctionUrlAuthType.NONE
            ),
        },
    },
    "CdnNoIamAuthorizedApi": {
        "trips": {
            "": lambda s: distribution(
                s, origins.RestApiOrigin(rest_api(s, authorization=apigateway.AuthorizationType.IAM))
            ),
            "HttpApi": lambda s: http_api_behind_cdn(s, iam_route=True),
        },
        "passes": {
            "": lambda s: distribution(s, origins.RestApiOrigin(rest_api(s))),
            "HttpApi": lambda s: http_api_behind_cdn(s, iam_route=False),
            "IamNotFronted": lambda s: rest_api(s, authorization=apigateway.AuthorizationType.IAM),
        },
    },
    "FifoApiDeduplication": {
        "trips": {"": lambda s: fifo_ingest(s, content_based_deduplication=True)},
        "passes": {"": lambda s: fifo_ingest(s, content_based_deduplication=False)},
    },
    **DELIVERY_CASES,
}


def stack_name(rule: str, outcome: str, variant: str) -> str:
    return f"{rule}-{outcome}{'-' + variant if variant else ''}"


def cross_stack_consumer(app: cdk.App) -> None:
    """The queue in one stack, its consumer in another, as a stateful/stateless split has it."""
    stateful = cdk.Stack(app, "CrossStack-Queue")
    queue = sqs.Queue(stateful, "Queue", visibility_timeout=Duration.seconds(60))
    stateless = cdk.Stack(app, "CrossStack-Consumer")
    function(stateless).add_event_source(
        event_sources.SqsEventSource(queue, report_batch_item_failures=True, max_concurrency=2)
    )


def deploy_time_values(app: cdk.App) -> None:
    """A visibility timeout from a parameter and a queue imported by ARN: only deploy time knows them."""
    stack = cdk.Stack(app, "DeployTime")
    visibility = cdk.CfnParameter(stack, "Visibility", type="Number", default=10)
    queue = sqs.Queue(stack, "Queue", visibility_timeout=Duration.seconds(visibility.value_as_number))
    imported = sqs.Queue.from_queue_arn(stack, "Imported", cdk.Fn.import_value("SomeoneElsesQueueArn"))
    for id, source in (("A", queue), ("B", imported)):
        function(stack, id).add_event_source(
            event_sources.SqsEventSource(source, report_batch_item_failures=True, max_concurrency=2)
        )


def acknowledged(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Acknowledged")
    queue = sqs_consumer(stack, visibility=60)
    acknowledge(
        queue,
        "ServerlessPatterns::ServerlessPatterns-SqsVisibilityTimeout",
        "The consumer finishes in under 5 s in practice; a duplicate delivery is harmless here",
    )


# ---------------------------------------------------------------------------------------- the issue's pairs
# Each pair is built twice: environment-agnostic and with an explicit account and region. Pairs that are
# a kind of the corpus are read from its assemblies; the others are built here, as stacks
# "Pair-<name>-<env>-<working|broken>" (a nested pair's resources in a nested stack of that stack).

ENVS = {"agnostic": None, "explicit": CORPUS_ENV}
PairBuild = Callable[[Construct, bool], object]


def _sns_to_queue_on_account(scope: Construct, broken: bool) -> None:
    """The queue policy admits SNS on aws:SourceAccount (the stack's account: a literal when it has one)."""
    queue, topic = sqs.Queue(scope, "Queue"), sns.Topic(scope, "Topic")
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": "222222222222" if broken else cdk.Stack.of(scope).account
                }
            },
        )
    )
    sns.CfnSubscription(
        scope, "Subscription", topic_arn=topic.topic_arn, protocol="sqs", endpoint=queue.queue_arn
    )


def _alarm_to_topic_on_account(scope: Construct, broken: bool) -> None:
    topic = sns.Topic(scope, "Topic", enforce_ssl=True)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": "222222222222" if broken else cdk.Stack.of(scope).account
                }
            },
        )
    )
    alarm_to(scope, topic)


def _managed_key_copy(key: kms.Key) -> None:
    """The key policy of aws/sqs, copied: principals only through SQS, in the account."""
    cfn = key.node.default_child
    assert isinstance(cfn, kms.CfnKey)
    via = {
        "kms:CallerAccount": cdk.Stack.of(key).account,
        "kms:ViaService": f"sqs.{cdk.Stack.of(key).region}.amazonaws.com",
    }
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringEquals": via},
    }
    cfn.add_property_override("KeyPolicy.Statement", [statement])


def _rule_to_keyed_queue(scope: Construct, broken: bool) -> None:
    key = kms.Key(scope, "Key")
    key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
    queue = sqs.Queue(scope, "Queue", encryption_master_key=key)
    events.Rule(
        scope, "Rule", schedule=events.Schedule.rate(Duration.minutes(1)), targets=[targets.SqsQueue(queue)]
    )
    if broken:
        _managed_key_copy(key)


def _bucket_to_keyed_queue(scope: Construct, broken: bool) -> None:
    key = kms.Key(scope, "Key")
    queue = sqs.Queue(scope, "Queue", encryption_master_key=key)
    s3.Bucket(scope, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue))
    if broken:
        _managed_key_copy(key)


def _key_deny_beside_root(scope: Construct, broken: bool) -> None:
    """The default key policy delegates to the account; a Deny for the consumer's role must still win."""
    key = kms.Key(scope, "Key")
    fn = function(scope)
    queue = sqs.Queue(scope, "Queue", encryption_master_key=key, visibility_timeout=Duration.seconds(180))
    fn.add_event_source(
        event_sources.SqsEventSource(queue, report_batch_item_failures=True, max_concurrency=2)
    )
    if broken:
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="NoConsumerDecrypts",
                effect=iam.Effect.DENY,
                principals=[iam.ArnPrincipal(fn.role.role_arn)],  # type: ignore[union-attr]
                actions=["kms:Decrypt"],
                resources=["*"],
            )
        )


def _two_queue_policies(scope: Construct, broken: bool) -> None:
    """A rule's queue (aws-cdk-lib writes its policy) and one more statement: in one policy, or in a second
    QueuePolicy that replaces the first."""
    queue = sqs.Queue(scope, "Queue")
    events.Rule(
        scope, "Rule", schedule=events.Schedule.rate(Duration.minutes(1)), targets=[targets.SqsQueue(queue)]
    )
    statement = iam.PolicyStatement(
        principals=[iam.AccountRootPrincipal()],
        actions=["sqs:GetQueueAttributes"],
        resources=[queue.queue_arn],
    )
    if broken:
        sqs.QueuePolicy(scope, "Audit", queues=[queue]).document.add_statements(statement)
    else:
        queue.add_to_resource_policy(statement)


def _two_topic_policies(scope: Construct, broken: bool) -> None:
    topic = deliverable_topic(scope)
    alarm_to(scope, topic)
    statement = iam.PolicyStatement(
        principals=[iam.AccountRootPrincipal()],
        actions=["sns:GetTopicAttributes"],
        resources=[topic.topic_arn],
    )
    if broken:
        sns.TopicPolicy(scope, "Audit", topics=[topic]).document.add_statements(statement)
    else:
        topic.add_to_resource_policy(statement)


def _bucket_locked_to_a_role(scope: Construct, broken: bool) -> None:
    """A Deny with NotPrincipal: everyone but the deploy role (and, in the working twin, CloudFront)."""
    bucket = s3.Bucket(scope, "Site")
    distribution(scope, origins.S3BucketOrigin.with_origin_access_control(bucket))
    deployer = iam.Role(scope, "Deployer", assumed_by=iam.AccountRootPrincipal())
    exempt: list[iam.IPrincipal] = [deployer]
    if not broken:
        exempt.append(iam.ServicePrincipal("cloudfront.amazonaws.com"))
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyTheDeployer",
            effect=iam.Effect.DENY,
            not_principals=exempt,
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects("*")],
        )
    )


def _permission_for_an_organization(scope: Construct, broken: bool) -> None:
    """A rule's function permission conditioned on aws:PrincipalOrgID, which synth cannot know."""
    fn = function(scope)
    rule = events.CfnRule(
        scope, "Rule", schedule_expression="rate(1 minute)", targets=[{"id": "t", "arn": fn.function_arn}]
    )
    fn.add_permission(
        "FromRule",
        principal=iam.ServicePrincipal("events.amazonaws.com"),
        source_arn=rule.attr_arn,
        organization_id="o-a1b2c3d4e5" if broken else None,
    )


def _nested_alarm(scope: Construct, broken: bool) -> None:
    nested = cdk.NestedStack(scope, "Alarms")
    key = kms.Alias.from_alias_name(nested, "Managed", "alias/aws/sns") if broken else None
    alarm_to(nested, sns.Topic(nested, "Topic", master_key=key))


def _url_without_invoke_function(scope: Construct, broken: bool) -> None:
    url = iam_url(scope)
    distribution(scope, origins.FunctionUrlOrigin.with_origin_access_control(url))
    for child in scope.node.find_all():
        if broken and isinstance(child, lambda_.CfnPermission) and child.action == "lambda:InvokeFunction":
            child.add_property_override("Principal", "ec2.amazonaws.com")  # only InvokeFunctionUrl is left


#: The issue's pairs: name → (a corpus kind, or a builder here; the rule the broken twin gives, per env).
ISSUE_PAIRS: dict[str, tuple[str | PairBuild, str, str]] = {
    # Refused, with an explicit account, though correct.
    "SqsEventSourceOnKmsQueue": ("SqsEncryptedConsumer", "DeliveryEventSourceMappings", ""),
    "StreamWithSqsOnFailure": ("StreamFailureQueue", "DeliveryEventSourceMappings", ""),
    "KinesisWithSnsOnFailure": ("StreamFailureTopic", "DeliveryEventSourceMappings", ""),
    "AsyncDestinationQueue": ("DestinationQueue", "DeliveryFunctionDestinations", ""),
    "AsyncDestinationTopic": ("DestinationTopic", "DeliveryFunctionDestinations", ""),
    "ApiGatewayToKmsQueue": ("RestApiQueue", "DeliveryApiIntegrations", ""),
    "SchedulerTargetToFunction": ("ScheduleFunction", "DeliveryEventTargets", ""),
    # Undecided, though decidable.
    "QueuePolicyOnSourceAccount": (_sns_to_queue_on_account, "DeliverySubscriptions", "DeliveryUndecided"),
    "TopicPolicyOnSourceAccount": (_alarm_to_topic_on_account, "DeliveryAlarmActions", "DeliveryUndecided"),
    "PermissionWithExecuteApiArn": ("RestApiFunction", "DeliveryApiIntegrations", ""),
    "RestApiWithTwoStages": ("RestApiFunctionTwoStages", "DeliveryApiIntegrations", ""),
    "DestinationToDefaultEventBus": ("DestinationDefaultEventBus", "DeliveryFunctionDestinations", ""),
    "DestinationToBucket": ("DestinationBucket", "DeliveryFunctionDestinations", ""),
    "KinesisFanOutConsumer": ("KinesisFanOutConsumer", "DeliveryEventSourceMappings", ""),
    "ScheduleToEventBusOfTheApp": ("ScheduleEventBus", "DeliveryEventTargets", ""),
    # Passed, though broken.
    "KeyCopyingAwsSqsForSns": ("TopicEncryptedQueue", "DeliverySubscriptions", ""),
    "KeyCopyingAwsSqsForEventBridge": (_rule_to_keyed_queue, "DeliveryEventTargets", ""),
    "KeyCopyingAwsSqsForS3": (_bucket_to_keyed_queue, "DeliverySubscriptions", ""),
    "KeyDenyBesideRootDelegation": (_key_deny_beside_root, "DeliveryEventSourceMappings", ""),
    "TwoQueuePolicies": (_two_queue_policies, "DeliveryEventTargets", ""),
    "TwoTopicPolicies": (_two_topic_policies, "DeliveryAlarmActions", ""),
    "NotPrincipalBucketLock": (_bucket_locked_to_a_role, "DeliveryCloudFrontOrigins", ""),
    # A service principal is in no organization: a permission conditioned on aws:PrincipalOrgID never
    # admits EventBridge (the issue first asked for undecided; the key's availability decides it).
    "PermissionForAnOrganization": (_permission_for_an_organization, "DeliveryEventTargets", ""),
    # Never seen.
    "AlarmInNestedStackToManagedKey": (_nested_alarm, "DeliveryAlarmActions", ""),
    "S3LambdaDestination": ("BucketFunction", "DeliverySubscriptions", ""),
    "AlarmToFunction": ("AlarmFunction", "DeliveryAlarmActions", ""),
    "RuleTargetWithRole": ("RuleStateMachine", "DeliveryEventTargets", ""),
    "SnsToFirehose": ("TopicFirehose", "DeliverySubscriptions", ""),
    "RestApiToStepFunctions": ("RestApiStateMachine", "DeliveryApiIntegrations", ""),
    "RestApiToEventBridge": ("RestApiEventBus", "DeliveryApiIntegrations", ""),
    "RestApiToDynamoDb": ("RestApiTable", "DeliveryApiIntegrations", ""),
    "HttpApiToFunction": ("HttpApiFunction", "DeliveryApiIntegrations", ""),
    "HttpApiToQueue": ("HttpApiQueue", "DeliveryApiIntegrations", ""),
    "TaskInvokesFunction": ("TaskInvokeFunction", "DeliveryStateMachineTasks", ""),
    "TaskSendsToQueue": ("TaskSendMessage", "DeliveryStateMachineTasks", ""),
    "TaskPublishesToTopic": ("TaskPublish", "DeliveryStateMachineTasks", ""),
    "TaskPutsEvents": ("TaskPutEvents", "DeliveryStateMachineTasks", ""),
    "PipeQueueToQueue": ("PipeQueueToQueue", "DeliveryPipes", ""),
    "PipeWithEnrichment": ("PipeEnrichment", "DeliveryPipes", ""),
    "ScheduleToStateMachine": ("ScheduleStateMachine", "DeliveryEventTargets", ""),
    "ScheduleUniversalTarget": ("ScheduleUniversal", "DeliveryEventTargets", ""),
    "CloudFrontOai": ("OaiBucket", "DeliveryCloudFrontOrigins", ""),
    # Real defects the pack must keep finding.
    "FunctionUrlOacWithoutInvokeFunction": (_url_without_invoke_function, "DeliveryCloudFrontOrigins", ""),
    "EventTargetDeadLetterQueueWithoutPolicy": ("RuleDeadLetterQueue", "DeliveryEventTargets", ""),
    "CognitoPoolWithoutClient": ("CognitoAuthorizer", "DeliveryCognitoAuthorizers", ""),
    # Found on plain apps as teams write them (the corpus's kinds_wiring covers the edges themselves).
    "AliasOnlyPermission": (pairs.alias_only_permission, "DeliveryEventTargets", ""),
    "PrefixSource": (pairs.prefix_source_arn, "DeliverySubscriptions", ""),
    "PrefixGrant": (pairs.prefix_grant, "DeliveryEventSourceMappings", ""),
    "QueuePolicyByUrl": (pairs.queue_policy_by_url, "DeliverySubscriptions", ""),
    "AppManagedPolicy": (pairs.app_managed_policy, "DeliveryEventSourceMappings", ""),
    "UnrelatedManagedPolicy": (pairs.unrelated_managed_policy, "DeliveryEventSourceMappings", ""),
    "PermissionsBoundary": (pairs.permissions_boundary, "DeliveryEventSourceMappings", ""),
    "AwsManagedBoundary": (pairs.aws_managed_boundary, "DeliveryUndecided", ""),
    "ConditionalPermission": (pairs.conditional_permission, "DeliveryUndecided", ""),
    "ConditionalQueueKey": (pairs.conditional_queue_key, "DeliveryUndecided", ""),
    "OrganizationGuard": (pairs.organization_guard, "DeliverySubscriptions", ""),
    "RuleToLogGroup": (pairs.rule_to_log_group, "DeliveryUndecided", ""),
    "RuleToApiDestination": (pairs.rule_to_api_destination, "DeliveryEventTargets", ""),
    "MinimumTlsBucket": (pairs.minimum_tls_bucket, "DeliveryCloudFrontOrigins", ""),
    "GuessedSdkAction": (pairs.guessed_sdk_action, "DeliveryUndecided", ""),
}


def cross_account(app: cdk.App) -> None:
    """A queue (and its key) in one account, its consumer in another, with aws-cdk-lib's cross-account
    grants (the role's policy, and the queue and key policies naming the role); the broken twins lose
    the queue policy's or the key policy's statement."""
    for variant in ("working", "no-queue-policy", "no-key-grant"):
        owner = cdk.Stack(app, f"CrossAccount-{variant}-Owner", env=CORPUS_ENV)
        consumer = cdk.Stack(
            app,
            f"CrossAccount-{variant}-Consumer",
            env=cdk.Environment(account="222222222222", region="eu-west-1"),
        )
        key = kms.Key(owner, "Key")
        queue = sqs.Queue(
            owner,
            "Queue",
            queue_name=cdk.PhysicalName.GENERATE_IF_NEEDED,
            encryption_master_key=key,
            visibility_timeout=Duration.seconds(180),
        )
        role = iam.Role(
            consumer,
            "Role",
            role_name=cdk.PhysicalName.GENERATE_IF_NEEDED,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        fn = lambda_.Function(
            consumer,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
            timeout=Duration.seconds(30),
            role=role,
        )
        fn.add_event_source(
            event_sources.SqsEventSource(queue, report_batch_item_failures=True, max_concurrency=2)
        )
        if variant == "no-queue-policy":
            deny_only(queue.node.find_child("Policy"))
        if variant == "no-key-grant":
            cfn = key.node.default_child
            assert isinstance(cfn, kms.CfnKey)
            cfn.add_property_override(
                "KeyPolicy.Statement.1.Principal.AWS", "arn:aws:iam::222222222222:role/other"
            )


def pair_stack(name: str, env: str, outcome: str) -> str:
    return f"Pair-{name}-{env}-{outcome}"


def issue_pairs(app: cdk.App) -> None:
    for name, (build, _rule, _agnostic_rule) in ISSUE_PAIRS.items():
        if isinstance(build, str):
            continue
        for env, environment in ENVS.items():
            for outcome in ("working", "broken"):
                build(cdk.Stack(app, pair_stack(name, env, outcome), env=environment), outcome == "broken")


def synthesize_every_case(outdir: Path) -> None:
    """Every test stack in one App with the pack, synthesized into ``outdir``; the pack must fail it."""
    app = new_app(outdir)
    cdk.Validations.of(app).add_plugins(ServerlessPatternsChecks())
    for rule, outcomes in CASES.items():
        for outcome, variants in outcomes.items():
            for variant, build in variants.items():
                build(cdk.Stack(app, stack_name(rule, outcome, variant)))
    cross_stack_consumer(app)
    deploy_time_values(app)
    acknowledged(app)
    issue_pairs(app)
    cross_account(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """The validation report's pack entry of every case's stack (synthesized once, cached on disk)."""
    outdir = cached_assembly("checks-cases", synthesize_every_case)
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    [pack] = [r for r in reports if r["pluginName"] == "ServerlessPatterns"]
    return {"pack": pack, "outdir": outdir}


def findings_by_stack(pack: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for violation in pack["violations"]:
        for construct in violation["violatingConstructs"]:
            stack = construct["constructPath"].split("/")[0]
            found.setdefault(stack, []).append(violation["ruleName"].removeprefix("ServerlessPatterns-"))
    return found


def test_every_rule_has_cases_and_a_fix():
    assert sorted(CASES) == sorted(rule.name for rule in ALL_RULES)
    for rule in ALL_RULES:
        assert rule.id == f"ServerlessPatterns-{rule.name}"
        assert len(rule.fix) > 40, rule.name
        assert CASES[rule.name]["trips"], rule.name
        assert CASES[rule.name]["passes"], rule.name


@pytest.mark.parametrize(
    ("rule", "variant"),
    [(rule, variant) for rule, cases in CASES.items() for variant in cases["trips"]],
)
def test_trip_app_fails_synth_with_its_rule_only(report, rule, variant):
    found = findings_by_stack(report["pack"])
    assert set(found.get(stack_name(rule, "trips", variant), [])) == {rule}


@pytest.mark.parametrize(
    ("rule", "variant"),
    [(rule, variant) for rule, cases in CASES.items() for variant in cases["passes"]],
)
def test_pass_app_has_no_finding(report, rule, variant):
    assert stack_name(rule, "passes", variant) not in findings_by_stack(report["pack"])


def test_findings_name_the_construct_path_the_location_and_the_fix(report):
    [violation] = [
        v
        for v in report["pack"]["violations"]
        if v["violatingConstructs"][0]["constructPath"].startswith("SqsVisibilityTimeout-trips/")
    ]
    [construct] = violation["violatingConstructs"]
    assert construct["constructPath"] == "SqsVisibilityTimeout-trips/Queue/Resource"
    assert construct["cloudFormationResource"]["propertyPaths"] == ["Properties.VisibilityTimeout"]
    assert "20 s, under the 30 s timeout of" in violation["description"]
    assert "Lambda refuses to create the mapping" in violation["description"]
    assert "visibility_timeout" in violation["suggestedFix"]
    assert violation["severity"] == "error"
    assert report["pack"]["conclusion"] == "failure"


def _violations_of(report: dict[str, Any], stack: str) -> list[dict[str, Any]]:
    return [
        v
        for v in report["pack"]["violations"]
        if v["violatingConstructs"][0]["constructPath"].split("/")[0] == stack
    ]


def test_best_practices_that_deploy_are_warnings_and_a_mapping_lambda_refuses_an_error(report):
    """Lambda creates a mapping whose queue's visibility timeout is at least the function's: under AWS's
    6 x guidance is a warning; so is an unbounded consumer, a risk rather than a failure."""
    [guidance] = _violations_of(report, "SqsVisibilityTimeout-trips-UnderGuidance")
    assert guidance["severity"] == "warning"
    assert "179 s, under 6 x 30 s" in guidance["description"]
    assert "= 180 s" in guidance["description"]
    [unbounded] = _violations_of(report, "SqsConsumerConcurrency-trips")
    assert unbounded["severity"] == "warning"
    [refused] = _violations_of(report, "SqsVisibilityTimeout-trips")
    assert refused["severity"] == "error"


def test_the_snapstart_cloudfront_origin_is_flagged_on_the_distribution_too():
    app = new_app()
    stack = cdk.Stack(app, "Origin")
    distribution(
        stack,
        origins.FunctionUrlOrigin.with_origin_access_control(
            iam_url(stack, function(stack, snap_start=True))
        ),
    )
    templates = Templates([_stack_of(app, "Origin")])
    flagged = {(rule.name, finding.resource.type) for rule, finding in run_rules(templates)}
    assert ("SnapStartInvokedQualified", "AWS::CloudFront::Distribution") in flagged
    assert ("SnapStartInvokedQualified", "AWS::Lambda::Url") in flagged


def _stack_of(app: cdk.App, name: str) -> Stack:
    return Stack(name, f"{name}.template.json", app.synth().get_stack_by_name(name).template)


def test_references_are_followed_across_stacks(report):
    assert findings_by_stack(report["pack"]).get("CrossStack-Queue") == ["SqsVisibilityTimeout"]


def test_values_only_deploy_time_knows_are_skipped_not_guessed(report):
    """The imported queue's policies are unknown: its edge is reported as undecided (a warning), no more."""
    assert findings_by_stack(report["pack"])["DeployTime"] == ["DeliveryUndecided"]
    [undecided] = [
        v
        for v in report["pack"]["violations"]
        if v["violatingConstructs"][0]["constructPath"].startswith("DeployTime/")
    ]
    assert undecided["severity"] == "warning"
    assert "not defined in this app" in undecided["description"]


def test_an_acknowledgment_moves_the_finding_aside_with_its_reason(report):
    assert "Acknowledged" not in findings_by_stack(report["pack"])
    [suppressed] = [
        v
        for v in report["pack"]["suppressedViolations"]
        if v["violatingConstructs"][0]["constructPath"].startswith("Acknowledged/")
    ]
    assert suppressed["ruleName"] == "ServerlessPatterns-SqsVisibilityTimeout"
    assert suppressed["acknowledgedAt"] == "Acknowledged/Queue"
    assert suppressed["reason"].startswith("The consumer finishes")


def test_a_warning_severity_reports_without_failing_synth(tmp_path):
    app = new_app(tmp_path)
    cdk.Validations.of(app).add_plugins(ServerlessPatternsChecks(severity="warning"))
    sqs_consumer(cdk.Stack(app, "Warned"), report=False)
    app.synth()
    [pack] = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert pack["conclusion"] == "success"
    assert [v["severity"] for v in pack["violations"]] == ["warning"]


def test_the_pack_runs_a_subset_of_rules_and_refuses_unknown_ones():
    pack = ServerlessPatternsChecks(rules=["ServerlessPatterns-SqsVisibilityTimeout"])
    assert pack.rule_ids == ["ServerlessPatterns-SqsVisibilityTimeout"]
    assert pack.name == "ServerlessPatterns"
    with pytest.raises(ConstructsLibValidationError, match="rules: got \\['SqsVisibility'\\]"):
        ServerlessPatternsChecks(rules=["SqsVisibility"])
    with pytest.raises(ConstructsLibValidationError, match="severity"):
        ServerlessPatternsChecks(severity="fatal")


def test_the_testing_helpers_run_every_pack_and_report_findings_and_acknowledgments(tmp_path):
    def build(app: cdk.App) -> cdk.App:
        testing.checked_app(app)
        stack = cdk.Stack(app, "Team")
        queue = sqs_consumer(stack, report=False)
        acknowledge(queue, "AwsSolutions::AwsSolutions-SQS3", "A team's own queue: the DLQ is elsewhere")
        return app

    report = testing.check_policy(build, tmp_path, context=FEATURE_FLAGS)
    assert {"AwsSolutions", "Serverless", "ServerlessPatterns"} <= set(report.plugins)
    assert "ServerlessPatterns-SqsReportsBatchItemFailures" in {f.rule for f in report.findings}
    assert {"path": "/Team/Queue", "rule": "AwsSolutions::AwsSolutions-SQS3"} in [
        {k: row[k] for k in ("path", "rule")} for row in report.inventory()
    ]
    assert report.cfn_lint_findings == []


def test_the_docs_list_every_rule_and_every_checkov_check_the_samples_skip():
    """The pack's page takes its rules table from the rules at build time (tests/test_docs.py checks the
    table); the checkov checks the samples skip are listed by hand, with why."""
    assert "<!-- rules-table -->" in (REPO_ROOT / "docs" / "policy-pack.md").read_text()
    readme = (REPO_ROOT / "docs" / "guide.md").read_text()
    inventory = json.loads((REPO_ROOT / "tests" / "acknowledgments.json").read_text())
    checks = {row["rule"].removeprefix("checkov::") for rows in inventory.values() for row in rows}
    for check in sorted(c for c in checks if c.startswith("CKV_")):
        assert f"`{check}`" in readme, check


def legacy_distribution(headers: list[str], default_ttl: int | None = None) -> Templates:
    """A hand-written template: a REST API behind a behavior with legacy ForwardedValues."""
    behavior: dict[str, Any] = {
        "TargetOriginId": "api",
        "ViewerProtocolPolicy": "https-only",
        "ForwardedValues": {"QueryString": True, "Headers": headers},
    }
    if default_ttl is not None:
        behavior.update(DefaultTTL=default_ttl, MaxTTL=default_ttl, MinTTL=0)
    template = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
            "Cdn": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Origins": [
                            {
                                "Id": "api",
                                "DomainName": {
                                    "Fn::Join": ["", [{"Ref": "Api"}, ".execute-api.eu-west-1.amazonaws.com"]]
                                },
                            }
                        ],
                        "DefaultCacheBehavior": behavior,
                    }
                },
            },
        }
    }
    return Templates([Stack("Legacy", "Legacy.template.json", template)])


@pytest.mark.parametrize(
    ("headers", "default_ttl", "expected"),
    [
        ([], None, {"CdnApiCacheKeyAuthorization"}),  # CloudFront's legacy default TTL is a day
        (["Authorization"], None, set()),
        (["Host"], 0, {"CdnApiHostHeader"}),
        (["*"], None, {"CdnApiHostHeader"}),  # every header, Host too; nothing is cached
        (["Accept"], 0, set()),
    ],
)
def test_legacy_forwarded_values_are_read_too(headers, default_ttl, expected):
    found = {rule.name for rule, _finding in run_rules(legacy_distribution(headers, default_ttl))}
    assert found == expected


@pytest.mark.parametrize(
    ("rule", "variant"),
    [(rule, variant) for rule, cases in DELIVERY_CASES.items() for variant in cases["passes"]],
)
def test_each_working_edge_is_decided_deliverable_not_skipped(report, rule, variant):
    from constructs_lib.checks.rules.delivery_undecided import delivery_edges

    name = stack_name(rule, "passes", variant)
    templates = Templates.load([str(report["outdir"] / f"{name}.template.json")])
    decided = [
        e.decision.allowed for e in delivery_edges(templates) if e.family in (rule, "DeliveryAlarmActions")
    ]
    assert decided, f"{name} has no edge of {rule}: the pass would prove nothing"
    assert set(decided) == {True}


def test_a_finding_names_the_edge_the_statement_and_the_fix(report):
    [violation] = [
        v
        for v in report["pack"]["violations"]
        if v["violatingConstructs"][0]["constructPath"].startswith("DeliveryAlarmActions-trips-DenyOnly")
    ]
    assert violation["violatingConstructs"][0]["cloudFormationResource"]["propertyPaths"] == [
        "Properties.AlarmActions.0"
    ]
    description = violation["description"]
    assert "alarm /DeliveryAlarmActions-trips-DenyOnlyTopicPolicy/Alarm/Resource → " in description
    assert "→ topic /DeliveryAlarmActions-trips-DenyOnlyTopicPolicy/Topic/Resource" in description
    assert (
        "no statement of topic policy /DeliveryAlarmActions-trips-DenyOnlyTopicPolicy/Topic/Policy/Resource "
        "allows sns:Publish for cloudwatch.amazonaws.com"
    ) in description
    assert "cloudwatch.amazonaws.com" in violation["suggestedFix"]


def test_a_key_policy_conditioned_on_the_data_service_admits_the_consumer():
    """kms:ViaService is the queue's service when SQS decrypts for the consumer's role."""
    from constructs_lib.checks.rules.delivery_undecided import delivery_edges

    via = {"Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}

    def template(service: Any) -> dict[str, Any]:
        role_arn = {"Fn::GetAtt": ["Role", "Arn"]}
        read = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        return {
            "Resources": {
                "Key": {
                    "Type": "AWS::KMS::Key",
                    "Properties": {
                        "KeyPolicy": {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"AWS": role_arn},
                                    "Action": "kms:Decrypt",
                                    "Resource": "*",
                                    "Condition": {"StringEquals": {"kms:ViaService": service}},
                                }
                            ]
                        }
                    },
                },
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "Policies": [
                            {
                                "PolicyDocument": {
                                    "Statement": [
                                        {
                                            "Effect": "Allow",
                                            "Action": read,
                                            "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                                        }
                                    ]
                                }
                            }
                        ]
                    },
                },
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": role_arn}},
                "Mapping": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {
                        "FunctionName": {"Ref": "Fn"},
                        "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                    },
                },
            }
        }

    def decided(service: Any) -> bool | None:
        [edge] = delivery_edges(Templates([Stack("Via", "Via.template.json", template(service))]))
        return edge.decision.allowed

    assert decided(via) is True
    assert decided({"Fn::Join": ["", ["sns.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}) is False
    assert decided("sqs.eu-west-1.amazonaws.com") is None, "a literal region against a symbolic one"


# ---------------------------------------------------------------------------------------- the issue's pairs


@dataclass(frozen=True)
class Outcome:
    """What the pack said of one twin: the rules of its findings, their details, its edges' decisions."""

    rules: list[str]
    details: list[str]
    edges: list[bool | None]


def _built_here(report: dict[str, Any], stack: str) -> Outcome:
    found = [
        (v["ruleName"].removeprefix("ServerlessPatterns-"), v["description"])
        for v in report["pack"]["violations"]
        if v["violatingConstructs"][0]["constructPath"].split("/")[0] == stack
    ]
    from constructs_lib.checks.rules.delivery_undecided import delivery_edges

    templates = Templates.load([str(report["outdir"] / f"{stack}.template.json")])
    return Outcome(
        [r for r, _ in found], [d for _, d in found], [e.decision.allowed for e in delivery_edges(templates)]
    )


def pair_outcome(report: dict[str, Any], corpus: Any, name: str, env: str, outcome: str) -> Outcome:
    build = ISSUE_PAIRS[name][0]
    if not isinstance(build, str):
        return _built_here(report, pair_stack(name, env, outcome))
    form = corpus.form(env)
    found = (form.broken_findings if outcome == "broken" else form.correct_findings).get(build, [])
    edges = form.correct_edges.get(build, []) if outcome == "working" else []
    return Outcome([r for r, _ in found], [d for _, d in found], edges)


@pytest.mark.parametrize("env", sorted(ENVS))
@pytest.mark.parametrize("name", list(ISSUE_PAIRS))
def test_each_pair_of_the_issue_working_delivers_and_broken_gives_its_rule(report, corpus, name, env):
    _build, rule, agnostic_rule = ISSUE_PAIRS[name]
    working = pair_outcome(report, corpus, name, env, "working")
    assert working.rules == [], working.details
    assert working.edges, f"{name} has no edge: the working twin would prove nothing"
    assert set(working.edges) == {True}
    broken = pair_outcome(report, corpus, name, env, "broken")
    assert set(broken.rules) == {agnostic_rule if env == "agnostic" and agnostic_rule else rule}, (
        broken.details
    )
    for detail in broken.details:
        assert names_both_ends(detail), detail


def names_both_ends(detail: str) -> bool:
    """``<kind> /Stack/.../Resource → <target> /Stack/.../Resource``: both ends by construct path (or, for
    the account's default event bus, which no template defines, by ARN)."""
    source, arrow, target = detail.partition(" → ")
    return (
        bool(arrow) and bool(re.search(r" /\S+$", source)) and bool(re.match(r"[^/]*? (/|arn:)\S+", target))
    )


def test_a_deny_names_the_statement_that_decided(report, corpus):
    [detail] = pair_outcome(report, corpus, "KeyDenyBesideRootDelegation", "explicit", "broken").details
    assert "(Sid 'NoConsumerDecrypts') denies kms:Decrypt" in detail
    [detail] = pair_outcome(report, corpus, "NotPrincipalBucketLock", "explicit", "broken").details
    assert "(Sid 'OnlyTheDeployer') denies s3:GetObject" in detail


def test_undecided_names_what_the_pack_cannot_know(report, corpus):
    [detail] = pair_outcome(report, corpus, "QueuePolicyOnSourceAccount", "agnostic", "broken").details
    assert "aws:SourceAccount" in detail
    [detail] = pair_outcome(report, corpus, "AwsManagedBoundary", "explicit", "broken").details
    assert "its permissions boundary arn:aws:iam::aws:policy/PowerUserAccess cannot be read" in detail
    [detail] = pair_outcome(report, corpus, "GuessedSdkAction", "explicit", "broken").details
    assert "the pack takes sqs:GetQueueUrl for the sqs API getQueueUrl" in detail
    [detail] = pair_outcome(report, corpus, "RuleToLogGroup", "agnostic", "broken").details
    assert "one set outside the app may allow it" in detail


def test_a_service_principal_is_in_no_organization_and_calls_from_no_vpc(report, corpus):
    [detail] = pair_outcome(report, corpus, "PermissionForAnOrganization", "explicit", "broken").details
    assert "events.amazonaws.com does not send aws:PrincipalOrgID" in detail
    [detail] = pair_outcome(report, corpus, "OrganizationGuard", "agnostic", "broken").details
    assert "(Sid 'OnlyTheOrganization') denies sqs:SendMessage" in detail


def test_a_call_through_an_alias_is_not_the_function_s(report, corpus):
    """A permission covers the ARN it names: the function's does not admit calls through an alias, nor
    an alias's calls of the function."""
    [detail] = pair_outcome(report, corpus, "AliasOnlyPermission", "explicit", "broken").details
    assert "names it for arn:aws:lambda:eu-west-1:111111111111:function:«" in detail
    assert ":live, not arn:aws:lambda:eu-west-1:111111111111:function:«" in detail


def test_a_conditional_policy_or_value_is_undecided_and_says_so(report, corpus):
    [detail] = pair_outcome(report, corpus, "ConditionalPermission", "explicit", "broken").details
    assert re.search(
        r"cannot decide whether Lambda permission /\S+, Statement\[0\] allows lambda:InvokeFunction: its "
        r"policy exists only when the condition IsProd holds",
        detail,
    ), detail
    [detail] = pair_outcome(report, corpus, "ConditionalQueueKey", "agnostic", "broken").details
    why = detail.split("(DeliverySubscriptions): ", 1)[1]
    assert why.startswith(
        "its encryption is conditional (Fn::If on IsProd): when IsProd holds, refused (key "
    )
    assert "not defined in this app" not in why
    assert "only deploy time" not in why


def test_a_second_resource_policy_is_refused_with_the_reason(report, corpus):
    [detail] = pair_outcome(report, corpus, "TwoQueuePolicies", "explicit", "broken").details
    assert "it has 2 resource policies" in detail
    assert "the one applied last replaces the others" in detail


def test_a_key_that_admits_only_through_services_is_named_as_such(report, corpus):
    [detail] = pair_outcome(report, corpus, "KeyCopyingAwsSqsForEventBridge", "explicit", "broken").details
    assert "admits principals only through kms:CallerAccount and kms:ViaService" in detail


# ---------------------------------------------------------------------------------------- the corpus
# Environment-agnostic and explicit here; split and nested in test_corpus.py (so both workers share it).

CORPUS_FORMS = ("agnostic", "explicit")


def test_the_corpus_has_a_kind_for_every_edge_family_and_at_least_sixty():
    from constructs_lib.checks.rules.delivery_undecided import FAMILY_MODULES

    assert len(KINDS) >= 60
    assert {kind.rule for kind in KINDS.values()} == {module.FAMILY for module in FAMILY_MODULES}


@pytest.mark.parametrize("form", CORPUS_FORMS)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_correct_kind_of_the_corpus_delivers_with_no_finding(corpus, form, name):
    expect.correct_kind_delivers(corpus, form, name)


@pytest.mark.parametrize("form", CORPUS_FORMS)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_broken_twin_of_the_corpus_gives_exactly_its_rule(corpus, form, name):
    expect.broken_twin_gives_its_rule(corpus, form, name)


def test_the_explicit_form_writes_literal_accounts_the_agnostic_form_does_not(corpus):
    explicit, agnostic = corpus.form("explicit").correct, corpus.form("agnostic").correct
    assert {s.account for s in explicit.stacks.values()} == {CORPUS_ENV.account}
    assert {s.account for s in agnostic.stacks.values()} == {None}
    resources = explicit.stacks["SqsEncryptedConsumer"].template["Resources"]
    [policy] = [r["Properties"]["KeyPolicy"] for r in resources.values() if r["Type"] == "AWS::KMS::Key"]
    assert f":iam::{CORPUS_ENV.account}:root" in json.dumps(policy), (
        "the default key policy names the account"
    )


def test_the_corpus_figures(corpus, record_property):
    line = expect.figures(corpus, CORPUS_FORMS)
    record_property("figures", line)
    assert ", 0 errors, 0 undecided;" in line


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("working", []),
        ("no-queue-policy", ["DeliveryEventSourceMappings"]),
        ("no-key-grant", ["DeliveryEventSourceMappings"]),
    ],
)
def test_two_literal_accounts_are_decided_cross_account_both_sides_must_allow(report, variant, expected):
    consumer = _built_here(report, f"CrossAccount-{variant}-Consumer")
    assert consumer.rules == expected, consumer.details
    if variant == "working":
        # The pack reads both stacks; read alone, the consumer's queue is outside what was read.
        assert consumer.edges == [None]
        templates = Templates.load(
            [
                str(report["outdir"] / f"CrossAccount-{variant}-{part}.template.json")
                for part in ("Owner", "Consumer")
            ]
        )
        from constructs_lib.checks.rules.delivery_undecided import delivery_edges

        [edge] = delivery_edges(templates)
        assert (edge.decision.allowed, edge.description.split(" → ")[1]) == (
            True,
            "queue /CrossAccount-working-Owner/Queue/Resource",
        )
    elif variant == "no-queue-policy":
        [detail] = consumer.details
        assert "is in another account, and no statement of queue policy" in detail
    else:
        [detail] = consumer.details
        assert (
            "neither names role /CrossAccount-no-key-grant-Consumer/Role/Resource nor delegates to its "
            "account" in detail
        )


# ---------------------------------------------------------------------------------------- policy semantics
# One alarm → topic edge over a hand-written topic policy: each statement form AWS evaluates, decided.


def _alarm_to_policy(statement: dict[str, Any], *, account: str | None = None) -> tuple[bool | None, str]:
    from constructs_lib.checks.rules.delivery_undecided import delivery_edges

    allow = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}
    template = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Policy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "Topics": [{"Ref": "Topic"}],
                    "PolicyDocument": {"Statement": [allow, statement]},
                },
            },
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [{"Ref": "Topic"}]}},
        }
    }
    stack = Stack(
        "Semantics",
        "Semantics.template.json",
        template,
        account=account,
        region="eu-west-1" if account else None,
    )
    [edge] = delivery_edges(Templates([stack]))
    return edge.decision.allowed, edge.decision.why


DENY = {"Effect": "Deny", "Principal": "*"}
OWN = {"Ref": "AWS::AccountId"}


@pytest.mark.parametrize(
    ("statement", "allowed", "why"),
    [
        ({**DENY, "NotAction": "sns:Publish"}, True, ""),
        ({**DENY, "NotAction": "sns:Subscribe"}, False, "Statement[1] denies sns:Publish"),
        ({**DENY, "Action": "sns:*", "NotResource": "arn:aws:sns:*:*:other"}, False, "denies"),
        ({**DENY, "Action": "sns:*", "NotResource": "arn:aws:sns:*"}, True, ""),
        ({**DENY, "Action": "sns:*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}},
         None, "the condition operator DateGreaterThan"),
        ({**DENY, "Action": "sns:*", "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}},
         None, "the condition key aws:MultiFactorAuthAge"),
        # A service principal is in no organization and calls from no VPC endpoint: the Deny applies.
        ({**DENY, "Action": "sns:*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgPaths": "o-1/r-2/"}}},
         False, "denies"),
        ({**DENY, "Action": "sns:*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
         False, "denies"),
        ({**DENY, "Action": "sns:*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
         None, "the condition operator NotIpAddress"),
        ({**DENY, "Action": "sns:*", "Condition": {"StringNotEqualsIfExists": {"aws:SourceAccount": OWN}}},
         True, ""),
        ({**DENY, "Action": "sns:*", "Condition": {"Null": {"aws:SourceArn": "true"}}}, True, ""),
        ({**DENY, "Action": "sns:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, True, ""),
        ({**DENY, "NotPrincipal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:*"}, True, ""),
        ({**DENY, "NotPrincipal": {"Service": "events.amazonaws.com"}, "Action": "sns:*"}, False, "denies"),
    ],
)  # fmt: skip
def test_each_statement_form_is_evaluated_as_aws_does(statement, allowed, why):
    if "Principal" in statement and "NotPrincipal" in statement:
        statement = {k: v for k, v in statement.items() if k != "Principal"}
    decided, reason = _alarm_to_policy(statement)
    assert decided is allowed, reason
    assert why in reason


def test_a_literal_source_account_is_decided_in_a_stack_of_that_account_and_undecided_in_one_without():
    condition = {"StringNotEquals": {"aws:SourceAccount": "111111111111"}}
    statement = {**DENY, "Action": "sns:Publish", "Condition": condition}
    assert _alarm_to_policy(statement, account="111111111111")[0] is True
    assert _alarm_to_policy(statement, account="222222222222")[0] is False
    decided, why = _alarm_to_policy(statement)
    assert decided is None
    assert "aws:SourceAccount" in why


@pytest.mark.parametrize("form", CORPUS_FORMS)
def test_the_cost_model_prices_every_resource_of_the_corpus(corpus, form):
    """The cost model on the same correct apps: nothing dropped, no unknown type, no unbilled one unpriced."""
    from tests.test_apps import assert_every_resource_costed

    assert_every_resource_costed(corpus[form])


def test_a_target_the_pack_does_not_model_is_named_with_its_type():
    """A rule's target of a type the pack does not model is undecided, and says which type, once."""
    from constructs_lib.checks.rules.delivery_undecided import delivery_edges

    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    template = {
        "Resources": {
            "Project": {"Type": "AWS::CodeBuild::Project", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 hour)",
                    "Targets": [
                        {
                            "Id": "t",
                            "Arn": {"Fn::GetAtt": ["Project", "Arn"]},
                            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                        }
                    ],
                },
            },
        }
    }
    [edge] = delivery_edges(Templates([Stack("Build", "Build.template.json", template)]))
    assert edge.decision.allowed is None
    why = "Build/Project is an AWS::CodeBuild::Project, which the pack does not model as the target of this"
    assert why in edge.decision.why


def test_a_conditional_target_says_so():
    """An alarm action that is one topic or another by a condition: undecided, named as conditional."""
    from constructs_lib.checks.rules.delivery_undecided import delivery_edges

    template = {
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}},
        "Resources": {
            "Pager": {"Type": "AWS::SNS::Topic"},
            "Mail": {"Type": "AWS::SNS::Topic"},
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"AlarmActions": [{"Fn::If": ["IsProd", {"Ref": "Pager"}, {"Ref": "Mail"}]}]},
            },
        },
    }
    [edge] = delivery_edges(Templates([Stack("Alarms", "Alarms.template.json", template)]))
    assert (edge.decision.allowed, edge.decision.why) == (
        None,
        "its target is conditional (Fn::If on IsProd), so its policies cannot be read",
    )
