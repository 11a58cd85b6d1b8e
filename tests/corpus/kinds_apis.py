"""Edge kinds of API Gateway, CloudFront, SNS and S3 notifications, Step Functions, Pipes and Cognito."""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_integrations as http_integrations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .kinds import (
    Break,
    account,
    deny_only,
    drop_permissions,
    function,
    grant_only,
    key,
    kind,
    override,
    queue,
    revoke,
    revoke_roles,
)
from .kinds_events import (
    KINESIS_READ,
    SQS_READ,
    allow,
    aws_managed_queue_key,
    delivery_stream,
    state_machine,
    table,
)

APIS, ORIGINS, SUBSCRIPTIONS, TASKS, PIPES, COGNITO = (
    "DeliveryApiIntegrations",
    "DeliveryCloudFrontOrigins",
    "DeliverySubscriptions",
    "DeliveryStateMachineTasks",
    "DeliveryPipes",
    "DeliveryCognitoAuthorizers",
)
OK = [apigateway.IntegrationResponse(status_code="200")]
OK_METHOD = [apigateway.MethodResponse(status_code="200")]


def _api_role(scope: Construct) -> iam.Role:
    return iam.Role(scope, "ApiRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))


def _aws_post(api: apigateway.RestApi, integration: apigateway.Integration) -> None:
    api.root.add_method("POST", integration, method_responses=OK_METHOD)


# ---------------------------------------------------------------------------------------- REST APIs


@kind("RestApiFunction", APIS)
def _rest_function(targets_: Construct, sources_: Construct) -> Break:
    apigateway.LambdaRestApi(sources_, "Api", handler=function(targets_))
    return lambda: drop_permissions(targets_, sources_)


@kind("RestApiFunctionTwoStages", APIS)
def _rest_two_stages(targets_: Construct, sources_: Construct) -> Break:
    api = apigateway.RestApi(sources_, "Api")
    api.root.add_method(
        "GET", apigateway.LambdaIntegration(function(targets_), scope_permission_to_method=False)
    )
    apigateway.Stage(sources_, "Beta", deployment=api.latest_deployment, stage_name="beta")  # type: ignore[arg-type]

    def one_stage() -> None:
        # As scope_permission_to_method=True writes it: the deployment stage only; "beta" is refused.
        for scope in (targets_, sources_):
            for child in scope.node.find_all():
                if isinstance(child, lambda_.CfnPermission):
                    child.add_property_override("SourceArn", api.arn_for_execute_api("GET", "/", "prod"))

    return one_stage


@kind("RestApiQueue", APIS)
def _rest_queue(targets_: Construct, sources_: Construct) -> Break:
    target = queue(targets_, encryption_master_key=key(targets_))
    role = _api_role(sources_)
    target.grant_send_messages(role)
    integration = apigateway.AwsIntegration(
        service="sqs",
        path=f"{account(sources_)}/{target.queue_name}",
        integration_http_method="POST",
        options=apigateway.IntegrationOptions(
            credentials_role=role,
            request_templates={"application/json": "Action=SendMessage&MessageBody=$input.body"},
            integration_responses=OK,
        ),
    )
    _aws_post(apigateway.RestApi(sources_, "Api"), integration)
    return lambda: grant_only(role, allow(["sqs:SendMessage"], target.queue_arn))  # not the key


@kind("RestApiStateMachine", APIS)
def _rest_state_machine(targets_: Construct, sources_: Construct) -> Break:
    machine = sfn.StateMachine(
        targets_,
        "Machine",
        state_machine_type=sfn.StateMachineType.EXPRESS,
        definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(targets_, "Step")),
    )
    role = _api_role(sources_)
    integration = apigateway.StepFunctionsIntegration.start_execution(machine, credentials_role=role)
    apigateway.RestApi(sources_, "Api").root.add_method("POST", integration)
    return lambda: revoke(role)


def _rest_action(sources_: Construct, service: str, action: str, template: dict[str, object]) -> iam.Role:
    role = _api_role(sources_)
    integration = apigateway.AwsIntegration(
        service=service,
        action=action,
        integration_http_method="POST",
        options=apigateway.IntegrationOptions(
            credentials_role=role,
            request_templates={"application/json": json.dumps(template)},
            integration_responses=OK,
        ),
    )
    _aws_post(apigateway.RestApi(sources_, "Api"), integration)
    return role


