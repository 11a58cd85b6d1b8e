"""The storefront rides out a payments outage with the consumer paused while the circuit is open.

The run of ``tests/outage_run.py``: orders through the API's real templates, moto's SQS and DynamoDB, the
real consumer, breaker and governor, on a fake clock over two simulated hours (25 minutes of them without
payments). ``tests/test_storefront_outage_unpaused.py`` runs the same scenario without the pause.

The test runs 400 orders (``TEST_ORDERS``) instead of the 1,000 of docs/storefront.md
(``benchmarks/outage.py``): the same timeline, outage and mix, at 40% of the rate. Each property checked
here holds order by order or message by message, so it does not depend on the rate as long as every kind
of order occurs: the scenario asserts that refused, forged and duplicated orders are all in it (31, 7 and
13 of them at 400), and the outage is still long and busy enough for the breaker to open and the
governor to pause the consumer (asserted: a paused span).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.localcloud import storefront_templates
from tests.outage_run import OUTAGE, TEST_ORDERS, run_storefront, scenario, storefront_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    return storefront_templates()


def test_the_storefront_rides_out_a_payments_outage_with_the_consumer_paused(
    templates, monkeypatch, record_property
):
    orders = scenario(TEST_ORDERS)
    kinds = Counter(o.kind for o in orders if not o.duplicate)
    good = {o.order_id for o in orders if o.kind == "good"}
    forged = {o.order_id for o in orders if o.kind == "forged"}
    assert kinds["invalid"] > 0
    assert kinds["forged"] > 0
    assert any(o.duplicate for o in orders)

    storefront_environment(monkeypatch)
    paused = run_storefront(templates, orders, pause=True, monkeypatch=monkeypatch)
    # Printed at the end of the run (tests/conftest.py), also when xdist runs the test in a worker.
    record_property("figures", paused.figures(orders, "outage run, with the pause   "))

    # Bad bodies and products out of stock answer 400 and are never queued; every other request 202.
    assert paused.answered[400] == kinds["invalid"]
    assert paused.answered[202] == len(orders) - kinds["invalid"] - kinds["forged"]
    # Every good order is charged exactly once (duplicates included); forged ones never are.
    assert set(paused.charges) == good
    assert set(paused.charges.values()) == {1}
    # Every forged message is in the DLQ, and no good order is.
    assert sorted(paused.dead_letters) == sorted(forged)
    # While the circuit was open, nothing was received after the pause took effect.
    assert paused.paused_spans, "the consumer was paused"
    for start, end in paused.paused_spans:
        assert not [t for t in paused.receive_times if start <= t < end], (start, end)
    # The backlog drained after recovery, and no message was lost.
    assert paused.drained_at > OUTAGE[1]
    suppressed = paused.consumer_successes - sum(paused.charges.values())
    queued = paused.answered[202] + kinds["forged"]
    assert queued == sum(paused.charges.values()) + suppressed + len(paused.dead_letters)
    assert suppressed == sum(1 for o in orders if o.duplicate)
    # The pause keeps every good order's receives below the queue's maxReceiveCount, which the run without
    # the pause reaches (tests/test_storefront_outage_unpaused.py): the pause cuts the receives.
    assert max(paused.receives[o] for o in good) < paused.max_receive_count
