"""The governor that pauses a queue consumer while its circuit is open, run against moto: a real state
table with its DynamoDB stream, a real SQS event source mapping in moto's Lambda, and a fake clock."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from moto import mock_aws

from constructs_lib.runtime import CircuitBreaker, CircuitOpenError, State
from constructs_lib.runtime._store import Snapshot
from constructs_lib.runtime.governor import (
    GovernedMapping,
    Governor,
    MappingSetting,
    desired_setting,
    transitions_in,
)
from tests.breaker_support import Events, FakeClock
from tests.localcloud import StreamPoller

REGION = "eu-west-1"
TABLE = "circuits"
#: Lambda polls each DynamoDB stream shard four times a second; the simulated poller does the same.
STREAM_POLL_SECONDS = 0.25


@pytest.fixture(scope="module")
def botocore_session() -> boto3.session.Session:
    """One session for the module's clients: moto starts each test's cloud with a new default session,
    which would load each service's model again (about 60 ms a service, five services a test)."""
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def cloud(
    monkeypatch: pytest.MonkeyPatch, botocore_session: boto3.session.Session
) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # moto serves the streams API on the regional endpoint only (see shared/DESIGN.md).
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", botocore_session)  # boto3.client(...) reuses it
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        lambda_client = boto3.client("lambda", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="consumer", AssumeRolePolicyDocument="{}"
        )
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
        lambda_client.create_function(
            FunctionName="order-consumer",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="index.handler",
            Code={"ZipFile": code.getvalue()},
        )
        mapping = lambda_client.create_event_source_mapping(
            EventSourceArn=queue_arn,
            FunctionName="order-consumer",
            BatchSize=10,
            ScalingConfig={"MaximumConcurrency": 5},
        )
        yield {
            "dynamodb": dynamodb,
            "lambda": lambda_client,
            "stream": StreamPoller(table["LatestStreamArn"], region=REGION),
            "mapping_id": mapping["UUID"],
        }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def governed(cloud: dict[str, Any]) -> GovernedMapping:
    return GovernedMapping(
        mapping_id=cloud["mapping_id"], circuit_id="payments", max_concurrency=5, batch_size=10
    )


def make_governor(cloud: dict[str, Any], clock: FakeClock, events: Events, **kwargs: Any) -> Governor:
    return Governor(
        table_name=kwargs.pop("table_name", TABLE),
        governed=[governed(cloud)],
        lambda_client=cloud["lambda"],
        dynamodb_client=cloud["dynamodb"],
        clock=clock,
        emit=events,
    )


def make_breaker(cloud: dict[str, Any], clock: FakeClock, events: Events) -> CircuitBreaker:
    return CircuitBreaker(
        "payments",
        table_name=TABLE,
        settings={"failure_threshold": 2, "open_duration": 30},
        client=cloud["dynamodb"],
        clock=clock,
        emit=events,
    )


def mapping(cloud: dict[str, Any]) -> tuple[str, int | None, int]:
    current = cloud["lambda"].get_event_source_mapping(UUID=cloud["mapping_id"])
    return (
        current["State"],
        (current.get("ScalingConfig") or {}).get("MaximumConcurrency"),
        current["BatchSize"],
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ConnectionError), breaker.call():
            raise ConnectionError("payments is down")


def deliver(cloud: dict[str, Any], governor: Governor) -> list[dict[str, Any]]:
    """One stream poll, handed to the governor as Lambda would."""
    records = cloud["stream"].poll()
    if records:
        governor.handle({"Records": records})
    return records


# ------------------------------------------------------------------------------------ the decision


