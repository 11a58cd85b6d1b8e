"""Edge kinds teams wire with aws-cdk-lib in ways the first kinds did not: an alias or a version invoked,
an AWS SDK call whose IAM action is not its name, a service reached through an S3 path, a policy or
permission naming its target by name or ARN, a rule on a custom event bus, a role with a path,
dead-letter queues of subscriptions and pipes, Lambda authorizers, an OpenAPI-defined API, TableV2
streams, a key reached through its alias, and an S3 notification to an encrypted topic. (An EventBridge
API destination is a pair in ``tests/checks_pairs.py``: the cost model, which also reads the corpus, does
not price API destinations.)"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as http_authorizers
from aws_cdk import aws_apigatewayv2_integrations as http_integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as schedule_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .kinds import (
    Break,
    account,
    drop_permissions,
    function,
    grant_only,
    key,
    kind,
    override,
    queue,
    revoke,
)
from .kinds_apis import APIS, OK, OK_METHOD, PIPES, SUBSCRIPTIONS, _api_role, _pipe, _task_kind
from .kinds_events import (
    DYNAMODB_READ,
    EVENTS,
    MAPPINGS,
    SQS_READ,
    _schedule,
    _schedule_role,
    _scheduled,
    _sqs_source,
    allow,
    table,
)


def _alias(scope: Construct) -> lambda_.Alias:
    fn = function(scope)
    return lambda_.Alias(scope, "Live", alias_name="live", version=fn.current_version)


def table_v2(scope: Construct) -> dynamodb.TableV2:
    return dynamodb.TableV2(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )


def _root_statement(master_key: kms.Key) -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{cdk.Aws.PARTITION}:iam::{account(master_key)}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _root_only(master_key: kms.Key) -> Break:
    """The key policy cut back to the account's root: no service principal is named any more."""
    return lambda: override(master_key, "KeyPolicy.Statement", [_root_statement(master_key)])


# ---------------------------------------------------------------------------------------- aliases


_task_kind("TaskInvokeAlias", lambda t, s: tasks.LambdaInvoke(s, "Invoke", lambda_function=_alias(t)))


@kind("ScheduleFunctionAlias", EVENTS)
def _schedule_alias(targets_: Construct, sources_: Construct) -> Break:
    role = _schedule_role(sources_)
    return _scheduled(sources_, schedule_targets.LambdaInvoke(_alias(targets_), role=role), role)


# ---------------------------------------------------------------------------------------- SDK calls


def _sdk_invoke(t: Construct, s: Construct) -> tasks.CallAwsService:
    fn = function(t)
    return tasks.CallAwsService(
        s,
        "Invoke",
        service="lambda",
        action="invoke",
        parameters={"FunctionName": fn.function_arn, "Payload.$": "$"},
        iam_resources=[fn.function_arn],
        iam_action="lambda:InvokeFunction",  # aws-cdk-lib's own iam_action doc: not lambda:Invoke
    )


_task_kind("TaskSdkLambdaInvoke", _sdk_invoke)


@kind("ScheduleUniversalInvoke", EVENTS)
def _schedule_universal_invoke(targets_: Construct, sources_: Construct) -> Break:
    fn, role = function(targets_), _schedule_role(sources_)
    universal = schedule_targets.Universal(
        service="lambda",
        action="invoke",
        input=scheduler.ScheduleTargetInput.from_object({"FunctionName": fn.function_name}),
        policy_statements=[allow(["lambda:InvokeFunction"], fn.function_arn)],
        role=role,
    )
    _schedule(sources_, universal)
    return lambda: revoke(role)


_task_kind(
    "TaskPutItemTableV2",
    lambda t, s: tasks.DynamoPutItem(
        s, "PutItem", table=table_v2(t), item={"id": tasks.DynamoAttributeValue.from_string("order")}
    ),
)


# ---------------------------------------------------------------------------------------- API Gateway


@kind("RestApiBucket", APIS)
def _rest_bucket(targets_: Construct, sources_: Construct) -> Break:
    """A REST API that puts an object in S3 (an AWS integration with a path), as S3 proxies are built."""
    bucket, role = s3.Bucket(targets_, "Uploads"), _api_role(sources_)
    bucket.grant_put(role)
    integration = apigateway.AwsIntegration(
        service="s3",
        integration_http_method="PUT",
        path=f"{bucket.bucket_name}/{{key}}",
        options=apigateway.IntegrationOptions(
            credentials_role=role,
            request_parameters={"integration.request.path.key": "method.request.path.key"},
            integration_responses=OK,
        ),
    )
    api = apigateway.RestApi(sources_, "Api")
    api.root.add_resource("{key}").add_method(
        "PUT", integration, request_parameters={"method.request.path.key": True}, method_responses=OK_METHOD
    )
    return lambda: revoke(role)


def _mocked(api: apigateway.RestApi, authorizer: apigateway.IAuthorizer) -> None:
    api.root.add_method(
        "GET",
        apigateway.MockIntegration(integration_responses=OK, request_templates={"application/json": "{}"}),
        method_responses=OK_METHOD,
        authorizer=authorizer,
    )


