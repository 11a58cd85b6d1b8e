"""Sample stack: an order-ingest API whose orders a Powertools batch consumer drains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib import QueueBufferedIngest
from constructs_lib._core import acknowledge

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"
#: The newest Python runtime that both aws-cdk-lib and Powertools for AWS Lambda support.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/latest"

ORDER_SCHEMA: dict[str, Any] = {
    "title": "Order",
    "type": "object",
    "required": ["orderId", "items"],
    "additionalProperties": False,
    "properties": {
        "orderId": {"type": "string", "minLength": 1, "maxLength": 64},
        "customerId": {"type": "string", "maxLength": 64},
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string", "minLength": 1, "maxLength": 64},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unitPrice": {"type": "number", "minimum": 0},
                },
            },
        },
    },
}


class OrderIngestStack(Stack):
    """POST /orders -> SQS -> order consumer, with alarms to one SNS topic."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        alarm_topic = sns.Topic(self, "AlarmTopic", enforce_ssl=True, display_name="Order ingest alarms")
        consumer = order_consumer_function(self, "OrderConsumer")
        ingest = QueueBufferedIngest(
            self,
            "OrderIngest",
            consumer=consumer,
            path="orders",
            message_schema=ORDER_SCHEMA,
            max_concurrency=5,
            alarm_topic=alarm_topic,
        )
        CfnOutput(self, "OrdersUrl", value=ingest.url, description="POST orders here (SigV4-signed)")
        CfnOutput(self, "DeadLetterQueueUrl", value=ingest.dead_letter_queue.queue_url)


def order_consumer_function(scope: Construct, id: str) -> lambda_.Function:
    """The Python order consumer, with Powertools from AWS's public layer and a least-privilege role."""
    log_group = logs.LogGroup(scope, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH)
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Order consumer: write its own logs; queue grants are added by QueueBufferedIngest",
    )
    log_group.grant_write(role)
    powertools_arn = ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER)
    function = lambda_.Function(
        scope,
        id,
        runtime=PYTHON_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        handler="index.handler",
        code=lambda_.Code.from_asset(str(HANDLERS / "order_consumer"), exclude=["__pycache__", "*.pyc"]),
        layers=[lambda_.LayerVersion.from_layer_version_arn(scope, f"{id}Powertools", powertools_arn)],
        memory_size=256,
        timeout=Duration.seconds(30),
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE,
        environment={
            "POWERTOOLS_SERVICE_NAME": "order-consumer",
            "POWERTOOLS_METRICS_NAMESPACE": "ConstructsLib/Orders",
        },
        description="Processes queued orders; reports malformed records as batch item failures",
    )
    acknowledge(
        role,
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level "
        "permissions, so AWS requires Resource '*' for them",
    )
    acknowledge(
        function,
        "Serverless::Serverless-LambdaDLQ",
        "Invoked synchronously by the SQS event source mapping only; failed messages go to the source "
        "queue's redrive dead-letter queue, so a function DLQ would never receive anything",
    )
    return function
