"""Per-call overhead of a CLOSED-state call: constructs_lib.runtime.CircuitBreaker vs pybreaker (in memory).

Both guard the same no-op function in one process. The shared breaker talks to moto's in-process DynamoDB;
within its cache period a successful CLOSED call makes no DynamoDB request, which is what this measures.
It also counts the DynamoDB requests of the measured calls. Run it with:

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
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
        bare = per_call_ns(noop, args.calls)
        ours = per_call_ns(shared_call, args.calls)
        theirs = per_call_ns(pybreaker_call, args.calls)

    print(f"calls per run:                        {args.calls:,}")
    print(f"bare function call:                   {bare:8.0f} ns")
    print(f"pybreaker (in memory):                {theirs:8.0f} ns  (overhead {theirs - bare:6.0f} ns)")
    print(f"constructs_lib.runtime (shared):      {ours:8.0f} ns  (overhead {ours - bare:6.0f} ns)")
    print(f"overhead ratio, shared / pybreaker:   {(ours - bare) / (theirs - bare):8.2f}")
    print(f"DynamoDB requests during the runs:    {len(requests)}")


if __name__ == "__main__":
    main()
