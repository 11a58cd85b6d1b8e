"""Fleet mode (``read_copies`` above 1): the breaker at internet scale, and under faults.

The first part checks each mechanism against moto with a fake clock: copies written by the transition's
winner, failures written with the next read, one probe claim per copy, repair of a stale copy, the state
read last deciding while DynamoDB throttles, and a copy trusted only while every transition writes it.
Then faults: writes to copies and claims fail through botocore hooks (timeouts, throttles, conditional
failures) at each step of a transition, and containers with different ``read_copies`` share a circuit;
a fleet runs through an outage each time, and no decision changes. The last part runs the fleet
simulation of ``benchmarks/breaker_fleet.py`` (real breakers, one moto table, a fake clock) at a few
hundred containers, extrapolates its per-item rates to 20,000 containers, where the targets are set, and
runs it on partitions scaled down with the fleet.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from benchmarks import breaker_fleet as fleet
from constructs_lib.runtime import (
    BreakerSettings,
    CircuitBreaker,
    CircuitOpenError,
    InvalidSettingsError,
)
from constructs_lib.runtime._copies import CACHE_JITTER, propagation_seconds
from constructs_lib.runtime._store import COPY_SEPARATOR, IAM_ACTIONS
from constructs_lib.runtime.governor import transitions_in
from tests.breaker_support import (
    STEPS,
    TABLE,
    CopyFaults,
    Downstream,
    Outage,
    RequestCounter,
    fail,
    item,
    make_breaker,
    new_client,
    run_outage,
    succeed,
)

COPIES = 4


class AlwaysCopy:
    """A container's random source that always picks one copy, with no jitter."""

    def __init__(self, copy: int) -> None:
        self.copy = copy

    def randrange(self, _: int) -> int:
        return self.copy

    def random(self) -> float:
        return 0.0


def copy_item(index: int) -> dict[str, Any]:
    return item(f"payments{COPY_SEPARATOR}{index}")


def item_bytes(value: Any, name: str = "") -> int:
    """DynamoDB's size of an item (or attribute): names and values in UTF-8, numbers about a byte per two
    digits, 3 bytes per map or list (the rules of the item size documentation, rounded up)."""
    size = len(name.encode())
    if "S" in value:
        return size + len(value["S"].encode())
    if "N" in value:
        return size + len(value["N"]) // 2 + 2
    if "M" in value:
        return size + 3 + sum(item_bytes(v, k) for k, v in value["M"].items())
    return size + sum(item_bytes(v, k) for k, v in value.items())


def fleet_breaker(clock: Any, events: Any, client: Any = None, **settings: Any) -> CircuitBreaker:
    return make_breaker(clock, events, client, **{"read_copies": COPIES, **settings})


def in_use(clock: Any, events: Any, read_copies: int = COPIES) -> None:
    """The circuit as it is after its first call in fleet mode: its item keeps ``read_copies`` copies, all
    written (the first container to read a copy that nobody writes for it enlists the circuit)."""
    succeed(fleet_breaker(clock, events, read_copies=read_copies))
    assert int(item()["readCopies"]["N"]) == read_copies
    assert all(copy_item(i)["readCopies"] == item()["readCopies"] for i in range(read_copies))


def open_through_fleet(breaker: CircuitBreaker, clock: Any) -> None:
    """Fail past the threshold, then let a cache period pass so the next read writes the failures."""
    fail(breaker, breaker.settings.failure_threshold)
    clock.advance(breaker.settings.cache_ttl * 1.25)
    with pytest.raises(CircuitOpenError):
        succeed(breaker)
    assert item()["circuitState"]["S"] == "OPEN"


# ---------------------------------------------------------------------------------------- settings


@pytest.mark.parametrize("value", [0, 65, "16", 2.5, True])
def test_read_copies_must_be_a_whole_number_from_1_to_64(value):
    problems = BreakerSettings.problems_of({"read_copies": value})
    assert [(name, got) for name, got, _ in problems] == [("read_copies", value)]
    assert "from 1 to 64" in problems[0][2]
    with pytest.raises(InvalidSettingsError, match="read_copies"):
        BreakerSettings.resolve("payments", {"read_copies": value})


@pytest.mark.usefixtures("aws")
def test_one_read_copy_is_the_default_and_reads_the_circuits_own_item(clock, events):
    client = new_client()
    counter = RequestCounter(client)
    succeed(make_breaker(clock, events, client))
    assert BreakerSettings().read_copies == 1
    assert [params["Key"]["id"]["S"] for _, params in counter.calls] == ["payments"]


# ---------------------------------------------------------------------------------------- mechanisms