@kind("RestApiEventBus", APIS)
def _rest_event_bus(targets_: Construct, sources_: Construct) -> Break:
    bus = events.EventBus(targets_, "Bus")
    entry = {
        "EventBusName": bus.event_bus_name,
        "Source": "team.orders",
        "DetailType": "order",
        "Detail": "{}",
    }
    role = _rest_action(sources_, "events", "PutEvents", {"Entries": [entry]})
    bus.grant_put_events_to(role)
    return lambda: revoke(role)


@kind("RestApiTable", APIS)
def _rest_table(targets_: Construct, sources_: Construct) -> Break:
    target = table(targets_)
    item = {"id": {"S": "$context.requestId"}}
    role = _rest_action(sources_, "dynamodb", "PutItem", {"TableName": target.table_name, "Item": item})
    target.grant_write_data(role)
    return lambda: revoke(role)


# ---------------------------------------------------------------------------------------- HTTP APIs


@kind("HttpApiFunction", APIS)
def _http_function(targets_: Construct, sources_: Construct) -> Break:
    api = apigatewayv2.HttpApi(sources_, "Http")
    api.add_routes(
        path="/orders/{id}",
        methods=[apigatewayv2.HttpMethod.GET],
        integration=http_integrations.HttpLambdaIntegration("Orders", function(targets_)),
    )
    return lambda: drop_permissions(targets_, sources_)


def _http_route(
    targets_: Construct, sources_: Construct, integration: apigatewayv2.HttpRouteIntegration
) -> Break:
    api = apigatewayv2.HttpApi(sources_, "Http")
    api.add_routes(path="/orders", methods=[apigatewayv2.HttpMethod.POST], integration=integration)
    return lambda: revoke_roles(targets_, sources_, named="InvokeRole")


@kind("HttpApiQueue", APIS)
def _http_queue(targets_: Construct, sources_: Construct) -> Break:
    return _http_route(
        targets_, sources_, http_integrations.HttpSqsIntegration("Send", queue=queue(targets_))
    )


@kind("HttpApiEventBus", APIS)
def _http_event_bus(targets_: Construct, sources_: Construct) -> Break:
    bus = events.EventBus(targets_, "Bus")
    integration = http_integrations.HttpEventBridgeIntegration("Put", event_bus_ref=bus.event_bus_ref)
    return _http_route(targets_, sources_, integration)


@kind("HttpApiStateMachine", APIS)
def _http_state_machine(targets_: Construct, sources_: Construct) -> Break:
    integration = http_integrations.HttpStepFunctionsIntegration(
        "Start", state_machine=state_machine(targets_)
    )
    return _http_route(targets_, sources_, integration)


# ---------------------------------------------------------------------------------------- CloudFront


def _distribution(scope: Construct, origin: cloudfront.IOrigin) -> cloudfront.Distribution:
    return cloudfront.Distribution(
        scope,
        "Cdn",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origin,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        ),
    )


@kind("OacBucket", ORIGINS, together=True)
def _oac_bucket(targets_: Construct, sources_: Construct) -> Break:
    bucket = s3.Bucket(targets_, "Site")
    _distribution(targets_, origins.S3BucketOrigin.with_origin_access_control(bucket))
    return lambda: deny_only(bucket.node.find_child("Policy"))


@kind("OacEncryptedBucket", ORIGINS, together=True)
def _oac_encrypted_bucket(targets_: Construct, sources_: Construct) -> Break:
    bucket = s3.Bucket(targets_, "Site", encryption=s3.BucketEncryption.KMS)
    _distribution(targets_, origins.S3BucketOrigin.with_origin_access_control(bucket))
    # SSE-KMS with aws/s3, which CloudFront can never use.
    managed = [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
    return lambda: override(bucket, "BucketEncryption.ServerSideEncryptionConfiguration", managed)


@kind("OacFunctionUrl", ORIGINS, together=True)
def _oac_function_url(targets_: Construct, sources_: Construct) -> Break:
    url = function(targets_).add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
    _distribution(targets_, origins.FunctionUrlOrigin.with_origin_access_control(url))
    return lambda: drop_permissions(targets_, sources_)


@kind("OaiBucket", ORIGINS, together=True)
def _oai_bucket(targets_: Construct, sources_: Construct) -> Break:
    bucket = s3.Bucket(targets_, "Site")
    _distribution(targets_, origins.S3BucketOrigin.with_origin_access_identity(bucket))
    return lambda: deny_only(bucket.node.find_child("Policy"))


# ---------------------------------------------------------------------------------------- subscriptions


@kind("TopicQueue", SUBSCRIPTIONS)
def _topic_queue(targets_: Construct, sources_: Construct) -> Break:
    target = queue(targets_)
    sns.Topic(sources_, "Topic").add_subscription(subscriptions.SqsSubscription(target))
    return lambda: deny_only(target.node.find_child("Policy"))


@kind("TopicEncryptedQueue", SUBSCRIPTIONS)
def _topic_encrypted_queue(targets_: Construct, sources_: Construct) -> Break:
    master_key = key(targets_)
    target = queue(targets_, encryption_master_key=master_key)
    sns.Topic(sources_, "Topic").add_subscription(subscriptions.SqsSubscription(target))
    # The AWS managed aws/sqs key's policy, copied: principals only through SQS, never SNS itself.
    via_sqs = {"kms:CallerAccount": account(targets_), "kms:ViaService": "sqs.eu-west-1.amazonaws.com"}
    managed = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringEquals": via_sqs},
    }
    return lambda: override(master_key, "KeyPolicy.Statement", [managed])


