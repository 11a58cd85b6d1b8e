"""Queue-buffered ingest: API Gateway enqueues straight into SQS; a Lambda consumer drains the queue.

The synchronous edge (a REST API with a direct SQS integration, no Lambda on the request path) scales
with requests. The consumer runs through an event source mapping at a bounded concurrency, reports
partial batch failures, and poison messages move to a dead-letter queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ._core import (
    LOG_GROUP_KMS_REASON,
    Problems,
    acknowledge,
    cdk_warning,
    check_types,
    child_path,
    given_props,
    is_unresolved,
    merge_props,
    or_default,
    reserved_concurrency,
    seconds,
    threshold_alarm,
    timeout_seconds,
    underlying_function,
    unqualified_snapstart_fix,
    visible_signature,
    wire_alarms,
)
from ._core.json_schema import JSON_SCHEMA_DRAFT_4, json_schema, schema_problems
from ._core.regions import environment_mismatch

__all__ = ["ApiAuthorization", "QueueBufferedIngest"]

#: AWS guidance: visibility timeout >= 6 x the consumer's timeout (+ the batching window).
VISIBILITY_TIMEOUT_FACTOR = 6
DEFAULT_PATH = "messages"
DEFAULT_STAGE_NAME = "prod"
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_BATCH_SIZE = 10
DEFAULT_MAX_CONCURRENCY = 5
DEFAULT_THROTTLING_RATE_LIMIT = 100.0
DEFAULT_THROTTLING_BURST_LIMIT = 200
DEFAULT_ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_MAX_MESSAGE_AGE = Duration.minutes(5)
DEFAULT_MESSAGE_GROUP_ID_HEADER = "X-Message-Group-Id"
MESSAGE_DEDUPLICATION_ID_HEADER = "X-Message-Deduplication-Id"
DEFAULT_MESSAGE_SCHEMA: Mapping[str, Any] = {"type": "object"}

#: Default API names (stack + construct path + hash) are kept this short, for consoles and dimensions.
API_NAME_MAX_LENGTH = 128
_MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 60 * 60
_MAX_BATCHING_WINDOW_SECONDS = 300
_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
#: EventSourceMapping settings for streams and Kafka only; an SQS mapping with any of them fails at deploy.
_NOT_FOR_SQS_MAPPINGS = (
    "bisect_batch_on_error",
    "kafka_bootstrap_servers",
    "kafka_consumer_group_id",
    "kafka_topic",
    "max_record_age",
    "on_failure",
    "parallelization_factor",
    "retry_attempts",
    "schema_registry_config",
    "source_access_configurations",
    "starting_position",
    "starting_position_timestamp",
    "support_s3_on_failure_destination",
    "tumbling_window",
)
_QUEUE_SECURITY_DEFAULTS = ("encryption", "encryption_master_key", "enforce_ssl", "data_key_reuse")


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
    def authorizer_of(
        authorizer: apigateway.IAuthorizer, *, scopes: tuple[str, ...] | None = None
    ) -> ApiAuthorization:
        """A Cognito user-pool or Lambda (token/request) authorizer; ``scopes`` for Cognito OAuth scopes."""
        kind = authorizer.authorization_type or apigateway.AuthorizationType.CUSTOM
        return ApiAuthorization(authorization_type=kind, authorizer=authorizer, scopes=tuple(scopes or ()))

    @staticmethod
    def none(*, reason: str) -> ApiAuthorization:
        """An open endpoint. ``reason`` is recorded as the acknowledgment of the cdk-nag findings."""
        return ApiAuthorization(authorization_type=apigateway.AuthorizationType.NONE, open_reason=reason)


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """Every prop checked and resolved, and every escape hatch merged: what the builders need."""

    problems: Problems
    consumer: lambda_.IFunction
    existing_queue: sqs.Queue | None
    path_parts: tuple[str, ...]
    schema: dict[str, Any]
    authorization: ApiAuthorization
    stage_name: str
    throttling_rate_limit: float
    throttling_burst_limit: int
    access_log_retention: logs.RetentionDays
    web_acl_arn: str | None
    fifo: bool
    message_group_id_header: str
    content_based_deduplication: bool
    max_receive_count: int
    visibility_timeout: Duration | None
    batch_size: int
    max_batching_window: Duration | None
    max_concurrency: int
    max_message_age: Duration
    alarm_topic: sns.ITopic | None
    queue_kwargs: dict[str, Any]
    dead_letter_queue_kwargs: dict[str, Any]
    api_kwargs: dict[str, Any]
    event_source_mapping_kwargs: dict[str, Any]


@visible_signature
class QueueBufferedIngest(Construct):
    """``POST <path>`` on a REST API enqueues the request body into SQS; ``consumer`` drains the queue.

    Defines a REGIONAL REST API with a direct SQS integration, a KMS-encrypted, TLS-only queue with a
    dead-letter queue, an event source mapping to ``consumer`` with partial batch responses on, and
    alarms on the DLQ, message age, consumer errors and API 5xx. ``None`` for any optional prop means
    its default.

    Args:
        consumer: The function that processes messages: a Function, a Version or an Alias. A function
            with SnapStart must be passed as its alias or a version.
        path: Resource path of the POST method. Default: ``"messages"``.
        message_schema: JSON Schema (draft 4) that request bodies must match, else 400. Default: any
            JSON object.
        authorization: Who may call the API. Default: ``ApiAuthorization.iam()``.
        stage_name: API stage name. Default: ``"prod"``.
        throttling_rate_limit: Stage steady-state requests per second. Default: 100.
        throttling_burst_limit: Stage burst capacity. Default: 200.
        access_log_retention: Retention of the API's JSON access logs. Default: one month.
        web_acl_arn: ARN of a REGIONAL WAFv2 web ACL to associate with the stage. Default: none (the
            API is protected by its authorization, request validation and stage throttling).
        fifo: Build FIFO queues; the message group id comes from ``message_group_id_header``.
            Default: False.
        message_group_id_header: Request header carrying the FIFO message group id (required on every
            request when ``fifo``; matched in any case). Default: ``"X-Message-Group-Id"``.
        content_based_deduplication: FIFO only. Let SQS deduplicate messages by a hash of the body when
            the client sends no ``X-Message-Deduplication-Id``. Trade-off: two distinct requests with
            byte-identical bodies within 5 minutes then become one message, and both are answered 202.
            Default: False (the deduplication id is the header when sent, else API Gateway's request
            id, so distinct requests are never merged).
        encryption_key: Customer-managed KMS key for both queues; the API role gets the grants it
            needs. Default: the AWS-managed key ``alias/aws/sqs``.
        existing_queue: A queue defined in this app (for example in a stateful stack) with its
            ``dead_letter_queue``, used instead of creating both. Its visibility timeout must still be
            6 x the consumer's timeout (+ the batching window); FIFO and deduplication follow the queue,
            and the queue props of this construct (``queue_props``, ``dead_letter_queue_props``,
            ``encryption_key``, ``max_receive_count``, ``visibility_timeout``, ``fifo``,
            ``content_based_deduplication``) are refused with it. Default: new queues.
        max_receive_count: Receives before a message moves to the DLQ. Default: 5.
        visibility_timeout: Queue visibility timeout. Default: 6 x the consumer's timeout plus the
            batching window; a smaller value is an error.
        batch_size: Records per consumer invocation. Default: 10.
        max_batching_window: How long to gather records before invoking. Default: none.
        max_concurrency: Most concurrent consumer invocations from this queue (2..1000). Default: 5.
        max_message_age: Alarm when the oldest message is older than this. Default: 5 minutes.
        alarm_topic: SNS topic for every alarm's ALARM and OK actions. Default: no actions.
        queue_props: Extra settings of the main queue: an ``sqs.QueueProps`` or a dict of its keyword
            arguments. Default: none.
        dead_letter_queue_props: Extra settings of the DLQ, in the same forms. Default: none.
        api_props: Extra ``apigateway.RestApiProps`` (or a dict of them). Default: none. The API's name
            defaults to one unique to this stack and construct path, because API Gateway publishes
            metrics by name; ``rest_api_name`` here wins. The account-level CloudWatch role for execution
            logging is created once per stack (by the first ingest API in it); pass
            ``{"cloud_watch_role": False}`` where the account already has one.
        event_source_mapping_props: Extra ``lambda_.EventSourceMappingOptions`` (or a dict of them).
            Default: none.

    Raises:
        ConstructsLibValidationError: listing every invalid prop at once; nothing is created then.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        consumer: lambda_.IFunction,
        path: str | None = None,
        message_schema: Mapping[str, Any] | None = None,
        authorization: ApiAuthorization | None = None,
        stage_name: str | None = None,
        throttling_rate_limit: float | None = None,
        throttling_burst_limit: int | None = None,
        access_log_retention: logs.RetentionDays | None = None,
        web_acl_arn: str | None = None,
        fifo: bool | None = None,
        message_group_id_header: str | None = None,
        content_based_deduplication: bool | None = None,
        encryption_key: kms.IKey | None = None,
        existing_queue: sqs.Queue | None = None,
        max_receive_count: int | None = None,
        visibility_timeout: Duration | None = None,
        batch_size: int | None = None,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        max_message_age: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
        queue_props: sqs.QueueProps | Mapping[str, Any] | None = None,
        dead_letter_queue_props: sqs.QueueProps | Mapping[str, Any] | None = None,
        api_props: apigateway.RestApiProps | Mapping[str, Any] | None = None,
        event_source_mapping_props: lambda_.EventSourceMappingOptions | Mapping[str, Any] | None = None,
    ) -> None:
        plan = _plan(scope, child_path(scope, id), given_props(locals()))
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self.consumer = consumer
        self._build_queues(plan)
        self._build_api_role()
        self._build_api(plan)
        self.method = self._build_post_method(plan)
        self.url: str = self.api.url_for_path("/" + "/".join(plan.path_parts))
        self._build_event_source_mapping(plan)
        self.alarms: list[cloudwatch.Alarm] = self._build_alarms(plan)
        wire_alarms(self.alarms, plan.alarm_topic)

    # ----------------------------------------------------------------------------------- public API

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send messages to the queue directly (KMS grants included)."""
        return self.queue.grant_send_messages(grantee)

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` move DLQ messages back to the queue with an SQS message-move task."""
        grant = self.dead_letter_queue.grant_consume_messages(grantee)
        grant = grant.combine(
            self.dead_letter_queue.grant(
                grantee,
                "sqs:StartMessageMoveTask",
                "sqs:CancelMessageMoveTask",
                "sqs:ListMessageMoveTasks",
            )
        )
        return grant.combine(self.queue.grant_send_messages(grantee))

    def metric_approximate_age_of_oldest_message(
        self, *, period: Duration | None = None, statistic: str | None = None
    ) -> cloudwatch.Metric:
        """Age of the oldest message in the queue. Default: maximum over 1 minute."""
        return self.queue.metric_approximate_age_of_oldest_message(
            period=period or Duration.minutes(1), statistic=statistic or "Maximum"
        )

    def metric_api(
        self, metric_name: str, *, statistic: str | None = None, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """An API Gateway metric of this API's stage, by ``ApiName`` and ``Stage``.

        API Gateway publishes REST API metrics by name, not id; the construct names each API uniquely,
        so these never add up another API's requests. Default: sum over 5 minutes.
        """
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=metric_name,
            dimensions_map={"ApiName": self.api.rest_api_name, "Stage": self.api.deployment_stage.stage_name},
            statistic=statistic or "Sum",
            period=period or Duration.minutes(5),
        )

    def metric_api_server_errors(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests this API answered 5xx. Default: sum over 5 minutes."""
        return self.metric_api("5XXError", period=period)

    def metric_api_client_errors(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests this API answered 4xx (bad bodies, wrong content types, refused messages)."""
        return self.metric_api("4XXError", period=period)

    def metric_api_requests(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests to this API. Default: sum over 5 minutes."""
        return self.metric_api("Count", period=period)

    def metric_consumer_errors(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Failed invocations of the consumer. Default: sum over 5 minutes."""
        return self.consumer.metric_errors(period=period or Duration.minutes(5), statistic="Sum")

    def metric_consumer_concurrency(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Concurrent executions of the consumer's function. Default: maximum over 1 minute."""
        return underlying_function(self.consumer).metric(
            "ConcurrentExecutions", period=period or Duration.minutes(1), statistic="Maximum"
        )

    def metric_dead_letter_queue_messages(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Visible messages in the DLQ. Default: maximum over 1 minute."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=period or Duration.minutes(1), statistic="Maximum"
        )

    # ----------------------------------------------------------------------------------- building

    def _build_queues(self, plan: _Plan) -> None:
        self.queue: sqs.IQueue
        self.dead_letter_queue: sqs.IQueue
        self.encryption_key: kms.IKey | None
        if plan.existing_queue is not None:
            assert plan.existing_queue.dead_letter_queue is not None
            self.queue = plan.existing_queue
            self.dead_letter_queue = plan.existing_queue.dead_letter_queue.queue
            self.encryption_key = self.queue.encryption_master_key
            return
        self.dead_letter_queue = sqs.Queue(self, "DeadLetterQueue", **plan.dead_letter_queue_kwargs)
        acknowledge(
            self.dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This is the terminal dead-letter queue of the ingest queue; a DLQ of a DLQ would only move "
            "the problem, and an alarm fires on its first visible message instead",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=plan.visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=plan.max_receive_count, queue=self.dead_letter_queue
            ),
            **plan.queue_kwargs,
        )
        self.encryption_key = self.queue.encryption_master_key
        if plan.content_based_deduplication:
            # The user's documented opt-in (the trade-off is in the docstring): the pack's rule honours it.
            acknowledge(
                self.queue,
                "ServerlessPatterns::ServerlessPatterns-FifoApiDeduplication",
                "content_based_deduplication=True was chosen: requests with byte-identical bodies within 5 "
                "minutes are meant to become one message",
            )

    def _build_api_role(self) -> None:
        self.api_role = iam.Role(
            self,
            "ApiRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets the ingest API send messages to its queue",
        )
        self.api_role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
        )
        if self.encryption_key is not None:
            self.api_role.add_to_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[self.encryption_key.key_arn],
                )
            )

    def _build_api(self, plan: _Plan) -> None:
        self.access_log_group = logs.LogGroup(self, "AccessLogs", retention=plan.access_log_retention)
        api_kwargs = dict(plan.api_kwargs)
        api_kwargs.setdefault(
            "rest_api_name", Names.unique_resource_name(self, max_length=API_NAME_MAX_LENGTH)
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            deploy=True,
            deploy_options=apigateway.StageOptions(
                stage_name=plan.stage_name,
                throttling_rate_limit=plan.throttling_rate_limit,
                throttling_burst_limit=plan.throttling_burst_limit,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
            **api_kwargs,
        )
        role = self.api.node.try_find_child("CloudWatchRole")
        if plan.api_kwargs.get("cloud_watch_role") and role is not None:
            acknowledge(
                role,
                "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-level logging role must be able to write to any log group the "
                "account's APIs log to; AWS maintains this service-role policy for exactly that",
            )
        # The construct creates this log group without a customer managed key, always.
        acknowledge(self.access_log_group, "checkov::CKV_AWS_158", LOG_GROUP_KMS_REASON)
        acknowledge(
            self.api.deployment_stage,
            "checkov::CKV_AWS_120",
            "The API only takes POSTs that enqueue a message, and API Gateway never caches POST responses; "
            "a cache cluster would cost money and serve nothing",
        )
        self._protect_stage(plan.web_acl_arn)
        self._add_gateway_responses()

    def _protect_stage(self, web_acl_arn: str | None) -> None:
        stage = self.api.deployment_stage
        if web_acl_arn is not None:
            wafv2.CfnWebACLAssociation(
                self, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=web_acl_arn
            )
            return
        acknowledge(
            stage,
            "AwsSolutions::AwsSolutions-APIG3",
            "No web_acl_arn was given: the stage relies on its authorization, JSON-schema request "
            "validation and stage throttling; pass web_acl_arn to attach a regional WAFv2 web ACL",
        )

    def _add_gateway_responses(self) -> None:
        """Answer validation failures with a JSON body and the request id to look them up by.

        Gateway-response templates only substitute variables (no VTL, no escaping), so the validator's
        detailed message, which contains quotes, cannot be embedded safely; ``messageString`` is quoted.
        """
        body = '{"message": $context.error.messageString, "requestId": "$context.requestId"}'
        for name, kind in (
            ("BadRequestBody", apigateway.ResponseType.BAD_REQUEST_BODY),
            ("BadRequestParameters", apigateway.ResponseType.BAD_REQUEST_PARAMETERS),
        ):
            self.api.add_gateway_response(
                name, type=kind, status_code="400", templates={"application/json": body}
            )

    def _build_post_method(self, plan: _Plan) -> apigateway.Method:
        resource = self.api.root
        for part in plan.path_parts:
            resource = resource.add_resource(part)
        integration = apigateway.AwsIntegration(
            service="sqs",
            path=f"{Stack.of(self).account}/{self.queue.queue_name}",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=self.api_role,
                passthrough_behavior=apigateway.PassthroughBehavior.NEVER,
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
                    # SQS answers its query API in JSON when asked, which the 202 template reads.
                    "integration.request.header.Accept": "'application/json'",
                },
                request_templates={
                    "application/json": _send_message_template(
                        fifo=plan.fifo,
                        message_group_id_header=plan.message_group_id_header,
                        content_based_deduplication=plan.content_based_deduplication,
                    )
                },
                integration_responses=_integration_responses(),
            ),
        )
        model = self.api.add_model(
            "MessageModel",
            content_type="application/json",
            schema=json_schema(_model_schema(plan.schema)),
            description="Request bodies must match this schema before they are queued",
        )
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        authorization = plan.authorization
        method = resource.add_method(
            "POST",
            integration,
            authorization_type=authorization.authorization_type,
            authorizer=authorization.authorizer,
            authorization_scopes=list(authorization.scopes) or None,
            request_models={"application/json": model},
            request_validator=validator,
            request_parameters=(
                {f"method.request.header.{plan.message_group_id_header}": True} if plan.fifo else None
            ),
            method_responses=[
                apigateway.MethodResponse(
                    status_code=code,
                    response_parameters={"method.response.header.Retry-After": False}
                    if code == "503"
                    else None,
                )
                for code in ("202", "400", "413", "500", "502", "503")
            ],
        )
        self._acknowledge_authorization(method, authorization)
        return method

    def _acknowledge_authorization(self, method: apigateway.Method, authorization: ApiAuthorization) -> None:
        kind = authorization.authorization_type
        if kind == apigateway.AuthorizationType.COGNITO:
            return
        if kind == apigateway.AuthorizationType.NONE:
            reason = f"Open endpoint requested explicitly: {authorization.open_reason}"
            acknowledge(method, "AwsSolutions::AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions::AwsSolutions-COG4", reason)
            return
        reason = {
            apigateway.AuthorizationType.IAM: "Callers authenticate with SigV4 and are authorized by IAM "
            "policy (ApiAuthorization.iam()); a Cognito user pool is not required for service producers",
            apigateway.AuthorizationType.CUSTOM: "Callers are authorized by the Lambda authorizer passed in "
            "ApiAuthorization.authorizer_of(); a Cognito user pool is not required",
        }[kind]
        acknowledge(method, "AwsSolutions::AwsSolutions-COG4", reason)

    def _build_event_source_mapping(self, plan: _Plan) -> None:
        consumer = plan.consumer
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=consumer,
            event_source_arn=self.queue.queue_arn,
            batch_size=plan.batch_size,
            max_batching_window=plan.max_batching_window,
            max_concurrency=plan.max_concurrency,
            **plan.event_source_mapping_kwargs,
        )
        if underlying_function(consumer).role is not None:
            grant = self.queue.grant_consume_messages(consumer)
            # The mapping is only valid once the consumer may read the queue.
            grant.apply_before(self.event_source_mapping)
        else:
            cdk_warning(
                self,
                "consumerRoleUnknown",
                f"consumer '{consumer.node.path}' was imported without its role, so the construct cannot "
                "grant it sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility/GetQueueAttributes on "
                "the queue; grant them to its execution role, or import it with "
                "Function.from_function_attributes(role=...)",
            )
        acknowledge(
            self.event_source_mapping,
            "Serverless::Serverless-LambdaEventSourceMappingDestination",
            "SQS event source mappings do not support on-failure destinations; failed messages move to "
            "the queue's redrive dead-letter queue after max_receive_count receives",
        )

    def _build_alarms(self, plan: _Plan) -> list[cloudwatch.Alarm]:
        return [
            threshold_alarm(
                self,
                "DeadLetterQueueNotEmptyAlarm",
                self.metric_dead_letter_queue_messages(),
                threshold=1,
                description="Messages failed processing max_receive_count times and reached the DLQ",
            ),
            threshold_alarm(
                self,
                "MessageAgeAlarm",
                self.metric_approximate_age_of_oldest_message(),
                threshold=plan.max_message_age.to_seconds(),
                description="The oldest queued message is older than max_message_age: the consumer is not "
                "keeping up",
            ),
            threshold_alarm(
                self,
                "ConsumerErrorsAlarm",
                self.metric_consumer_errors(),
                threshold=1,
                description="The queue consumer failed invocations",
            ),
            threshold_alarm(
                self,
                "Api5xxAlarm",
                self.metric_api_server_errors(),
                threshold=1,
                description="The ingest API answered 5xx: messages were not queued",
            ),
        ]


