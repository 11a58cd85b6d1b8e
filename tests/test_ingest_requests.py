"""QueueBufferedIngest, request by request: the synthesized templates rendered as API Gateway renders
them (constructs_lib.testing.velocity), and their SendMessage requests run against moto's SQS."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from constructs_lib import QueueBufferedIngest
from constructs_lib.testing.velocity import IngestMethod, Response, java_url_encode, render
from tests.conftest import make_function
from tests.harness import new_stack

REGION = "eu-west-1"


def synthesized_method(**props: Any) -> IngestMethod:
    stack = new_stack()
    QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), **props)
    return IngestMethod.from_template(cdk.assertions.Template.from_stack(stack).to_json())


@pytest.fixture(scope="module")
def standard() -> IngestMethod:
    return synthesized_method()


@pytest.fixture(scope="module")
def fifo() -> IngestMethod:
    return synthesized_method(fifo=True)


@pytest.fixture(scope="module")
def fifo_content_based() -> IngestMethod:
    return synthesized_method(fifo=True, content_based_deduplication=True)


# ------------------------------------------------------------------------------------ the emulation


def test_url_encoding_follows_java_url_encoder():
    assert java_url_encode("a b*~-_.!'()") == "a+b*%7E-_.%21%27%28%29"
    assert java_url_encode("é€😀") == "%C3%A9%E2%82%AC%F0%9F%98%80"


def test_header_maps_are_case_sensitive_as_in_java():
    """What made the old group-id lookup return nothing for HTTP/2 clients."""
    rendered = render("[$!input.params().header.get('X-Id')]", headers={"x-id": "1"})
    assert rendered.text == "[]"


# ------------------------------------------------------------------------------------ request bodies

BODIES = {
    "plain": '{"orderId": "o-1"}',
    "form characters": '{"note": "a&b=c+d%20e"}',
    "newlines and tabs": '{"note": "line 1\\nline 2\\ttab"}',
    "quotes and backslashes": '{"note": "say \\"hi\\" \\\\ back\\\\slash"}',
    "non-ascii": '{"name": "Zoë Ærøskøbing Straße 東京"}',
    "emoji": '{"note": "🍵🚀 thanks"}',
    "raw newline between fields": '{"a": 1,\n "b": "two"}',
    "200 KiB": json.dumps({"blob": "x&y=z+ é" * (200 * 1024 // 9)}),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_queued_message_is_exactly_the_request_body(standard, body):
    request_id = str(uuid.uuid4())
    params = standard.send_message_request(body, {"Content-Type": "application/json"}, request_id=request_id)
    assert params["Action"] == "SendMessage"
    assert params["MessageBody"] == body
    assert params["MessageAttribute.1.Name"] == "apiRequestId"
    assert params["MessageAttribute.1.Value.StringValue"] == request_id
    assert "MessageGroupId" not in params
    assert "MessageDeduplicationId" not in params


# ------------------------------------------------------------------------------------ SQS answers


def sqs_error(code: str, message: str = "", kind: str = "Sender") -> dict[str, Any]:
    """SQS's query-API error in JSON (the integration asks for Accept: application/json)."""
    return {"Error": {"Code": code, "Message": message, "Type": kind}, "RequestId": "sqs-1"}


def test_an_sqs_success_answers_202_with_the_message_id(standard):
    answer = {"SendMessageResponse": {"SendMessageResult": {"MessageId": "m-1", "MD5OfMessageBody": "x"}}}
    assert standard.respond(200, answer, request_id="req-2") == Response(
        202, {"messageId": "m-1", "requestId": "req-2"}
    )