@kind("TopicFunction", SUBSCRIPTIONS)
def _topic_function(targets_: Construct, sources_: Construct) -> Break:
    sns.Topic(sources_, "Topic").add_subscription(subscriptions.LambdaSubscription(function(targets_)))
    return lambda: drop_permissions(targets_, sources_)


@kind("TopicFirehose", SUBSCRIPTIONS)
def _topic_firehose(targets_: Construct, sources_: Construct) -> Break:
    stream = delivery_stream(targets_)
    sns.Topic(sources_, "Topic").add_subscription(subscriptions.FirehoseSubscription(stream))
    return lambda: revoke_roles(targets_, sources_, named="SubscriptionRole")


@kind("BucketQueue", SUBSCRIPTIONS, together=True)
def _bucket_queue(targets_: Construct, sources_: Construct) -> Break:
    target = queue(targets_, encryption=sqs.QueueEncryption.SQS_MANAGED)
    s3.Bucket(sources_, "Uploads").add_event_notification(
        s3.EventType.OBJECT_CREATED, s3n.SqsDestination(target)
    )
    return aws_managed_queue_key(target)


@kind("BucketTopic", SUBSCRIPTIONS, together=True)
def _bucket_topic(targets_: Construct, sources_: Construct) -> Break:
    topic = sns.Topic(targets_, "Topic")
    s3.Bucket(sources_, "Uploads").add_event_notification(
        s3.EventType.OBJECT_CREATED, s3n.SnsDestination(topic)
    )
    return lambda: deny_only(topic.node.find_child("Policy"))


@kind("BucketFunction", SUBSCRIPTIONS, together=True)
def _bucket_function(targets_: Construct, sources_: Construct) -> Break:
    bucket = s3.Bucket(targets_, "Uploads")
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(function(targets_)))
    return lambda: drop_permissions(targets_, sources_)


# ---------------------------------------------------------------------------------------- Step Functions


def _task_kind(name: str, make_task: Callable[[Construct, Construct], sfn.IChainable]) -> None:
    def build(targets_: Construct, sources_: Construct) -> Break:
        task = make_task(targets_, sources_)
        machine = sfn.StateMachine(
            sources_, "Workflow", definition_body=sfn.DefinitionBody.from_chainable(task)
        )
        return lambda: revoke(machine.role)

    kind(name, TASKS)(build)


def _put_events(t: Construct, s: Construct) -> sfn.IChainable:
    entry = tasks.EventBridgePutEventsEntry(
        event_bus=events.EventBus(t, "Bus"),
        detail=sfn.TaskInput.from_object({}),
        detail_type="order",
        source="team",
    )
    return tasks.EventBridgePutEvents(s, "Put", entries=[entry])


_task_kind("TaskInvokeFunction", lambda t, s: tasks.LambdaInvoke(s, "Invoke", lambda_function=function(t)))
_task_kind(
    "TaskSendMessage",
    lambda t, s: tasks.SqsSendMessage(
        s, "Send", queue=queue(t, encryption_master_key=key(t)), message_body=sfn.TaskInput.from_text("order")
    ),
)
_task_kind(
    "TaskPublish",
    lambda t, s: tasks.SnsPublish(
        s, "Publish", topic=sns.Topic(t, "Topic"), message=sfn.TaskInput.from_text("x")
    ),
)
_task_kind("TaskPutEvents", _put_events)
_task_kind(
    "TaskStartExecution",
    lambda t, s: tasks.StepFunctionsStartExecution(s, "Start", state_machine=state_machine(t)),
)
_task_kind(
    "TaskPutItem",
    lambda t, s: tasks.DynamoPutItem(
        s, "PutItem", table=table(t), item={"id": tasks.DynamoAttributeValue.from_string("order")}
    ),
)