# --------------------------------------------------------------------------------------- plan


def _plan(scope: Construct, where: str, given: Mapping[str, Any]) -> _Plan:
    """Check every prop, resolve defaults and merge the escape hatches; raise once with every problem."""
    problems = Problems(f"QueueBufferedIngest '{where}'")
    if not check_types(problems, QueueBufferedIngest.__init__, given):
        problems.raise_if_any()  # the checks below assume the right types
    if given["existing_queue"] is not None:
        given = _from_existing_queue(problems, scope, given)
    fifo = bool(given["fifo"])
    consumer: lambda_.IFunction = given["consumer"]
    group_header = given["message_group_id_header"]
    batching = _check_consumer_and_batching(
        problems,
        consumer=consumer,
        fifo=fifo,
        batch_size=or_default(given["batch_size"], DEFAULT_BATCH_SIZE),
        max_batching_window=given["max_batching_window"],
        max_concurrency=or_default(given["max_concurrency"], DEFAULT_MAX_CONCURRENCY),
        visibility_timeout=given["visibility_timeout"],
    )
    numbers = _check_queue_numbers(problems, given)
    _check_group_header(problems, fifo, group_header)
    content_based = bool(given["content_based_deduplication"])
    problems.check(
        fifo or not content_based,
        "content_based_deduplication",
        given["content_based_deduplication"],
        "only FIFO queues deduplicate; set fifo=True or remove it",
    )
    authorization = or_default(given["authorization"], ApiAuthorization.iam())
    _check_authorization(problems, authorization)
    _check_stage_and_web_acl(problems, given["stage_name"], given["web_acl_arn"])
    if given["existing_queue"] is None:
        queue_kwargs, dlq_kwargs = _merge_queue_props(problems, given, fifo, content_based)
        _check_key_is_used(problems, given["encryption_key"], queue_kwargs, dlq_kwargs)
    else:
        queue_kwargs, dlq_kwargs = {}, {}
        _check_message_age(problems, given["max_message_age"], _retention_of(given["existing_queue"]))
    plan = _Plan(
        problems=problems,
        consumer=consumer,
        existing_queue=given["existing_queue"],
        path_parts=_check_path(problems, or_default(given["path"], DEFAULT_PATH)),
        schema=_check_schema(problems, given["message_schema"]),
        authorization=authorization,
        stage_name=or_default(given["stage_name"], DEFAULT_STAGE_NAME),
        access_log_retention=or_default(given["access_log_retention"], DEFAULT_ACCESS_LOG_RETENTION),
        web_acl_arn=given["web_acl_arn"],
        fifo=fifo,
        message_group_id_header=or_default(group_header, DEFAULT_MESSAGE_GROUP_ID_HEADER),
        content_based_deduplication=content_based,
        visibility_timeout=batching,
        batch_size=or_default(given["batch_size"], DEFAULT_BATCH_SIZE),
        max_batching_window=given["max_batching_window"],
        max_concurrency=or_default(given["max_concurrency"], DEFAULT_MAX_CONCURRENCY),
        alarm_topic=given["alarm_topic"],
        queue_kwargs=queue_kwargs,
        dead_letter_queue_kwargs=dlq_kwargs,
        api_kwargs=_merge_api_props(problems, given["api_props"], first_api_in_stack=_first_api_in(scope)),
        event_source_mapping_kwargs=_merge_event_source_mapping_props(
            problems, given["event_source_mapping_props"]
        ),
        **numbers,
    )
    problems.raise_if_any()
    return plan


