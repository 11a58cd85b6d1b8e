"""Checks stock with an inventory service through a circuit breaker shared by every container.

The inventory service is simulated: it fails at the rate ``DOWNSTREAM_FAILURE_RATE`` (0..1). While the
circuit is open, answers come from the fallback without calling the service at all.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from constructs_lib.runtime import CircuitBreaker

# Settings (thresholds, durations) come from CIRCUIT_BREAKER_SETTINGS, written by CircuitBreaker.attach().
breaker = CircuitBreaker("inventory-service", failure_exceptions=(TimeoutError, ConnectionError))


def call_inventory_service(sku: str) -> dict[str, Any]:
    """The flaky downstream. A real one would be an HTTP call with a timeout."""
    if random.random() < float(os.environ.get("DOWNSTREAM_FAILURE_RATE", "0.2")):
        raise TimeoutError("inventory service did not answer in time")
    return {"sku": sku, "available": 7, "degraded": False}


def unknown_stock(sku: str) -> dict[str, Any]:
    return {"sku": sku, "available": None, "degraded": True}


@breaker.guard(fallback=unknown_stock)
def check_stock(sku: str) -> dict[str, Any]:
    return call_inventory_service(sku)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    sku = (event.get("queryStringParameters") or {}).get("sku") or "espresso-beans"
    try:
        body, status = check_stock(sku[:64]), 200
    except (TimeoutError, ConnectionError) as exc:
        body, status = {"sku": sku, "message": str(exc)}, 504
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
