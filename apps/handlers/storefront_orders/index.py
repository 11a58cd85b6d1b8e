"""Storefront order consumer: charges each order once, at the catalog's prices, through the payments breaker.

- Who ordered comes from the message attribute ``CUSTOMER_ATTRIBUTE`` (``caller.sub``), which the order
  API writes from the customer's verified token; never from the body.
- What it costs comes from ``CATALOG`` (product id -> price in cents and stock), the same catalog data the
  Java catalog serves; never from the body.
- Batch processing with partial failures (Powertools): one bad record never fails its batch mates.
- Orders that cannot be charged raise ``InvalidOrderError`` before any charge: a body that is not an order
  or carries a price or a customer of its own, a message without the customer, an unknown product, a
  product out of stock. They are reported as failures, so after the queue's max receive count they reach
  the dead-letter queue, where an operator tells the customer.
- Idempotency (Powertools, DynamoDB): an order delivered twice is charged once, keyed by the customer and
  their ``orderId`` (two customers may choose the same order id).
- Payments calls go through the ``payments`` circuit. While it is open, ``CircuitOpenError`` is reported
  as a batch item failure (the message comes back later), and the governor pauses this consumer's
  event source mapping so that waiting costs no receives.
"""

from __future__ import annotations

import json
import os
import urllib.request
from decimal import Decimal
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
idempotency = IdempotencyConfig(event_key_jmespath="[customer, orderId]", expires_after_seconds=24 * 3600)
breaker = CircuitBreaker("payments")
#: The catalog: product id -> {"priceCents": int, "inStock": bool}.
CATALOG: dict[str, dict[str, Any]] = json.loads(os.environ.get("CATALOG", "{}"))
#: The message attribute that names the customer (QueueBufferedIngest's caller_identity).
CUSTOMER_ATTRIBUTE = os.environ.get("CUSTOMER_ATTRIBUTE", "caller.sub")
CENT = Decimal("0.01")
#: Fields a client may not send: the price comes from the catalog, the customer from the sign-in.
NOT_FROM_THE_CLIENT = ("unitPrice", "customerId", "price", "total")


class InvalidOrderError(ValueError):
    """The record is not an order that can be charged; retrying will not help."""


class PaymentsClient:
    """Charges an order at the payments service (``PAYMENTS_URL``)."""

    def __init__(self, url: str | None = None, timeout: float = 3.0) -> None:
        self.url = url or os.environ.get("PAYMENTS_URL", "")
        self.timeout = timeout

    def charge(self, customer: str, order_id: str, amount: Decimal) -> str:
        body = json.dumps({"customerId": customer, "orderId": order_id, "amount": str(amount)}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return str(json.loads(response.read())["chargeId"])


payments = PaymentsClient()


def customer_of(record: SQSRecord) -> str:
    """The customer the order API verified, from the message attribute (never the body)."""
    attribute = record.message_attributes[CUSTOMER_ATTRIBUTE]  # None when absent
    customer = attribute.string_value if attribute is not None else None
    if not customer:
        raise InvalidOrderError(
            f"the message has no {CUSTOMER_ATTRIBUTE} attribute: it did not come through the order API"
        )
    return customer


def parse_order(body: str) -> dict[str, Any]:
    """Parse one order, price it from the catalog; raise InvalidOrderError when it cannot be charged."""
    try:
        order = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidOrderError(f"body is not JSON: {exc.msg}") from exc
    if not isinstance(order, dict) or not isinstance(order.get("orderId"), str) or not order["orderId"]:
        raise InvalidOrderError("orderId must be a non-empty string")
    items = order.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise InvalidOrderError("items must be a non-empty list of objects")
    from_client = sorted({k for part in (order, *items) for k in part if k in NOT_FROM_THE_CLIENT})
    if from_client:
        raise InvalidOrderError(
            f"{', '.join(from_client)} may not be sent: prices come from the catalog, the customer from "
            "the sign-in"
        )
    return {"orderId": order["orderId"], "totalCents": sum(_price_cents(item) for item in items)}


def _price_cents(item: dict[str, Any]) -> int:
    sku, quantity = item.get("sku"), item.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise InvalidOrderError(f"{sku}: the quantity must be a whole number of 1 or more")
    product = CATALOG.get(sku) if isinstance(sku, str) else None
    if product is None:
        raise InvalidOrderError(f"{sku} is not a product of the catalog")
    if not product["inStock"]:
        raise InvalidOrderError(f"{sku} is out of stock")
    return int(product["priceCents"]) * quantity


@idempotent_function(data_keyword_argument="order", config=idempotency, persistence_store=persistence)
def charge_once(order: dict[str, Any]) -> dict[str, str]:
    """Charge the order; a second delivery of the same customer's orderId returns the first charge."""
    amount = (Decimal(order["totalCents"]) / 100).quantize(CENT)
    charge_id = breaker.guard()(payments.charge)(order["customer"], order["orderId"], amount)
    return {"customer": order["customer"], "orderId": order["orderId"], "chargeId": charge_id}


def record_handler(record: SQSRecord) -> dict[str, str]:
    try:
        customer = customer_of(record)
        order = parse_order(record.body)
    except InvalidOrderError as refused:
        logger.warning("order refused", extra={"reason": str(refused), "message_id": record.message_id})
        metrics.add_metric(name="OrdersRefused", unit=MetricUnit.Count, value=1)
        raise
    result = charge_once(order={"customer": customer, **order})
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
