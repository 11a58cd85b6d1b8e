"""Storefront order consumer: charges each order once, at the catalog's prices, through the payments breaker.

- Who ordered comes from the message attribute ``CUSTOMER_ATTRIBUTE`` (``caller.sub``), which the order
  API writes from the customer's verified token; never from the body. The attribute is trusted only on a
  message the order API sent: SQS records who called SendMessage as the message's ``SenderId``
  (``<role unique id>:<session>`` for an assumed role), and it must be the API role's unique id
  (``ORDER_API_ROLE_ID``, written at synth). Any other principal with ``sqs:SendMessage`` on the queue
  could set ``caller.sub`` itself.
- What it costs comes from ``CATALOG`` (product id -> price in cents and stock), the same catalog data the
  Java catalog serves; never from the body.
- Batch processing with partial failures (Powertools): one bad record never fails its batch mates.
- Each record ends one of three ways:

  - charged, once per customer and ``orderId`` (Powertools idempotency, DynamoDB); the record of a charge
    keeps a hash of the order's items, so the same ``orderId`` with other items is refused instead of
    being answered with the first charge;
  - refused: an order the shop declines (a product the catalog does not have or has out of stock: the
    order model refuses both, so this is an order queued before a deployment changed the catalog; or an
    ``orderId`` used before for other items). It is acknowledged, never retried, and recorded once: a
    log line ``order refused`` (customer, order id, reason) and one ``OrdersRefused`` data point, the
    decision kept by the idempotency record, so a second delivery counts nothing;
  - rejected: a message that is not an order of the order API (another sender, no customer, a body the
    order model would have refused). It is reported as a batch failure, so after the queue's max receive
    count it reaches the dead-letter queue, whose alarm fires.
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
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from constructs_lib.runtime import CircuitBreaker

logger = Logger(service="storefront-orders")
metrics = Metrics(namespace="ConstructsLib/Storefront", service="storefront-orders")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "idempotency"))
idempotency = IdempotencyConfig(
    event_key_jmespath="[customer, orderId]",
    payload_validation_jmespath="items",
    expires_after_seconds=24 * 3600,
)
breaker = CircuitBreaker("payments")
#: The catalog: product id -> {"priceCents": int, "inStock": bool}.
CATALOG: dict[str, dict[str, Any]] = json.loads(os.environ.get("CATALOG", "{}"))
#: The message attribute that names the customer (QueueBufferedIngest's caller_identity).
CUSTOMER_ATTRIBUTE = os.environ.get("CUSTOMER_ATTRIBUTE", "caller.sub")
#: The unique id (AROA...) of the role the order API sends messages with; unset, every message is rejected.
ORDER_API_ROLE_ID = os.environ.get("ORDER_API_ROLE_ID", "")
CENT = Decimal("0.01")
#: Fields a client may not send: the price comes from the catalog, the customer from the sign-in.
NOT_FROM_THE_CLIENT = ("unitPrice", "customerId", "price", "total")


class NotAnOrderError(ValueError):
    """The message is not an order of the order API; retrying will not help: it goes to the DLQ."""


class OrderRefusedError(ValueError):
    """An order the shop declines: acknowledged and recorded once, never charged."""


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
    """The customer the order API verified, from the message attribute of a message the API sent."""
    sender = record.attributes.get("SenderId") or ""
    if not ORDER_API_ROLE_ID or sender.split(":", 1)[0] != ORDER_API_ROLE_ID:
        raise NotAnOrderError(
            f"sent by {sender or 'an unknown sender'}, not by the order API's role: its "
            f"{CUSTOMER_ATTRIBUTE} attribute cannot be trusted"
        )
    attribute = record.message_attributes[CUSTOMER_ATTRIBUTE]  # None when absent
    customer = attribute.string_value if attribute is not None else None
    if not customer:
        raise NotAnOrderError(f"the message has no {CUSTOMER_ATTRIBUTE} attribute")
    return customer


def parse_order(body: str) -> dict[str, Any]:
    """The order's id and items; raise NotAnOrderError for what the order model would have refused."""
    try:
        order = json.loads(body)
    except json.JSONDecodeError as exc:
        raise NotAnOrderError(f"body is not JSON: {exc.msg}") from exc
    if not isinstance(order, dict) or not isinstance(order.get("orderId"), str) or not order["orderId"]:
        raise NotAnOrderError("orderId must be a non-empty string")
    items = order.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise NotAnOrderError("items must be a non-empty list of objects")
    from_client = sorted({k for part in (order, *items) for k in part if k in NOT_FROM_THE_CLIENT})
    if from_client:
        raise NotAnOrderError(
            f"{', '.join(from_client)} may not be sent: prices come from the catalog, the customer from "
            "the sign-in"
        )
    for item in items:
        quantity = item.get("quantity")
        if (
            not isinstance(item.get("sku"), str)
            or not isinstance(quantity, int)
            or isinstance(quantity, bool)
        ):
            raise NotAnOrderError("each item needs a sku and a whole quantity")
        if quantity < 1:
            raise NotAnOrderError(f"{item['sku']}: the quantity must be 1 or more")
    return {
        "orderId": order["orderId"],
        "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in items],
    }


def price_cents(items: list[dict[str, Any]]) -> int:
    """What the items cost by the catalog; raise OrderRefusedError for a product it cannot sell."""
    total = 0
    for item in items:
        product = CATALOG.get(item["sku"])
        if product is None:
            raise OrderRefusedError(f"{item['sku']} is not a product of the catalog")
        if not product["inStock"]:
            raise OrderRefusedError(f"{item['sku']} is out of stock")
        total += int(product["priceCents"]) * item["quantity"]
    return total


def refuse(order: dict[str, Any], reason: str) -> dict[str, str]:
    logger.warning(
        "order refused", extra={"customer": order["customer"], "orderId": order["orderId"], "reason": reason}
    )
    metrics.add_metric(name="OrdersRefused", unit=MetricUnit.Count, value=1)
    return {"customer": order["customer"], "orderId": order["orderId"], "refused": reason}


@idempotent_function(data_keyword_argument="order", config=idempotency, persistence_store=persistence)
def settle_once(order: dict[str, Any]) -> dict[str, str]:
    """Charge the order, or refuse it; a second delivery of the same customer's orderId returns the
    first outcome (and the same orderId with other items raises IdempotencyValidationError)."""
    try:
        total = price_cents(order["items"])
    except OrderRefusedError as refused:
        return refuse(order, str(refused))
    amount = (Decimal(total) / 100).quantize(CENT)
    charge_id = breaker.guard()(payments.charge)(order["customer"], order["orderId"], amount)
    metrics.add_metric(name="OrdersCharged", unit=MetricUnit.Count, value=1)
    return {"customer": order["customer"], "orderId": order["orderId"], "chargeId": charge_id}


def record_handler(record: SQSRecord) -> dict[str, str]:
    try:
        order = {"customer": customer_of(record), **parse_order(record.body)}
    except NotAnOrderError as rejected:
        logger.error("message rejected", extra={"reason": str(rejected), "message_id": record.message_id})
        raise
    try:
        result = settle_once(order=order)
    except IdempotencyValidationError:
        return refuse(
            order, f"the orderId {order['orderId']} was used before for other items: choose a new one"
        )
    logger.info("order settled", extra={**result, "message_id": record.message_id})
    return result


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