_OWNED_BY_AN_EXISTING_QUEUE = (
    "queue_props",
    "dead_letter_queue_props",
    "encryption_key",
    "max_receive_count",
    "visibility_timeout",
    "fifo",
    "content_based_deduplication",
)


def _from_existing_queue(problems: Problems, scope: Construct, given: Mapping[str, Any]) -> dict[str, Any]:
    """The props as they follow from ``existing_queue``: its settings are read, never overridden."""
    queue: sqs.Queue = given["existing_queue"]
    mismatch = environment_mismatch(queue, scope)
    if mismatch:
        problems.add("existing_queue", queue.node.path, mismatch)
    for prop in _OWNED_BY_AN_EXISTING_QUEUE:
        if given[prop] is not None:
            problems.add(
                prop, given[prop], "existing_queue has its own; set it on that queue and remove it here"
            )
    if queue.dead_letter_queue is None:
        problems.add(
            "existing_queue",
            queue.node.path,
            "needs a dead-letter queue: create it with sqs.Queue(..., "
            "dead_letter_queue=sqs.DeadLetterQueue(...))",
        )
    cfn = queue.node.default_child
    assert isinstance(cfn, sqs.CfnQueue)
    _check_existing_queue_security(problems, queue, cfn)
    visibility = cfn.visibility_timeout
    derived = dict(given)
    derived["fifo"] = bool(queue.fifo)
    derived["content_based_deduplication"] = bool(cfn.content_based_deduplication)
    derived["visibility_timeout"] = (
        Duration.seconds(visibility) if visibility is not None and not is_unresolved(visibility) else None
    )
    if derived["visibility_timeout"] is None:
        problems.add(
            "existing_queue",
            queue.node.path,
            "set its visibility_timeout explicitly, to at least 6 x the consumer's timeout plus the batching "
            "window (SQS's default of 30 seconds is too short for most consumers)",
        )
    return derived


