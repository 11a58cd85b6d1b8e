"""The storefront through a payments outage, from HTTP request to charge, on the local cloud.

Orders go through the synthesized API templates into moto's SQS; the real order consumer (Powertools batch
processing and idempotency, the payments breaker) drains them through an emulated event source mapping;
with ``pause``, the real governor pauses that mapping while the payments circuit is open. A few messages
are forged: sent straight to the queue by another principal with ``sqs:SendMessage``, naming a customer
themselves; the consumer rejects them (their sender is not the API's role) and they reach the DLQ. A fake
clock runs two simulated hours in seconds.

``tests/test_storefront_outage_paused.py`` and ``tests/test_storefront_outage_unpaused.py`` run it with
and without the pause (one module each, so that ``make test`` runs them side by side);
``benchmarks/outage.py`` runs both at the full 1,000 orders and prints the figures docs/storefront.md quotes.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from moto import mock_aws

from apps.storefront.orders import PRODUCTS
from tests.breaker_support import FakeClock
from tests.localcloud import (
    REGION,
    STOREFRONT_ENVIRONMENT,
    FakeContext,
    LocalCloud,
    assumed_client,
    authorizer_context,
    lean_moto,
    order_consumer,
    record_sender_ids,
)

#: The full run (docs/storefront.md's figures, ``benchmarks/outage.py``).
ORDERS = 1000
ARRIVALS_SECONDS = 5400.0  # orders arrive over 90 minutes
OUTAGE = (1800.0, 3300.0)  # payments answers nothing for 25 minutes: 20% of the run
TICK = 20.0  # the simulation's step; the stream is polled and the queue drained every tick
RECONCILE_EVERY = 60.0  # the governor's scheduled tick
GIVE_UP_AT = 4 * 3600.0
#: The tests' run: the same 90 minutes, outage and mix of orders, at 400 orders. Why that proves the same
#: as 1,000 is said in the test modules; the figures of both sizes are in docs/storefront.md.
TEST_ORDERS = 400


def storefront_environment(monkeypatch: Any) -> None:
    for name, value in STOREFRONT_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


IN_STOCK = [p["id"] for p in PRODUCTS if p["inStock"]]
OUT_OF_STOCK = [p["id"] for p in PRODUCTS if not p["inStock"]]


@dataclass
class Order:
    order_id: str
    kind: str  # good, invalid (refused by the API: 400) or forged (sent around the API: to the DLQ)
    body: str
    at: float
    customer: str  # the sub of the customer's token, which the API adds to the message
    duplicate: bool = False


def scenario(count: int = ORDERS, seed: int = 7) -> list[Order]:
    """``count`` orders arriving evenly over the run, of the kinds in the proportions below."""
    rng = random.Random(seed)
    orders: list[Order] = []
    for i in range(count):
        at = i * ARRIVALS_SECONDS / count
        draw = rng.random()
        order_id, customer = f"o-{i:04d}", f"c-{rng.randint(1, 80)}"
        if draw < 0.02:
            kind, document = "invalid", {"orderId": order_id}  # no items: the model refuses it
        elif draw < 0.05:  # a product out of stock: the model takes only what is in stock
            kind, document = (
                "invalid",
                {"orderId": order_id, "items": [{"sku": OUT_OF_STOCK[0], "quantity": 1}]},
            )
        elif draw < 0.07:  # sent straight to the queue, naming a customer: the consumer rejects it
            kind, document = "forged", {"orderId": order_id, "items": [{"sku": IN_STOCK[0], "quantity": 1}]}
        else:
            items = [{"sku": rng.choice(IN_STOCK), "quantity": rng.randint(1, 3)}]
            kind, document = "good", {"orderId": order_id, "items": items}
        orders.append(Order(order_id, kind, json.dumps(document), at, customer))
        if kind == "good" and rng.random() < 0.03:  # the client retries: the same order again, later
            orders.append(
                Order(
                    order_id, kind, json.dumps(document), at + rng.uniform(1, 120), customer, duplicate=True
                )
            )
    return sorted(orders, key=lambda o: o.at)


class Payments:
    """The downstream: answers nothing during the outage, charges otherwise."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.charges: Counter[str] = Counter()
        self.attempts = 0

    def charge(self, customer: str, order_id: str, amount: Any) -> str:
        self.attempts += 1
        if OUTAGE[0] <= self.clock() < OUTAGE[1]:
            raise ConnectionError("payments: connection timed out")
        self.charges[order_id] += 1
        return f"ch-{order_id}"


