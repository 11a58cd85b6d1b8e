"""Queue-buffered ingest: API Gateway enqueues straight into SQS; a Lambda consumer drains the queue.

The synchronous edge (a REST API with a direct SQS integration, no Lambda on the request path) scales
with requests. The consumer runs through an event source mapping at a bounded concurrency, reports
partial batch failures, and poison messages move to a dead-letter queue.

The construct checks its props (``_plan``), then has its collaborators build the queues (``_queues``),
the API (``_api``) and the consumer's mapping (``_consumer``); it keeps the public attributes, grants,
metrics and alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import (
    child_path,
    given_props,
    threshold_alarm,
    underlying_function,
    visible_signature,
    wire_alarms,
)
from ._api import API_NAME_MAX_LENGTH as API_NAME_MAX_LENGTH
from ._api import IngestApi
from ._consumer import consumer_mapping
from ._plan import Plan, plan_props
from ._queues import IngestQueues
from .authorization import ApiAuthorization
from .identity import CallerIdentity

__all__ = ["QueueBufferedIngest"]


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
        message_schema: JSON Schema (draft 4) that request bodies must match, else 400; its
            ``description``, when given, is that 400's ``hint``. Default: any JSON object.
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
        queues = IngestQueues(self, plan)
        self.queue: sqs.IQueue = queues.queue
        self.dead_letter_queue: sqs.IQueue = queues.dead_letter_queue
        self.encryption_key: kms.IKey | None = queues.encryption_key
        edge = IngestApi(self, plan, queues)
        self.api_role: iam.Role = edge.role
        self.access_log_group: logs.LogGroup = edge.access_log_group
        self.api: apigateway.RestApi = edge.api
        self.method: apigateway.Method = edge.method
        self.url: str = self.api.url_for_path("/" + "/".join(plan.path_parts))
        self.event_source_mapping = consumer_mapping(self, plan, self.queue)
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
    # The queues, the API and the consumer's mapping are built by their collaborators (_queues, _api,
    # _consumer); the construct keeps what it is asked for: its attributes, grants, metrics and alarms.

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
