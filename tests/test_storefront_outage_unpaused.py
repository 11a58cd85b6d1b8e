"""Without the pause, the same payments outage burns receive counts until good orders reach the DLQ.

The scenario of ``tests/test_storefront_outage_paused.py`` (``tests/outage_run.py``, 400 orders), with the
governor's pause left out: the consumer keeps receiving while the circuit is open.

Why 400 orders still show it: the good orders that reach the DLQ are those that arrive in the minute
around the outage's start (at 1,000 orders, the 11 that arrive from 1,782 s to 1,836 s; at 400, the 6
from 1,782 s to 1,850 s): each of their messages is received every visibility timeout for the whole
outage and until the circuit closes again. A lower rate leaves fewer orders in that minute; at 400 there
are still several (asserted), at 300 there are none that fail their tenth receive, so 400 is the
smallest round size that proves it here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.localcloud import storefront_templates
from tests.outage_run import TEST_ORDERS, run_storefront, scenario, storefront_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    return storefront_templates()


def test_without_the_pause_the_outage_sends_good_orders_to_the_dlq(templates, monkeypatch, record_property):
    orders = scenario(TEST_ORDERS)
    good = {o.order_id for o in orders if o.kind == "good"}

    storefront_environment(monkeypatch)
    unpaused = run_storefront(templates, orders, pause=False, monkeypatch=monkeypatch)
    record_property("figures", unpaused.figures(orders, "outage run, without the pause"))

    # Without the pause, the outage burns receive counts until good orders reach the DLQ.
    assert not unpaused.paused_spans
    assert set(unpaused.dead_letters) & good
    # Some good order is received at least maxReceiveCount times: more than any good order with the pause
    # (below maxReceiveCount: tests/test_storefront_outage_paused.py).
    assert max(unpaused.receives[o] for o in good) >= unpaused.max_receive_count