# ---------------------------------------------------------------------------------------- pipes


def _pipe(sources_: Construct, source: str, target: str, **props: object) -> iam.Role:
    role = iam.Role(sources_, "PipeRole", assumed_by=iam.ServicePrincipal("pipes.amazonaws.com"))
    pipes.CfnPipe(sources_, "Pipe", role_arn=role.role_arn, source=source, target=target, **props)  # type: ignore[arg-type]
    return role


@kind("PipeQueueToQueue", PIPES)
def _pipe_queue(targets_: Construct, sources_: Construct) -> Break:
    master_key = key(targets_)
    source, target = queue(targets_, "Source", encryption_master_key=master_key), queue(targets_, "Target")
    role = _pipe(sources_, source.queue_arn, target.queue_arn)
    source.grant_consume_messages(role)
    target.grant_send_messages(role)
    reads = (allow(SQS_READ, source.queue_arn), allow(["kms:Decrypt"], master_key.key_arn))
    return lambda: grant_only(role, *reads)


@kind("PipeStreamToFunction", PIPES)
def _pipe_stream(targets_: Construct, sources_: Construct) -> Break:
    source, fn = table(targets_), function(targets_)
    stream = source.table_stream_arn or ""
    parameters = {"dynamoDbStreamParameters": {"startingPosition": "LATEST"}}
    role = _pipe(sources_, stream, fn.function_arn, source_parameters=parameters)
    fn.grant_invoke(role)
    source.grant_stream_read(role)
    return lambda: grant_only(role, allow(["lambda:InvokeFunction"], fn.function_arn))


@kind("PipeKinesisToEventBus", PIPES)
def _pipe_kinesis(targets_: Construct, sources_: Construct) -> Break:
    source, bus = kinesis.Stream(targets_, "Stream"), events.EventBus(targets_, "Bus")
    parameters = {"kinesisStreamParameters": {"startingPosition": "LATEST"}}
    role = _pipe(sources_, source.stream_arn, bus.event_bus_arn, source_parameters=parameters)
    source.grant_read(role)
    bus.grant_put_events_to(role)
    return lambda: grant_only(role, allow(KINESIS_READ, source.stream_arn))


@kind("PipeEnrichment", PIPES)
def _pipe_enrichment(targets_: Construct, sources_: Construct) -> Break:
    source, enrich, topic = (
        queue(targets_, "Source"),
        function(targets_, "Enrich"),
        sns.Topic(targets_, "Topic"),
    )
    role = _pipe(sources_, source.queue_arn, topic.topic_arn, enrichment=enrich.function_arn)
    source.grant_consume_messages(role)
    topic.grant_publish(role)
    enrich.grant_invoke(role)
    return lambda: grant_only(
        role, allow(SQS_READ, source.queue_arn), allow(["sns:Publish"], topic.topic_arn)
    )


@kind("PipeToStateMachine", PIPES)
def _pipe_state_machine(targets_: Construct, sources_: Construct) -> Break:
    source, machine = queue(targets_, "Source"), state_machine(targets_)
    parameters = {"stepFunctionStateMachineParameters": {"invocationType": "FIRE_AND_FORGET"}}
    role = _pipe(sources_, source.queue_arn, machine.state_machine_arn, target_parameters=parameters)
    source.grant_consume_messages(role)
    machine.grant_start_execution(role)
    return lambda: grant_only(role, allow(SQS_READ, source.queue_arn))


# ---------------------------------------------------------------------------------------- Cognito


@kind("CognitoAuthorizer", COGNITO)
def _cognito(targets_: Construct, sources_: Construct) -> Break:
    pool = cognito.UserPool(targets_, "Users")
    pool.add_client("Web")
    authorizer = apigateway.CognitoUserPoolsAuthorizer(sources_, "Authorizer", cognito_user_pools=[pool])
    api = apigateway.RestApi(sources_, "Api")
    api.root.add_method(
        "GET",
        apigateway.MockIntegration(integration_responses=OK, request_templates={"application/json": "{}"}),
        method_responses=OK_METHOD,
        authorizer=authorizer,
    )
    return lambda: pool.node.try_remove_child("Web") and None
