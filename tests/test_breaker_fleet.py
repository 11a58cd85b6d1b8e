"""Fleet mode (``read_copies`` above 1): the breaker at internet scale.

The first half checks each mechanism against moto with a fake clock: copies written by the transition's
winner, failures written with the next read, one probe claim per copy, repair of a stale copy, and the
state read last deciding while DynamoDB throttles. The second half runs the fleet simulation of
``benchmarks/breaker_fleet.py`` (real breakers, one moto table, a fake clock) at a few hundred containers
and extrapolates its per-item rates to 20,000 containers, where the targets are set.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from benchmarks import breaker_fleet as fleet
from constructs_lib.runtime import (
    BreakerSettings,
    CircuitBreaker,
    CircuitOpenError,
    InvalidSettingsError,
)
from constructs_lib.runtime._store import COPY_SEPARATOR, IAM_ACTIONS
from constructs_lib.runtime.governor import transitions_in
from tests.breaker_support import (
    TABLE,
    Downstream,
    RequestCounter,
    fail,
    item,
    make_breaker,
    new_client,
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
#: The read copies the README recommends for fleets up to 20,000 containers.
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


@pytest.mark.slow
@pytest.mark.parametrize("copies", [1, FLEET_COPIES])
def test_throttling_never_turns_into_a_wrong_decision(copies):
    result = fleet.simulate(100, "throttled", read_copies=copies)
    assert result.throttled > 100
    assert result.rejected_while_closed == 0, "no call rejected while the circuit was CLOSED"
    assert result.admitted_while_known_open == 0, "no call let through a circuit its container knew OPEN"
    assert ("CLOSED", "OPEN") in result.transitions, "failures written late are still counted: it opens"