SQS_ANSWERS = [
    pytest.param(
        400,
        sqs_error(
            "InvalidParameterValue",
            "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.",
        ),
        413,
        id="too large",
    ),
    pytest.param(400, sqs_error("MessageTooLong", "too long"), 413, id="too large, older code"),
    pytest.param(400, sqs_error("InvalidMessageContents", "Invalid characters found"), 400, id="characters"),
    pytest.param(400, sqs_error("MissingParameter", "MessageGroupId is required"), 400, id="empty group id"),
    pytest.param(
        400,
        sqs_error("InvalidParameterValue", "MessageGroupId can only include..."),
        400,
        id="invalid group id",
    ),
    pytest.param(
        400,
        {"__type": "com.amazonaws.sqs#InvalidMessageContents", "message": "bad"},
        400,
        id="json protocol error",
    ),
    pytest.param(403, sqs_error("AccessDenied", "not authorized"), 502, id="access denied"),
    pytest.param(400, sqs_error("KMS.AccessDeniedException", "key refused"), 502, id="kms"),
    pytest.param(400, sqs_error("KmsThrottled", "slow down"), 503, id="kms throttled"),
    pytest.param(400, sqs_error("KmsAccessDenied", "key refused"), 502, id="kms access denied"),
    pytest.param(400, sqs_error("KmsDisabled", "key disabled"), 502, id="kms disabled"),
    pytest.param(400, sqs_error("KmsNotFound", "no key"), 502, id="kms not found"),
    pytest.param(403, sqs_error("OverLimit", "too many"), 502, id="over limit"),
    pytest.param(400, sqs_error("RequestThrottled", "slow down"), 503, id="throttled"),
    pytest.param(400, sqs_error("AWS.SimpleQueueService.NonExistentQueue", "gone"), 502, id="no queue"),
    pytest.param(500, sqs_error("InternalError", "oops", "Receiver"), 503, id="sqs 5xx"),
    pytest.param(302, "<html>moved</html>", 500, id="anything else"),
]


@pytest.mark.parametrize(("sqs_status", "sqs_body", "status"), SQS_ANSWERS)
def test_sqs_errors_answer_the_client_by_whose_fault_they_are(standard, sqs_status, sqs_body, status):
    response = standard.respond(sqs_status, sqs_body, request_id="req-9")
    assert response.status == status
    assert isinstance(response.body["message"], str)
    if 400 <= status < 500:
        assert response.body == {"message": response.body["message"], "requestId": "req-9"}
    if status == 502:
        assert "not in the request" in response.body["message"], "a service fault never blames the client"
    throttled = (
        sqs_body.get("Error", {}).get("Code", "").endswith("Throttled") if sqs_status == 400 else False
    )
    assert ("Retry-After" in response.headers) == throttled


@pytest.mark.parametrize("code", ["KmsThrottled", "RequestThrottled"])
def test_throttling_answers_503_with_retry_after_so_clients_retry(standard, code):
    response = standard.respond(400, sqs_error(code, "Rate exceeded"), request_id="req-7")
    assert response.status == 503
    assert response.headers == {"Retry-After": "1"}
    assert response.body["requestId"] == "req-7"
    assert "retry" in response.body["message"]


def test_validation_failures_answer_400_with_valid_json(standard):
    for kind in ("BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS"):
        response = standard.gateway_response(kind, message="Invalid request body", request_id="req-3")
        assert response == Response(400, {"message": "Invalid request body", "requestId": "req-3"})


# ------------------------------------------------------------------------------------ FIFO headers

HEADER_CASES = ["X-Message-Group-Id", "x-message-group-id", "X-MESSAGE-GROUP-ID", "x-Message-group-ID"]


@pytest.mark.parametrize("header", HEADER_CASES)
def test_the_group_id_is_read_in_any_case(fifo, header):
    assert fifo.missing_required_headers({header: "tenant-7"}) == []
    params = fifo.send_message_request('{"a": 1}', {header: "tenant-7"})
    assert params["MessageGroupId"] == "tenant-7"


def test_the_validator_refuses_a_request_without_the_group_header(fifo):
    assert fifo.missing_required_headers({"Content-Type": "application/json"}) == ["X-Message-Group-Id"]


