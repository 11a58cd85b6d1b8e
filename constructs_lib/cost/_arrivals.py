"""Requests arriving at random (Poisson) at a steady monthly rate: what a second, a window or a cache
period holds, for X-Ray's sampling, Lambda's SQS batches and the breaker's reads."""

from __future__ import annotations

import math

from ._usage import MONTH_SECONDS

#: X-Ray's default sampling rule, which Lambda applies to a traced function: the first request each
#: second (the reservoir), then 5% of the rest.
XRAY_RESERVOIR = 1
XRAY_RATE = 0.05
#: An account's default concurrent executions (Lambda's quota), shared by all its functions.
ACCOUNT_CONCURRENCY = 1000.0
#: The most batches one standard-queue mapping processes at once when nothing caps it: Lambda starts five
#: and adds up to 300 a minute while messages remain, to 1,250 (AWS Lambda developer guide, "Configuring
#: scaling behavior for SQS event source mappings"; copies from before 2025 say 1,000).
SQS_MAPPING_CONCURRENCY = 1250.0


def expected_min(cap: float, mean: float) -> float:
    """``E[min(cap, N)]`` for ``N`` Poisson with ``mean``: ``sum(P(N > k) for k < cap)``."""
    whole = int(cap)
    if mean <= 0 or whole <= 0:
        return 0.0
    if mean - whole > 10 * math.sqrt(mean):  # N is above the cap with certainty
        return float(whole)
    total, cumulative = 0.0, 0.0
    log_mean = math.log(mean)
    for k in range(whole):
        cumulative += math.exp(-mean + k * log_mean - math.lgamma(k + 1))
        total += max(0.0, 1.0 - cumulative)
        if cumulative >= 1.0 - 1e-15:
            break
    return total


def traced(requests: float, reservoir: float = XRAY_RESERVOIR, rate: float = XRAY_RATE) -> float:
    """Traces a month that a sampling rule records from ``requests`` arriving at random over the month:
    the first ``reservoir`` requests of each second, and ``rate`` of the rest.

    Below one request a second almost every request is traced; far above it, about ``rate`` of them.
    """
    per_second = requests / MONTH_SECONDS
    kept = expected_min(reservoir, per_second)
    return MONTH_SECONDS * (kept + rate * (per_second - kept))


def batch_fill(
    messages: float, batch_size: float, window: float, duration: float, concurrency: float
) -> float:
    """Messages in an average batch that Lambda's SQS pollers hand to the function.

    A poller returns as soon as a message arrives, and keeps gathering for the mapping's batching window
    (``MaximumBatchingWindowInSeconds``, 0 without one): one message plus those arriving within the
    window, up to ``batch_size``. When the messages come faster than ``concurrency`` invocations of
    ``duration`` seconds can take them one at a time, each batch holds the backlog instead.
    """
    rate = messages / MONTH_SECONDS
    if rate <= 0:
        return 1.0
    gathered = 1.0 + expected_min(batch_size - 1, rate * window)
    backlog = rate * duration / concurrency if concurrency > 0 else batch_size
    return max(1.0, min(batch_size, max(gathered, backlog)))


def periods_with_events(events: float, containers: float, period: float) -> float:
    """Periods a month (of ``period`` seconds, per container) in which a container has at least one of
    ``events`` spread at random: ``1 - e^-rate`` of them, ``rate`` being a container's events a period."""
    if events <= 0:
        return 0.0
    periods = MONTH_SECONDS / period
    rate = events / containers / periods
    return containers * periods * -math.expm1(-rate)