def test_the_decision_for_each_state():
    mapping_ = GovernedMapping("m", "payments", max_concurrency=5, batch_size=10)
    open_ = Snapshot(state=State.OPEN, open_until=100.0, exists=True)
    assert desired_setting(mapping_, open_, 99.0) == MappingSetting(False, 2, 1)
    assert desired_setting(mapping_, open_, 100.0) == MappingSetting(True, 2, 1)
    assert desired_setting(mapping_, Snapshot(state=State.HALF_OPEN, exists=True), 0) == MappingSetting(
        True, 2, 1
    )
    assert desired_setting(mapping_, Snapshot(), 0) == MappingSetting(True, 5, 10)
    assert desired_setting(mapping_, None, 0) == MappingSetting(True, 5, 10), "unknown never pauses"


def test_only_state_changes_are_transitions():
    def record(old: str | None, new: str, version: int) -> dict[str, Any]:
        image = {"id": {"S": "payments"}, "circuitState": {"S": new}, "version": {"N": str(version)}}
        change: dict[str, Any] = {"NewImage": image}
        if old is not None:
            change["OldImage"] = {**image, "circuitState": {"S": old}}
        return {"dynamodb": change}

    assert transitions_in([record("CLOSED", "CLOSED", 0)]) == {}
    assert transitions_in([record("CLOSED", "OPEN", 1), record("OPEN", "HALF_OPEN", 2)]) == {"payments": 2}
    assert transitions_in([record(None, "OPEN", 1)]) == {"payments": 1}


# ------------------------------------------------------------------------------------ against moto


def test_an_open_circuit_pauses_the_mapping_on_the_next_stream_poll(cloud, clock):
    events = Events()
    breaker, governor = make_breaker(cloud, clock, events), make_governor(cloud, clock, events)
    fail(breaker, 2)
    opened_at = clock()
    assert mapping(cloud)[0] == "Enabled"
    clock.advance(STREAM_POLL_SECONDS)
    records = deliver(cloud, governor)
    assert transitions_in(records) == {"payments": 1}
    assert mapping(cloud)[0] == "Disabled"
    [paused] = events.named("MappingPaused")
    assert paused["_aws"]["Timestamp"] / 1000 - opened_at == STREAM_POLL_SECONDS


def test_after_open_until_a_tick_resumes_for_probes_and_closing_restores_the_settings(cloud, clock):
    events = Events()
    breaker, governor = make_breaker(cloud, clock, events), make_governor(cloud, clock, events)
    fail(breaker, 2)
    deliver(cloud, governor)
    clock.advance(29)
    governor.handle({"source": "aws.events"})  # a tick before openUntil changes nothing
    assert mapping(cloud) == ("Disabled", 2, 1)
    clock.advance(1)
    governor.handle({"source": "aws.events"})
    assert mapping(cloud) == ("Enabled", 2, 1), "one message per batch, at the probe concurrency"
    with breaker.call():
        pass  # the consumer's first call is the probe: HALF_OPEN, then CLOSED
    deliver(cloud, governor)
    assert breaker.state is State.CLOSED
    assert mapping(cloud) == ("Enabled", 5, 10)


def test_a_failed_probe_pauses_the_mapping_again(cloud, clock):
    events = Events()
    breaker, governor = make_breaker(cloud, clock, events), make_governor(cloud, clock, events)
    fail(breaker, 2)
    deliver(cloud, governor)
    clock.advance(30)
    governor.handle({"source": "aws.events"})
    fail(breaker, 1)  # the probe fails: OPEN again, for twice as long
    deliver(cloud, governor)
    assert breaker.state is State.OPEN
    assert mapping(cloud)[0] == "Disabled"
    assert [e["event"] for e in events.named("MappingPaused") + events.named("MappingResumed")] == [
        "MappingPaused",
        "MappingPaused",
        "MappingResumed",
    ]


