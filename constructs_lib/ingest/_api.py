"""``QueueBufferedIngest``'s edge: the REST API whose POST method sends the request body to the queue.

The role API Gateway assumes, the REGIONAL API with its stage (throttling, access logs, tracing), the
stage's web ACL, the validation responses, and the POST method: request model and validator, the SQS
integration with its Velocity templates (``templates``), and the authorization (``authorization``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Names, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .._core import LOG_GROUP_KMS_REASON, acknowledge
from .._core.json_schema import json_schema
from ._plan import Plan
from ._queues import IngestQueues
from .authorization import acknowledge_authorization
from .templates import (
    bad_request_body_template,
    bad_request_parameters_template,
    integration_responses,
    method_responses,
    model_schema,
    send_message_template,
)

#: Default API names (stack + construct path + hash) are kept this short, for consoles and dimensions.
API_NAME_MAX_LENGTH = 128


class IngestApi:
    """The API role (``ApiRole``), access logs (``AccessLogs``), REST API (``Api``) and its POST method,
    as children of ``scope``, sending to ``queues.queue``."""

    def __init__(self, scope: Construct, plan: Plan, queues: IngestQueues) -> None:
        self._scope = scope
        self.role = self._build_role(queues)
        self.access_log_group = logs.LogGroup(scope, "AccessLogs", retention=plan.access_log_retention)
        self.api = self._build_api(plan)
        self._protect_stage(plan.web_acl_arn)
        self._add_gateway_responses(plan.schema)
        self.method = self._build_post_method(plan, queues)

    def _build_role(self, queues: IngestQueues) -> iam.Role:
        role = iam.Role(
            self._scope,
            "ApiRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets the ingest API send messages to its queue",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queues.queue.queue_arn])
        )
        if queues.encryption_key is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[queues.encryption_key.key_arn],
                )
            )
        return role

    def _build_api(self, plan: Plan) -> apigateway.RestApi:
        api_kwargs = dict(plan.api_kwargs)
        api_kwargs.setdefault(
            "rest_api_name", Names.unique_resource_name(self._scope, max_length=API_NAME_MAX_LENGTH)
        )
        api = apigateway.RestApi(
            self._scope,
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
        self._acknowledge(api, plan)
        return api

    def _acknowledge(self, api: apigateway.RestApi, plan: Plan) -> None:
        role = api.node.try_find_child("CloudWatchRole")
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
            api.deployment_stage,
            "checkov::CKV_AWS_120",
            "The API only takes POSTs that enqueue a message, and API Gateway never caches POST responses; "
            "a cache cluster would cost money and serve nothing",
        )

    def _protect_stage(self, web_acl_arn: str | None) -> None:
        stage = self.api.deployment_stage
        if web_acl_arn is not None:
            wafv2.CfnWebACLAssociation(
                self._scope, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=web_acl_arn
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

    def _integration(self, plan: Plan, queues: IngestQueues) -> apigateway.AwsIntegration:
        """SendMessage to the queue, as the role, with the request template; SQS's answers mapped."""
        return apigateway.AwsIntegration(
            service="sqs",
            path=f"{Stack.of(self._scope).account}/{queues.queue.queue_name}",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=self.role,
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

    def _build_post_method(self, plan: Plan, queues: IngestQueues) -> apigateway.Method:
        resource = self.api.root
        for part in plan.path_parts:
            resource = resource.add_resource(part)
        integration = self._integration(plan, queues)
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