@pytest.mark.usefixtures("aws")
class TestCopies:
    def test_steady_reads_go_to_the_copies_never_to_the_circuits_item(self, clock, events):
        in_use(clock, events)
        client = new_client()
        counter = RequestCounter(client)
        breakers = [fleet_breaker(clock, events, client) for _ in range(40)]
        for _ in range(3):
            for breaker in breakers:
                succeed(breaker)
            clock.advance(1.25)
        keys = [params["Key"]["id"]["S"] for name, params in counter.calls]
        assert set(counter.names()) == {"GetItem"}
        assert "payments" not in keys
        assert {key.rsplit(COPY_SEPARATOR, 1)[1] for key in keys} == {str(i) for i in range(COPIES)}
        assert {params["ConsistentRead"] for _, params in counter.calls} == {False}, "half a read unit each"

    def test_the_transitions_winner_writes_every_copy_and_the_governor_skips_them(self, clock, events):
        breaker = fleet_breaker(clock, events)
        open_through_fleet(breaker, clock)
        opened = item()
        for index in range(COPIES):
            copy = copy_item(index)
            assert copy["circuitState"]["S"] == "OPEN"
            assert copy["version"] == opened["version"]
            assert copy["openUntil"] == opened["openUntil"]
            assert copy["copyOf"]["S"] == "payments"
            assert "claimOwner" not in copy
            assert "failureCount" not in copy
        records = [
            {"dynamodb": {"NewImage": image, "OldImage": {**image, "circuitState": {"S": "CLOSED"}}}}
            for image in [opened, *(copy_item(i) for i in range(COPIES))]
        ]
        assert transitions_in(records) == {"payments": 1}, "a copy is not a circuit of its own"

    def test_failures_wait_for_the_next_read_and_are_written_with_one_add(self, clock, events):
        in_use(clock, events)
        client = new_client()
        counter = RequestCounter(client)
        breaker = fleet_breaker(clock, events, client, failure_threshold=10)
        succeed(breaker)  # the first read
        fail(breaker, 3)
        assert "UpdateItem" not in counter.names(), "failures within a cache period wait"
        clock.advance(1.25)
        succeed(breaker)
        writes = [params for name, params in counter.calls if name == "UpdateItem"]
        assert len(writes) == 1
        assert writes[0]["ExpressionAttributeValues"][":one"] == {"N": "3"}
        assert int(item()["failureCount"]["N"]) == 3

    def test_no_failure_is_lost_across_sixteen_containers(self, clock, events, atomic_moto):
        breakers = [fleet_breaker(clock, events, failure_threshold=10_000) for _ in range(16)]

        def fail_twenty_times(index: int) -> None:
            for _ in range(20):
                try:
                    with breakers[index].call():
                        raise ConnectionError("downstream down")
                except ConnectionError:
                    pass

        threads = [threading.Thread(target=fail_twenty_times, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        clock.advance(1.25)  # each container's next call, a cache period later, writes what it saw
        for breaker in breakers:
            succeed(breaker)
        assert int(item()["failureCount"]["N"]) == 16 * 20

    def test_a_container_whose_own_unwritten_failures_reach_the_threshold_holds_its_calls(
        self, clock, events
    ):
        in_use(clock, events)
        client = new_client()
        counter = RequestCounter(client)
        breaker = fleet_breaker(clock, events, client, failure_threshold=3)
        succeed(breaker)
        fail(breaker, 3)
        downstream = Downstream()
        with pytest.raises(CircuitOpenError, match="not yet written, reach failure_threshold"):
            breaker.guard()(downstream)()
        assert downstream.calls == 0
        assert "UpdateItem" not in counter.names(), "held without a request: its next read writes them"
        clock.advance(1.25)
        with pytest.raises(CircuitOpenError, match="circuit is open"):
            breaker.guard()(downstream)()
        assert item()["circuitState"]["S"] == "OPEN"
        assert events.transitions() == [("CLOSED", "OPEN")]

    def test_unwritten_failures_older_than_the_window_are_dropped_and_a_success_never_holds(
        self, clock, events
    ):
        client = new_client()
        breaker = fleet_breaker(clock, events, client, failure_threshold=3, window=10.0)
        succeed(breaker)
        throttle(client, "GetItem", 100)  # nothing can be read or written for a while
        fail(breaker, 2)
        clock.advance(11.0)  # the two failures' window has passed
        fail(breaker)
        succeed(breaker)  # 1 failure in its window: below the threshold, so no hold
        clock.advance(0.5)
        succeed(breaker)

    def test_every_item_stays_under_one_kilobyte_one_write_unit(self, clock, events):
        breakers = [fleet_breaker(clock, events, read_copies=2, half_open_max_calls=3) for _ in range(3)]
        open_through_fleet(breakers[0], clock)
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 1.5)
        blocks = [b.call() for b in breakers]
        for block in blocks:
            with contextlib.suppress(CircuitOpenError):
                block.__enter__()  # probes in flight: the circuit's item holds its leases
        largest = {"circuit": item(), "copy": max((copy_item(i) for i in range(2)), key=item_bytes)}
        assert item()["circuitState"]["S"] == "HALF_OPEN"
        assert len(item()["probes"]["M"]) >= 1
        for name, stored in largest.items():
            assert item_bytes(stored) < 1024, (name, item_bytes(stored))

    @pytest.mark.parametrize("read_copies", [1, COPIES])
    def test_threads_of_one_container_lose_no_failure_and_count_none_twice(
        self, clock, events, atomic_moto, read_copies
    ):
        breaker = make_breaker(clock, events, read_copies=read_copies, failure_threshold=10_000)
        succeed(breaker)

        def fail_ten_times() -> None:
            for _ in range(10):
                with contextlib.suppress(ConnectionError), breaker.call():
                    raise ConnectionError("downstream down")

        threads = [threading.Thread(target=fail_ten_times) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        clock.advance(1.25)
        succeed(breaker)  # fleet mode writes with this read
        assert int(item()["failureCount"]["N"]) == 8 * 10

    def test_failures_seen_while_the_copies_say_open_are_not_counted(self, clock, events):
        first, second = fleet_breaker(clock, events), fleet_breaker(clock, events)
        succeed(second)
        fail(second, 2)  # waiting for second's next read
        open_through_fleet(first, clock)
        with pytest.raises(CircuitOpenError):
            succeed(second)  # its next read finds OPEN: the two failures belong to no window
        assert "failureCount" not in item()

    def test_one_claim_per_copy_lets_one_container_per_copy_through_to_the_circuits_item(self, clock, events):
        client = new_client()
        counter = RequestCounter(client)
        containers = [fleet_breaker(clock, events, client, read_copies=2) for _ in range(12)]
        open_through_fleet(containers[0], clock)
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 1.5)  # past the jittered end
        counter.calls.clear()
        in_flight, admitted = [], 0
        for breaker in containers:  # every container calls at once; none has finished its call
            block = breaker.call()
            try:
                block.__enter__()
            except CircuitOpenError:
                continue
            admitted += 1
            in_flight.append(block)
        on_circuit = [name for name, p in counter.calls if p["Key"]["id"]["S"] == "payments"]
        assert admitted == 1, "one probe (half_open_max_calls=1)"
        # The winner reads and moves the circuit; after it, at most one claimer per copy reads it.
        assert len(on_circuit) <= 2 + 2, on_circuit
        claims = [p for n, p in counter.calls if "claimOwner" in p.get("UpdateExpression", "")]
        assert 1 <= len(claims) <= 12
        for block in in_flight:
            block.__exit__(None, None, None)
        assert item()["circuitState"]["S"] == "CLOSED"
        # Claims, probes, transitions and copy writes: every request is one attach() grants on the table.
        assert {f"dynamodb:{name}" for name in counter.names()} <= set(IAM_ACTIONS)

    def test_a_copy_its_winner_could_not_write_is_repaired_by_the_first_container_to_notice(
        self, clock, events
    ):
        opener, other = (
            fleet_breaker(clock, events, read_copies=2),
            fleet_breaker(clock, events, read_copies=2),
        )
        open_through_fleet(opener, clock)
        new_client().update_item(  # as if the winner had crashed before it wrote copy 1
            TableName=TABLE,
            Key={"id": {"S": f"payments{COPY_SEPARATOR}1"}},
            UpdateExpression="SET circuitState = :closed, version = :zero",
            ExpressionAttributeValues={":closed": {"S": "CLOSED"}, ":zero": {"N": "0"}},
        )
        other._copies_for()._rng = AlwaysCopy(1)  # type: ignore[assignment]
        clock.advance(1.25)
        fail(other)  # copy 1 says CLOSED: the call goes through, and fails
        clock.advance(1.25)
        with pytest.raises(CircuitOpenError):
            succeed(other)  # writing its failure, it learns OPEN from the circuit's item, and repairs copy 1
        assert copy_item(1)["circuitState"]["S"] == "OPEN"
        assert copy_item(1)["version"] == item()["version"]
        assert "failureCount" not in item()

    def test_a_thousand_calls_a_second_cost_at_most_one_request_per_thousand_calls(self, clock, events):
        in_use(clock, events)
        client = new_client()
        counter = RequestCounter(client)
        breaker = fleet_breaker(clock, events, client)
        call = breaker.guard()(lambda: None)
        for _ in range(1000):
            call()
            clock.advance(0.001)
        assert counter.count == 1


# ---------------------------------------------------------------------------------------- throttling


def throttle(client: Any, operation: str, times: int) -> None:
    """DynamoDB answers the next ``times`` requests of ``operation`` (GetItem, UpdateItem) as throttled."""
    left = [times]

    def refuse(**_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}
            raise client.exceptions.ProvisionedThroughputExceededException(error, operation)

    client.meta.events.register_first(f"before-call.dynamodb.{operation}", refuse)


@pytest.mark.usefixtures("aws")
class TestThrottling:
    @pytest.mark.parametrize("read_copies", [1, COPIES])
    def test_a_throttled_read_of_an_open_circuit_still_rejects_even_when_failing_open(
        self, clock, events, read_copies
    ):
        client = new_client()
        opener = make_breaker(clock, events, read_copies=read_copies)
        waiting = make_breaker(clock, events, client, read_copies=read_copies)
        succeed(waiting)
        fail(opener, 5)
        clock.advance(1.25)
        with pytest.raises(CircuitOpenError):
            succeed(opener if read_copies > 1 else waiting)  # fleet mode writes the failures with this read
        with pytest.raises(CircuitOpenError):
            succeed(waiting)  # knows OPEN now
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 1.5)  # it may probe, if it can read
        throttle(client, "GetItem", 5)
        downstream = Downstream()
        with pytest.raises(CircuitOpenError, match="throttled"):
            waiting.guard()(downstream)()
        assert downstream.calls == 0, "fail_open=True must not turn a throttle into an unlimited probe"
        assert item()["circuitState"]["S"] == "OPEN"

    @pytest.mark.parametrize("read_copies", [1, COPIES])
    def test_a_throttled_read_of_a_closed_circuit_lets_calls_through_even_when_failing_closed(
        self, clock, events, read_copies
    ):
        client = new_client()
        breaker = make_breaker(clock, events, client, read_copies=read_copies, fail_open=False)
        succeed(breaker)
        clock.advance(1.25)
        throttle(client, "GetItem", 5)
        downstream = Downstream()
        assert breaker.guard()(downstream)("ok") == "ok", "a busy store is not an open circuit"
        [error] = events.named("StateStoreError")
        assert "ProvisionedThroughputExceeded" in error["error"]

    def test_without_any_state_read_a_throttle_follows_fail_open(self, clock, events):
        client = new_client()
        throttle(client, "GetItem", 5)
        breaker = make_breaker(clock, events, client, fail_open=False)
        with pytest.raises(CircuitOpenError, match="state store unavailable"):
            succeed(breaker)

    @pytest.mark.parametrize("read_copies", [1, COPIES])
    def test_a_throttled_failure_write_keeps_the_failure_for_the_next_write(self, clock, events, read_copies):
        client = new_client()
        breaker = make_breaker(clock, events, client, read_copies=read_copies, failure_threshold=10)
        succeed(breaker)
        throttle(client, "UpdateItem", 1)
        fail(breaker, 2)
        clock.advance(1.25)
        succeed(breaker)  # fleet mode writes with this read
        clock.advance(1.25)
        succeed(breaker)
        assert int(item()["failureCount"]["N"]) == 2, "no failure is lost to a throttle"
        assert [e["during"] for e in events.named("StateStoreError")] == ["record"]


