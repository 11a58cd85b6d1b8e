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

from aws_cdk import Annotations, Duration, Stack
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
    Problems,
    acknowledge,
    is_unresolved,
    merge_props,
    seconds,
    threshold_alarm,
    timeout_seconds,
    underlying_function,
    unqualified_snapstart_fix,
    wire_alarms,
)

__all__ = ["ApiAuthorization", "QueueBufferedIngest"]

#: AWS guidance: visibility timeout >= 6 x the consumer's timeout (+ the batching window).
VISIBILITY_TIMEOUT_FACTOR = 6
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_BATCH_SIZE = 10
DEFAULT_MAX_CONCURRENCY = 5
DEFAULT_THROTTLING_RATE_LIMIT = 100.0
DEFAULT_THROTTLING_BURST_LIMIT = 200
DEFAULT_MESSAGE_GROUP_ID_HEADER = "X-Message-Group-Id"
MESSAGE_DEDUPLICATION_ID_HEADER = "X-Message-Deduplication-Id"
DEFAULT_MESSAGE_SCHEMA: Mapping[str, Any] = {"type": "object"}
JSON_SCHEMA_DRAFT_4 = "http://json-schema.org/draft-04/schema#"

_MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 60 * 60
_MAX_BATCHING_WINDOW_SECONDS = 300
_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


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
        authorizer: apigateway.IAuthorizer, *, scopes: tuple[str, ...] = ()
    ) -> ApiAuthorization:
        """A Cognito user-pool or Lambda (token/request) authorizer; ``scopes`` for Cognito OAuth scopes."""
        kind = authorizer.authorization_type or apigateway.AuthorizationType.CUSTOM
        return ApiAuthorization(authorization_type=kind, authorizer=authorizer, scopes=tuple(scopes))

    @staticmethod
    def none(*, reason: str) -> ApiAuthorization:
        """An open endpoint. ``reason`` is recorded as the acknowledgment of the cdk-nag findings."""
        return ApiAuthorization(authorization_type=apigateway.AuthorizationType.NONE, open_reason=reason)


