"""Pre-warming the state table for fleet mode: the partitions that serve a fleet's read copies, wherever
the key hash places them, written as the table's ``WarmThroughput`` (or a warning that says what it
needs where the construct cannot write it)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .._core import cdk_warning, is_unresolved, reserved_concurrency
from ..runtime._capacity import (
    NEW_TABLE_READ_UNITS,
    NEW_TABLE_WRITE_UNITS,
    PARTITION_READ_UNITS,
    TABLE_QUOTA_UNITS,
    FleetNeed,
    fleet_need,
    fleet_write_units,
)
from ..runtime.settings import MAX_READ_COPIES, BreakerSettings


class TableThroughput:
    """What the fleets attached in fleet mode ask of the state table, and the warm throughput for it.

    Args:
        scope: The construct the warnings go on.
        table: The state table.
        table_kwargs: The kwargs the construct made ``table`` with (None: an existing table, not its own).
    """

    def __init__(self, scope: Construct, table: dynamodb.ITable, table_kwargs: dict[str, Any] | None) -> None:
        self._scope = scope
        self._table = table
        self._table_kwargs = table_kwargs
        #: (function, circuit) -> (containers, cache_ttl, read_copies) of each fleet-mode attachment
        self._fleets: dict[tuple[str, str], tuple[int, float, int]] = {}
        self._throughput_warned: set[tuple[str, str]] = set()

    def plan(
        self, target: lambda_.Function, circuit_id: str, settings: Mapping[str, Any], expected: int | None
    ) -> None:
        """Pre-warm the table for every fleet-mode circuit whose fleet is known (expected_containers, or
        the function's reserved concurrency, summed over the circuit's functions): ``WarmThroughput`` on a
        table this construct created, else a warning, and a warning when no table within the default
        quota can serve a fleet."""
        copies = int(settings.get("read_copies", BreakerSettings.read_copies))
        containers = expected if expected is not None else reserved_concurrency(target)
        if copies == 1 or containers is None or is_unresolved(containers):
            return
        cache_ttl = float(settings.get("cache_ttl", BreakerSettings.cache_ttl))
        self._fleets[target.node.path, circuit_id] = (containers, cache_ttl, copies)
        needs = {}
        for circuit in {c for _, c in self._fleets}:
            fleets = [fleet for (_, c), fleet in self._fleets.items() if c == circuit]
            needs[circuit] = fleet_need(sum(f[0] for f in fleets), fleets[0][1], fleets[0][2])
        need = needs[circuit_id]
        if not need.fits:
            self._warn_too_few_copies(circuit_id, containers, cache_ttl, copies, need)
        reads = sum(n.warm_read_units for n in needs.values())
        copies_of = {circuit: fleet[2] for (_, circuit), fleet in self._fleets.items()}
        writes = math.ceil(sum(fleet_write_units(k) for k in copies_of.values()))
        if reads <= NEW_TABLE_READ_UNITS and writes <= NEW_TABLE_WRITE_UNITS:
            return  # a new on-demand table serves this at once
        if max(reads, writes) > TABLE_QUOTA_UNITS:
            self._warn_once(
                "breakerTableQuota",
                f"the fleets attached in fleet mode need about {reads:,} read units and {writes:,} write "
                f"units a second, above an on-demand table's default quota of {TABLE_QUOTA_UNITS:,}: ask "
                "AWS to raise the account's table-level throughput quota in this region, then pass "
                "table_props={'warm_throughput': dynamodb.WarmThroughput(...)} with the figures above; "
                f"until then the table is pre-warmed to the quota ({TABLE_QUOTA_UNITS:,})",
            )
        warm = dynamodb.WarmThroughput(
            read_units_per_second=min(reads, TABLE_QUOTA_UNITS) if reads > NEW_TABLE_READ_UNITS else None,
            write_units_per_second=min(writes, TABLE_QUOTA_UNITS) if writes > NEW_TABLE_WRITE_UNITS else None,
        )
        self._apply_warm_throughput(warm, reads, writes)

    def _warn_too_few_copies(
        self, circuit_id: str, containers: int, cache_ttl: float, copies: int, need: FleetNeed
    ) -> None:
        """Each copy takes more reads than a table within the default quota can place safely: say what
        would fit (more copies, else a longer cache or a raised quota)."""
        per_copy = need.read_units / copies
        enough = next(
            (k for k in range(copies + 1, MAX_READ_COPIES + 1) if fleet_need(containers, cache_ttl, k).fits),
            None,
        )
        fix = (
            f"pass read_copies={enough} (the fewest that fit)"
            if enough is not None
            else f"pass read_copies={MAX_READ_COPIES} and a longer cache_ttl, or raise the table-level "
            "throughput quota and pre-warm the table to "
            f"{fleet_need(containers, cache_ttl, MAX_READ_COPIES, max_partitions=1_000).warm_read_units:,} "
            "read units (table_props warm_throughput)"
        )
        self._warn_once(
            "breakerFleetCopies",
            f"circuit '{circuit_id}': {containers:,} containers reading one of {copies} copies every "
            f"{cache_ttl:g}s put {per_copy:,.0f} read units a second on each copy; a partition serves "
            f"{PARTITION_READ_UNITS:,}, so one holding {need.copies_per_partition + 1} of the copies is "
            f"overloaded, and the {need.partitions} partitions of the default table quota leave odds of "
            f"{need.overload_odds:.0%} that the copies' placement does it (reads are then throttled: late "
            f"news, never a wrong decision); {fix}",
            key=circuit_id,
        )

    def _apply_warm_throughput(self, warm: dynamodb.WarmThroughput, reads: int, writes: int) -> None:
        """Write ``warm`` on the table this construct created (on demand, with no warm throughput given in
        table_props); otherwise say what the table needs."""
        kwargs = self._table_kwargs
        cfn = self._table.node.default_child if kwargs is not None else None
        given = kwargs.get("warm_throughput") if kwargs is not None else None
        provisioned = kwargs is not None and kwargs.get("billing_mode") == dynamodb.BillingMode.PROVISIONED
        if isinstance(cfn, dynamodb.CfnTable) and given is None and not provisioned:
            cfn.warm_throughput = dynamodb.CfnTable.WarmThroughputProperty(
                read_units_per_second=warm.read_units_per_second,
                write_units_per_second=warm.write_units_per_second,
            )
            return
        if given is not None and _covers(given, reads, writes):
            return
        where = (
            "table_props['warm_throughput'] is lower"
            if given is not None
            else "the table is provisioned"
            if provisioned
            else f"existing_table '{self._table.node.path}' is not this construct's to change"
        )
        self._warn_once(
            "breakerTableWarmThroughput",
            f"the fleets attached in fleet mode need about {reads:,} read units a second (the partitions "
            f"that serve their copies wherever the key hash places them) and {writes:,} write units, more "
            f"than a new on-demand table serves at once ({NEW_TABLE_READ_UNITS:,} and "
            f"{NEW_TABLE_WRITE_UNITS:,}), and {where}: pre-warm the table (WarmThroughput) or give it that "
            "capacity, or the copies' reads are throttled until DynamoDB splits its partitions (the "
            "breaker's decisions hold, its news is late)",
        )

    def _warn_once(self, code: str, message: str, *, key: str = "") -> None:
        """One warning per code (and ``key``), with the figures known when it first applies."""
        if (code, key) not in self._throughput_warned:
            self._throughput_warned.add((code, key))
            cdk_warning(self._scope, code, message)


def _covers(given: Any, reads: int, writes: int) -> bool:
    """``given`` (a WarmThroughput or its kwargs) is at least ``reads`` and ``writes``."""
    values = (
        given
        if isinstance(given, Mapping)
        else {
            "read_units_per_second": given.read_units_per_second,
            "write_units_per_second": given.write_units_per_second,
        }
    )
    read = values.get("read_units_per_second") or NEW_TABLE_READ_UNITS
    write = values.get("write_units_per_second") or NEW_TABLE_WRITE_UNITS
    return bool(read >= reads and write >= writes)