def test_a_duplicate_or_late_open_record_never_pauses_a_closed_circuit(cloud, clock):
    events = Events()
    breaker, governor = make_breaker(cloud, clock, events), make_governor(cloud, clock, events)
    fail(breaker, 2)
    open_records = cloud["stream"].poll()
    governor.handle({"Records": open_records})
    clock.advance(30)
    with breaker.call():
        pass
    deliver(cloud, governor)
    assert mapping(cloud) == ("Enabled", 5, 10)
    # The OPEN record arrives again (a retried batch), after the circuit closed at a newer version.
    governor.handle({"Records": open_records})
    assert mapping(cloud) == ("Enabled", 5, 10)
    assert int(open_records[-1]["dynamodb"]["NewImage"]["version"]["N"]) < 3


def test_an_unreadable_circuit_resumes_the_mapping_and_counts_an_error(cloud, clock):
    events = Events()
    breaker = make_breaker(cloud, clock, events)
    fail(breaker, 2)
    deliver(cloud, make_governor(cloud, clock, events))
    assert mapping(cloud)[0] == "Disabled"
    lost = make_governor(cloud, clock, events, table_name="no-such-table")
    lost.handle({"source": "aws.events"})
    assert mapping(cloud) == ("Enabled", 5, 10)
    [error] = events.named("GovernorReadError")
    assert error["GovernorReadErrors"] == 1
    assert "ResourceNotFoundException" in error["error"]


def test_every_tick_reports_whether_the_consumer_is_paused(cloud, clock):
    events = Events()
    breaker, governor = make_breaker(cloud, clock, events), make_governor(cloud, clock, events)
    governor.handle({"source": "aws.events"})
    fail(breaker, 2)
    governor.handle({"source": "aws.events"})
    assert [e["ConsumerPaused"] for e in events.named("MappingChecked")] == [0, 1]


def test_the_handler_reads_its_mappings_from_the_environment(cloud, clock, monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", TABLE)
    monkeypatch.setenv(
        "CIRCUIT_BREAKER_GOVERNED",
        json.dumps(
            [
                {
                    "mappingId": cloud["mapping_id"],
                    "circuitId": "payments",
                    "maxConcurrency": 5,
                    "batchSize": 10,
                }
            ]
        ),
    )
    governor = Governor.from_environment(lambda_client=cloud["lambda"])
    assert governor.governed == [governed(cloud)]


# ------------------------------------------------------------------------------------ the consumer's side


def test_records_rejected_by_an_open_circuit_are_batch_item_failures(cloud, clock):
    """Between the open and the pause, the consumer keeps receiving: those records must be retried."""
    events = Events()
    breaker = make_breaker(cloud, clock, events)
    fail(breaker, 2)
    charged: list[str] = []

    @breaker.guard()
    def charge(order_id: str) -> None:
        charged.append(order_id)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    event = {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": "h",
                "body": json.dumps({"orderId": f"o-{i}"}),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
                "awsRegion": REGION,
            }
            for i in range(3)
        ]
    }
    result = process_partial_response(
        event=event,
        record_handler=lambda record: charge(json.loads(record.body)["orderId"]),
        processor=processor,
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": f"m-{i}"} for i in range(3)]}
    assert charged == []
    assert [type(info[1]) for info in processor.exceptions] == [CircuitOpenError] * 3


# ------------------------------------------------------------------------------------ mappings in transition


class _InTransition:
    """moto's Lambda, except that the mapping reads as ``state`` or its update loses a race."""

    def __init__(self, client: Any, *, state: str | None = None, update_in_use: bool = False) -> None:
        self._client, self._state, self._update_in_use = client, state, update_in_use
        self.updates = 0

    def get_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        current = self._client.get_event_source_mapping(**kwargs)
        return {**current, "State": self._state} if self._state else current

    def update_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.updates += 1
        if self._update_in_use:
            error = {"Error": {"Code": "ResourceInUseException", "Message": "in use"}}
            raise ClientError(error, "UpdateEventSourceMapping")
        return dict(self._client.update_event_source_mapping(**kwargs))


def opened_with(cloud: dict[str, Any], clock: FakeClock, events: Events, lambda_client: Any) -> Governor:
    """The circuit opened; a governor that reaches Lambda through ``lambda_client``."""
    fail(make_breaker(cloud, clock, events), 2)
    return Governor(
        table_name=TABLE, governed=[governed(cloud)], lambda_client=lambda_client,
        dynamodb_client=cloud["dynamodb"], clock=clock, emit=events,
    )  # fmt: skip


@pytest.mark.parametrize("state", ["Creating", "Enabling", "Disabling", "Updating", "Deleting"])
def test_a_mapping_in_transition_is_left_for_the_next_tick(cloud, clock, state):
    events = Events()
    busy = _InTransition(cloud["lambda"], state=state)
    governor = opened_with(cloud, clock, events, busy)
    assert governor.handle({"source": "aws.events"}) == {"changed": []}
    assert busy.updates == 0, "an update during a transition raises ResourceInUseException"
    [note] = events.named("MappingBusy")
    assert note["mappingState"] == state
    assert mapping(cloud)[0] == "Enabled"
    make_governor(cloud, clock, events).handle({"source": "aws.events"})  # settled: the next tick acts
    assert mapping(cloud)[0] == "Disabled"


def test_an_update_that_loses_the_race_to_a_transition_is_not_an_error(cloud, clock):
    events = Events()
    racing = _InTransition(cloud["lambda"], update_in_use=True)
    governor = opened_with(cloud, clock, events, racing)
    assert governor.handle({"source": "aws.events"}) == {"changed": []}
    assert racing.updates == 1
    assert [e["mappingState"] for e in events.named("MappingBusy")] == ["ResourceInUse"]


def test_other_update_errors_still_raise_so_the_batch_is_retried(cloud, clock):
    class _Denied(_InTransition):
        def update_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "UpdateEventSourceMapping")

    governor = opened_with(cloud, clock, Events(), _Denied(cloud["lambda"]))
    with pytest.raises(Exception, match="AccessDenied"):
        governor.handle({"source": "aws.events"})