# ---------------------------------------------------------------------------------------- the fleet


SIZES = (100, 300)
#: The read copies the docs recommend for fleets up to 20,000 containers.
FLEET_COPIES = fleet.FLEET_COPIES


@pytest.fixture(scope="module")
def fleet_runs() -> dict[tuple[str, int, int], fleet.FleetResult]:
    runs = {}
    for scenario in ("steady", "onset"):
        runs[scenario, SIZES[0], 1] = fleet.simulate(SIZES[0], scenario, read_copies=1)
        for size in SIZES:
            runs[scenario, size, FLEET_COPIES] = fleet.simulate(size, scenario, read_copies=FLEET_COPIES)
    return runs


def extrapolated(
    runs: dict[tuple[str, int, int], fleet.FleetResult], scenario: str, copies: int, rate: Any
) -> float:
    """The rate at 20,000 containers: a line through the sizes simulated (the one-item design, whose load
    is one request per container, at the smallest size only)."""
    points = [
        (size, float(rate(run))) for (name, size, k), run in runs.items() if (name, k) == (scenario, copies)
    ]
    return fleet.linear_at(points)


@pytest.mark.slow
def test_steady_traffic_holds_20000_containers_to_half_an_items_read_limit(fleet_runs, record_property):
    today = extrapolated(fleet_runs, "steady", 1, lambda r: r.requests_per_second())
    copies = extrapolated(fleet_runs, "steady", FLEET_COPIES, lambda r: r.requests_per_second())
    record_property(
        "figures", f"fleet steady at 20,000 containers: {today:,.0f} -> {copies:,.0f} req/s per item"
    )
    assert today > fleet.PARTITION_READS, "the one-item design melts: the simulation must show it"
    assert copies <= fleet.PARTITION_READS / 2
    assert all(fleet_runs["steady", n, FLEET_COPIES].rejected == 0 for n in SIZES)