#: SQS keeps a message 4 days when no retention period is set.
_DEFAULT_RETENTION_SECONDS = 4 * 24 * 60 * 60


def _check_existing_queue_security(problems: Problems, queue: sqs.Queue, cfn: sqs.CfnQueue) -> None:
    """The defaults the construct gives its own queues, checked on the user's: retention, encryption, TLS."""
    dlq = queue.dead_letter_queue.queue if queue.dead_letter_queue is not None else None
    dlq_cfn = dlq.node.default_child if dlq is not None else None
    if isinstance(dlq_cfn, sqs.CfnQueue):
        kept, dlq_kept = (
            c.message_retention_period
            if c.message_retention_period is not None
            else _DEFAULT_RETENTION_SECONDS
            for c in (cfn, dlq_cfn)
        )
        if not is_unresolved(kept) and not is_unresolved(dlq_kept) and dlq_kept < kept:
            problems.add(
                "existing_queue",
                f"{queue.node.path} (retention {kept}s, its DLQ {dlq_kept}s)",
                "its dead-letter queue must keep messages at least as long as the queue: a moved message "
                "keeps its original enqueue time and would expire early; raise the DLQ's retention_period",
            )
    if cfn.kms_master_key_id is None and cfn.sqs_managed_sse_enabled is False:
        problems.warn(
            "existingQueueUnencrypted",
            f"existing_queue '{queue.node.path}' is not encrypted at rest, unlike the queues this construct "
            "creates; give it encryption=sqs.QueueEncryption.SQS_MANAGED (or a KMS key)",
        )
    if not _denies_insecure_transport(queue):
        problems.warn(
            "existingQueueNotTlsOnly",
            f"existing_queue '{queue.node.path}' accepts requests without TLS, unlike the queues this "
            "construct creates; create it with enforce_ssl=True",
        )