@dataclass
class Run:
    answered: Counter[int] = field(default_factory=Counter)
    charges: Counter[str] = field(default_factory=Counter)
    dead_letters: list[str] = field(default_factory=list)
    receives: dict[str, int] = field(default_factory=dict)  # orderId -> receives of its messages
    paused_spans: list[tuple[float, float]] = field(default_factory=list)
    receive_times: list[float] = field(default_factory=list)
    drained_at: float = 0.0
    backlog_cleared_at: float = 0.0  # the first time after the outage that no message waits in the queue
    consumer_successes: int = 0
    max_receive_count: int = 0  # the queue's redrive policy, from the template

    def figures(self, orders: list[Order], label: str) -> str:
        good = {o.order_id for o in orders if o.kind == "good"}
        per_good = [self.receives.get(order_id, 0) for order_id in good]
        duplicates = self.consumer_successes - sum(self.charges.values())
        paused = sum(end - start for start, end in self.paused_spans)
        return (
            f"{label}: orders={len({o.order_id for o in orders})} requests={sum(self.answered.values())} "
            f"answered 202/400={self.answered[202]}/{self.answered[400]} "
            f"charged={sum(self.charges.values())} "
            f"duplicates suppressed={duplicates} DLQ={len(self.dead_letters)} "
            f"receives per good order mean={statistics.mean(per_good):.2f} max={max(per_good)} "
            f"time paused={paused:.0f}s "
            f"time to drain={self.backlog_cleared_at - OUTAGE[1]:.0f}s after recovery"
        )


def run_storefront(
    templates: tuple[dict[str, Any], dict[str, Any]],
    orders: list[Order],
    *,
    pause: bool,
    monkeypatch: Any,
) -> Run:
    clock, run = FakeClock(start=0.0), Run()
    lean_moto(monkeypatch)
    record_sender_ids(monkeypatch)
    with mock_aws():
        cloud = LocalCloud(templates[0], templates[1], clock)
        forger = forging_client()
        payments = Payments(clock)
        consumer = order_consumer(cloud, monkeypatch, payments)
        order_of: dict[str, str] = {}

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            for record in event["Records"]:
                order_of[record["messageId"]] = json.loads(record["body"])["orderId"]
            result: dict[str, Any] = consumer.handler(event, FakeContext())
            run.consumer_successes += len(event["Records"]) - len(result["batchItemFailures"])
            return result

        poller = cloud.poller(invoke)
        governor = cloud.governor(templates[1])
        pending = list(orders)
        next_reconcile = RECONCILE_EVERY
        paused_since: float | None = None
        while clock() < GIVE_UP_AT:
            now = clock()
            while pending and pending[0].at <= now:
                order = pending.pop(0)
                if order.kind == "forged":
                    forger.send_message(
                        QueueUrl=cloud.queue_url,
                        MessageBody=order.body,
                        MessageAttributes={
                            "caller.sub": {"DataType": "String", "StringValue": order.customer}
                        },
                    )
                    continue
                response = cloud.post(
                    order.body,
                    {"Content-Type": "application/json", "Authorization": "Bearer t"},
                    context=authorizer_context({"sub": order.customer}),
                )
                run.answered[response.status] += 1
            if pause:
                records = cloud.stream.poll()
                changed = governor.handle({"Records": records})["changed"] if records else []
                if now >= next_reconcile:
                    changed += governor.handle({"source": "aws.events"})["changed"]
                    next_reconcile += RECONCILE_EVERY
                if changed:
                    poller.refresh()
                    if not poller.enabled and paused_since is None:
                        paused_since = now
                    elif poller.enabled and paused_since is not None:
                        run.paused_spans.append((paused_since, now))
                        paused_since = None
            poller.tick()
            if now > OUTAGE[1] and not run.backlog_cleared_at and cloud.waiting() == 0:
                run.backlog_cleared_at = now
            if not pending and run.backlog_cleared_at and poller.in_flight == 0 and cloud.queue_depth() == 0:
                run.drained_at = now
                break
            clock.advance(TICK)
        run.charges = payments.charges
        run.max_receive_count = cloud.max_receive_count
        run.dead_letters = [json.loads(body)["orderId"] for body in cloud.dead_letters()]
        for message_id, count in poller.receives.items():
            order_id = order_of[message_id]
            run.receives[order_id] = run.receives.get(order_id, 0) + count
        run.receive_times = poller.receive_times
    return run


def forging_client() -> Any:
    """SQS as another principal with sqs:SendMessage on the queue (a role of the same account)."""
    import boto3

    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="another-producer", AssumeRolePolicyDocument="{}"
    )["Role"]
    return assumed_client("sqs", role["Arn"], "forger")