def test_distinct_requests_get_distinct_deduplication_ids_by_default(fifo):
    first = fifo.send_message_request('{"a": 1}', {"x-message-group-id": "g"}, request_id="req-a")
    second = fifo.send_message_request('{"a": 1}', {"x-message-group-id": "g"}, request_id="req-b")
    assert (first["MessageDeduplicationId"], second["MessageDeduplicationId"]) == ("req-a", "req-b")


@pytest.mark.parametrize("header", ["X-Message-Deduplication-Id", "x-message-deduplication-id"])
def test_a_clients_deduplication_id_wins_in_any_case(fifo, header):
    params = fifo.send_message_request('{"a": 1}', {"X-Message-Group-Id": "g", header: "order-42"})
    assert params["MessageDeduplicationId"] == "order-42"


def test_content_based_deduplication_sends_no_id_unless_the_client_does(fifo_content_based):
    plain = fifo_content_based.send_message_request('{"a": 1}', {"X-Message-Group-Id": "g"})
    assert "MessageDeduplicationId" not in plain
    explicit = fifo_content_based.send_message_request(
        '{"a": 1}', {"X-Message-Group-Id": "g", "x-message-deduplication-id": "o-1"}
    )
    assert explicit["MessageDeduplicationId"] == "o-1"


# ------------------------------------------------------------------------------------ against moto


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def deliver(sqs: Any, queue_url: str, method: IngestMethod, body: str, headers: dict[str, str]) -> Response:
    """One request end to end: the request template, SQS (moto), then the response templates."""
    params = method.send_message_request(body, headers)
    kwargs: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MessageBody": params["MessageBody"],
        "MessageAttributes": {
            params["MessageAttribute.1.Name"]: {
                "DataType": params["MessageAttribute.1.Value.DataType"],
                "StringValue": params["MessageAttribute.1.Value.StringValue"],
            }
        },
    }
    for name in ("MessageGroupId", "MessageDeduplicationId"):
        if name in params:
            kwargs[name] = params[name]
    try:
        answer = sqs.send_message(**kwargs)
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return method.respond(
            status, sqs_error(error.response["Error"]["Code"], error.response["Error"]["Message"])
        )
    return method.respond(
        200, {"SendMessageResponse": {"SendMessageResult": {"MessageId": answer["MessageId"]}}}
    )


def drain(sqs: Any, queue_url: str) -> list[str]:
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies.extend(m["Body"] for m in messages)
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_identical_orders_are_both_delivered_by_default(sqs, fifo):
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    order = '{"orderId": "same", "items": [{"sku": "tea", "quantity": 1}]}'
    for _ in range(2):
        assert deliver(sqs, url, fifo, order, {"x-message-group-id": "c-1"}).status == 202
    assert drain(sqs, url) == [order, order]


def test_a_retried_request_with_its_deduplication_id_is_delivered_once(sqs, fifo):
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    headers = {"X-Message-Group-Id": "c-1", "X-Message-Deduplication-Id": "order-1"}
    for _ in range(2):
        assert deliver(sqs, url, fifo, '{"orderId": "order-1"}', headers).status == 202
    assert drain(sqs, url) == ['{"orderId": "order-1"}']


def test_content_based_deduplication_merges_identical_bodies(sqs, fifo_content_based):
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    url = sqs.create_queue(QueueName="orders.fifo", Attributes=attributes)["QueueUrl"]
    for _ in range(2):
        assert deliver(sqs, url, fifo_content_based, '{"a": 1}', {"X-Message-Group-Id": "g"}).status == 202
    assert drain(sqs, url) == ['{"a": 1}']


def test_every_special_body_reaches_sqs_byte_for_byte(sqs, standard):
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    for body in BODIES.values():
        assert deliver(sqs, url, standard, body, {"Content-Type": "application/json"}).status == 202
    assert sorted(drain(sqs, url)) == sorted(BODIES.values())


def test_a_body_over_the_queues_limit_answers_413_not_5xx(sqs, standard):
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    response = deliver(sqs, url, standard, json.dumps({"blob": "x" * 2048}), {})
    assert response.status == 413
    assert drain(sqs, url) == []
