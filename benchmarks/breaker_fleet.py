"""A fleet of breaker containers on one circuit: what each state item and each partition takes, second by
second.

A deterministic discrete-event simulation. Every container is a real ``CircuitBreaker`` (the runtime as
it ships); they share one moto DynamoDB table and one fake clock. Each container calls the downstream 5
times a second on average (the gap between its calls is drawn from 0.1 to 0.3 s; a call takes 20 ms; a
container makes one call at a time, as a Lambda container serves one invocation at a time), starting at
a random phase. Each DynamoDB request is atomic, and a call's requests run at the instant it starts or
ends; other containers' calls interleave between calls. Every request is counted per item and per
simulated second, with its read or write units; a conditional write that loses counts, as it consumes
capacity too. Writes go to moto, which decides every condition; reads are answered from a copy of the
table that every write refreshes (the same items moto holds, without its per-request cost).

**Partitions** (``Table``): the table's items are placed in partitions by the hash of their key; each
partition serves 3,000 read units and 1,000 write units a second, and a request beyond that is throttled
(``ProvisionedThroughputExceededException``; it consumes nothing, and the runtime decides by the state it
read last). A new on-demand table has the partitions of 12,000 read units and 4,000 write units; warm
throughput asks for more. DynamoDB's burst capacity and its splits for heat (which take minutes) are not
modelled, so the figures are a floor of what the table serves at once.

Scenarios (``SCENARIOS``): steady traffic, an outage's onset, recovery through half-open, a flapping
downstream, and the store throttling every other request during an outage. ``python
benchmarks/breaker_fleet.py [--containers 1000,5000,20000]`` prints the one-item design
(``read_copies=1``, per item only) and fleet mode (``read_copies=32`` on the table attach() pre-warms)
side by side, then the partition-aware table with and without warm throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import hashlib
import heapq
import itertools
import json
import math
import os
import random
import threading
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.models import dynamodb_backends

from constructs_lib.runtime import CircuitBreaker, CircuitOpenError
from constructs_lib.runtime._capacity import (
    COPY_READ_UNITS,
    NEW_TABLE_READ_UNITS,
    NEW_TABLE_WRITE_UNITS,
    PARTITION_READ_UNITS,
    PARTITION_WRITE_UNITS,
    STRONG_READ_UNITS,
    fleet_need,
    fleet_write_units,
)
from constructs_lib.runtime._copies import COPY_WRITERS

TABLE = "fleet-circuits"
CIRCUIT = "payments"
CALLS_PER_SECOND = 5
CALL_SECONDS = 0.02
#: DynamoDB's per-partition limits the per-item targets are halves of (1 KB writes, 4 KB strong reads).
PARTITION_READS = PARTITION_READ_UNITS
PARTITION_WRITES = PARTITION_WRITE_UNITS
TARGET_CONTAINERS = 20_000
#: The read copies that hold TARGET_CONTAINERS (docs/patterns/circuit-breaker.md, "The breaker at scale").
FLEET_COPIES = 32
#: The breaker settings of every run; a short open period keeps the recovery scenarios short.
SETTINGS: dict[str, Any] = {"open_duration": 3.0, "max_open_duration": 12.0, "success_threshold": 3}
CACHE_TTL = 1.0
#: When the downstream starts failing in the scenarios with an outage (caches are warm by then).
ONSET = 2.0
THROTTLE_ERROR = "ProvisionedThroughputExceededException"
#: How long a write to a read copy takes to land (DynamoDB's single-digit-millisecond writes).
COPY_WRITE_SECONDS = 0.005
RECOVERY_MAX_CONTAINERS = 1_000
#: Above this, the one-item design is extrapolated, not simulated (its outage writes one item per container).
ONE_ITEM_MAX_CONTAINERS = 5_000


@dataclass(frozen=True)
class Scenario:
    name: str
    seconds: float
    failing: Callable[[float], bool]
    #: Every other request to the state items is throttled while this holds.
    throttled: Callable[[float], bool] = lambda t: False


SCENARIOS = {
    "steady": Scenario("steady", 3.0, lambda t: False),
    "onset": Scenario("onset", ONSET + 4.0, lambda t: t >= ONSET),
    # Down for 3 s, so the circuit opens; healthy after, so the first probes succeed and it closes.
    "recovery": Scenario("recovery", ONSET + 9.0, lambda t: ONSET <= t < ONSET + 3.0),
    # Down 2 s, up 3 s, over and over.
    "flapping": Scenario("flapping", ONSET + 14.0, lambda t: t >= ONSET and (t - ONSET) % 7.0 < 2.0),
    # The onset with every other state request throttled from before the onset to the end.
    "throttled": Scenario(
        "throttled", ONSET + 4.0, lambda t: t >= ONSET, throttled=lambda t: t >= ONSET - 1.0
    ),
}


@dataclass(frozen=True)
class Table:
    """The state table's partitions: each serves ``PARTITION_READS`` read units and ``PARTITION_WRITES``
    write units a second, and holds the items whose key hashes into its range."""

    partitions: int
    #: The warm throughput the partitions were made for (read units, write units a second).
    warm: tuple[float, float] = (NEW_TABLE_READ_UNITS, NEW_TABLE_WRITE_UNITS)
    #: What one partition serves a second (a test scales it down with the fleet).
    read_units: float = PARTITION_READS
    write_units: float = PARTITION_WRITES

    @classmethod
    def on_demand(cls, read_units: float = 0.0, write_units: float = 0.0) -> Table:
        """A new on-demand table, pre-warmed to ``read_units`` and ``write_units`` where they are higher
        than a new table's: as many partitions as those figures take."""
        reads, writes = max(read_units, NEW_TABLE_READ_UNITS), max(write_units, NEW_TABLE_WRITE_UNITS)
        partitions = max(math.ceil(reads / PARTITION_READS), math.ceil(writes / PARTITION_WRITES))
        return cls(partitions, (reads, writes))

    @classmethod
    def prewarmed_for(cls, containers: int, read_copies: int = FLEET_COPIES) -> Table:
        """The table ``CircuitBreaker.attach(read_copies=..., expected_containers=containers)`` deploys."""
        need = fleet_need(containers, CACHE_TTL, read_copies)
        return cls.on_demand(need.warm_read_units, fleet_write_units(read_copies))

    def partition_of(self, key: str) -> int:
        """Each partition holds an equal range of the key hash (MD5 stands in for DynamoDB's own hash)."""
        return int.from_bytes(hashlib.md5(key.encode()).digest(), "big") * self.partitions >> 128

    def overloaded_circuits(self, containers: int, read_copies: int, circuits: int = 1_000) -> float:
        """The share of ``circuits`` circuit ids whose copies, placed by key hash, put more steady read
        units on one partition than it serves (each copy takes an even share of the fleet's reads)."""
        per_copy = containers / (CACHE_TTL * 1.1) / read_copies * COPY_READ_UNITS
        overloaded = 0
        for index in range(circuits):
            placed = Counter(self.partition_of(f"circuit-{index}#copy-{i}") for i in range(read_copies))
            overloaded += max(placed.values()) * per_copy > self.read_units
        return overloaded / circuits