def _denies_insecure_transport(queue: sqs.Queue) -> bool:
    policy = queue.node.try_find_child("Policy")
    if not isinstance(policy, sqs.QueuePolicy):
        return False
    document = queue.stack.resolve(policy.document.to_json())
    return any(
        statement.get("Effect") == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for statement in document.get("Statement", [])
    )


def _merge_queue_props(
    problems: Problems, given: Mapping[str, Any], fifo: bool, content_based_deduplication: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The main queue's and the DLQ's kwargs (they differ in defaults and in the keys they own)."""
    key = given["encryption_key"]
    encryption = {
        "encryption": sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.KMS_MANAGED,
        "encryption_master_key": key,
        "enforce_ssl": True,
    }
    required = {"fifo": True} if fifo else {}
    dlq_kwargs = merge_props(
        problems,
        prop_name="dead_letter_queue_props",
        l2_class=sqs.Queue,
        struct_class=sqs.QueueProps,
        defaults={**encryption, "retention_period": Duration.days(14)},
        user=given["dead_letter_queue_props"],
        required=required,
        owned={"fifo": "fifo", "dead_letter_queue": "nothing (a DLQ has no DLQ of its own)"},
        security_defaults=(*_QUEUE_SECURITY_DEFAULTS, "retention_period"),
    )
    queue_kwargs = merge_props(
        problems,
        prop_name="queue_props",
        l2_class=sqs.Queue,
        struct_class=sqs.QueueProps,
        defaults={
            **encryption,
            "retention_period": Duration.days(4),
            **({"content_based_deduplication": True} if content_based_deduplication else {}),
        },
        user=given["queue_props"],
        required=required,
        owned={
            "fifo": "fifo",
            "visibility_timeout": "visibility_timeout",
            "dead_letter_queue": "max_receive_count / dead_letter_queue_props",
            "content_based_deduplication": "content_based_deduplication",
        },
        security_defaults=_QUEUE_SECURITY_DEFAULTS,
    )
    _check_retention(problems, queue_kwargs.get("retention_period"), dlq_kwargs.get("retention_period"))
    _check_message_age(problems, given["max_message_age"], queue_kwargs.get("retention_period"))
    return queue_kwargs, dlq_kwargs


def _retention_of(queue: sqs.Queue) -> Duration:
    """An existing queue's retention period (SQS's default of 4 days when it sets none)."""
    cfn = queue.node.default_child
    value = cfn.message_retention_period if isinstance(cfn, sqs.CfnQueue) else None
    return Duration.seconds(value) if value is not None and not is_unresolved(value) else Duration.days(4)


def _check_message_age(problems: Problems, max_message_age: Duration | None, retention: Any) -> None:
    """An age alarm at or above the retention period can never fire: messages expire first."""
    age, kept = seconds(or_default(max_message_age, DEFAULT_MAX_MESSAGE_AGE)), seconds(retention)
    if age is not None and kept is not None and kept <= age <= _MAX_RETENTION_SECONDS:
        problems.add(
            "max_message_age",
            max_message_age,
            f"must be below the queue's retention period ({int(kept)}s), or the message-age alarm can never "
            "fire: messages expire first; lower it or raise the queue's retention period",
        )


def _first_api_in(scope: Construct) -> bool:
    """True unless the stack already sets API Gateway's account-level CloudWatch role."""
    stack = Stack.of(scope)
    return not any(isinstance(node, apigateway.CfnAccount) for node in stack.node.find_all())