@pytest.mark.slow
def test_an_outage_onset_holds_20000_containers_to_half_an_items_write_limit(fleet_runs, record_property):
    today = extrapolated(fleet_runs, "onset", 1, lambda r: r.busiest("writes", since=fleet.ONSET)[0])
    copies = extrapolated(
        fleet_runs, "onset", FLEET_COPIES, lambda r: r.busiest("writes", since=fleet.ONSET)[0]
    )
    reaction = max(fleet_runs["onset", n, FLEET_COPIES].reaction_p99() for n in SIZES)
    record_property(
        "figures",
        f"fleet onset at 20,000 containers: {today:,.0f} -> {copies:,.0f} writes/s per item; "
        f"p99 reaction {reaction:.2f} s",
    )
    assert today > fleet.PARTITION_WRITES / 2
    assert copies <= fleet.PARTITION_WRITES / 2
    assert reaction <= 3.0, "99% of containers reject within 3 s of the onset"
    for size in SIZES:
        assert fleet_runs["onset", size, FLEET_COPIES].transitions[0] == ("CLOSED", "OPEN")


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "containers"), [("recovery", 100), ("flapping", 50)])
def test_half_open_runs_one_probe_at_a_time_and_the_circuit_closes_again(scenario, containers):
    result = fleet.simulate(containers, scenario, read_copies=FLEET_COPIES)
    assert result.max_probes == 1, "half_open_max_calls is 1"
    assert result.transitions[-1] == ("HALF_OPEN", "CLOSED")
    assert result.busiest("writes")[0] <= 20