class QueueBufferedIngest(Construct):
    """``POST <path>`` on a REST API enqueues the request body into SQS; ``consumer`` drains the queue.

    Defines a REGIONAL REST API with a direct SQS integration, a KMS-encrypted, TLS-only queue with a
    dead-letter queue, an event source mapping to ``consumer`` with partial batch responses on, and
    alarms on the DLQ, message age, consumer errors and API 5xx.

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
            request when ``fifo``). Default: ``"X-Message-Group-Id"``.
        encryption_key: Customer-managed KMS key for both queues; the API role gets the grants it
            needs. Default: the AWS-managed key ``alias/aws/sqs``.
        max_receive_count: Receives before a message moves to the DLQ. Default: 5.
        visibility_timeout: Queue visibility timeout. Default: 6 x the consumer's timeout plus the
            batching window; a smaller value is an error.
        batch_size: Records per consumer invocation. Default: 10.
        max_batching_window: How long to gather records before invoking. Default: none.
        max_concurrency: Most concurrent consumer invocations from this queue (2..1000). Default: 5.
        max_message_age: Alarm when the oldest message is older than this. Default: 5 minutes.
        alarm_topic: SNS topic for every alarm's ALARM and OK actions. Default: no actions.
        queue_props: Extra ``sqs.Queue`` kwargs for the main queue. Default: none.
        dead_letter_queue_props: Extra ``sqs.Queue`` kwargs for the DLQ. Default: none.
        api_props: Extra ``apigateway.RestApi`` kwargs. Default: none.
        event_source_mapping_props: Extra ``lambda_.EventSourceMapping`` kwargs. Default: none.

    Raises:
        ConstructsLibValidationError: listing every invalid prop at once.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        consumer: lambda_.IFunction,
        path: str = "messages",
        message_schema: Mapping[str, Any] | None = None,
        authorization: ApiAuthorization | None = None,
        stage_name: str = "prod",
        throttling_rate_limit: float = DEFAULT_THROTTLING_RATE_LIMIT,
        throttling_burst_limit: int = DEFAULT_THROTTLING_BURST_LIMIT,
        access_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        web_acl_arn: str | None = None,
        fifo: bool = False,
        message_group_id_header: str = DEFAULT_MESSAGE_GROUP_ID_HEADER,
        encryption_key: kms.IKey | None = None,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        visibility_timeout: Duration | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_message_age: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
        queue_props: Mapping[str, Any] | None = None,
        dead_letter_queue_props: Mapping[str, Any] | None = None,
        api_props: Mapping[str, Any] | None = None,
        event_source_mapping_props: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(f"QueueBufferedIngest '{self.node.path}'")
        authorization = authorization or ApiAuthorization.iam()
        max_message_age = max_message_age or Duration.minutes(5)
        schema = dict(message_schema) if message_schema is not None else dict(DEFAULT_MESSAGE_SCHEMA)
        path_parts = _check_path(problems, path)
        _check_schema(problems, message_schema)
        _check_authorization(problems, authorization)
        visibility = _check_consumer_and_batching(
            problems,
            consumer=consumer,
            fifo=fifo,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            visibility_timeout=visibility_timeout,
        )
        _check_queue_numbers(
            problems,
            max_receive_count=max_receive_count,
            max_message_age=max_message_age,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
        )
        if fifo:
            problems.check(
                bool(_HEADER_NAME.match(message_group_id_header)),
                "message_group_id_header",
                message_group_id_header,
                "must be a valid HTTP header name such as 'X-Message-Group-Id'",
            )
        elif message_group_id_header != DEFAULT_MESSAGE_GROUP_ID_HEADER:
            problems.add(
                "message_group_id_header",
                message_group_id_header,
                "only used with fifo=True; set fifo=True or remove it",
            )

        encryption = sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.KMS_MANAGED
        security = ("encryption", "encryption_master_key", "enforce_ssl", "data_key_reuse")
        dlq_kwargs = merge_props(
            self,
            problems,
            prop_name="dead_letter_queue_props",
            l2_class=sqs.Queue,
            defaults={
                "encryption": encryption,
                "encryption_master_key": encryption_key,
                "enforce_ssl": True,
                "retention_period": Duration.days(14),
            },
            user=dead_letter_queue_props,
            required={"fifo": True} if fifo else {},
            owned={"fifo": "fifo", "dead_letter_queue": "nothing (a DLQ has no DLQ of its own)"},
            security_defaults=(*security, "retention_period"),
        )
        queue_kwargs = merge_props(
            self,
            problems,
            prop_name="queue_props",
            l2_class=sqs.Queue,
            defaults={
                "encryption": encryption,
                "encryption_master_key": encryption_key,
                "enforce_ssl": True,
                "retention_period": Duration.days(4),
                **({"content_based_deduplication": True} if fifo else {}),
            },
            user=queue_props,
            required={"fifo": True} if fifo else {},
            owned={
                "fifo": "fifo",
                "visibility_timeout": "visibility_timeout",
                "dead_letter_queue": "max_receive_count / dead_letter_queue_props",
            },
            security_defaults=security,
        )
        _check_retention(problems, queue_kwargs.get("retention_period"), dlq_kwargs.get("retention_period"))
        api_kwargs = merge_props(
            self,
            problems,
            prop_name="api_props",
            l2_class=apigateway.RestApi,
            defaults={
                "endpoint_types": [apigateway.EndpointType.REGIONAL],
                "cloud_watch_role": True,
                "description": "Queue-buffered ingest: POST bodies are enqueued to SQS",
            },
            user=api_props,
            owned={
                "deploy_options": "stage_name, throttling_rate_limit, throttling_burst_limit, "
                "access_log_retention",
                "deploy": "nothing (the construct always deploys a stage)",
                "default_method_options": "authorization",
            },
        )
        esm_kwargs_extra = merge_props(
            self,
            problems,
            prop_name="event_source_mapping_props",
            l2_class=lambda_.EventSourceMapping,
            defaults={},
            user=event_source_mapping_props,
            required={"report_batch_item_failures": True},
            owned={
                "target": "consumer",
                "event_source_arn": "nothing (the queue is the source)",
                "batch_size": "batch_size",
                "max_batching_window": "max_batching_window",
                "max_concurrency": "max_concurrency",
            },
        )
        problems.raise_if_any()

        self.consumer = consumer
        self.dead_letter_queue = sqs.Queue(self, "DeadLetterQueue", **dlq_kwargs)
        acknowledge(
            self.dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This is the terminal dead-letter queue of the ingest queue; a DLQ of a DLQ would only move "
            "the problem, and an alarm fires on its first visible message instead",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=visibility,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=max_receive_count, queue=self.dead_letter_queue
            ),
            **queue_kwargs,
        )
        self.encryption_key: kms.IKey | None = self.queue.encryption_master_key

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

        self.access_log_group = logs.LogGroup(self, "AccessLogs", retention=access_log_retention)
        self.api = apigateway.RestApi(
            self,
            "Api",
            deploy=True,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
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
        if api_kwargs.get("cloud_watch_role"):
            role = self.api.node.try_find_child("CloudWatchRole")
            if role is not None:
                acknowledge(
                    role,
                    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]",
                    "API Gateway's account-level logging role must be able to write to any log group the "
                    "account's APIs log to; AWS maintains this service-role policy for exactly that",
                )
        self._protect_stage(web_acl_arn)
        self._add_gateway_responses()
        self.method = self._add_post_method(
            path_parts=path_parts,
            schema=schema,
            authorization=authorization,
            fifo=fifo,
            message_group_id_header=message_group_id_header,
        )
        self.url: str = self.api.url_for_path("/" + "/".join(path_parts))

        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=consumer,
            event_source_arn=self.queue.queue_arn,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            **esm_kwargs_extra,
        )
        if underlying_function(consumer).role is not None:
            grant = self.queue.grant_consume_messages(consumer)
            # The mapping is only valid once the consumer may read the queue.
            grant.apply_before(self.event_source_mapping)
        else:
            Annotations.of(self).add_warning_v2(
                "constructs_lib:consumerRoleUnknown",
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

        self.alarms: list[cloudwatch.Alarm] = self._create_alarms(max_message_age)
        wire_alarms(self.alarms, alarm_topic)

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
        self, *, period: Duration | None = None, statistic: str = "Maximum"
    ) -> cloudwatch.Metric:
        """Age of the oldest message in the queue. Default: maximum over 1 minute."""
        return self.queue.metric_approximate_age_of_oldest_message(
            period=period or Duration.minutes(1), statistic=statistic
        )

    def metric_dead_letter_queue_messages(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Visible messages in the DLQ. Default: maximum over 1 minute."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=period or Duration.minutes(1), statistic="Maximum"
        )

    # ----------------------------------------------------------------------------------- internals

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
        self.api.add_gateway_response(
            "BadRequestBody",
            type=apigateway.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={"application/json": body},
        )
        self.api.add_gateway_response(
            "BadRequestParameters",
            type=apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
            status_code="400",
            templates={"application/json": body},
        )

    def _add_post_method(
        self,
        *,
        path_parts: list[str],
        schema: dict[str, Any],
        authorization: ApiAuthorization,
        fifo: bool,
        message_group_id_header: str,
    ) -> apigateway.Method:
        resource = self.api.root
        for part in path_parts:
            resource = resource.add_resource(part)

        template = _send_message_template(fifo=fifo, message_group_id_header=message_group_id_header)
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
                request_templates={"application/json": template},
                integration_responses=_integration_responses(),
            ),
        )
        schema.setdefault("$schema", JSON_SCHEMA_DRAFT_4)
        schema.setdefault("title", "Message")
        model = self.api.add_model(
            "MessageModel",
            content_type="application/json",
            schema=apigateway.JsonSchema(**_to_json_schema_kwargs(schema)),
            description="Request bodies must match this schema before they are queued",
        )
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        request_parameters = {f"method.request.header.{message_group_id_header}": True} if fifo else None
        method = resource.add_method(
            "POST",
            integration,
            authorization_type=authorization.authorization_type,
            authorizer=authorization.authorizer,
            authorization_scopes=list(authorization.scopes) or None,
            request_models={"application/json": model},
            request_validator=validator,
            request_parameters=request_parameters,
            method_responses=[
                apigateway.MethodResponse(status_code=code) for code in ("202", "500", "502", "503")
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

    def _create_alarms(self, max_message_age: Duration) -> list[cloudwatch.Alarm]:
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
                threshold=max_message_age.to_seconds(),
                description="The oldest queued message is older than max_message_age: the consumer is not "
                "keeping up",
            ),
            threshold_alarm(
                self,
                "ConsumerErrorsAlarm",
                self.consumer.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description="The queue consumer failed invocations",
            ),
            threshold_alarm(
                self,
                "Api5xxAlarm",
                self.api.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description="The ingest API answered 5xx: messages were not queued",
            ),
        ]


# --------------------------------------------------------------------------------------- helpers


def _send_message_template(*, fifo: bool, message_group_id_header: str) -> str:
    """VTL that turns the request into an SQS SendMessage query (form-encoded) request."""
    parts = [
        "Action=SendMessage",
        "MessageBody=$util.urlEncode($input.body)",
        "MessageAttribute.1.Name=apiRequestId",
        "MessageAttribute.1.Value.DataType=String",
        "MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)",
    ]
    if not fifo:
        return "&".join(parts)
    parts.append(f"MessageGroupId=$util.urlEncode($input.params().header.get('{message_group_id_header}'))")
    dedup = (
        f"#set($dedup = $input.params().header.get('{MESSAGE_DEDUPLICATION_ID_HEADER}'))"
        '#if("$!dedup" != "")&MessageDeduplicationId=$util.urlEncode($dedup)#end'
    )
    return "&".join(parts) + dedup


def _integration_responses() -> list[apigateway.IntegrationResponse]:
    """Map SQS answers to HTTP: only an SQS 2xx answers 2xx (202); every failure is a 5xx."""
    json_ct = "application/json"
    return [
        apigateway.IntegrationResponse(
            status_code="202",
            selection_pattern=r"2\d{2}",
            response_templates={
                json_ct: '{"messageId": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')"}'
            },
        ),
        apigateway.IntegrationResponse(
            status_code="502",
            selection_pattern=r"4\d{2}",
            response_templates={json_ct: '{"message": "The queue rejected the message; it was not queued"}'},
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


_JSON_SCHEMA_KEYS = {
    "$schema": "schema",
    "$ref": "ref",
    "additionalItems": "additional_items",
    "additionalProperties": "additional_properties",
    "allOf": "all_of",
    "anyOf": "any_of",
    "contains": "contains",
    "default": "default",
    "definitions": "definitions",
    "dependencies": "dependencies",
    "description": "description",
    "enum": "enum",
    "exclusiveMaximum": "exclusive_maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "format": "format",
    "id": "id",
    "items": "items",
    "maxItems": "max_items",
    "maxLength": "max_length",
    "maxProperties": "max_properties",
    "maximum": "maximum",
    "minItems": "min_items",
    "minLength": "min_length",
    "minProperties": "min_properties",
    "minimum": "minimum",
    "multipleOf": "multiple_of",
    "not": "not_",
    "oneOf": "one_of",
    "pattern": "pattern",
    "patternProperties": "pattern_properties",
    "properties": "properties",
    "propertyNames": "property_names",
    "required": "required",
    "title": "title",
    "type": "type",
    "uniqueItems": "unique_items",
}
_NESTED_SCHEMA_MAPS = {"properties", "definitions", "patternProperties"}
_NESTED_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}
_NESTED_SCHEMA_ONE = {"not", "additionalItems", "contains", "propertyNames"}
_JSON_SCHEMA_TYPES = {t.name.lower(): t for t in apigateway.JsonSchemaType}


def _to_json_schema_kwargs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a plain JSON Schema dict into ``apigateway.JsonSchema`` kwargs (recursively)."""
    kwargs: dict[str, Any] = {}
    for key, value in schema.items():
        name = _JSON_SCHEMA_KEYS[key]
        if key == "$schema":
            value = apigateway.JsonSchemaVersion.DRAFT4
        elif key == "type":
            value = (
                [_JSON_SCHEMA_TYPES[v] for v in value]
                if isinstance(value, list)
                else _JSON_SCHEMA_TYPES[value]
            )
        elif key in _NESTED_SCHEMA_MAPS:
            value = {k: _json_schema(v) for k, v in value.items()}
        elif key in _NESTED_SCHEMA_LISTS:
            value = [_json_schema(v) for v in value]
        elif key in _NESTED_SCHEMA_ONE or (
            key in {"items", "additionalProperties"} and isinstance(value, dict)
        ):
            value = _json_schema(value)
        elif key == "items" and isinstance(value, list):
            value = [_json_schema(v) for v in value]
        kwargs[name] = value
    return kwargs