def _merge_api_props(problems: Problems, user: Any, *, first_api_in_stack: bool) -> dict[str, Any]:
    return merge_props(
        problems,
        prop_name="api_props",
        l2_class=apigateway.RestApi,
        struct_class=apigateway.RestApiProps,
        defaults={
            "endpoint_types": [apigateway.EndpointType.REGIONAL],
            # AWS::ApiGateway::Account is one setting per account and region: set it once per stack.
            "cloud_watch_role": first_api_in_stack,
            "description": "Queue-buffered ingest: POST bodies are enqueued to SQS",
        },
        user=user,
        owned={
            "deploy_options": "stage_name, throttling_rate_limit, throttling_burst_limit, "
            "access_log_retention",
            "deploy": "nothing (the construct always deploys a stage)",
            "default_method_options": "authorization",
        },
    )


def _merge_event_source_mapping_props(problems: Problems, user: Any) -> dict[str, Any]:
    return merge_props(
        problems,
        prop_name="event_source_mapping_props",
        l2_class=lambda_.EventSourceMapping,
        struct_class=lambda_.EventSourceMappingOptions,
        defaults={},
        user=user,
        required={"report_batch_item_failures": True},
        owned={
            "target": "consumer",
            "event_source_arn": "nothing (the queue is the source)",
            "batch_size": "batch_size",
            "max_batching_window": "max_batching_window",
            "max_concurrency": "max_concurrency",
        },
        refused=dict.fromkeys(
            _NOT_FOR_SQS_MAPPINGS,
            "SQS event source mappings do not support it (it is for streams or Kafka), and the deploy would "
            "fail; remove it",
        ),
    )


# --------------------------------------------------------------------------------------- templates


def _send_message_template(
    *, fifo: bool, message_group_id_header: str, content_based_deduplication: bool
) -> str:
    """VTL that turns the request into an SQS SendMessage query (form-encoded) request.

    FIFO ids are read from the request's headers whatever their case. API Gateway exposes headers to
    templates as a map keyed as the client sent them (``$input.params().header``, a Java map, so
    ``get('X-Message-Group-Id')`` misses the ``x-message-group-id`` that HTTP/2 clients send), while its
    request validator matches required headers case-insensitively. The template therefore walks the
    header names and compares them lowercased.
    """
    parts = [
        "Action=SendMessage",
        "MessageBody=$util.urlEncode($input.body)",
        "MessageAttribute.1.Name=apiRequestId",
        "MessageAttribute.1.Value.DataType=String",
        "MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)",
    ]
    if not fifo:
        return "&".join(parts)
    group, dedup = message_group_id_header.lower(), MESSAGE_DEDUPLICATION_ID_HEADER.lower()
    lookup = (
        '#set($groupId = "")#set($dedupId = "")'
        "#foreach($name in $input.params().header.keySet())"
        f'#if($name.toLowerCase() == "{group}")#set($groupId = $input.params().header.get($name))#end'
        f'#if($name.toLowerCase() == "{dedup}")#set($dedupId = $input.params().header.get($name))#end'
        "#end"
    )
    parts.append("MessageGroupId=$util.urlEncode($groupId)")
    if content_based_deduplication:
        # The client's id when it sends one; otherwise SQS hashes the body.
        return (
            lookup
            + "&".join(parts)
            + '#if("$!dedupId" != "")&MessageDeduplicationId=$util.urlEncode($dedupId)#end'
        )
    # The client's id when it sends one (its retries are then deduplicated), else this request's own id,
    # so that two distinct requests with the same body are never merged.
    parts.append("MessageDeduplicationId=$util.urlEncode($dedupId)")
    return lookup + '#if("$!dedupId" == "")#set($dedupId = $context.requestId)#end' + "&".join(parts)


#: SQS error codes that mean the request itself was wrong: answered 4xx, not paged as 5xx.
CLIENT_ERROR_CODES = ("InvalidParameterValue", "InvalidMessageContents", "MissingParameter")
#: How SQS says a message is over its size limit (InvalidParameterValue: "Message must be shorter than").
TOO_LARGE_MARKERS = ("shorter than", "MessageTooLong")
#: SQS throttling, a client fault (HTTP 400) in SQS's model that a retry cures: answered 503 + Retry-After.
THROTTLING_CODES = ("KmsThrottled", "RequestThrottled", "ThrottlingException")
#: Seconds a throttled client is asked to wait before it retries.
THROTTLED_RETRY_AFTER_SECONDS = 1


