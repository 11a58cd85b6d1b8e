"""Queue-buffered ingest: API Gateway enqueues straight into SQS; a Lambda consumer drains the queue.

The synchronous edge (a REST API with a direct SQS integration, no Lambda on the request path) scales
with requests. The consumer runs through an event source mapping at a bounded concurrency, reports
partial batch failures, and poison messages move to a dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
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

from .._core import (
    LOG_GROUP_KMS_REASON,
    acknowledge,
    cdk_warning,
    child_path,
    given_props,
    threshold_alarm,
    underlying_function,
    visible_signature,
    wire_alarms,
)
from .._core.json_schema import json_schema
from ._plan import Plan, plan_props
from .authorization import ApiAuthorization, acknowledge_authorization
from .identity import CallerIdentity
from .templates import (
    bad_request_body_template,
    bad_request_parameters_template,
    integration_responses,
    method_responses,
    model_schema,
    send_message_template,
)

__all__ = ["QueueBufferedIngest"]

#: Default API names (stack + construct path + hash) are kept this short, for consoles and dimensions.
API_NAME_MAX_LENGTH = 128


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
        caller_identity: Add the caller that the authorization verified to every message as SQS message
            attributes (``caller.sub`` and other Cognito claims, ``caller.arn``/``caller.account`` with
            IAM, ``caller.principalId``, ``caller.apiKeyId``; see ``CallerIdentity``), and optionally take
            the FIFO group id from it. Refused with ``ApiAuthorization.none`` without an API key.
            Default: none (the body and ``apiRequestId`` only).
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
        caller_identity: CallerIdentity | None = None,
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
        plan = plan_props(scope, child_path(scope, id), given_props(locals()), QueueBufferedIngest.__init__)
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

    def _build_queues(self, plan: Plan) -> None:
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

    def _build_api(self, plan: Plan) -> None:
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
        self._add_gateway_responses(plan.schema)

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

    def _add_gateway_responses(self, schema: Mapping[str, Any]) -> None:
        """Answer validation failures with a JSON body and the request id (see ``templates``)."""
        for name, kind, body in (
            ("BadRequestBody", apigateway.ResponseType.BAD_REQUEST_BODY, bad_request_body_template(schema)),
            (
                "BadRequestParameters",
                apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
                bad_request_parameters_template(),
            ),
        ):
            self.api.add_gateway_response(
                name, type=kind, status_code="400", templates={"application/json": body}
            )

    def _build_post_method(self, plan: Plan) -> apigateway.Method:
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
                    "application/json": send_message_template(
                        fifo=plan.fifo,
                        message_group_id_header=plan.message_group_id_header,
                        content_based_deduplication=plan.content_based_deduplication,
                        identity=plan.caller_identity,
                    )
                },
                integration_responses=integration_responses(),
            ),
        )
        model = self.api.add_model(
            "MessageModel",
            content_type="application/json",
            schema=json_schema(model_schema(plan.schema)),
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
            api_key_required=authorization.api_key_required or None,
            request_models={"application/json": model},
            request_validator=validator,
            request_parameters=(
                {f"method.request.header.{plan.message_group_id_header}": True}
                if plan.fifo and not (plan.caller_identity and plan.caller_identity.group_reference)
                else None
            ),
            method_responses=method_responses(),
        )
        acknowledge_authorization(method, authorization)
        return method

    def _build_event_source_mapping(self, plan: Plan) -> None:
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

    def _build_alarms(self, plan: Plan) -> list[cloudwatch.Alarm]:
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
