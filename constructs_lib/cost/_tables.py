"""DynamoDB tables: on-demand requests, provisioned capacity, warm throughput, storage and the breaker's
state and metrics."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..checks._lambda import function_target
from ..checks._model import Resource
from ._breakers import Circuit, breaker_read_units, breaker_writes
from ._ledger import Collaborator
from ._prices import MONTH_HOURS
from ._traffic import KB_PER_GB
from ._usage import MONTH_SECONDS

#: Custom metrics the breaker runtime can emit per circuit, and the governor per governed mapping.
BREAKER_METRICS = (
    "CallsRejected",
    "CircuitOpened",
    "CircuitHalfOpened",
    "CircuitClosed",
    "StateStoreErrors",
    "StateStoreMisconfigurations",
)
GOVERNOR_METRICS = (
    "ConsumerPaused",
    "MappingsPaused",
    "MappingsResumed",
    "MappingsHeld",
    "MappingsBusy",
    "GovernorReadErrors",
)
#: A new on-demand table's warm throughput (read and write units a second): raising it is charged once.
ON_DEMAND_WARM_READS = 12_000
ON_DEMAND_WARM_WRITES = 4_000
PROVISIONED = "provisioned"
AUTOSCALED = "autoscaling at its minimum"
_INDEX = re.compile(r"/index/([^/]+)$")


@dataclass(frozen=True)
class Capacity:
    """The read or write capacity of a table's own part or of one of its indexes."""

    part: str  # "table" or "index <name>"
    kind: str  # "Read" or "Write"
    units: float
    source: str