#: The partition test's fleet, and the partitions' read units scaled down with it from 20,000 containers
#: (each copy's and each partition's share of the reads is then what it is at 20,000).
PARTITIONED_CONTAINERS = 100
SCALED_READ_UNITS = fleet.PARTITION_READS * PARTITIONED_CONTAINERS / fleet.TARGET_CONTAINERS


@pytest.mark.slow
def test_partitions_a_new_table_cannot_serve_throttle_and_no_decision_changes(record_property):
    new_table = fleet.Table(fleet.Table.on_demand().partitions, read_units=SCALED_READ_UNITS)
    prewarmed = fleet.Table(
        fleet.Table.prewarmed_for(fleet.TARGET_CONTAINERS).partitions, read_units=SCALED_READ_UNITS
    )
    assert (new_table.partitions, prewarmed.partitions) == (4, 8), "12,000 and attach()'s 24,000 read units"
    runs = {
        (table.partitions, scenario): fleet.simulate(
            PARTITIONED_CONTAINERS, scenario, read_copies=FLEET_COPIES, table=table
        )
        for table in (new_table, prewarmed)
        for scenario in ("steady", "onset")
    }
    record_property(
        "figures",
        "partitions at 20,000 containers (scaled): throttled req/s "
        + ", ".join(f"{n} partitions {s}: {r.throttled_peak()}" for (n, s), r in runs.items()),
    )
    assert runs[4, "steady"].throttled > 0, "four partitions cannot serve 32 copies placed by key hash"
    assert runs[8, "steady"].throttled == 0
    # The end of the open period sends up to one claimer per copy to the circuit's item: a burst that does
    # not shrink with the fleet, so the scaled-down partition holding the item throttles a few of them.
    assert runs[8, "onset"].throttled <= FLEET_COPIES
    assert runs[8, "onset"].throttled < runs[4, "onset"].throttled
    for result in runs.values():
        assert result.rejected_while_closed == 0
        assert result.admitted_while_known_open == 0
    for table in (4, 8):
        assert ("CLOSED", "OPEN") in runs[table, "onset"].transitions
        assert runs[table, "onset"].reaction_p99() <= 3.0, "throttling delays news, within the target"


@pytest.mark.slow
@pytest.mark.parametrize("copies", [1, FLEET_COPIES])
def test_throttling_never_turns_into_a_wrong_decision(copies):
    result = fleet.simulate(100, "throttled", read_copies=copies)
    assert result.throttled > 100
    assert result.rejected_while_closed == 0, "no call rejected while the circuit was CLOSED"
    assert result.admitted_while_known_open == 0, "no call let through a circuit its container knew OPEN"
    assert ("CLOSED", "OPEN") in result.transitions, "failures written late are still counted: it opens"


# ---------------------------------------------------------------------------------------- faults


#: The fleet of the fault runs: 12 containers, 4 copies, one probe slot, a 0.4 s cache, a 2 s open period
#: (longer than the propagation time, 2 jittered cache periods).
FAULT_FLEET = [COPIES] * 12
FAULT_SETTINGS = {"cache_ttl": 0.4, "open_duration": 2.0, "failure_threshold": 5, "half_open_max_calls": 1}
KINDS = ("timeout", "throttle", "conditional")


def assert_the_breaker_held(outage: Outage, events: Any, settings: dict[str, Any]) -> None:
    """No call through the OPEN circuit after the propagation time, at most half_open_max_calls calls from
    the end of the open period until CLOSED, CLOSED within two cache periods of it, and fail_open never
    used (the circuit's own item could be read and written all along)."""
    assert outage.opened_at is not None, "the outage opened the circuit"
    assert outage.open_until is not None
    assert outage.closed_at is not None, f"the circuit never closed: {outage.transitions}"
    cache_ttl = settings["cache_ttl"]
    propagated = outage.opened_at + propagation_seconds(cache_ttl)
    assert outage.admitted_between(propagated, outage.open_until) == [], "calls through an OPEN circuit"
    probes = outage.admitted_between(outage.open_until, outage.closed_at)
    assert len(probes) <= settings["half_open_max_calls"], f"{len(probes)} calls while probing"
    assert outage.closed_at <= outage.open_until + 2 * cache_ttl * (1 + CACHE_JITTER), (
        f"closed {outage.closed_at - outage.open_until:.2f}s after the open period: the probe was lost"
    )
    assert events.named("StateStoreError") == [], "a copy's fault is not the store's: fail_open never applies"