@kind("RestApiTokenAuthorizer", APIS, together=True)
def _token_authorizer(targets_: Construct, sources_: Construct) -> Break:
    authorizer = apigateway.TokenAuthorizer(sources_, "Authorizer", handler=function(targets_, "Authorize"))
    _mocked(apigateway.RestApi(sources_, "Api"), authorizer)
    return lambda: drop_permissions(targets_, sources_)


@kind("HttpApiLambdaAuthorizer", APIS, together=True)
def _http_authorizer(targets_: Construct, sources_: Construct) -> Break:
    authorizer = http_authorizers.HttpLambdaAuthorizer(
        "Authorizer",
        function(targets_, "Authorize"),
        response_types=[http_authorizers.HttpLambdaResponseType.SIMPLE],
    )
    apigatewayv2.HttpApi(sources_, "Http").add_routes(
        path="/orders",
        methods=[apigatewayv2.HttpMethod.GET],
        integration=http_integrations.HttpUrlIntegration("Upstream", "https://example.com/orders"),
        authorizer=authorizer,
    )
    return lambda: drop_permissions(targets_, sources_)


@kind("SpecRestApiFunction", APIS, together=True)
def _spec_rest_api(targets_: Construct, sources_: Construct) -> Break:
    """An API from an inline OpenAPI document, whose Lambda integration is its
    ``x-amazon-apigateway-integration``."""
    fn = function(targets_)
    uri = (
        f"arn:{cdk.Aws.PARTITION}:apigateway:{cdk.Aws.REGION}:lambda:path/2015-03-31/functions/"
        f"{fn.function_arn}/invocations"
    )
    operation = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": uri}}
    document = {
        "openapi": "3.0.1",
        "info": {"title": "orders", "version": "1"},
        "paths": {"/orders": {"get": operation}},
    }
    api = apigateway.SpecRestApi(
        sources_, "Api", api_definition=apigateway.ApiDefinition.from_inline(document)
    )
    fn.add_permission(
        "Api",
        principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
        source_arn=api.arn_for_execute_api("GET", "/orders", "prod"),
    )
    return lambda: drop_permissions(targets_, sources_)


# ---------------------------------------------------------------------------------------- by name or ARN


@kind("TopicFunctionByArn", SUBSCRIPTIONS)
def _function_by_arn(targets_: Construct, sources_: Construct) -> Break:
    """A function of another stack subscribed by its ARN, written out (no export between the stacks)."""
    function(targets_, function_name="corpus-orders")
    stack = cdk.Stack.of(sources_)
    arn = f"arn:aws:lambda:{stack.region}:{stack.account}:function:corpus-orders"
    imported = lambda_.Function.from_function_attributes(
        sources_, "Orders", function_arn=arn, same_environment=True
    )
    sns.Topic(sources_, "Topic").add_subscription(subscriptions.LambdaSubscription(imported))
    return lambda: drop_permissions(targets_, sources_)


@kind("ConsumerPolicyByRoleName", MAPPINGS)
def _policy_by_role_name(targets_: Construct, sources_: Construct) -> Break:
    """A consumer's grant in another stack's policy, attached to its role by name."""
    role = iam.Role(
        targets_,
        "Consumer",
        role_name="corpus-consumer",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
    )
    target = queue(targets_)
    lambda_.EventSourceMapping(
        targets_,
        "Mapping",
        target=function(targets_, role=role),
        event_source_arn=target.queue_arn,
        report_batch_item_failures=True,
        max_concurrency=2,
    )
    named = iam.Role.from_role_name(sources_, "Named", "corpus-consumer")
    policy = iam.Policy(sources_, "Consume", roles=[named], statements=[allow(SQS_READ, "*")])
    nothing = [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]
    return lambda: override(policy, "PolicyDocument.Statement", nothing)


@kind("TopicQueueInlinePolicy", SUBSCRIPTIONS, together=True)
def _queue_inline_policy(targets_: Construct, sources_: Construct) -> Break:
    topic, target = sns.Topic(sources_, "Topic"), sqs.CfnQueue(targets_, "Queue")
    allow_sns = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": target.attr_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
    }
    policy = sqs.CfnQueueInlinePolicy(
        targets_,
        "Policy",
        queue=target.ref,
        policy_document={"Version": "2012-10-17", "Statement": [allow_sns]},
    )
    sns.Subscription(
        sources_, "Subscription", topic=topic, endpoint=target.attr_arn, protocol=sns.SubscriptionProtocol.SQS
    )
    return lambda: policy.add_property_override(
        "PolicyDocument.Statement.0.Principal.Service", "events.amazonaws.com"
    )