def _json_schema(schema: Mapping[str, Any]) -> apigateway.JsonSchema:
    return apigateway.JsonSchema(**_to_json_schema_kwargs(schema))


def _schema_problems(schema: Any, where: str) -> list[tuple[str, Any, str]]:
    """Keys and types that API Gateway's draft-4 models cannot express, found recursively."""
    if not isinstance(schema, Mapping):
        return [(where, schema, "must be a JSON Schema object (a dict)")]
    found: list[tuple[str, Any, str]] = []
    for key, value in schema.items():
        if key not in _JSON_SCHEMA_KEYS:
            found.append(
                (f"{where}[{key!r}]", value, "not a JSON Schema draft-4 keyword; remove or rename it")
            )
            continue
        if key == "type":
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v not in _JSON_SCHEMA_TYPES:
                    found.append(
                        (f"{where}['type']", value, f"must be one of {', '.join(sorted(_JSON_SCHEMA_TYPES))}")
                    )
        elif key == "$schema" and value != JSON_SCHEMA_DRAFT_4:
            found.append(
                (f"{where}['$schema']", value, f"API Gateway models use draft 4: {JSON_SCHEMA_DRAFT_4}")
            )
        elif key in _NESTED_SCHEMA_MAPS and isinstance(value, Mapping):
            for name, sub in value.items():
                found.extend(_schema_problems(sub, f"{where}[{key!r}][{name!r}]"))
        elif key in _NESTED_SCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                found.extend(_schema_problems(sub, f"{where}[{key!r}][{i}]"))
        elif key in _NESTED_SCHEMA_ONE or (
            key in {"items", "additionalProperties"} and isinstance(value, dict)
        ):
            found.extend(_schema_problems(value, f"{where}[{key!r}]"))
    return found