@pytest.mark.usefixtures("aws")
class TestCopyFaults:
    """Writes to copies and claims fail (through a botocore hook) at each step of an outage's transitions;
    the circuit's own item works. The copies are a cache: no decision changes."""

    @pytest.mark.slow  # a fleet of containers through an outage, on moto
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("step", STEPS)
    def test_every_copy_write_of_a_step_fails(self, clock, events, step, kind):
        client = new_client()
        faults = CopyFaults(client, clock, steps=(step,), kind=kind)
        if step == "repair":  # a copy must be left behind for a container to repair it
            CopyFaults(client, clock, steps=("opening",), kind=kind, copies=(1,))
        outage = run_outage(clock, events, client, read_copies=FAULT_FLEET, settings=FAULT_SETTINGS)
        assert faults.failed[step] > 0, "the fault was injected"
        assert_the_breaker_held(outage, events, FAULT_SETTINGS)
        if (step, kind) != ("claim", "conditional"):  # a claim that loses its condition is lost, not failed
            assert len(events.named("CopyError")) >= faults.failed[step] // 3, "each failure is logged"

    @pytest.mark.slow  # a fleet of containers through an outage, on moto
    @pytest.mark.parametrize("step", ["opening", "half_opening"])
    def test_one_copy_that_keeps_timing_out(self, clock, events, step):
        client = new_client()
        faults = CopyFaults(client, clock, steps=(step, "repair", "claim"), kind="timeout", copies=(1,))
        outage = run_outage(clock, events, client, read_copies=FAULT_FLEET, settings=FAULT_SETTINGS)
        assert faults.failed[step] == 1
        assert_the_breaker_held(outage, events, FAULT_SETTINGS)

    @pytest.mark.slow  # a fleet of containers through an outage, on moto
    @pytest.mark.parametrize("kind", KINDS)
    def test_every_copy_and_claim_write_fails_for_a_second_and_a_half_as_the_open_period_ends(
        self, clock, events, kind
    ):
        client = new_client()
        outage = Outage()

        def ending(now: float) -> bool:
            return outage.open_until is not None and outage.open_until - 0.5 <= now < outage.open_until + 1.0

        faults = CopyFaults(
            client, clock, steps=("half_opening", "repair", "claim"), kind=kind, during=ending
        )
        run_outage(clock, events, client, read_copies=FAULT_FLEET, settings=FAULT_SETTINGS, outage=outage)
        assert faults.failed["claim"] > 0
        assert_the_breaker_held(outage, events, FAULT_SETTINGS)

    def test_the_container_that_wins_half_open_keeps_its_probe_when_no_copy_can_be_written(
        self, clock, events
    ):
        in_use(clock, events)
        opener = fleet_breaker(clock, events, read_copies=COPIES)
        open_through_fleet(opener, clock)
        client = new_client()
        CopyFaults(client, clock, steps=("half_opening", "closing"), kind="timeout")
        prober = fleet_breaker(clock, events, client)
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 0.5)
        downstream = Downstream()
        assert prober.guard()(downstream)("probe") == "probe"
        assert downstream.calls == 1
        assert events.transitions()[-2:] == [("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")], (
            "the probe was counted: the circuit closed at once, not after probe_timeout"
        )
        assert item()["circuitState"]["S"] == "CLOSED"
        assert events.named("StateStoreError") == []

    def test_a_claim_that_cannot_be_written_sends_the_call_to_the_circuits_item(self, clock, events):
        in_use(clock, events)
        open_through_fleet(fleet_breaker(clock, events), clock)
        client = new_client()
        CopyFaults(client, clock, steps=("claim",), kind="timeout")
        counter = RequestCounter(client)
        first, second = fleet_breaker(clock, events, client), fleet_breaker(clock, events, client)
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 0.5)
        block = first.call()
        block.__enter__()  # the probe: decided on the circuit's item, which let it take the slot
        downstream = Downstream()
        with pytest.raises(CircuitOpenError, match="half-open"):
            second.guard()(downstream)()  # the slot is taken: the item says so, whatever the claim did
        assert downstream.calls == 0
        block.__exit__(None, None, None)
        assert item()["circuitState"]["S"] == "CLOSED"
        on_item = [n for n, p in counter.calls if p["Key"]["id"]["S"] == "payments"]
        assert on_item.count("GetItem") >= 2, "each undecided claim read the circuit's own item"

    @pytest.mark.parametrize("kind", KINDS)
    def test_a_failed_repair_never_lets_a_call_through_a_taken_slot(self, clock, events, kind):
        in_use(clock, events, read_copies=2)
        opener = fleet_breaker(clock, events, read_copies=2)
        open_through_fleet(opener, clock)
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 0.5)
        prober = fleet_breaker(clock, events, read_copies=2)
        prober._copies_for()._rng = AlwaysCopy(0)  # type: ignore[assignment]
        probe = prober.call()
        probe.__enter__()  # HALF_OPEN, slot s0 leased; copy 0 claimed
        client = new_client()
        faults = CopyFaults(client, clock, steps=("repair", "half_opening"), kind=kind)
        stale = fleet_breaker(clock, events, client, read_copies=2)
        stale._copies_for()._rng = AlwaysCopy(1)  # reads copy 1 ...
        new_client().update_item(  # ... which its writer could not bring to HALF_OPEN
            TableName=TABLE,
            Key={"id": {"S": f"payments{COPY_SEPARATOR}1"}},
            UpdateExpression="SET version = :old, circuitState = :open",
            ExpressionAttributeValues={":old": {"N": "1"}, ":open": {"S": "OPEN"}},
        )
        clock.advance(0.2)
        downstream = Downstream()
        with pytest.raises(CircuitOpenError):
            stale.guard()(downstream)()
        assert downstream.calls == 0, "the slot is taken"
        assert faults.failed["repair"] >= 1
        probe.__exit__(None, None, None)
        assert item()["circuitState"]["S"] == "CLOSED"


