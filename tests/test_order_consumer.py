"""The sample order consumer against moto SQS: bad records fail alone, and only they reach the DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.harness import load_handler

MAX_RECEIVE_COUNT = 3

GOOD_ORDERS = [
    {"orderId": "o-1", "items": [{"sku": "apple", "quantity": 2, "unitPrice": 0.5}]},
    {"orderId": "o-2", "customerId": "c-9", "items": [{"sku": "pear", "quantity": 1}]},
    {"orderId": "o-3", "items": [{"sku": "fig", "quantity": 12, "unitPrice": 1.25}]},
]
BAD_BODIES = [
    "not json at all",
    json.dumps(["an", "array"]),
    json.dumps({"orderId": "", "items": [{"sku": "a", "quantity": 1}]}),
    json.dumps({"orderId": "o-4", "items": []}),
    json.dumps({"orderId": "o-5", "items": [{"sku": "a", "quantity": 0}]}),
]


@dataclass
class FakeLambdaContext:
    function_name: str = "order-consumer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:order-consumer"
    aws_request_id: str = "3f1c6f5e-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def consumer_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Load the handler the way Lambda does: ``index`` from the asset directory."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    return load_handler("order_consumer")


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-1")


@pytest.fixture
def queues(sqs: Any) -> tuple[str, str, str]:
    """(queue URL, queue ARN, DLQ URL), wired with a redrive policy as the construct does."""
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return queue_url, queue_arn, dlq_url


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "eu-west-1",
            }
            for m in messages
        ]
    }


def send_all(sqs: Any, queue_url: str) -> tuple[set[str], set[str]]:
    good = {sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(o))["MessageId"] for o in GOOD_ORDERS}
    bad = {sqs.send_message(QueueUrl=queue_url, MessageBody=b)["MessageId"] for b in BAD_BODIES}
    return good, bad


def poll_once(sqs: Any, module: ModuleType, queue_url: str, queue_arn: str) -> tuple[set[str], set[str]]:
    """One poll of an event source mapping with ReportBatchItemFailures: delete what succeeded."""
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    )
    if not messages:
        return set(), set()
    response = module.handler(sqs_event(messages, queue_arn), FakeLambdaContext())
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    succeeded = {m["MessageId"] for m in messages} - failed
    for m in messages:
        if m["MessageId"] in succeeded:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return succeeded, failed


def test_batch_returns_exactly_the_malformed_records(sqs, queues, consumer_module):
    queue_url, queue_arn, _ = queues
    good, bad = send_all(sqs, queue_url)
    succeeded, failed = poll_once(sqs, consumer_module, queue_url, queue_arn)
    assert failed == bad
    assert succeeded == good


def test_all_good_batch_reports_no_failures(sqs, queues, consumer_module):
    queue_url, queue_arn, _ = queues
    for order in GOOD_ORDERS:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(order))
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    response = consumer_module.handler(sqs_event(messages, queue_arn), FakeLambdaContext())
    assert response == {"batchItemFailures": []}


def test_all_bad_batch_reports_every_record_instead_of_raising(sqs, queues, consumer_module):
    queue_url, queue_arn, _ = queues
    bad = {sqs.send_message(QueueUrl=queue_url, MessageBody=b)["MessageId"] for b in BAD_BODIES}
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    response = consumer_module.handler(sqs_event(messages, queue_arn), FakeLambdaContext())
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == bad


def test_poison_messages_reach_the_dlq_and_good_ones_are_processed_once(sqs, queues, consumer_module):
    queue_url, queue_arn, dlq_url = queues
    good, bad = send_all(sqs, queue_url)
    processed: list[str] = []
    for _ in range(MAX_RECEIVE_COUNT + 2):
        succeeded, _failed = poll_once(sqs, consumer_module, queue_url, queue_arn)
        processed.extend(succeeded)
    assert sorted(processed) == sorted(good)
    in_dlq = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert {m["MessageId"] for m in in_dlq} == bad
    assert sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"orderId": "o", "items": [{"sku": 1, "quantity": 1}]}', "sku"),
        ('{"orderId": "o", "items": [{"sku": "a", "quantity": true}]}', "quantity"),
        ('{"orderId": "o", "items": [{"sku": "a", "quantity": 1, "unitPrice": "x"}]}', "unitPrice"),
        ('{"items": [{"sku": "a", "quantity": 1}]}', "orderId"),
    ],
)
def test_parse_order_explains_what_is_wrong(consumer_module, body, reason):
    with pytest.raises(consumer_module.InvalidOrderError, match=reason):
        consumer_module.parse_order(body)


def test_parse_order_totals_exactly(consumer_module):
    order = consumer_module.parse_order(json.dumps(GOOD_ORDERS[2]))
    assert str(order["total"]) == "15.00"


# ---------------------------------------------------------------------------------- the storefront consumer


@pytest.fixture
def storefront_consumer(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The storefront's order consumer, with the catalog the stack hands it."""
    from apps.storefront.orders import CUSTOMER_ATTRIBUTE, PRODUCTS, consumer_catalog

    monkeypatch.setenv("CATALOG", consumer_catalog(PRODUCTS))
    monkeypatch.setenv("CUSTOMER_ATTRIBUTE", CUSTOMER_ATTRIBUTE)
    monkeypatch.setenv("ORDER_API_ROLE_ID", API_ROLE_ID)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", "circuit-state")  # what attach() sets; not called here
    monkeypatch.setenv("CIRCUIT_BREAKER_SETTINGS", json.dumps({"payments": {}}))
    return load_handler("storefront_orders")


