"""Fixtures for the runtime breaker tests: a fake clock, a moto table, request counting, captured EMF."""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from constructs_lib.runtime import BreakerSettings, CircuitBreaker, CircuitOpenError
from constructs_lib.runtime._store import COPY_SEPARATOR

TABLE = "circuit-state"
REGION = "eu-west-1"


class FakeClock:
    """Epoch seconds that only move when a test says so (thread-safe)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.start = start
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
            _shared.append(client)
            try:
                yield
            finally:
                _shared.remove(client)


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
    """A client of its own, for a test that hooks into its requests (counts, throttles, faults)."""
    return boto3.client("dynamodb", region_name=REGION)


#: The module table's client while its moto runs: no test hooks into it, so breakers made without a
#: client of their own and item() share it (creating a client costs more than a request).
_shared: list[Any] = []


def shared_client() -> Any:
    return _shared[-1] if _shared else new_client()


def make_breaker(clock: FakeClock, events: Events, client: Any = None, **options: Any) -> CircuitBreaker:
    """One breaker instance: one Lambda container. ``options``: breaker settings or constructor keywords.
    Without ``client``, it uses the shared client (a botocore client keeps no state a container's
    decisions depend on)."""
    settings = {k: v for k, v in options.items() if k in BreakerSettings.names()}
    keywords = {k: v for k, v in options.items() if k not in settings}
    return CircuitBreaker(
        "payments",
        table_name=TABLE,
        clock=clock,
        client=client or shared_client(),
        emit=events,
        settings=settings,
        **keywords,
    )


def item(circuit_id: str = "payments") -> dict[str, Any]:
    """The item as stored (a strongly consistent read through a client no test hooks into)."""
    response = shared_client().get_item(TableName=TABLE, Key={"id": {"S": circuit_id}}, ConsistentRead=True)
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


# ------------------------------------------------------------------------------------ fleets and faults


#: What each kind of injected fault raises, given the client (a botocore client's own exception classes).
def injected_error(client: Any, kind: str, operation: str = "UpdateItem") -> Exception:
    """A timeout (botocore's own), a throttle, or a conditional failure that returned no item."""
    if kind == "timeout":
        return ReadTimeoutError(endpoint_url=f"https://dynamodb.{REGION}.amazonaws.com")
    code = {
        "throttle": "ProvisionedThroughputExceededException",
        "conditional": "ConditionalCheckFailedException",
    }
    error = {"Error": {"Code": code[kind], "Message": f"injected {kind}"}}
    exception: Exception = getattr(client.exceptions, code[kind])(error, operation)
    return exception


#: The steps of a transition at which a read copy (or its claim) is written.
STEPS = ("opening", "half_opening", "closing", "repair", "claim")


class CopyFaults:
    """Fails writes to read copies and claims through a botocore hook on ``client``.

    ``steps``: which writes fail: a transition's copy writes (``opening``, ``half_opening``, ``closing``,
    told apart by the state written and made by the winner's copy writers), a ``repair`` (a copy write
    made on a caller's thread), or a ``claim`` (claims and their releases). ``copies``: which copies
    (None: all). ``during``: whether a time of the clock is in the fault's window (None: always). Each
    matching write raises ``kind`` (``timeout``, ``throttle`` or ``conditional``).
    """

    def __init__(
        self,
        client: Any,
        clock: FakeClock,
        *,
        steps: tuple[str, ...],
        kind: str,
        copies: tuple[int, ...] | None = None,
        during: Callable[[float], bool] | None = None,
    ) -> None:
        self.failed: Counter[str] = Counter()
        self._client, self._clock, self._kind = client, clock, kind
        self._steps, self._copies, self._during = steps, copies, during
        client.meta.events.register("provide-client-params.dynamodb.UpdateItem", self._maybe_fail)

    def _maybe_fail(self, params: dict[str, Any], **_: Any) -> None:
        key = params["Key"]["id"]["S"]
        if COPY_SEPARATOR not in key:
            return
        step = write_step(params)
        copy = int(key.rsplit(COPY_SEPARATOR, 1)[1])
        if step not in self._steps or (self._copies is not None and copy not in self._copies):
            return
        if self._during is not None and not self._during(self._clock()):
            return
        self.failed[step] += 1
        raise injected_error(self._client, self._kind)


def write_step(params: dict[str, Any]) -> str:
    """Which step of a transition a write to a read copy belongs to."""
    expression = params["UpdateExpression"]
    if "claimOwner = :owner" in expression or expression.startswith("SET claimUntil = :now"):
        return "claim"
    if not threading.current_thread().name.startswith("breaker-copies"):
        return "repair"
    state = params["ExpressionAttributeValues"][":state"]["S"]
    if state == "CLOSED" and params["ExpressionAttributeValues"][":v"]["N"] == "0":
        return "enlisting"  # a new circuit's copies
    return {"OPEN": "opening", "HALF_OPEN": "half_opening", "CLOSED": "closing"}[state]


@dataclass
class Outage:
    """What a fleet saw through one outage: when the circuit opened, let probes through and closed, and
    each call that reached the downstream (its start time)."""

    opened_at: float | None = None
    open_until: float | None = None
    closed_at: float | None = None
    admitted: list[float] = field(default_factory=list)
    transitions: list[tuple[str, str, float]] = field(default_factory=list)

    def admitted_between(self, start: float, end: float) -> list[float]:
        return [t for t in self.admitted if start <= t < end]


def run_outage(
    clock: FakeClock,
    events: Events,
    client: Any,
    *,
    read_copies: list[int],
    settings: dict[str, Any],
    onset: float = 0.6,
    joining: dict[int, float] | None = None,
    seed: int = 30,
    outage: Outage | None = None,
) -> Outage:
    """Containers (one per entry of ``read_copies``, its setting) call one circuit through an outage: the
    downstream fails from ``onset`` until the end of the first open period, then is healthy. Each calls
    every 0.1 to 0.3 s (a call takes 50 ms) from its first call (``joining``: container -> the time it
    starts, default 0: a later start is a container of a newer deployment). Runs until the circuit
    closes again, or a probe's lease would have expired twice (so a run never hangs). ``outage``: where to
    record it (default: a new one), so that a fault can follow the run."""
    rng = random.Random(seed)
    start = clock()
    outage = outage or Outage()
    breakers = [
        CircuitBreaker(
            "payments",
            table_name=TABLE,
            clock=clock,
            client=client,
            emit=_recording(events, outage, clock),
            settings={**settings, "read_copies": copies},
        )
        for copies in read_copies
    ]
    for breaker in breakers:
        if breaker.settings.read_copies > 1:
            breaker._copies_for()._rng = random.Random(rng.random())  # type: ignore[assignment]
    joins = joining or {}
    calls: list[tuple[float, int, int, Any]] = [
        (joins.get(i, 0.0) + rng.uniform(0, 0.2), i, i, None) for i in range(len(breakers))
    ]
    heapq.heapify(calls)
    order = itertools.count(len(calls))
    limit = onset + settings.get("open_duration", 30.0) + 2 * settings.get("probe_timeout", 30.0)

    def failing(at: float) -> bool:
        return at >= onset and (outage.open_until is None or start + at < outage.open_until)

    while calls and outage.closed_at is None:
        at, _, index, block = heapq.heappop(calls)
        if at > limit:
            break
        clock.advance(start + at - clock())
        if block is None:
            block = breakers[index].call()
            try:
                block.__enter__()
            except CircuitOpenError:
                heapq.heappush(calls, (at + rng.uniform(0.1, 0.3), next(order), index, None))
                continue
            outage.admitted.append(clock())
            heapq.heappush(calls, (at + 0.05, next(order), index, (block, failing(at))))
        else:
            block, failed = block
            if failed:
                block.__exit__(ConnectionError, ConnectionError("downstream down"), None)
            else:
                block.__exit__(None, None, None)
            heapq.heappush(calls, (at + rng.uniform(0.05, 0.25), next(order), index, None))
    return outage


def _recording(events: Events, outage: Outage, clock: FakeClock) -> Any:
    def emit(line: str) -> None:
        events(line)
        record = json.loads(line)
        if record["event"] != "StateTransition":
            return
        outage.transitions.append((record["fromState"], record["toState"], clock()))
        if record["toState"] == "OPEN" and outage.opened_at is None:
            outage.opened_at = clock()
            outage.open_until = clock() + record["open_for"]
        elif record["toState"] == "CLOSED" and outage.opened_at is not None:
            outage.closed_at = clock()

    return emit
