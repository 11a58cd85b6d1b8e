"""Circuit-breaker infrastructure: the shared state table, the runtime layer, and wiring for functions.

The breaker itself runs inside Lambda: ``constructs_lib.runtime.CircuitBreaker``. This construct
provisions what it needs and attaches functions to it. One module per concern: ``construct`` (the
construct, its table and its layer), ``_table`` (its props and what a table must be), ``_layer`` (the
runtime's files as a layer), ``_attach`` (attach()), ``_throughput`` (fleet mode's pre-warming),
``_metrics`` (metrics and alarms), ``_pause`` (pause_while_open) and ``_governor`` (the governor that
pauses and resumes consumers).
"""

from ._attach import ONE_ITEM_CONTAINERS as ONE_ITEM_CONTAINERS
from ._attach import CircuitBreakerWiring
from ._governor import GOVERNOR_RUNTIME as GOVERNOR_RUNTIME
from ._pause import OUTAGE_MINUTES_PLANNED_FOR as OUTAGE_MINUTES_PLANNED_FOR
from ._pause import RECONCILE_SECONDS as RECONCILE_SECONDS
from ._pause import ConsumerPause
from ._pause import receives_for_outage as receives_for_outage
from .construct import CircuitBreaker

__all__ = ["CircuitBreaker", "CircuitBreakerWiring", "ConsumerPause"]
