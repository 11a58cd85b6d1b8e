"""Per-call overhead of a CLOSED-state call: constructs_lib.runtime.CircuitBreaker vs pybreaker (in memory).

Both guard the same no-op function in one process. The shared breaker talks to moto's in-process DynamoDB;
within its cache period a successful CLOSED call makes no DynamoDB request, which is what this measures.
It also counts the DynamoDB requests of the measured calls, and those of 1,000 CLOSED calls made at 10, 100
and 1,000 calls a second by one container (one state read per ``cache_ttl``, 1 s by default). Run it with:

    .venv/bin/python benchmarks/breaker_overhead.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import boto3
import pybreaker
from breaker_fleet import create_state_table
from moto import mock_aws

from constructs_lib.runtime import CircuitBreaker

TABLE = "bench-circuits"


def noop() -> int:
    return 1


def per_call_ns(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Median over ``repeats`` runs of the mean time per call, in nanoseconds."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - started) / calls)
    return statistics.median(samples)


#: Call rates of one container, for the DynamoDB requests per 1,000 calls.
CALL_RATES = (10, 100, 1000)


def requests_per_thousand_calls(client: object, rate: int) -> int:
    """DynamoDB requests of 1,000 successful CLOSED calls made at ``rate`` calls a second (fake clock)."""
    start, calls_made = time.time(), [0]
    # The clock is computed from the call count, so no rounding builds up over 1,000 small steps.
    breaker = CircuitBreaker(
        f"bench-rate-{rate}",
        table_name=TABLE,
        client=client,
        clock=lambda: start + calls_made[0] / rate,
        emit=lambda _: None,
    )
    call = breaker.guard()(noop)
    requests: list[str] = []

    def count(**kw: object) -> None:
        requests.append(str(getattr(kw["model"], "name", "")))

    client.meta.events.register("provide-client-params.dynamodb", count)  # type: ignore[attr-defined]
    for _ in range(1000):
        call()
        calls_made[0] += 1
    client.meta.events.unregister("provide-client-params.dynamodb", count)  # type: ignore[attr-defined]
    return len(requests)


def measure(calls: int) -> dict[str, float]:
    """Per-call times (ns) of a bare call, pybreaker and the shared breaker, and DynamoDB request counts."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_state_table(client, TABLE)
        requests = []
        client.meta.events.register(
            "provide-client-params.dynamodb", lambda **kw: requests.append(kw["model"].name)
        )
        frozen = time.time()
        # A clock that stands still keeps every call inside one cache period, as in a burst of calls.
        shared = CircuitBreaker(
            "bench", table_name=TABLE, client=client, clock=lambda: frozen, emit=lambda _: None
        )
        shared_call = shared.guard()(noop)
        memory_call = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)

        def pybreaker_call() -> object:
            return memory_call.call(noop)

        shared_call()  # the one state read of this cache period
        requests.clear()
        result: dict[str, float] = {
            "calls": calls,
            "bare_ns": per_call_ns(noop, calls),
            "shared_ns": per_call_ns(shared_call, calls),
            "pybreaker_ns": per_call_ns(pybreaker_call, calls),
            "requests_during_runs": len(requests),
        }
        for rate in CALL_RATES:
            result[f"requests_per_1000_at_{rate}"] = requests_per_thousand_calls(client, rate)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    m = measure(args.calls)
    bare, ours, theirs = m["bare_ns"], m["shared_ns"], m["pybreaker_ns"]
    print(f"calls per run:                        {args.calls:,}")
    print(f"bare function call:                   {bare:8.0f} ns")
    print(f"pybreaker (in memory):                {theirs:8.0f} ns  (overhead {theirs - bare:6.0f} ns)")
    print(f"constructs_lib.runtime (shared):      {ours:8.0f} ns  (overhead {ours - bare:6.0f} ns)")
    print(f"overhead ratio, shared / pybreaker:   {(ours - bare) / (theirs - bare):8.2f}")
    print(f"DynamoDB requests during the runs:    {m['requests_during_runs']:.0f}")
    for rate in CALL_RATES:
        print(f"DynamoDB requests per 1,000 calls at {rate} calls/s: {m[f'requests_per_1000_at_{rate}']:.0f}")


if __name__ == "__main__":
    main()
