"""What an order is on the storefront, taken from the one catalog the Java function serves.

``catalog.json`` (a resource of the Java catalog, ``apps/java/catalog``) is the only place products,
prices and stock are written. The Java function serves it; the order API's model takes the ids of its
products in stock (an order for one out of stock answers 400 with the reason); the order consumer prices
orders from the same file, handed to it at synth, so a customer is charged what the catalog showed them
and nothing the request says.
"""

from __future__ import annotations

import json
from typing import Any

from apps.catalog.stack import CATALOG_PROJECT
from constructs_lib.ingest.identity import claim_attribute

CATALOG_FILE = CATALOG_PROJECT / "src" / "main" / "resources" / "catalog.json"
#: The message attribute the consumer takes the customer from (QueueBufferedIngest's caller_identity).
CUSTOMER_ATTRIBUTE = claim_attribute("sub")
#: Lambda's limit on a function's environment is 4 KB in all; the catalog keeps within three of them.
CATALOG_ENVIRONMENT_LIMIT = 3 * 1024
MAX_QUANTITY = 100


def catalog_products() -> list[dict[str, Any]]:
    """The products of ``catalog.json``, as the Java function serves them."""
    products: list[dict[str, Any]] = json.loads(CATALOG_FILE.read_text())["products"]
    return products


PRODUCTS = catalog_products()
CATALOG_SKUS = [product["id"] for product in PRODUCTS]
#: What can be ordered: stock is written at synth too, so the order model takes only these.
IN_STOCK_SKUS = [product["id"] for product in PRODUCTS if product["inStock"] is True]

ORDER_SCHEMA: dict[str, Any] = {
    "title": "StorefrontOrder",
    "description": "An order: orderId (your own id for it, unique among your orders) and items, each the sku "
    f"of a catalog product in stock and a quantity of 1 to {MAX_QUANTITY}. The price comes from the catalog "
    "and the customer from the sign-in, so a body with unitPrice or customerId is refused.",
    "type": "object",
    "required": ["orderId", "items"],
    "additionalProperties": False,
    "properties": {
        "orderId": {"type": "string", "minLength": 1, "maxLength": 64},
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string", "enum": IN_STOCK_SKUS},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
                },
            },
        },
    },
}


def consumer_catalog(products: list[dict[str, Any]]) -> str:
    """The catalog as the consumer reads it (``CATALOG``): product id -> price in cents and stock.

    Raises:
        ValueError: a product whose price is not a whole number of cents (0 or more) or whose stock is not
            true or false; or a catalog that no longer fits a function's environment (ship it as a file).
    """
    wrong = [
        f"{p.get('id')}: priceCents {p.get('priceCents')!r}, inStock {p.get('inStock')!r}"
        for p in products
        if not _whole_cents(p.get("priceCents")) or not isinstance(p.get("inStock"), bool)
    ]
    if wrong:
        raise ValueError(
            f"catalog.json: {'; '.join(wrong)}: a price must be a whole number of cents, 0 or more (990 for "
            "$9.90), and inStock true or false; a fraction of a cent would be rounded differently by each "
            "reader"
        )
    catalog = json.dumps(
        {p["id"]: {"priceCents": p["priceCents"], "inStock": p["inStock"]} for p in products},
        separators=(",", ":"),
    )
    if len(catalog) > CATALOG_ENVIRONMENT_LIMIT:
        raise ValueError(
            f"the catalog is {len(catalog)} bytes, more than the {CATALOG_ENVIRONMENT_LIMIT} the order "
            "consumer's environment may hold; bundle catalog.json into its code asset instead"
        )
    return catalog


def _whole_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
