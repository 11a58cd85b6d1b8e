"""Sample stack: an order-ingest API whose orders a Powertools batch consumer drains."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from apps.common import (
    SQS_CONSUMER_CONCURRENCY_REASON,
    SQS_CONSUMER_DLQ_REASON,
    encrypted_alarm_topic,
    python_function,
)
from constructs_lib import QueueBufferedIngest

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
        alarm_topic = encrypted_alarm_topic(self, "Order ingest alarms")
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
    """The Python order consumer (``apps/handlers/order_consumer``)."""
    return python_function(
        scope,
        id,
        handler_dir="order_consumer",
        description="Processes queued orders; reports malformed records as batch item failures",
        environment={
            "POWERTOOLS_SERVICE_NAME": "order-consumer",
            "POWERTOOLS_METRICS_NAMESPACE": "ConstructsLib/Orders",
        },
        timeout=Duration.seconds(30),
        dlq_reason=SQS_CONSUMER_DLQ_REASON,
        concurrency_reason=SQS_CONSUMER_CONCURRENCY_REASON,
    )