def _client_error_template() -> str:
    """VTL for an SQS 4xx: whose fault it is decides the status.

    413 or 400 when the request was at fault; 503 with ``Retry-After`` when SQS (or KMS behind it)
    throttled; else 502, the API's own fault (access denied, a disabled or missing key, a missing queue),
    said without blaming the request. SQS answers the query API in JSON (``Accept: application/json``) as
    ``{"Error": {"Code", "Message"}}``; the AWS JSON protocol's ``__type``/``message`` are read too.
    """
    code = "".join(f"$!input.path('{p}')" for p in ("$.Error.Code", "$.ErrorResponse.Error.Code", "$.__type"))
    text = "".join(
        f"$!input.path('{p}')" for p in ("$.Error.Message", "$.ErrorResponse.Error.Message", "$.message")
    )
    too_large = " || ".join(
        [f'$text.contains("{m}")' for m in TOO_LARGE_MARKERS]
        + [f'$code.contains("{m}")' for m in TOO_LARGE_MARKERS]
    )
    invalid = " || ".join(f'$code.contains("{c}")' for c in CLIENT_ERROR_CODES)
    throttled = " || ".join(f'$code.contains("{c}")' for c in THROTTLING_CODES)
    body = '{"message": "%s", "requestId": "$context.requestId"}'
    return (
        f'#set($code = "{code}")#set($text = "{text}")'
        f"#if({throttled})#set($context.responseOverride.status = 503)"
        f'#set($context.responseOverride.header.Retry-After = "{THROTTLED_RETRY_AFTER_SECONDS}")'
        + body % "The queue is busy; the message was not queued, retry after Retry-After seconds"
        + f"#elseif({too_large})#set($context.responseOverride.status = 413)"
        + body % "The message is larger than the queue accepts; it was not queued"
        + f"#elseif({invalid})#set($context.responseOverride.status = 400)"
        + body % "The queue refused the message as invalid; it was not queued"
        + "#else"
        + body
        % "The service could not queue the message (its queue or key refused the API: a fault on the "
        "service side, not in the request); it was not queued" + "#end"
    )


def _integration_responses() -> list[apigateway.IntegrationResponse]:
    """Map SQS answers to HTTP: only an SQS 2xx answers 2xx (202).

    An SQS 4xx answers 400 or 413 when the request was at fault (see ``CLIENT_ERROR_CODES``), 503 with
    ``Retry-After`` when throttled (``THROTTLING_CODES``), else 502; an SQS 5xx answers 503; anything else
    500. Access and KMS errors stay 5xx, so the API 5xx alarm sees them.
    """
    json_ct = "application/json"
    return [
        apigateway.IntegrationResponse(
            status_code="202",
            selection_pattern=r"2\d{2}",
            response_templates={
                json_ct: '{"messageId": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')",'
                ' "requestId": "$context.requestId"}'
            },
        ),
        apigateway.IntegrationResponse(
            status_code="502",
            selection_pattern=r"4\d{2}",
            response_templates={json_ct: _client_error_template()},
        ),
        apigateway.IntegrationResponse(
            status_code="503",
            selection_pattern=r"5\d{2}",
            response_templates={json_ct: '{"message": "The queue is unavailable; retry later"}'},
        ),
        apigateway.IntegrationResponse(
            status_code="500",
            response_templates={json_ct: '{"message": "The message was not queued"}'},
        ),
    ]


def _model_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    model = dict(schema)
    model.setdefault("$schema", JSON_SCHEMA_DRAFT_4)
    model.setdefault("title", "Message")
    return model


# --------------------------------------------------------------------------------------- checks


