"""Sixteen containers (threads, one breaker each) hammer one circuit through an outage and a recovery.

Each moto request is made atomic (as real DynamoDB requests are); threads interleave between requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from constructs_lib.runtime import CircuitOpenError
from tests.breaker_support import (
    FakeClock,
    item,
    make_breaker,
)

pytestmark = pytest.mark.usefixtures("aws", "atomic_moto")

CONTAINERS = 16


def run_containers(target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(CONTAINERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [t for t in threads if t.is_alive()], "a container hung"
    assert errors == []


def test_no_failure_is_lost_within_the_window(clock, events):
    """Concurrent failure writes are atomic counter updates: every one is counted."""
    per_container = 20
    breakers = [make_breaker(clock, events, failure_threshold=10_000) for _ in range(CONTAINERS)]

    def fail_repeatedly(index: int) -> None:
        for _ in range(per_container):
            try:
                with breakers[index].call():
                    raise ConnectionError("downstream down")
            except ConnectionError:
                pass

    run_containers(fail_repeatedly)
    stored = item()
    assert stored["circuitState"]["S"] == "CLOSED"
    assert int(stored["failureCount"]["N"]) == CONTAINERS * per_container


class ProbeMonitor:
    """Wraps the downstream: counts calls that run while the stored state is HALF_OPEN (probes)."""

    def __init__(self, clock: FakeClock) -> None:
        self.healthy = False
        self.active_probes = 0
        self.max_active_probes = 0
        self.probe_calls = 0
        self.calls = 0
        self._lock = threading.Lock()
        self._clock = clock

    def __call__(self) -> str:
        probing = item().get("circuitState", {}).get("S") == "HALF_OPEN"
        with self._lock:
            self.calls += 1
            if probing:
                self.probe_calls += 1
                self.active_probes += 1
                self.max_active_probes = max(self.max_active_probes, self.active_probes)
        try:
            time.sleep(0.002)  # give the other containers time to try their luck
            if not self.healthy:
                raise ConnectionError("downstream down")
            return "ok"
        finally:
            if probing:
                with self._lock:
                    self.active_probes -= 1


@pytest.mark.parametrize("half_open_max_calls", [1, 2])
def test_outage_and_recovery(clock, events, half_open_max_calls):
    settings = {
        "failure_threshold": 5,
        "half_open_max_calls": half_open_max_calls,
        "success_threshold": 3,
        "cache_ttl": 0.05,
    }
    breakers = [make_breaker(clock, events, **settings) for _ in range(CONTAINERS)]
    downstream = ProbeMonitor(clock)
    outcomes: dict[str, int] = {"rejected": 0, "failed": 0, "ok": 0}
    outcome_lock = threading.Lock()

    def note(kind: str) -> None:
        with outcome_lock:
            outcomes[kind] += 1

    def hammer(index: int, until: Callable[[], bool], max_rounds: int) -> None:
        guarded = breakers[index].guard()(downstream)
        for _ in range(max_rounds):
            if until():
                return
            try:
                guarded()
                note("ok")
            except CircuitOpenError:
                note("rejected")
            except ConnectionError:
                note("failed")
            clock.advance(0.01)  # time passes: caches expire, as they would between invocations

    # Outage: every call fails until the circuit opens; then calls are rejected without reaching it.
    run_containers(lambda i: hammer(i, lambda: False, 30))
    assert item()["circuitState"]["S"] == "OPEN"
    assert events.transitions().count(("CLOSED", "OPEN")) == 1
    failed_during_outage = outcomes["failed"]
    assert outcomes["rejected"] > 0
    assert failed_during_outage < CONTAINERS * 30

    # Recovery: the downstream heals; the circuit must probe, then close.
    downstream.healthy = True
    clock.advance(float(item()["openUntil"]["N"]) - clock())

    def closed() -> bool:
        return bool(item()["circuitState"]["S"] == "CLOSED")

    run_containers(lambda i: hammer(i, closed, 400))
    assert closed()
    assert downstream.max_active_probes <= half_open_max_calls
    assert downstream.probe_calls >= settings["success_threshold"]
    transitions = events.transitions()
    assert transitions[-2:] == [("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]
    assert int(item()["version"]["N"]) == len(transitions), "one version per transition: no write was lost"