# ---------------------------------------------------------------------------------------- one mode


@pytest.mark.usefixtures("aws")
class TestMixedModes:
    """Containers of one circuit with different read_copies (functions wired by hand, or two deployments
    side by side during a rollout): the circuit's item keeps the most copies any of them reads, and every
    transition's winner writes them all, so no mix lets a call through an OPEN circuit."""

    @pytest.mark.parametrize(("opener_copies", "reader_copies"), [(1, 32), (32, 1), (4, 32), (32, 4)])
    def test_a_container_reading_copies_never_passes_an_open_circuit_whoever_opened_it(
        self, clock, events, opener_copies, reader_copies
    ):
        reader = make_breaker(clock, events, read_copies=reader_copies)
        opener = make_breaker(clock, events, read_copies=opener_copies)
        succeed(reader)
        succeed(opener)
        fail(opener, 5)
        clock.advance(1.25)
        with contextlib.suppress(CircuitOpenError):
            succeed(opener)  # fleet mode writes the failures with this read
        assert item()["circuitState"]["S"] == "OPEN"
        clock.advance(propagation_seconds(1.0))
        downstream = Downstream()
        guarded = reader.guard()(downstream)
        for _ in range(10):
            with pytest.raises(CircuitOpenError):
                guarded()
        newcomer = make_breaker(clock, events, read_copies=reader_copies)
        with pytest.raises(CircuitOpenError):
            newcomer.guard()(downstream)()
        assert downstream.calls == 0, "10 of 10 rejected, and a new container too"

    def test_the_circuit_keeps_the_most_copies_and_logs_the_difference_once(self, clock, events):
        small, large = make_breaker(clock, events, read_copies=1), make_breaker(clock, events, read_copies=8)
        succeed(small)
        assert "readCopies" not in item(), "one-item mode keeps no copies"
        succeed(large)
        assert int(item()["readCopies"]["N"]) == 8
        clock.advance(1.25)
        succeed(small)
        clock.advance(1.25)
        succeed(small)
        [told] = events.named("ReadCopiesDiffer")
        assert (told["circuitReadCopies"], told["containerReadCopies"]) == (8, 1)
        fail(small, 5)  # a one-item container opens the circuit ...
        assert all(copy_item(i)["circuitState"]["S"] == "OPEN" for i in range(8)), "... and writes all 8"

    @pytest.mark.slow  # a fleet of containers through an outage, on moto
    @pytest.mark.parametrize("first", [1, COPIES, 8])
    @pytest.mark.parametrize("then", [1, COPIES, 8])
    def test_a_deployment_rolling_out_while_the_circuit_is_open_holds(self, clock, events, first, then):
        """Half the containers run the first setting through the outage's onset; the other half, a newer
        deployment with the second setting, start while the circuit is open (after the propagation time,
        so each of their calls before the end of the open period must be rejected)."""
        fleet = [first] * 6 + [then] * 6
        joining = {i: 2.2 for i in range(6, 12)}
        outage = run_outage(
            clock, events, new_client(), read_copies=fleet, settings=FAULT_SETTINGS, joining=joining
        )
        assert outage.opened_at is not None
        assert outage.opened_at + propagation_seconds(FAULT_SETTINGS["cache_ttl"]) < clock.start + 2.2
        assert_the_breaker_held(outage, events, FAULT_SETTINGS)


# ---------------------------------------------------------------------------------------- copies' trust


