"""What a fleet in fleet mode asks of the state table, and DynamoDB's throughput facts it is held to.

Plain arithmetic (no AWS call): the CDK construct pre-warms the table with it (``WarmThroughput``), and
``benchmarks/breaker_fleet.py`` models the table's partitions with the same figures.

- One partition serves 3,000 read units and 1,000 write units a second; an item lives in one partition.
- A new on-demand table serves 12,000 read units and 4,000 write units a second at once (its warm
  throughput, which can be raised before traffic comes, never lowered).
- An on-demand table may use 40,000 of each by default (a table-level quota AWS raises on request).
- A strongly consistent read of an item under 4 KB costs 1 read unit; an eventually consistent one, 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._copies import CACHE_JITTER

PARTITION_READ_UNITS = 3_000
PARTITION_WRITE_UNITS = 1_000
NEW_TABLE_READ_UNITS = 12_000
NEW_TABLE_WRITE_UNITS = 4_000
TABLE_QUOTA_UNITS = 40_000
STRONG_READ_UNITS = 1.0
COPY_READ_UNITS = 0.5
#: Pre-warming asks for enough partitions that the copies, placed by key hash (at random, as far as anyone
#: can tell), overload none of them with at most these odds.
OVERLOAD_ODDS = 0.01


@dataclass(frozen=True)
class FleetNeed:
    """What one circuit's fleet in fleet mode asks of the table."""

    #: Copy reads a second, evenly spread, in read units (half a unit each).
    read_units: float
    #: Partitions that serve its copies, placed at random, with ``OVERLOAD_ODDS`` at most of overloading one
    #: (``max_partitions`` when even that many cannot).
    partitions: int
    #: The most copies one partition serves at this fleet's reads (0: one copy is more than a partition).
    copies_per_partition: int
    #: The odds that ``partitions`` still leaves a partition overloaded.
    overload_odds: float

    @property
    def fits(self) -> bool:
        """The copies' placement overloads no partition, with ``OVERLOAD_ODDS`` at most."""
        return self.overload_odds <= OVERLOAD_ODDS

    @property
    def warm_read_units(self) -> int:
        """The read units to pre-warm: those partitions' worth."""
        return max(math.ceil(self.read_units), self.partitions * PARTITION_READ_UNITS)


def fleet_reads(containers: float, cache_ttl: float) -> float:
    """Copy reads a second: each container reads one copy per cache period, stretched by 1 + CACHE_JITTER / 2
    on average (1.1)."""
    return containers / (cache_ttl * (1.0 + CACHE_JITTER / 2))


def fleet_need(
    containers: float, cache_ttl: float, read_copies: int, *, max_partitions: int = TABLE_QUOTA_UNITS // 3_000
) -> FleetNeed:
    """The read units and partitions ``containers`` reading ``read_copies`` copies need, every
    ``cache_ttl``: the fewest partitions (up to ``max_partitions``, the table quota's) whose odds of being
    overloaded by the copies' random placement are at most ``OVERLOAD_ODDS``."""
    read_units = fleet_reads(containers, cache_ttl) * COPY_READ_UNITS
    per_copy = read_units / read_copies
    most = int(PARTITION_READ_UNITS // per_copy) if per_copy > 0 else read_copies
    if most == 0:
        return FleetNeed(read_units, max_partitions, 0, 1.0)
    partitions = max(1, math.ceil(read_copies / most))
    odds = overload_odds(read_copies, partitions, most)
    while odds > OVERLOAD_ODDS and partitions < max_partitions:
        partitions += 1
        odds = overload_odds(read_copies, partitions, most)
    return FleetNeed(read_units, partitions, most, odds)


def overload_odds(copies: int, partitions: int, most: int) -> float:
    """The odds that more than ``most`` of ``copies``, each placed in one of ``partitions`` at random, land
    in one partition (exact: the count of placements with every partition at ``most`` or fewer)."""
    if most >= copies:
        return 0.0
    if most * partitions < copies:
        return 1.0
    per_partition = [1.0 / math.factorial(j) for j in range(most + 1)]
    ways = [1.0]
    for _ in range(partitions):  # the exponential generating function, one partition at a time
        product = [0.0] * min(len(ways) + most, copies + 1)
        for i, a in enumerate(ways):
            for j, b in enumerate(per_partition):
                if i + j <= copies:
                    product[i + j] += a * b
        ways = product
    fitting = ways[copies] * math.factorial(copies) / float(partitions) ** copies
    return max(0.0, 1.0 - fitting)


def fleet_write_units(read_copies: int) -> float:
    """The write units a second one circuit asks at most: a transition writes every copy, and the end of an
    open period takes up to one claim and one release per copy (failures are written once per container
    and cache period, onto the circuit's own item, which no warm throughput can split)."""
    return 3.0 * read_copies