API_ROLE_ID = "AROAORDERAPIEXAMPLE01"


def test_the_storefront_consumer_prices_from_the_catalog_in_cents(storefront_consumer):
    body = json.dumps(
        {
            "orderId": "o-1",
            "items": [{"sku": "green-tea", "quantity": 3}, {"sku": "espresso-beans", "quantity": 1}],
        }
    )
    order = storefront_consumer.parse_order(body)
    assert order["orderId"] == "o-1"
    assert storefront_consumer.price_cents(order["items"]) == 3 * 990 + 2450


@pytest.mark.parametrize(
    ("items", "extra", "reason"),
    [
        ([{"sku": "green-tea", "quantity": 2, "unitPrice": 0.01}], {}, "unitPrice may not be sent"),
        ([{"sku": "green-tea", "quantity": 2}], {"customerId": "c-1"}, "customerId may not be sent"),
        ([{"sku": "green-tea", "quantity": 0}], {}, "quantity must be 1 or more"),
        ([{"sku": "green-tea", "quantity": True}], {}, "a whole quantity"),
        ([{"sku": 7, "quantity": 1}], {}, "a whole quantity"),
    ],
)
def test_the_storefront_consumer_rejects_what_the_order_model_refuses(
    storefront_consumer, items, extra, reason
):
    """Only a message that did not come through the API can carry these: rejected, for the DLQ."""
    body = json.dumps({"orderId": "o-1", "items": items, **extra})
    with pytest.raises(storefront_consumer.NotAnOrderError, match=reason):
        storefront_consumer.parse_order(body)


@pytest.mark.parametrize(
    ("sku", "reason"),
    [
        ("discontinued-kettle", "not a product of the catalog"),
        ("hand-grinder", "hand-grinder is out of stock"),
    ],
)
def test_the_storefront_consumer_refuses_what_the_catalog_cannot_sell(storefront_consumer, sku, reason):
    """An order queued before a deployment changed the catalog: declined (acknowledged), not poison."""
    with pytest.raises(storefront_consumer.OrderRefusedError, match=reason):
        storefront_consumer.price_cents([{"sku": sku, "quantity": 1}])


def sqs_record(attributes: dict[str, Any], sender: str | None) -> Any:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    body = json.dumps({"orderId": "o-1", "items": [{"sku": "green-tea", "quantity": 1}]})
    system = {"SenderId": sender} if sender is not None else {}
    return SQSRecord(
        {"messageId": "m-1", "body": body, "messageAttributes": attributes, "attributes": system}
    )


def test_the_storefront_consumer_takes_the_customer_only_from_a_message_the_api_sent(storefront_consumer):
    attribute = {"caller.sub": {"stringValue": "sub-1", "dataType": "String"}}
    assert storefront_consumer.customer_of(sqs_record(attribute, f"{API_ROLE_ID}:apigateway")) == "sub-1"
    with pytest.raises(storefront_consumer.NotAnOrderError, match=r"no caller\.sub attribute"):
        storefront_consumer.customer_of(sqs_record({}, f"{API_ROLE_ID}:apigateway"))
    # Any other principal with sqs:SendMessage can set caller.sub: another role, a user, or none recorded.
    for sender in ("AROAANOTHERROLE000001:forger", "AIDAUSEREXAMPLE000001", None, API_ROLE_ID + "X:s"):
        with pytest.raises(storefront_consumer.NotAnOrderError, match="not by the order API's role"):
            storefront_consumer.customer_of(sqs_record(attribute, sender))


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"priceCents": 9.9}, "priceCents 9.9"),
        ({"priceCents": "990"}, "priceCents '990'"),
        ({"priceCents": True}, "priceCents True"),
        ({"priceCents": -1}, "priceCents -1"),
        ({"inStock": "yes"}, "inStock 'yes'"),
    ],
)
def test_a_catalog_price_that_is_not_whole_cents_is_refused_at_synth(change, shown):
    """A fraction of a cent would be rounded one way by the page and another by the consumer."""
    from apps.storefront.orders import PRODUCTS, consumer_catalog

    products = [dict(p) for p in PRODUCTS]
    products[0].update(change)
    with pytest.raises(ValueError, match="a price must be a whole number of cents") as refused:
        consumer_catalog(products)
    assert products[0]["id"] in str(refused.value), "names the product"
    assert shown in str(refused.value), "and the value"
    assert json.loads(consumer_catalog([{**PRODUCTS[0], "priceCents": 0}]))  # free is a price