@pytest.mark.usefixtures("aws")
class TestCopyTrust:
    def test_a_new_circuit_is_enlisted_by_its_first_reader_and_read_from_copies_after(self, clock, events):
        client = new_client()
        counter = RequestCounter(client)
        succeed(fleet_breaker(clock, events, client))
        circuit = item()
        assert circuit["circuitState"]["S"] == "CLOSED"
        assert circuit["readCopies"] == {"N": str(COPIES)}
        for index in range(COPIES):
            assert copy_item(index)["expiresAt"] == circuit["expiresAt"], "a copy never outlives its item"
        assert [(name, p["Key"]["id"]["S"]) for name, p in counter.calls[:3]] == [
            ("GetItem", f"payments{COPY_SEPARATOR}{counter.calls[0][1]['Key']['id']['S'][-1]}"),
            ("GetItem", "payments"),
            ("UpdateItem", "payments"),
        ]
        counter.calls.clear()
        succeed(fleet_breaker(clock, events, client))
        assert counter.names() == ["GetItem"]

    def test_an_eventually_consistent_read_of_an_older_copy_never_takes_a_container_back(self, clock, events):
        in_use(clock, events)
        client = new_client()
        breaker = fleet_breaker(clock, events, client)
        succeed(breaker)
        lagging = copy_item(0)  # CLOSED: what a replica that lags may still serve after the opening
        open_through_fleet(fleet_breaker(clock, events), clock)
        clock.advance(1.25)
        with pytest.raises(CircuitOpenError):
            succeed(breaker)  # it knows OPEN now
        served: list[str] = []

        def serve_the_lagging_copy(params: dict[str, Any], **_: Any) -> Any:
            request = json.loads(params["body"])
            if request.get("ConsistentRead"):
                return None
            served.append(request["Key"]["id"]["S"])
            return AWSResponse("https://dynamodb", 200, {}, None), {"Item": lagging}

        client.meta.events.register_first("before-call.dynamodb.GetItem", serve_the_lagging_copy)
        clock.advance(float(item()["openUntil"]["N"]) - clock() + 0.5)
        with breaker.call():  # not an ordinary call by an old CLOSED: the half-open probe, by OPEN
            assert item()["circuitState"]["S"] == "HALF_OPEN"
        assert served, "the copy was read eventually consistent, and the replica lagged"
        assert ("OPEN", "HALF_OPEN") in events.transitions()

    @pytest.mark.parametrize(
        "damage",
        [
            pytest.param({"REMOVE": "readCopies"}, id="a copy written before fleet mode was raised"),
            pytest.param({"SET": ("readCopies", {"N": "2"})}, id="a copy kept for fewer containers"),
            pytest.param({"SET": ("expiresAt", {"N": "1"})}, id="an expired copy"),
        ],
    )
    def test_a_copy_nobody_keeps_for_this_container_is_never_trusted(self, clock, events, damage):
        in_use(clock, events)
        opener = fleet_breaker(clock, events)
        succeed(opener)
        open_through_fleet(opener, clock)
        # Copy 2 says CLOSED, and is one no transition keeps for a container of 4 copies (or has expired).
        key = {"id": {"S": f"payments{COPY_SEPARATOR}2"}}
        if "REMOVE" in damage:
            expression, values = "SET circuitState = :closed REMOVE readCopies", {}
        else:
            name, value = damage["SET"]
            expression, values = f"SET circuitState = :closed, {name} = :value", {":value": value}
        new_client().update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeValues={":closed": {"S": "CLOSED"}, **values},
        )
        clock.advance(0.2)  # past the time the transition's winner takes to write its copies
        reader = fleet_breaker(clock, events)
        reader._copies_for()._rng = AlwaysCopy(2)  # type: ignore[assignment]
        downstream = Downstream()
        with pytest.raises(CircuitOpenError):
            reader.guard()(downstream)()
        assert downstream.calls == 0, "decided by the circuit's own item"
        assert copy_item(2)["circuitState"]["S"] == "OPEN", "and the copy brought forward"

    def test_an_item_re_created_after_its_ttl_passed_is_not_shadowed_by_its_old_copies(self, clock, events):
        in_use(clock, events)
        opener = fleet_breaker(clock, events)
        open_through_fleet(opener, clock)  # the copies hold OPEN at version 1 ...
        clock.advance(BreakerSettings().idle_expiry + 3600)  # ... a week passes, and TTL deletes the item
        new_client().delete_item(TableName=TABLE, Key={"id": {"S": "payments"}})
        downstream = Downstream()
        fresh = fleet_breaker(clock, events)
        assert fresh.guard()(downstream)("ok") == "ok", "the copies expired with it: CLOSED, re-enlisted"
        circuit = item()
        assert circuit["readCopies"] == {"N": str(COPIES)}
        assert circuit["version"] == {"N": "0"}
        assert all(copy_item(i)["version"] == {"N": "0"} for i in range(COPIES)), "copies rewritten"
        assert all(copy_item(i)["circuitState"]["S"] == "CLOSED" for i in range(COPIES))


# ---------------------------------------------------------------------------------------- cache periods


def test_fleet_mode_refuses_a_cache_period_of_zero_and_says_why():
    problems = BreakerSettings.problems_of({"read_copies": 32, "cache_ttl": 0})
    assert [(name, value) for name, value, _ in problems] == [("cache_ttl", 0)]
    assert "every call would read a copy" in problems[0][2]
    assert BreakerSettings.problems_of({"read_copies": 1, "cache_ttl": 0}) == []
    assert BreakerSettings.problems_of({"read_copies": 32, "cache_ttl": 0.5}) == []