def _check_schema(problems: Problems, schema: Mapping[str, Any] | None) -> None:
    if schema is None:
        return
    for prop, value, fix in _schema_problems(schema, "message_schema"):
        problems.add(prop, value, fix)


def _check_path(problems: Problems, path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/")]
    if not path.strip("/") or not all(_PATH_SEGMENT.match(p) for p in parts):
        problems.add(
            "path",
            path,
            "must be one or more '/'-separated segments of letters, digits, '.', '_', '~' or '-', "
            "for example 'messages' or 'v1/orders'",
        )
        return ["messages"]
    return parts


def _check_authorization(problems: Problems, authorization: ApiAuthorization) -> None:
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
    """Validate the consumer wiring and return the visibility timeout to use."""
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


def _check_queue_numbers(
    problems: Problems,
    *,
    max_receive_count: int,
    max_message_age: Duration,
    throttling_rate_limit: float,
    throttling_burst_limit: int,
) -> None:
    if not is_unresolved(max_receive_count) and not 1 <= max_receive_count <= 1000:
        problems.add(
            "max_receive_count", max_receive_count, "must be between 1 and 1000 (5 or more recommended)"
        )
    age = seconds(max_message_age)
    if age is not None and not 0 < age <= _MAX_RETENTION_SECONDS:
        problems.add("max_message_age", max_message_age, "must be more than 0 and at most 14 days")
    if not is_unresolved(throttling_rate_limit) and throttling_rate_limit <= 0:
        problems.add(
            "throttling_rate_limit", throttling_rate_limit, "must be a positive number of requests/s"
        )
    if not is_unresolved(throttling_burst_limit) and throttling_burst_limit < 1:
        problems.add(
            "throttling_burst_limit", throttling_burst_limit, "must be a positive number of requests"
        )


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