# ------------------------------------------------------------------------------------ operators hold mappings


@pytest.mark.parametrize("how", ["created disabled", "disabled by an operator"])
def test_the_governor_never_enables_a_mapping_it_did_not_pause(cloud, clock, how):
    events = Events()
    cloud["lambda"].update_event_source_mapping(UUID=cloud["mapping_id"], Enabled=False)
    governor = make_governor(cloud, clock, events)
    governor.handle({"source": "aws.events"})  # the circuit is closed: it would want the mapping enabled
    assert mapping(cloud)[0] == "Disabled", how
    assert [e["event"] for e in events.named("MappingHeld")] == ["MappingHeld"]
    cloud["lambda"].update_event_source_mapping(UUID=cloud["mapping_id"], Enabled=True)  # the hold ends
    governor.handle({"source": "aws.events"})
    assert mapping(cloud)[0] == "Enabled"


def test_the_governor_resumes_what_it_paused_and_an_operator_can_hold_it(cloud, clock):
    events = Events()
    breaker, governor = make_breaker(cloud, clock, events), make_governor(cloud, clock, events)
    fail(breaker, 2)
    governor.handle({"source": "aws.events"})
    assert mapping(cloud)[0] == "Disabled"
    marker = {"id": {"S": f"governor-pause#{cloud['mapping_id']}"}}
    assert "Item" in cloud["dynamodb"].get_item(TableName=TABLE, Key=marker)
    clock.advance(30)
    governor.handle({"source": "aws.events"})
    assert mapping(cloud)[0] == "Enabled", "its own pause is resumed at openUntil"
    assert "Item" not in cloud["dynamodb"].get_item(TableName=TABLE, Key=marker)
    fail(breaker, 1)  # the probe fails: paused again; the operator holds it by deleting the marker
    governor.handle({"source": "aws.events"})
    cloud["dynamodb"].delete_item(TableName=TABLE, Key=marker)
    clock.advance(3600)
    governor.handle({"source": "aws.events"})
    assert mapping(cloud)[0] == "Disabled"