@dataclass
class FleetResult:
    """What one run measured."""

    containers: int
    read_copies: int
    scenario: str
    table: Table | None = None
    #: (item id, second) -> requests, by kind.
    reads: Counter[tuple[str, int]] = field(default_factory=Counter)
    writes: Counter[tuple[str, int]] = field(default_factory=Counter)
    #: (item id, second) -> read units consumed (eventually consistent reads cost half).
    read_units: Counter[tuple[str, int]] = field(default_factory=Counter)
    #: (partition, second) -> read units and write units consumed (only with a partition model).
    partition_reads: Counter[tuple[int, int]] = field(default_factory=Counter)
    partition_writes: Counter[tuple[int, int]] = field(default_factory=Counter)
    #: second -> requests the partitions (or the scenario) throttled.
    throttled_per_second: Counter[int] = field(default_factory=Counter)
    throttled: int = 0
    calls: int = 0
    rejected: int = 0
    downstream_calls: int = 0
    #: Container -> the first time it rejected a call after the onset.
    first_rejection: dict[int, float] = field(default_factory=dict)
    max_probes: int = 0
    #: Calls admitted to the failing downstream by a container that had seen OPEN, before openUntil.
    admitted_while_known_open: int = 0
    #: Calls rejected while the downstream was healthy and the circuit's item CLOSED.
    rejected_while_closed: int = 0
    transitions: list[tuple[str, str]] = field(default_factory=list)

    def busiest(self, kind: str, *, since: float = 0.0) -> tuple[int, str]:
        counts = self.reads if kind == "reads" else self.writes
        per = [(n, key) for (key, second), n in counts.items() if second >= since]
        return max(per, default=(0, "-"))

    def requests_per_second(self, *, since: float = 0.0) -> int:
        total: Counter[tuple[str, int]] = Counter()
        for counts in (self.reads, self.writes):
            for (key, second), n in counts.items():
                if second >= since:
                    total[key, second] += n
        return max(total.values(), default=0)

    def copy_read_units(self) -> tuple[float, float]:
        """Read units a second on the copies, on average over the run: as read (eventually consistent),
        and as strongly consistent reads would have cost."""
        seconds = max(1, len({second for _, second in self.reads}))
        spent = sum(units for (key, _), units in self.read_units.items() if key != CIRCUIT) / seconds
        strong = sum(n for (key, _), n in self.reads.items() if key != CIRCUIT) * STRONG_READ_UNITS / seconds
        return spent, strong

    def busiest_partition(self) -> float:
        """The most read units one partition consumed in one second (0 without a partition model)."""
        return max(self.partition_reads.values(), default=0.0)

    def throttled_peak(self, *, since: float = 0.0) -> int:
        """The most requests throttled in one simulated second."""
        return max((n for second, n in self.throttled_per_second.items() if second >= since), default=0)

    def reaction_p99(self) -> float:
        """Seconds from the onset until 99% of containers have rejected a call (inf if they never did)."""
        times = sorted(t - ONSET for t in self.first_rejection.values())
        needed = -(-self.containers * 99 // 100)
        return times[needed - 1] if len(times) >= needed else float("inf")


class CountingClient:
    """The DynamoDB client every container shares: counts each request per item and second, tracks the
    circuit's item (every write returns it), and throttles where the scenario or the partitions say.

    Writes to read copies take ``COPY_WRITE_SECONDS`` each to land. Those a call makes from its own thread
    land one after another; those made through the runtime's pool of ``COPY_WRITERS`` threads land
    ``COPY_WRITERS`` at a time. Meanwhile the fleet reads the old state, as it would.
    """

    def __init__(
        self, client: Any, clock: Callable[[], float], result: FleetResult, scenario: Scenario
    ) -> None:
        self._client = client
        self._clock = clock
        self._result = result
        self._scenario = scenario
        self.exceptions = client.exceptions
        #: moto's backend behind ``client`` (its account, the client's region), where copy writes land.
        self._moto = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
        self.circuit: dict[str, Any] = {}
        #: Every item as moto holds it, refreshed after each write: reads are answered from here.
        self._items: dict[str, dict[str, Any]] = {}
        # The runtime's copy writers are threads: what they touch here is locked.
        self._lock = threading.Lock()
        #: Copy writes on their way: (lands at, order, request).
        self._in_flight: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        #: (thread or "pool", instant) -> copy writes issued so far.
        self._issued: dict[tuple[str, float], int] = {}
        #: (item, instant) -> requests so far, which decide the scenario's throttling.
        self._attempts: dict[tuple[str, float], int] = {}

    def get_item(self, **kwargs: Any) -> Any:
        key = kwargs["Key"]["id"]["S"]
        units = STRONG_READ_UNITS if kwargs.get("ConsistentRead") else COPY_READ_UNITS
        self._admit(self._result.reads, key, read_units=units)
        with self._lock:
            item = self._items.get(key)
        if key == CIRCUIT and item:
            self.circuit = item
        return {"Item": item} if item else {}

    def update_item(self, **kwargs: Any) -> Any:
        key = kwargs["Key"]["id"]["S"]
        if "copyOf" in kwargs["UpdateExpression"]:
            return self._send_copy_write(key, kwargs)
        self._admit(self._result.writes, key, write_units=1.0)
        return self._write(key, kwargs)

    def _send_copy_write(self, key: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        now = self._clock()
        self._admit(self._result.writes, key, write_units=1.0)
        pooled = threading.current_thread().name.startswith("breaker-copies")
        slot = ("pool" if pooled else str(threading.get_ident()), now)
        with self._lock:
            issued = self._issued[slot] = self._issued.get(slot, 0) + 1
            rounds = -(-issued // COPY_WRITERS) if pooled else issued
            lands = now + rounds * COPY_WRITE_SECONDS
            heapq.heappush(self._in_flight, (lands, next(self._order), kwargs))
        return {}

    def land_copy_writes(self, until: float, set_clock: Callable[[float], None]) -> None:
        """Apply the copy writes that have landed by ``until`` (each at its own time).

        They are applied on moto's table itself, not sent again through botocore and moto's HTTP layer:
        the runtime's request was counted when it was sent, moto still decides its condition and applies
        its update expression, and the runtime's tests send the same request through a client. The run
        is the same; a copy write costs 40% less."""
        while self._in_flight and self._in_flight[0][0] <= until:
            lands, _, kwargs = heapq.heappop(self._in_flight)
            set_clock(lands)
            with contextlib.suppress(ConditionalCheckFailed):  # older than the copy: changes nothing
                item = self._moto.update_item(
                    TABLE,
                    kwargs["Key"],
                    kwargs["UpdateExpression"],
                    kwargs.get("ExpressionAttributeNames", {}),
                    kwargs["ExpressionAttributeValues"],
                    condition_expression=kwargs["ConditionExpression"],
                )
                self._refresh(kwargs["Key"]["id"]["S"], copy.deepcopy(item.to_json()["Attributes"]))
        self._issued.clear()
        self._attempts.clear()

    @property
    def state(self) -> str:
        return str(self.circuit.get("circuitState", {}).get("S", "CLOSED"))

    @property
    def open_until(self) -> float:
        return float(self.circuit.get("openUntil", {}).get("N", "0"))

    def _admit(
        self, counts: Counter[tuple[str, int]], key: str, *, read_units: float = 0.0, write_units: float = 0.0
    ) -> None:
        """Count one request, and throttle it if the scenario or its partition says so."""
        now = self._clock()
        second = int(now)
        with self._lock:
            counts[key, second] += 1
            refused = self._scenario_throttles(key, now) or self._partition_throttles(
                key, second, read_units, write_units
            )
            if refused:
                self._result.throttled += 1
                self._result.throttled_per_second[second] += 1
            else:
                self._result.read_units[key, second] += read_units
        if refused:
            error = {"Error": {"Code": THROTTLE_ERROR, "Message": "simulated"}}
            raise self._client.exceptions.ProvisionedThroughputExceededException(error, "Request")

    def _partition_throttles(self, key: str, second: int, read_units: float, write_units: float) -> bool:
        table = self._result.table
        if table is None:
            return False
        partition = (table.partition_of(key), second)
        reads, writes = self._result.partition_reads, self._result.partition_writes
        if (
            reads[partition] + read_units > table.read_units
            or writes[partition] + write_units > table.write_units
        ):
            return True
        reads[partition] += read_units
        writes[partition] += write_units
        return False

    def _scenario_throttles(self, key: str, now: float) -> bool:
        """Whether the scenario throttles this request: one in two on average, decided by the request
        itself (its item, instant and attempt), so the order of the copy writers' threads cannot change
        a run."""
        if not self._scenario.throttled(now):
            return False
        attempt = self._attempts[key, now] = self._attempts.get((key, now), 0) + 1
        return zlib.crc32(f"{key}|{now!r}|{attempt}".encode()) % 2 == 0

    def _write(self, key: str, kwargs: dict[str, Any]) -> Any:
        """One write on moto, and the item as it left it: the write returns it (``ALL_NEW``, asked for
        here where the runtime did not), so no read of it follows. A write whose condition fails changes
        nothing, and raises as the runtime expects."""
        response = self._client.update_item(**{**kwargs, "ReturnValues": "ALL_NEW"})
        self._refresh(key, response.get("Attributes"))
        if kwargs.get("ReturnValues", "NONE") == "NONE":
            response.pop("Attributes", None)
        return response

    def _refresh(self, key: str, item: dict[str, Any] | None) -> None:
        with self._lock:
            if item:
                self._items[key] = item
            else:
                self._items.pop(key, None)
        if key == CIRCUIT and item:
            self.circuit = item


@functools.cache
def _session() -> boto3.session.Session:
    """One botocore session for every run: moto starts each mock with a new default session, which
    loads the service's model again (about 60 ms a run)."""
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


@contextmanager
def moto_table() -> Iterator[Any]:
    """An empty moto state table (and test credentials, restored after)."""
    fake = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in fake}
    os.environ.update(fake)
    try:
        with mock_aws():
            client = _session().client("dynamodb", region_name="us-east-1")
            create_state_table(client, TABLE)
            try:
                yield client
            finally:  # under a test's own moto, the table would outlive this run
                client.delete_table(TableName=TABLE)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def create_state_table(client: Any, name: str) -> None:
    """A breaker state table (partition key ``id``, on demand), as the CDK construct makes it."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.start = self.now

    def __call__(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start


_runs: dict[tuple[Any, ...], FleetResult] = {}


def simulate(
    containers: int,
    scenario_name: str,
    *,
    read_copies: int = 1,
    seed: int = 7,
    table: Table | None = None,
) -> FleetResult:
    """Run one scenario with ``containers`` breakers and ``read_copies``, on ``table``'s partitions (None:
    no partition limits, per-item counts only); deterministic for a seed."""
    key = (containers, scenario_name, read_copies, seed, table)
    if key in _runs:  # deterministic: a run asked for twice (by two tables of the report) runs once
        return _runs[key]
    scenario = SCENARIOS[scenario_name]
    result = FleetResult(containers, read_copies, scenario_name, table)
    clock = _Clock()
    rng = random.Random(seed)
    with moto_table() as client:
        shared = CountingClient(client, lambda: clock.elapsed, result, scenario)
        breakers = [_breaker(shared, clock, read_copies, rng, result) for _ in range(containers)]
        _run(breakers, shared, clock, scenario, rng, result)
    _runs[key] = result
    return result


def _breaker(
    client: CountingClient, clock: _Clock, read_copies: int, rng: random.Random, result: FleetResult
) -> CircuitBreaker:
    def emit(line: str) -> None:
        if '"StateTransition"' in line:
            record = json.loads(line)
            result.transitions.append((record["fromState"], record["toState"]))

    breaker = CircuitBreaker(
        CIRCUIT,
        table_name=TABLE,
        client=client,  # type: ignore[arg-type]
        clock=clock,
        emit=emit,
        settings={**SETTINGS, "cache_ttl": CACHE_TTL, "read_copies": read_copies},
    )
    # Each container draws its jitter from the run's seed, so a run repeats exactly.
    if read_copies > 1:
        breaker._copies_for()._rng = random.Random(rng.random())
    return breaker


def _run(
    breakers: list[CircuitBreaker],
    client: CountingClient,
    clock: _Clock,
    scenario: Scenario,
    rng: random.Random,
    result: FleetResult,
) -> None:
    period = 1.0 / CALLS_PER_SECOND

    def gap() -> float:  # invocations do not arrive like clockwork: 5 a second on average
        return rng.uniform(0.5 * period, 1.5 * period)

    events: list[tuple[float, int, int, Any]] = [
        (rng.uniform(0, period), i, i, None) for i in range(len(breakers))
    ]
    heapq.heapify(events)
    seq = len(events)
    probes = 0
    seen_open_until: dict[int, float] = defaultdict(float)
    while events:
        at, _, index, block = heapq.heappop(events)
        if at >= scenario.seconds:
            break
        client.land_copy_writes(at, lambda lands: setattr(clock, "now", clock.start + lands))
        clock.now = clock.start + at
        if block is None:  # a call starts
            result.calls += 1
            probing = client.state == "HALF_OPEN"
            block = breakers[index].call()
            try:
                block.__enter__()
            except CircuitOpenError as rejected:
                result.rejected += 1
                if at >= ONSET:
                    result.first_rejection.setdefault(index, at)
                if rejected.state.value == "OPEN" and rejected.retry_after > 0:
                    seen_open_until[index] = clock.now + rejected.retry_after
                if not scenario.failing(at) and client.state == "CLOSED":
                    result.rejected_while_closed += 1
                heapq.heappush(events, (at + gap(), seq, index, None))
                seq += 1
                continue
            result.downstream_calls += 1
            if scenario.failing(at) and clock.now < seen_open_until[index] and clock.now < client.open_until:
                result.admitted_while_known_open += 1
            probes += probing
            result.max_probes = max(result.max_probes, probes)
            heapq.heappush(events, (at + CALL_SECONDS, seq, index, (block, probing)))
        else:  # the call ends
            block, probing = block
            probes -= probing
            if scenario.failing(at - CALL_SECONDS):
                error = ConnectionError("downstream down")
                block.__exit__(ConnectionError, error, None)
            else:
                block.__exit__(None, None, None)
            heapq.heappush(events, (at - CALL_SECONDS + gap(), seq, index, None))
        seq += 1


def linear_at(points: list[tuple[int, float]], containers: int = TARGET_CONTAINERS) -> float:
    """Least-squares line through (containers, value) points, read at ``containers``."""
    if len(points) == 1:
        n, value = points[0]
        return value * containers / n
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x in xs)
    return max(0.0, mean_y + slope * (containers - mean_x))


@dataclass(frozen=True)
class DesignFigures:
    """One design's figures across fleet sizes, and their extrapolation to 20,000 containers (where that
    size was not simulated)."""

    read_copies: int
    rows: list[dict[str, Any]]
    extrapolated: dict[str, float]


FIGURES = ("steady_requests", "onset_writes", "onset_requests")


def measure(sizes: list[int], read_copies: int, seed: int = 7, *, prewarmed: bool = False) -> DesignFigures:
    """Each size's steady, onset and recovery runs. ``prewarmed``: on the partitions of the table attach()
    pre-warms for that size (fleet mode); otherwise per item only."""
    rows = []
    for n in sizes:
        table = Table.prewarmed_for(n, read_copies) if prewarmed else None
        steady = simulate(n, "steady", read_copies=read_copies, seed=seed, table=table)
        onset = simulate(n, "onset", read_copies=read_copies, seed=seed, table=table)
        # Recovery's figure (probes at once) does not grow with the fleet; above 1,000 it only costs time.
        recovery = simulate(min(n, RECOVERY_MAX_CONTAINERS), "recovery", read_copies=read_copies, seed=seed)
        spent, strong = steady.copy_read_units()
        rows.append(
            {
                "containers": n,
                "steady_requests": steady.requests_per_second(),
                "onset_writes": onset.busiest("writes", since=ONSET)[0],
                "onset_requests": onset.requests_per_second(since=ONSET),
                "reaction_p99": onset.reaction_p99(),
                "max_probes": recovery.max_probes,
                "copy_read_units": spent,
                "strong_read_units": strong,
                "throttled": max(steady.throttled_peak(), onset.throttled_peak()),
            }
        )
    extrapolated = {
        key: next(
            (float(row[key]) for row in rows if row["containers"] == TARGET_CONTAINERS),
            linear_at([(row["containers"], float(row[key])) for row in rows]),
        )
        for key in FIGURES
    }
    return DesignFigures(read_copies, rows, extrapolated)


@dataclass(frozen=True)
class PartitionRow:
    """One fleet size on one table: its partitions and what they throttled."""

    containers: int
    table: Table
    busiest_partition: float
    #: The most requests throttled in one second: the first (every container reads for the first time, as
    #: a fleet that starts at once on a new circuit), steady traffic after it, and from the onset.
    first_second_throttled: int
    steady_throttled: int
    onset_throttled: int
    reaction_p99: float
    wrong_decisions: int
    #: Of 1,000 circuit ids, the share whose copies overload a partition in steady traffic.
    overloaded_circuits: float


def measure_partitions(
    sizes: list[int], read_copies: int = FLEET_COPIES, seed: int = 7
) -> list[PartitionRow]:
    """Steady traffic and an onset at each size, on a new on-demand table and on the table attach()
    pre-warms (the same one where the fleet needs no more than a new table serves)."""
    rows = []
    for n in sizes:
        tables = {Table.on_demand(), Table.prewarmed_for(n, read_copies)}
        for table in sorted(tables, key=lambda t: t.partitions):
            steady = simulate(n, "steady", read_copies=read_copies, seed=seed, table=table)
            onset = simulate(n, "onset", read_copies=read_copies, seed=seed, table=table)
            rows.append(
                PartitionRow(
                    containers=n,
                    table=table,
                    busiest_partition=max(steady.busiest_partition(), onset.busiest_partition()),
                    first_second_throttled=steady.throttled_per_second[0],
                    steady_throttled=steady.throttled_peak(since=1.0),
                    onset_throttled=onset.throttled_peak(since=ONSET),
                    reaction_p99=onset.reaction_p99(),
                    wrong_decisions=sum(
                        r.rejected_while_closed + r.admitted_while_known_open for r in (steady, onset)
                    ),
                    overloaded_circuits=table.overloaded_circuits(n, read_copies),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", default="1000,5000,20000", help="fleet sizes, comma-separated")
    parser.add_argument("--read-copies", type=int, default=FLEET_COPIES)
    args = parser.parse_args()
    sizes = [int(n) for n in args.containers.split(",")]
    print(report(sizes, args.read_copies))


def report(sizes: list[int], read_copies: int = FLEET_COPIES) -> str:
    """Both tables, as ``make bench`` prints them."""
    one_item = measure([n for n in sizes if n <= ONE_ITEM_MAX_CONTAINERS] or sizes[:1], 1)
    fleet = measure(sizes, read_copies, prewarmed=True)
    return "\n\n".join(
        (
            table(one_item, fleet),
            read_units_table(fleet),
            partition_table(measure_partitions(sizes, read_copies)),
        )
    )


def table(before: DesignFigures, after: DesignFigures) -> str:
    """Both designs side by side, "one item → K copies" in each cell, and 20,000 containers (simulated for
    the design that ran at that size, extrapolated for the other)."""
    by_size = {row["containers"]: row for row in before.rows}

    def pair(key: str, row: dict[str, Any], unit: str = "", fmt: str = ",") -> str:
        mine = by_size.get(row["containers"])
        first = f"{mine[key]:{fmt}}{unit}" if mine is not None else "-"
        return f"{first} → {row[key]:{fmt}}{unit}"

    lines = [
        f"| containers | steady: busiest item, req/s (1 → {after.read_copies} copies) | onset: busiest item, "
        "writes/s | onset: busiest item, req/s | reaction, p99 | probes at once |",
        "|---|---|---|---|---|---|",
    ]
    for row in after.rows:
        lines.append(
            f"| {row['containers']:,} | {pair('steady_requests', row)} | {pair('onset_writes', row)} | "
            f"{pair('onset_requests', row)} | {pair('reaction_p99', row, ' s', '.2f')} | "
            f"{pair('max_probes', row)} |"
        )
    if TARGET_CONTAINERS not in {row["containers"] for row in after.rows}:
        extrapolated = [
            " → ".join(f"{figures.extrapolated[key]:,.0f}" for figures in (before, after)) for key in FIGURES
        ]
        lines.append(f"| **{TARGET_CONTAINERS:,}** (extrapolated) | {' | '.join(extrapolated)} | | |")
    elif TARGET_CONTAINERS not in by_size:
        lines.append(
            f"| {TARGET_CONTAINERS:,}: one item extrapolated | "
            + " | ".join(f"{before.extrapolated[key]:,.0f}" for key in FIGURES)
            + " | | |"
        )
    return "\n".join(lines)


def read_units_table(fleet: DesignFigures) -> str:
    """What eventually consistent copy reads save: the copies' read units a second in steady traffic."""
    lines = [
        "| containers | copies' reads, units/s (strongly consistent → eventually consistent) | saved |",
        "|---|---|---|",
    ]
    for row in fleet.rows:
        strong, spent = row["strong_read_units"], row["copy_read_units"]
        lines.append(
            f"| {row['containers']:,} | {strong:,.0f} → {spent:,.0f} | {strong - spent:,.0f} units/s |"
        )
    return "\n".join(lines)


def partition_table(rows: list[PartitionRow]) -> str:
    """Throttled requests a second by fleet size, on a new on-demand table and on the pre-warmed one."""
    lines = [
        "| containers | table (warm read units/s) | partitions | busiest partition, read units/s | "
        "throttled req/s: first second, steady, onset | reaction, p99 | wrong decisions | "
        "circuit ids whose copies overload a partition |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        warm = row.table.warm[0]
        kind = "new on-demand" if warm <= NEW_TABLE_READ_UNITS else "pre-warmed by attach()"
        lines.append(
            f"| {row.containers:,} | {kind} ({warm:,.0f}) | {row.table.partitions} | "
            f"{row.busiest_partition:,.0f} | {row.first_second_throttled:,}, {row.steady_throttled:,}, "
            f"{row.onset_throttled:,} | {row.reaction_p99:.2f} s | {row.wrong_decisions} | "
            f"{row.overloaded_circuits:.1%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
