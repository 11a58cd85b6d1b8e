"""A fleet of breaker containers on one circuit: what each state item takes, second by second.

A deterministic discrete-event simulation. Every container is a real ``CircuitBreaker`` (the runtime as
it ships); they share one moto DynamoDB table and one fake clock. Each container calls the downstream 5
times a second on average (the gap between its calls is drawn from 0.1 to 0.3 s; a call takes 20 ms; a
container makes one call at a time, as a Lambda container serves one invocation at a time), starting at
a random phase. Each DynamoDB request is atomic, and a call's requests
run at the instant it starts or ends; other containers' calls interleave between calls. Every request is
counted per item and per simulated second; a conditional write that loses counts, as it consumes
capacity too.

Scenarios (``SCENARIOS``): steady traffic, an outage's onset, recovery through half-open, a flapping
downstream, and the store throttling every other request during an outage. ``python
benchmarks/breaker_fleet.py [--containers 100,1000,5000]`` prints today's design (``read_copies=1``) and
fleet mode (``read_copies=32``) side by side, extrapolated to 20,000 containers.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
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

from constructs_lib.runtime import CircuitBreaker, CircuitOpenError
from constructs_lib.runtime._copies import COPY_WRITERS

TABLE = "fleet-circuits"
CIRCUIT = "payments"
CALLS_PER_SECOND = 5
CALL_SECONDS = 0.02
#: DynamoDB's per-partition limits the targets are halves of (1 KB writes, 4 KB strongly consistent reads).
PARTITION_READS = 3_000
PARTITION_WRITES = 1_000
TARGET_CONTAINERS = 20_000
#: The read copies that hold TARGET_CONTAINERS (README, "The breaker at scale").
FLEET_COPIES = 32
#: The breaker settings of every run; a short open period keeps the recovery scenarios short.
SETTINGS: dict[str, Any] = {"open_duration": 3.0, "max_open_duration": 12.0, "success_threshold": 3}
#: When the downstream starts failing in the scenarios with an outage (caches are warm by then).
ONSET = 2.0
THROTTLE_ERROR = "ProvisionedThroughputExceededException"
#: How long a write to a read copy takes to land (DynamoDB's single-digit-millisecond writes).
COPY_WRITE_SECONDS = 0.005
RECOVERY_MAX_CONTAINERS = 1_000


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


@dataclass
class FleetResult:
    """What one run measured."""

    containers: int
    read_copies: int
    scenario: str
    #: (item id, second) -> requests, by kind.
    reads: Counter[tuple[str, int]] = field(default_factory=Counter)
    writes: Counter[tuple[str, int]] = field(default_factory=Counter)
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

    def reaction_p99(self) -> float:
        """Seconds from the onset until 99% of containers have rejected a call (inf if they never did)."""
        times = sorted(t - ONSET for t in self.first_rejection.values())
        needed = -(-self.containers * 99 // 100)
        return times[needed - 1] if len(times) >= needed else float("inf")


class CountingClient:
    """The DynamoDB client every container shares: counts each request per item and second, tracks the
    circuit's item (every write returns it), and throttles where the scenario says.

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
        self.circuit: dict[str, Any] = {}
        # The runtime's copy writers are threads: what they touch here is locked.
        self._lock = threading.Lock()
        #: Copy writes on their way: (lands at, order, request).
        self._in_flight: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        #: (thread or "pool", instant) -> copy writes issued so far.
        self._issued: dict[tuple[str, float], int] = {}
        #: (item, instant) -> requests so far, which decide throttling.
        self._attempts: dict[tuple[str, float], int] = {}

    def get_item(self, **kwargs: Any) -> Any:
        self._count(self._result.reads, kwargs)
        response = self._client.get_item(**kwargs)
        self._track(kwargs, response.get("Item"))
        return response

    def update_item(self, **kwargs: Any) -> Any:
        if "copyOf" in kwargs["UpdateExpression"]:
            return self._send_copy_write(kwargs)
        self._count(self._result.writes, kwargs)
        try:
            response = self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException as lost:
            self._track(kwargs, lost.response.get("Item"))
            raise
        self._track(kwargs, response.get("Attributes"))
        return response

    def _send_copy_write(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        now, item = self._clock(), kwargs["Key"]["id"]["S"]
        if self._throttles(item, now):
            with self._lock:
                self._result.writes[item, int(now)] += 1
            self._refuse()
        pooled = threading.current_thread().name.startswith("breaker-copies")
        key = ("pool" if pooled else str(threading.get_ident()), now)
        with self._lock:
            issued = self._issued[key] = self._issued.get(key, 0) + 1
            rounds = -(-issued // COPY_WRITERS) if pooled else issued
            lands = now + rounds * COPY_WRITE_SECONDS
            heapq.heappush(self._in_flight, (lands, next(self._order), kwargs))
        return {}

    def land_copy_writes(self, until: float, set_clock: Callable[[float], None]) -> None:
        """Apply the copy writes that have landed by ``until`` (each at its own time)."""
        while self._in_flight and self._in_flight[0][0] <= until:
            lands, _, kwargs = heapq.heappop(self._in_flight)
            set_clock(lands)
            self._count(self._result.writes, kwargs, throttle=False)
            with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
                self._client.update_item(**kwargs)
        self._issued.clear()
        self._attempts.clear()

    @property
    def state(self) -> str:
        return str(self.circuit.get("circuitState", {}).get("S", "CLOSED"))

    @property
    def open_until(self) -> float:
        return float(self.circuit.get("openUntil", {}).get("N", "0"))

    def _count(self, counts: Counter[tuple[str, int]], kwargs: dict[str, Any], throttle: bool = True) -> None:
        now, item = self._clock(), kwargs["Key"]["id"]["S"]
        counts[item, int(now)] += 1
        if throttle and self._throttles(item, now):
            self._refuse()

    def _throttles(self, item: str, now: float) -> bool:
        """Whether the scenario throttles this request: one in two on average, decided by the request
        itself (its item, instant and attempt), so the order of the copy writers' threads cannot change
        a run."""
        if not self._scenario.throttled(now):
            return False
        with self._lock:
            attempt = self._attempts[item, now] = self._attempts.get((item, now), 0) + 1
            throttled = zlib.crc32(f"{item}|{now!r}|{attempt}".encode()) % 2 == 0
            self._result.throttled += throttled
        return throttled

    def _refuse(self) -> None:
        error = {"Error": {"Code": THROTTLE_ERROR, "Message": "simulated"}}
        raise self._client.exceptions.ProvisionedThroughputExceededException(error, "Request")

    def _track(self, kwargs: dict[str, Any], item: dict[str, Any] | None) -> None:
        if kwargs["Key"]["id"]["S"] == CIRCUIT and item:
            self.circuit = item


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
            client = boto3.client("dynamodb", region_name="us-east-1")
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


def simulate(containers: int, scenario_name: str, *, read_copies: int = 1, seed: int = 7) -> FleetResult:
    """Run one scenario with ``containers`` breakers and ``read_copies``; deterministic for a seed."""
    scenario = SCENARIOS[scenario_name]
    result = FleetResult(containers, read_copies, scenario_name)
    clock = _Clock()
    rng = random.Random(seed)
    with moto_table() as client:
        shared = CountingClient(client, lambda: clock.elapsed, result, scenario)
        breakers = [_breaker(shared, clock, read_copies, rng, result) for _ in range(containers)]
        _run(breakers, shared, clock, scenario, rng, result)
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
        settings={**SETTINGS, "read_copies": read_copies},
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
    """One design's figures across fleet sizes, and their extrapolation to 20,000 containers."""

    read_copies: int
    rows: list[dict[str, Any]]
    extrapolated: dict[str, float]


def measure(sizes: list[int], read_copies: int, seed: int = 7) -> DesignFigures:
    rows = []
    for n in sizes:
        steady = simulate(n, "steady", read_copies=read_copies, seed=seed)
        onset = simulate(n, "onset", read_copies=read_copies, seed=seed)
        # Recovery's figure (probes at once) does not grow with the fleet; above 1,000 it only costs time.
        recovery = simulate(min(n, RECOVERY_MAX_CONTAINERS), "recovery", read_copies=read_copies, seed=seed)
        rows.append(
            {
                "containers": n,
                "steady_requests": steady.requests_per_second(),
                "onset_writes": onset.busiest("writes", since=ONSET)[0],
                "onset_requests": onset.requests_per_second(since=ONSET),
                "reaction_p99": onset.reaction_p99(),
                "max_probes": recovery.max_probes,
            }
        )
    extrapolated = {
        key: linear_at([(row["containers"], float(row[key])) for row in rows])
        for key in ("steady_requests", "onset_writes", "onset_requests")
    }
    return DesignFigures(read_copies, rows, extrapolated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", default="100,1000,5000", help="fleet sizes, comma-separated")
    parser.add_argument("--read-copies", type=int, default=FLEET_COPIES)
    args = parser.parse_args()
    sizes = [int(n) for n in args.containers.split(",")]
    print(table(measure(sizes, 1), measure(sizes, args.read_copies)))


def table(before: DesignFigures, after: DesignFigures) -> str:
    """Both designs side by side, "one item → K copies" in each cell, and the extrapolation."""

    def pair(key: str, row: int, unit: str = "", fmt: str = ",") -> str:
        values = [figures.rows[row][key] for figures in (before, after)]
        return " → ".join(f"{v:{fmt}}{unit}" for v in values)

    lines = [
        f"| containers | steady: busiest item, req/s (1 → {after.read_copies} copies) | onset: busiest item, "
        "writes/s | onset: busiest item, req/s | reaction, p99 | probes at once |",
        "|---|---|---|---|---|---|",
    ]
    for row, figures in enumerate(before.rows):
        lines.append(
            f"| {figures['containers']:,} | {pair('steady_requests', row)} | {pair('onset_writes', row)} | "
            f"{pair('onset_requests', row)} | {pair('reaction_p99', row, ' s', '.2f')} | "
            f"{pair('max_probes', row)} |"
        )
    extrapolated = [
        " → ".join(f"{figures.extrapolated[key]:,.0f}" for figures in (before, after))
        for key in ("steady_requests", "onset_writes", "onset_requests")
    ]
    lines.append(f"| **{TARGET_CONTAINERS:,}** (extrapolated) | {' | '.join(extrapolated)} | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
