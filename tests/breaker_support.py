"""Fixtures for the runtime breaker tests: a fake clock, a moto table, request counting, captured EMF."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from constructs_lib.runtime import BreakerSettings, CircuitBreaker

TABLE = "circuit-state"
REGION = "eu-west-1"


class FakeClock:
    """Epoch seconds that only move when a test says so (thread-safe)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class Events:
    """Collects the breaker's JSON log / EMF lines."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(json.loads(line))

    def named(self, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [line for line in self.lines if line["event"] == event]

    def transitions(self) -> list[tuple[str, str]]:
        return [(e["fromState"], e["toState"]) for e in self.named("StateTransition")]


class RequestCounter:
    """Counts DynamoDB API calls through a botocore event hook."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    @property
    def count(self) -> int:
        return len(self.calls)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture(scope="module")
def moto_table() -> Iterator[None]:
    """One moto DynamoDB state table per test module (creating it costs about 0.3 s)."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            env.setenv(name, value)
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            client.update_time_to_live(
                TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
            )
            yield


@pytest.fixture
def aws(moto_table: None) -> None:
    """The module's moto table, emptied: every test starts with no circuits."""
    client = new_client()
    for page in client.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="id"):
        for entry in page["Items"]:
            client.delete_item(TableName=TABLE, Key={"id": entry["id"]})
    assert client.scan(TableName=TABLE, Select="COUNT")["Count"] == 0


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each moto request atomic, as each real DynamoDB request is; threads still interleave between
    requests, which is what the conditional writes must survive."""
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def locked(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", locked)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> Events:
    return Events()


def new_client() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def make_breaker(clock: FakeClock, events: Events, client: Any = None, **options: Any) -> CircuitBreaker:
    """One breaker instance: one Lambda container. ``options``: breaker settings or constructor keywords."""
    settings = {k: v for k, v in options.items() if k in BreakerSettings.names()}
    keywords = {k: v for k, v in options.items() if k not in settings}
    return CircuitBreaker(
        "payments",
        table_name=TABLE,
        clock=clock,
        client=client or new_client(),
        emit=events,
        settings=settings,
        **keywords,
    )


def item(circuit_id: str = "payments") -> dict[str, Any]:
    response = new_client().get_item(TableName=TABLE, Key={"id": {"S": circuit_id}}, ConsistentRead=True)
    result: dict[str, Any] = response.get("Item", {})
    return result


class Downstream:
    """A simulated dependency that fails while ``healthy`` is False."""

    def __init__(self) -> None:
        self.healthy = True
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, value: Any = None) -> Any:
        with self._lock:
            self.calls += 1
        if not self.healthy:
            raise ConnectionError("downstream unavailable")
        return value


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    """``times`` calls through ``breaker`` that fail with ConnectionError."""
    for _ in range(times):
        with pytest.raises(ConnectionError), breaker.call():
            raise ConnectionError("downstream down")


def succeed(breaker: CircuitBreaker) -> None:
    """One call through ``breaker`` that succeeds."""
    with breaker.call():
        pass