@kind("RuleOnCustomBus", EVENTS, together=True)
def _rule_on_custom_bus(targets_: Construct, sources_: Construct) -> Break:
    """A rule on a custom bus: its ARN is rule/<bus>/<rule>, which the queue policy aws-cdk-lib writes
    matches; a policy that names rule/<rule> does not."""
    bus, target = events.EventBus(targets_, "Bus", event_bus_name="corpus-orders"), queue(targets_)
    events.Rule(
        sources_,
        "Rule",
        event_bus=bus,
        rule_name="corpus-to-queue",
        event_pattern=events.EventPattern(source=["team.orders"]),
        targets=[targets.SqsQueue(target)],
    )
    stack = cdk.Stack.of(sources_)
    default_bus_arn = f"arn:{cdk.Aws.PARTITION}:events:{stack.region}:{stack.account}:rule/corpus-to-queue"
    path = "PolicyDocument.Statement.0.Condition.ArnEquals.aws:SourceArn"
    return lambda: override(target.node.find_child("Policy"), path, default_bus_arn)


@kind("ConsumerRoleWithPath", MAPPINGS)
def _role_with_path(targets_: Construct, sources_: Construct) -> Break:
    """The queue admits only its consumer's role, named by ARN, path included."""
    role = iam.Role(
        sources_,
        "Consumer",
        role_name="corpus-path-consumer",
        path="/app/",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
    )
    target = queue(targets_)
    function(sources_, role=role).add_event_source(_sqs_source(target))
    stack = cdk.Stack.of(sources_)
    arn = f"arn:{cdk.Aws.PARTITION}:iam::{stack.account}:role/app/corpus-path-consumer"
    target.add_to_resource_policy(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sqs:ReceiveMessage"],
            resources=[target.queue_arn],
            conditions={"StringNotEquals": {"aws:PrincipalArn": arn}},
        )
    )
    path = "PolicyDocument.Statement.0.Condition.StringNotEquals.aws:PrincipalArn"
    return lambda: override(target.node.find_child("Policy"), path, arn.replace("/app/", "/"))


# ---------------------------------------------------------------------------------------- dead letters


@kind("SubscriptionDeadLetterQueue", SUBSCRIPTIONS, together=True)
def _subscription_dead_letter(targets_: Construct, sources_: Construct) -> Break:
    """aws-cdk-lib writes the dead-letter queue's policy; the key it leaves to the team."""
    topic, master_key = sns.Topic(sources_, "Topic"), key(targets_)
    dead_letters = queue(targets_, "DeadLetters", encryption_master_key=master_key)
    topic.add_subscription(subscriptions.SqsSubscription(queue(targets_), dead_letter_queue=dead_letters))
    master_key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            resources=["*"],
            conditions={"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
        )
    )
    return _root_only(master_key)


@kind("PipeStreamDeadLetter", PIPES)
def _pipe_dead_letter(targets_: Construct, sources_: Construct) -> Break:
    source, bus = table(targets_), events.EventBus(targets_, "Bus")
    dead_letters = queue(targets_, "DeadLetters", encryption_master_key=key(targets_))
    stream = source.table_stream_arn or ""
    parameters = {
        "dynamoDbStreamParameters": {
            "startingPosition": "LATEST",
            "deadLetterConfig": {"arn": dead_letters.queue_arn},
        }
    }
    role = _pipe(sources_, stream, bus.event_bus_arn, source_parameters=parameters)
    source.grant_stream_read(role)
    bus.grant_put_events_to(role)
    dead_letters.grant_send_messages(role)
    reads = (allow(DYNAMODB_READ, stream), allow(["events:PutEvents"], bus.event_bus_arn))
    return lambda: grant_only(role, *reads)


# ---------------------------------------------------------------------------------------- streams and keys


@kind("TableV2StreamConsumer", MAPPINGS)
def _table_v2_stream(targets_: Construct, sources_: Construct) -> Break:
    fn = function(sources_)
    fn.add_event_source(
        sources.DynamoEventSource(table_v2(targets_), starting_position=lambda_.StartingPosition.LATEST)
    )
    return lambda: revoke(fn.role)


@kind("SqsConsumerAliasKey", MAPPINGS)
def _alias_key(targets_: Construct, sources_: Construct) -> Break:
    """A queue encrypted through a kms.Alias of the app's key (its key ARN is the alias's ARN)."""
    alias = kms.Alias(targets_, "Alias", alias_name="alias/corpus-orders", target_key=key(targets_))
    fn, target = function(sources_), queue(targets_, encryption_master_key=alias)
    fn.add_event_source(_sqs_source(target))
    return lambda: grant_only(fn.role, allow(SQS_READ, target.queue_arn))  # not the key


@kind("BucketEncryptedTopic", SUBSCRIPTIONS, together=True)
def _bucket_encrypted_topic(targets_: Construct, sources_: Construct) -> Break:
    """S3 → an SNS topic on a customer key whose policy admits S3 for this bucket and account only (the
    team's hardened key policy, in place of aws-cdk-lib's unconditioned grant)."""
    master_key = key(targets_)
    topic = sns.Topic(targets_, "Topic", master_key=master_key)
    bucket = s3.Bucket(sources_, "Uploads")
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SnsDestination(topic))
    root = _root_statement(master_key)
    for_this_bucket = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account(targets_)},
            "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
        },
    }
    override(master_key, "KeyPolicy.Statement", [root, for_this_bucket])
    return _root_only(master_key)