def _check_schema(problems: Problems, schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return dict(DEFAULT_MESSAGE_SCHEMA)
    for prop, value, fix in schema_problems(schema, "message_schema"):
        problems.add(prop, value, fix)
    return dict(schema) if isinstance(schema, Mapping) else dict(DEFAULT_MESSAGE_SCHEMA)


def _check_group_header(problems: Problems, fifo: bool, header: str | None) -> None:
    if header is None:
        return
    if not fifo:
        problems.add(
            "message_group_id_header", header, "only used with fifo=True; set fifo=True or remove it"
        )
    elif not _HEADER_NAME.match(header):
        problems.add(
            "message_group_id_header", header, "must be a valid HTTP header name such as 'X-Message-Group-Id'"
        )


def _check_path(problems: Problems, path: str) -> tuple[str, ...]:
    parts = [p for p in path.strip("/").split("/")]
    if not path.strip("/") or not all(_PATH_SEGMENT.match(p) for p in parts):
        problems.add(
            "path",
            path,
            "must be one or more '/'-separated segments of letters, digits, '.', '_', '~' or '-', "
            "for example 'messages' or 'v1/orders'",
        )
        return (DEFAULT_PATH,)
    return tuple(parts)


def _check_stage_and_web_acl(problems: Problems, stage_name: str | None, web_acl_arn: str | None) -> None:
    if stage_name is not None and not is_unresolved(stage_name):
        problems.check(
            bool(re.fullmatch(r"[A-Za-z0-9_-]{1,128}", stage_name)),
            "stage_name",
            stage_name,
            "must be 1-128 letters, digits, '-' or '_' (API Gateway's stage names), for example 'prod'",
        )
    if web_acl_arn is not None and not is_unresolved(web_acl_arn):
        problems.check(
            ":regional/webacl/" in web_acl_arn,
            "web_acl_arn",
            web_acl_arn,
            "must be the ARN of a REGIONAL WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/"
            "<name>/<id>); a CLOUDFRONT-scope ACL belongs on the distribution (CdnFrontedOrigin.web_acl_id)",
        )


def _check_key_is_used(
    problems: Problems, key: kms.IKey | None, queue_kwargs: Mapping[str, Any], dlq_kwargs: Mapping[str, Any]
) -> None:
    """encryption_key is ignored by a queue whose props choose another encryption."""
    if key is None:
        return
    for prop, kwargs in (("queue_props", queue_kwargs), ("dead_letter_queue_props", dlq_kwargs)):
        if kwargs.get("encryption") not in (sqs.QueueEncryption.KMS, None):
            problems.add(
                f"{prop}['encryption']",
                kwargs["encryption"],
                "encryption_key is given, but this encryption would ignore it; remove one of the two",
            )


def _check_authorization(problems: Problems, authorization: ApiAuthorization) -> None:
    if authorization.scopes and authorization.authorization_type != apigateway.AuthorizationType.COGNITO:
        problems.add(
            "authorization",
            list(authorization.scopes),
            "OAuth scopes only apply to a Cognito user-pool authorizer; API Gateway ignores them for "
            f"{authorization.authorization_type.name} authorization; remove the scopes",
        )
    if authorization.authorization_type == apigateway.AuthorizationType.NONE:
        reason = (authorization.open_reason or "").strip()
        problems.check(
            len(reason) >= 20,
            "authorization",
            authorization.open_reason,
            "ApiAuthorization.none(reason=...) needs a specific reason (20+ characters) why this endpoint "
            "may be called without authentication",
        )


def _check_consumer_and_batching(
    problems: Problems,
    *,
    consumer: lambda_.IFunction,
    fifo: bool,
    batch_size: int,
    max_batching_window: Duration | None,
    max_concurrency: int,
    visibility_timeout: Duration | None,
) -> Duration | None:
    """Validate the consumer wiring and batching; return the visibility timeout to use."""
    snapstart_fix = unqualified_snapstart_fix(consumer)
    if snapstart_fix:
        problems.add("consumer", consumer.node.path, snapstart_fix)

    window = seconds(max_batching_window) if max_batching_window is not None else 0.0
    if fifo and max_batching_window is not None:
        problems.add(
            "max_batching_window",
            max_batching_window,
            "FIFO queues do not support a batching window; remove it or set fifo=False",
        )
    if window is not None and window > _MAX_BATCHING_WINDOW_SECONDS:
        problems.add("max_batching_window", max_batching_window, "must be at most 5 minutes")

    if not is_unresolved(batch_size):
        limit = 10 if fifo or not window else 10_000
        if not 1 <= batch_size <= limit:
            why = (
                "FIFO queues allow at most 10"
                if fifo
                else ("without max_batching_window at most 10" if not window else "at most 10000")
            )
            problems.add("batch_size", batch_size, f"must be between 1 and {limit} ({why})")
    if not is_unresolved(max_concurrency) and not 2 <= max_concurrency <= 1000:
        problems.add(
            "max_concurrency",
            max_concurrency,
            "must be between 2 and 1000 (the SQS event source mapping's maximum concurrency range)",
        )
    reserved = reserved_concurrency(consumer)
    if reserved is not None and not is_unresolved(max_concurrency) and reserved < max_concurrency:
        problems.add(
            "max_concurrency",
            max_concurrency,
            f"consumer '{consumer.node.path}' has a reserved concurrency of {reserved}: the mapping would be "
            "throttled, and every throttled batch burns a receive count on the way to the DLQ; lower "
            f"max_concurrency to {reserved} or less, or raise (or drop) the reserved concurrency",
        )
    return _visibility_timeout(problems, consumer, window, visibility_timeout)


def _visibility_timeout(
    problems: Problems, consumer: lambda_.IFunction, window: float | None, visibility_timeout: Duration | None
) -> Duration | None:
    """The given visibility timeout, checked against 6 x the consumer's timeout, or that floor derived."""
    consumer_timeout = timeout_seconds(consumer)
    floor = (
        VISIBILITY_TIMEOUT_FACTOR * consumer_timeout + (window or 0)
        if consumer_timeout is not None and window is not None
        else None
    )
    if visibility_timeout is None:
        if floor is None:
            problems.add(
                "visibility_timeout",
                None,
                f"the timeout of consumer '{consumer.node.path}' is unknown at synth time (imported or a "
                "token); pass visibility_timeout of at least 6 x its timeout plus the batching window",
            )
            return None
        return Duration.seconds(min(int(floor), _MAX_VISIBILITY_TIMEOUT_SECONDS))
    explicit = seconds(visibility_timeout)
    if explicit is not None:
        if floor is not None and explicit < floor:
            problems.add(
                "visibility_timeout",
                visibility_timeout,
                f"must be at least {int(floor)} seconds: 6 x the consumer's {consumer_timeout}s timeout"
                + (f" + {int(window or 0)}s batching window" if window else "")
                + "; raise it or omit it to derive it",
            )
        if explicit > _MAX_VISIBILITY_TIMEOUT_SECONDS:
            problems.add("visibility_timeout", visibility_timeout, "must be at most 12 hours")
    return visibility_timeout


def _check_queue_numbers(problems: Problems, given: Mapping[str, Any]) -> dict[str, Any]:
    """The receive count, message age and stage throttling, checked and with defaults applied."""
    max_receive_count = or_default(given["max_receive_count"], DEFAULT_MAX_RECEIVE_COUNT)
    max_message_age = or_default(given["max_message_age"], DEFAULT_MAX_MESSAGE_AGE)
    rate = or_default(given["throttling_rate_limit"], DEFAULT_THROTTLING_RATE_LIMIT)
    burst = or_default(given["throttling_burst_limit"], DEFAULT_THROTTLING_BURST_LIMIT)
    if not is_unresolved(max_receive_count) and not 1 <= max_receive_count <= 1000:
        problems.add(
            "max_receive_count", max_receive_count, "must be between 1 and 1000 (5 or more recommended)"
        )
    age = seconds(max_message_age)
    if age is not None and not 0 < age <= _MAX_RETENTION_SECONDS:
        problems.add("max_message_age", max_message_age, "must be more than 0 and at most 14 days")
    if not is_unresolved(rate) and rate <= 0:
        problems.add("throttling_rate_limit", rate, "must be a positive number of requests/s")
    if not is_unresolved(burst) and burst < 1:
        problems.add("throttling_burst_limit", burst, "must be a positive number of requests")
    elif not is_unresolved(burst) and not is_unresolved(rate) and rate > 0 and burst < rate:
        problems.add(
            "throttling_burst_limit",
            burst,
            f"must be at least throttling_rate_limit ({rate:g}/s): the bucket holds at most {burst} "
            "requests, "
            "so the steady rate could never be reached; raise it (twice the rate is the default's ratio)",
        )
    return {
        "max_receive_count": max_receive_count,
        "max_message_age": max_message_age,
        "throttling_rate_limit": rate,
        "throttling_burst_limit": burst,
    }


def _check_retention(problems: Problems, queue_retention: Any, dlq_retention: Any) -> None:
    """A DLQ that keeps messages for less time than the queue loses them (enqueue time is kept)."""
    q, d = seconds(queue_retention), seconds(dlq_retention)
    if q is not None and d is not None and d < q:
        problems.add(
            "dead_letter_queue_props['retention_period']",
            dlq_retention,
            f"must be at least the queue's retention period ({int(q)}s): a moved message keeps its original "
            "enqueue time and would expire early",
        )