class Tables(Collaborator):
    """Prices DynamoDB tables (``Table`` and ``TableV2``), whatever their billing mode."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._table,
        }

    def _table(self, table: Resource) -> None:
        """A ``Table`` or a ``TableV2`` (priced as a table in its own region; replicas elsewhere are
        listed): on-demand requests or provisioned capacity, storage, warm throughput."""
        replicas = table.props.get("Replicas") or []
        if table.type == "AWS::DynamoDB::GlobalTable" and len(replicas) > 1:
            why = f"{len(replicas)} replicas: replicated writes in the other regions are not modelled"
            self.ledger.not_priced((table, why))
        capacities = self._capacities(table)
        if table.props.get("BillingMode") == "PAY_PER_REQUEST":
            self._on_demand(table)
        else:  # CloudFormation's default is PROVISIONED
            self._provisioned(table, capacities)
        self._table_storage(table)
        own = {f"{c.kind}CapacityUnits": c.units for c in capacities if c.part == "table"}
        self._warm_throughput(table, own)
        if "StreamSpecification" in table.props:
            self.ledger.free((table, "its stream is read by Lambda, and Lambda's stream reads are free"))

    def _capacities(self, table: Resource) -> list[Capacity]:
        """Each part's provisioned capacity: the template's units, or where Application Auto Scaling
        manages a part (a scalable target names it, or a ``TableV2`` sets autoscaling), its minimum."""
        found = table_capacities(table) if table.type == "AWS::DynamoDB::Table" else global_capacities(table)
        for target in self.templates.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
            dimension = str(target.props.get("ScalableDimension", ""))
            resource_id = target.props.get("ResourceId")
            minimum = target.props.get("MinCapacity")
            if (
                not dimension.startswith("dynamodb:")
                or not isinstance(minimum, int | float)
                or table not in self.templates.references(target.stack, resource_id)
            ):
                continue
            index = _INDEX.search(self.templates.literal_text(target.stack, resource_id))
            part = f"index {index.group(1)}" if dimension.startswith("dynamodb:index:") and index else "table"
            kind = "Read" if dimension.endswith("ReadCapacityUnits") else "Write"
            scaled = Capacity(part, kind, float(minimum), AUTOSCALED)
            found = [scaled if (c.part, c.kind) == (part, kind) else c for c in found]
            if scaled not in found:
                found.append(scaled)
        return found

    def _on_demand(self, table: Resource) -> None:
        resolved = self.traffic.resolved
        circuits = [c for c in self.traffic.circuits if c.table == table]
        reads, writes = resolved.volume(table, "reads"), resolved.volume(table, "writes")
        if reads is not None or writes is not None:
            self.ledger.charge(table, "dynamodb.read_request_units", reads or 0.0, "reads (from the profile)")
            self.ledger.charge(
                table, "dynamodb.write_request_units", writes or 0.0, "writes (from the profile)"
            )
        elif circuits:
            self._breaker_requests(table, circuits)
        else:
            self.ledger.charge(
                table, "dynamodb.read_request_units", 0.0, "reads (none derived: set reads under [resources])"
            )
        self._circuit_metrics(table, circuits)

    def _breaker_requests(self, table: Resource, circuits: list[Circuit]) -> None:
        """State reads as the runtime makes them: a circuit's own item strongly consistent (one read unit),
        a fleet-mode copy eventually consistent (half a unit); failures and transitions written."""
        governed = sum(len(ids) for ids in self.traffic.governed.values())
        ticks = sum(self._ticks(f) for f in self.traffic.governed)
        own = [c for c in circuits if not c.fleet]
        copies = [c for c in circuits if c.fleet]
        if own or not copies:
            units = sum(breaker_read_units(c) for c in own)
            item = "breaker state reads (strongly consistent: a read unit each)"
            self.ledger.charge(table, "dynamodb.read_request_units", units, item)
        if copies:
            units = sum(breaker_read_units(c) for c in copies)
            item = "breaker copy reads (fleet mode, eventually consistent: half a read unit each)"
            self.ledger.charge(table, "dynamodb.read_request_units", units, item)
        self.ledger.charge(
            table,
            "dynamodb.write_request_units",
            sum(breaker_writes(c, self.usage) for c in circuits),
            "breaker failures and transitions",
        )
        self.ledger.charge(table, "dynamodb.read_request_units", governed * ticks, "governor state reads")
        self.ledger.charge(
            table,
            "dynamodb.write_request_units",
            governed * self.usage.circuit_openings * 2,
            "governor pause markers",
        )

    def _provisioned(self, table: Resource, capacities: list[Capacity]) -> None:
        """Provisioned capacity by the hour: each part's (table and indexes), autoscaled parts at their
        minimum, unless the profile gives the average (``read_capacity``/``write_capacity``)."""
        for kind, meter, volume in (
            ("Read", "dynamodb.read_capacity_unit_hours", "read_capacity"),
            ("Write", "dynamodb.write_capacity_unit_hours", "write_capacity"),
        ):
            given = self.traffic.resolved.volume(table, volume)
            parts = [c for c in capacities if c.kind == kind]
            units = given if given is not None else sum(c.units for c in parts)
            if given is not None:
                source = "average, from the profile"
            elif len({c.source for c in parts}) <= 1:
                source = parts[0].source if parts else PROVISIONED
            else:
                source = "; ".join(f"{c.part}: {c.units:g}, {c.source}" for c in parts)
            self.ledger.charge(
                table, meter, units * MONTH_HOURS, f"{kind.lower()} capacity: {units:g} units ({source})"
            )

    def _warm_throughput(self, table: Resource, throughput: Mapping[str, Any]) -> None:
        """Warm throughput above what the table has anyway (a new on-demand table: 12,000 reads and 4,000
        writes a second; a provisioned one: its ``throughput``) is charged once, per unit raised."""
        warm = table.props.get("WarmThroughput")
        if not isinstance(warm, dict):
            return
        on_demand = table.props.get("BillingMode") == "PAY_PER_REQUEST"
        for kind, key, meter, default in (
            ("read", "ReadUnitsPerSecond", "dynamodb.warm_read_units", ON_DEMAND_WARM_READS),
            ("write", "WriteUnitsPerSecond", "dynamodb.warm_write_units", ON_DEMAND_WARM_WRITES),
        ):
            wanted = warm.get(key)
            if not isinstance(wanted, int | float):
                continue
            baseline = default if on_demand else float(throughput.get(f"{kind.title()}CapacityUnits", 0) or 0)
            raised = max(0.0, float(wanted) - baseline)
            self.ledger.charge(
                table,
                meter,
                raised,
                f"warm throughput: {wanted:g} {kind} units a second ({raised:g} above its {baseline:g})",
            )

    def _table_storage(self, table: Resource) -> None:
        circuits = [c for c in self.traffic.circuits if c.table == table]
        given = self.traffic.resolved.volume(table, "gb")
        gb = given if given is not None else self._table_gb(table, len(circuits))
        self.ledger.charge(table, "dynamodb.storage", gb, "storage")
        if (table.props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            self.ledger.charge(table, "dynamodb.pitr", gb, "point-in-time recovery")

    def _circuit_metrics(self, table: Resource, circuits: list[Circuit]) -> None:
        """The runtime's EMF metrics: by circuit and table, so each circuit counts once per table.

        An upper bound: CloudWatch bills a metric only for the hours it is emitted, and most of these are
        emitted only when something happens (an opening, a store error)."""
        ids = {c.circuit_id for c in circuits}
        governed = {c.circuit_id for c in circuits if c.paused}
        if ids:
            self.ledger.charge(
                table, "cloudwatch.custom_metrics", len(ids) * len(BREAKER_METRICS), "breaker metrics"
            )
        if governed:
            self.ledger.charge(
                table, "cloudwatch.custom_metrics", len(governed) * len(GOVERNOR_METRICS), "governor metrics"
            )

    def _ticks(self, governor: Resource) -> float:
        """The firings a month of the rules and schedules that invoke ``governor``."""
        return sum(
            ticks.count
            for rule, ticks in self.traffic.ticks.items()
            if any(
                (t := function_target(self.templates, rule.stack, target.get("Arn")))
                and t.function == governor
                for target in rule.props.get("Targets") or [rule.props.get("Target") or {}]
                if isinstance(target, Mapping)
            )
        )

    def _table_gb(self, table: Resource, circuits: int) -> float:
        # Idempotency records live an hour (Powertools' default expiry): an hour's records at 1 KB each.
        hourly = self.ledger.idempotency_records.get(table, 0.0) / (MONTH_SECONDS / 3600)
        return (circuits * 1.0 + hourly) / KB_PER_GB


def table_capacities(table: Resource) -> list[Capacity]:
    """A ``Table``'s capacity: its own ``ProvisionedThroughput`` and each index's."""
    parts = [("table", table.props.get("ProvisionedThroughput"))]
    for index in table.props.get("GlobalSecondaryIndexes") or []:
        if isinstance(index, Mapping):
            parts.append((f"index {index.get('IndexName')}", index.get("ProvisionedThroughput")))
    return [
        Capacity(part, kind, float(units), PROVISIONED)
        for part, throughput in parts
        if isinstance(throughput, Mapping)
        for kind in ("Read", "Write")
        if isinstance(units := throughput.get(f"{kind}CapacityUnits"), int | float)
    ]


def global_capacities(table: Resource) -> list[Capacity]:
    """A ``TableV2``'s capacity: writes for the table and each index, reads from its own region's replica
    (the one in the stack's region, else the first), each fixed or autoscaled."""
    replica = _own_replica(table)
    found = [_global(("table", "Write"), table.props.get("WriteProvisionedThroughputSettings"))]
    found.append(_global(("table", "Read"), replica.get("ReadProvisionedThroughputSettings")))
    for index in table.props.get("GlobalSecondaryIndexes") or []:
        if isinstance(index, Mapping):
            settings = index.get("WriteProvisionedThroughputSettings")
            found.append(_global((f"index {index.get('IndexName')}", "Write"), settings))
    for index in replica.get("GlobalSecondaryIndexes") or []:
        if isinstance(index, Mapping):
            settings = index.get("ReadProvisionedThroughputSettings")
            found.append(_global((f"index {index.get('IndexName')}", "Read"), settings))
    return [c for c in found if c is not None]


def _global(where: tuple[str, str], settings: Any) -> Capacity | None:
    part, kind = where
    if not isinstance(settings, Mapping):
        return None
    fixed = settings.get(f"{kind}CapacityUnits")
    if isinstance(fixed, int | float):
        return Capacity(part, kind, float(fixed), PROVISIONED)
    minimum = (settings.get(f"{kind}CapacityAutoScalingSettings") or {}).get("MinCapacity")
    return Capacity(part, kind, float(minimum), AUTOSCALED) if isinstance(minimum, int | float) else None


def _own_replica(table: Resource) -> Mapping[str, Any]:
    replicas = [r for r in table.props.get("Replicas") or [] if isinstance(r, Mapping)]
    region = table.stack.region
    for replica in replicas:
        named = replica.get("Region")
        if named == {"Ref": "AWS::Region"} or (region and named == region):
            return replica
    return replicas[0] if replicas else {}
