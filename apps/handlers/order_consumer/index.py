"""Order consumer: processes each SQS record on its own, so one bad record never fails its batch mates.

Malformed records are reported back as ``batchItemFailures``; SQS redelivers only those, and after the
queue's max receive count they move to the dead-letter queue.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="order-consumer")
metrics = Metrics(namespace="ConstructsLib/Orders", service="order-consumer")
# An all-failed batch still answers with its failures instead of raising, so SQS retries exactly those.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class InvalidOrderError(ValueError):
    """The record is not a processable order; retrying will not help."""


def parse_order(body: str) -> dict[str, Any]:
    """Parse and check one order message; raise InvalidOrderError when it is malformed."""
    try:
        order = json.loads(body, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidOrderError(f"body is not JSON: {exc.msg}") from exc
    if not isinstance(order, dict):
        raise InvalidOrderError("body is not a JSON object")
    order_id = order.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise InvalidOrderError("orderId must be a non-empty string")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidOrderError("items must be a non-empty list")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            raise InvalidOrderError("every item needs a sku")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise InvalidOrderError("every item needs a positive integer quantity")
    try:
        total = sum(Decimal(str(item.get("unitPrice", 0))) * item["quantity"] for item in items)
    except InvalidOperation as exc:
        raise InvalidOrderError("unitPrice must be a number") from exc
    return {"orderId": order_id, "items": items, "total": total}


def record_handler(record: SQSRecord) -> None:
    order = parse_order(record.body)
    logger.info(
        "order accepted",
        extra={"order_id": order["orderId"], "total": str(order["total"]), "message_id": record.message_id},
    )
    metrics.add_metric(name="OrdersProcessed", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
