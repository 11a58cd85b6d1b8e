"""Storefront order consumer: charges each order once, through the payments circuit breaker.

- Batch processing with partial failures (Powertools): one bad record never fails its batch mates.
- Poison orders (an unknown SKU, a malformed body) raise ``InvalidOrderError``: reported as failures, so
  after the queue's max receive count they reach the dead-letter queue.
- Idempotency (Powertools, DynamoDB): an order delivered twice is charged once, keyed by ``orderId``.
- Payments calls go through the ``payments`` circuit. While it is open, ``CircuitOpenError`` is reported
  as a batch item failure (the message comes back later), and the governor pauses this consumer's
  event source mapping so that waiting costs no receives.
"""

from __future__ import annotations

import json
import os
import urllib.request
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from constructs_lib.runtime import CircuitBreaker

logger = Logger(service="storefront-orders")
metrics = Metrics(namespace="ConstructsLib/Storefront", service="storefront-orders")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "idempotency"))
idempotency = IdempotencyConfig(event_key_jmespath="orderId", expires_after_seconds=24 * 3600)
breaker = CircuitBreaker("payments")
#: The products the catalog sells; an order for anything else is poison.
KNOWN_SKUS = frozenset(json.loads(os.environ.get("KNOWN_SKUS", "[]")))


class InvalidOrderError(ValueError):
    """The record is not a processable order; retrying will not help."""


class PaymentsClient:
    """Charges an order at the payments service (``PAYMENTS_URL``)."""

    def __init__(self, url: str | None = None, timeout: float = 3.0) -> None:
        self.url = url or os.environ.get("PAYMENTS_URL", "")
        self.timeout = timeout

    def charge(self, order_id: str, amount: Decimal) -> str:
        body = json.dumps({"orderId": order_id, "amount": str(amount)}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return str(json.loads(response.read())["chargeId"])


payments = PaymentsClient()


def parse_order(body: str) -> dict[str, Any]:
    """Parse and check one order message; raise InvalidOrderError when it cannot be charged."""
    try:
        order = json.loads(body, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidOrderError(f"body is not JSON: {exc.msg}") from exc
    if not isinstance(order, dict) or not isinstance(order.get("orderId"), str) or not order["orderId"]:
        raise InvalidOrderError("orderId must be a non-empty string")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidOrderError("items must be a non-empty list")
    unknown = sorted({str(item.get("sku")) for item in items if item.get("sku") not in KNOWN_SKUS})
    if unknown:
        raise InvalidOrderError(f"unknown SKUs: {', '.join(unknown)}")
    try:
        total = sum(Decimal(str(item.get("unitPrice", 0))) * int(item["quantity"]) for item in items)
    except (InvalidOperation, KeyError, TypeError, ValueError) as exc:
        raise InvalidOrderError("every item needs a quantity and a numeric unitPrice") from exc
    return {"orderId": order["orderId"], "total": total}


@idempotent_function(data_keyword_argument="order", config=idempotency, persistence_store=persistence)
def charge_once(order: dict[str, Any]) -> dict[str, str]:
    """Charge the order; a second delivery of the same orderId returns the first charge."""
    charge_id = breaker.guard()(payments.charge)(order["orderId"], Decimal(order["total"]))
    return {"orderId": order["orderId"], "chargeId": charge_id}


def record_handler(record: SQSRecord) -> dict[str, str]:
    order = parse_order(record.body)
    result = charge_once(order={"orderId": order["orderId"], "total": str(order["total"])})
    logger.info("order charged", extra={**result, "message_id": record.message_id})
    metrics.add_metric(name="OrdersCharged", unit=MetricUnit.Count, value=1)
    return result


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
