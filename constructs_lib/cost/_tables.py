"""DynamoDB tables: on-demand requests, provisioned capacity, warm throughput, storage and the breaker's
state and metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..checks._lambda import function_target
from ..checks._model import Resource
from ._ledger import Collaborator
from ._prices import MONTH_HOURS
from ._traffic import KB_PER_GB, breaker_reads, breaker_writes, schedule_ticks
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


class Tables(Collaborator):
    """Prices DynamoDB tables (``Table`` and ``TableV2``), whatever their billing mode."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._global_table,
        }

    def _table(self, table: Resource) -> None:
        throughput = table.props.get("ProvisionedThroughput") or {}
        if table.props.get("BillingMode") == "PAY_PER_REQUEST":
            self._on_demand(table)
        else:  # CloudFormation's default is PROVISIONED
            indexes = [
                i.get("ProvisionedThroughput") or {}
                for i in table.props.get("GlobalSecondaryIndexes") or []
                if isinstance(i, dict)
            ]
            self._provisioned(table, [throughput, *indexes])
        self._table_storage(table)
        self._warm_throughput(table, throughput)
        if "StreamSpecification" in table.props:
            self.ledger.free((table, "its stream is read by Lambda, and Lambda's stream reads are free"))

    def _global_table(self, table: Resource) -> None:
        """A ``TableV2``: priced as a table in its own region; replicas elsewhere are listed."""
        replicas = table.props.get("Replicas") or []
        if len(replicas) > 1:
            why = f"{len(replicas)} replicas: replicated writes in the other regions are not modelled"
            self.ledger.not_priced((table, why))
        writes = table.props.get("WriteProvisionedThroughputSettings") or {}
        reads = (replicas[0] if replicas else {}).get("ReadProvisionedThroughputSettings") or {}
        capacity = {**_global_capacity(reads, "Read"), **_global_capacity(writes, "Write")}
        if table.props.get("BillingMode") == "PAY_PER_REQUEST":
            self._on_demand(table)
        else:
            self._provisioned(table, [capacity])
        self._table_storage(table)
        self._warm_throughput(table, capacity)

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
                table, "dynamodb.read_request_units", 0.0, "reads (none derived; set them in the profile)"
            )
        self._circuit_metrics(table, circuits)

    def _breaker_requests(self, table: Resource, circuits: list[Any]) -> None:
        governed = sum(len(ids) for ids in self.traffic.governed.values())
        ticks = sum(self._ticks(f) for f in self.traffic.governed)
        self.ledger.charge(
            table,
            "dynamodb.read_request_units",
            sum(breaker_reads(c) for c in circuits),
            "breaker state reads (strongly consistent)",
        )
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

    def _provisioned(self, table: Resource, throughputs: list[Any]) -> None:
        """Provisioned capacity by the hour: the template's units, autoscaling at its minimum, unless the
        profile gives the average (``read_capacity``/``write_capacity``)."""
        scaled = self._autoscaling_minimums(table)
        for kind, meter, volume in (
            ("Read", "dynamodb.read_capacity_unit_hours", "read_capacity"),
            ("Write", "dynamodb.write_capacity_unit_hours", "write_capacity"),
        ):
            given = self.traffic.resolved.volume(table, volume)
            units = sum(
                float(t.get(f"{kind}CapacityUnits", 0) or 0) for t in throughputs if isinstance(t, dict)
            )
            source = "provisioned"
            if given is not None:
                units, source = given, "average, from the profile"
            elif kind in scaled:
                units, source = scaled[kind], "autoscaling at its minimum"
            self.ledger.charge(
                table, meter, units * MONTH_HOURS, f"{kind.lower()} capacity: {units:g} units ({source})"
            )

    def _autoscaling_minimums(self, table: Resource) -> dict[str, float]:
        """``{"Read": units, "Write": units}``: the minimum of the table's (and its indexes') scalable
        targets, where Application Auto Scaling manages its capacity."""
        found: dict[str, float] = {}
        for target in self.templates.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
            dimension = str(target.props.get("ScalableDimension", ""))
            if not dimension.startswith("dynamodb:") or table not in self.templates.references(
                target.stack, target.props.get("ResourceId")
            ):
                continue
            kind = "Read" if dimension.endswith("ReadCapacityUnits") else "Write"
            minimum = target.props.get("MinCapacity")
            if isinstance(minimum, int | float):
                found[kind] = found.get(kind, 0.0) + float(minimum)
        return found

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

    def _circuit_metrics(self, table: Resource, circuits: list[Any]) -> None:
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
        return sum(
            schedule_ticks(rule)
            for rule in self.templates.of_type("AWS::Events::Rule", "AWS::Scheduler::Schedule")
            if any(
                (t := function_target(self.templates, rule.stack, target.get("Arn")))
                and t.function == governor
                for target in rule.props.get("Targets") or [rule.props.get("Target") or {}]
            )
        )

    def _table_gb(self, table: Resource, circuits: int) -> float:
        # Idempotency records live an hour (Powertools' default expiry): an hour's records at 1 KB each.
        hourly = self.ledger.idempotency_records.get(table, 0.0) / (MONTH_SECONDS / 3600)
        return (circuits * 1.0 + hourly) / KB_PER_GB


def _global_capacity(settings: Mapping[str, Any], kind: str) -> dict[str, float]:
    """A ``TableV2`` replica's read or write capacity as ``{"<kind>CapacityUnits": units}``: its fixed
    units, or its autoscaling minimum."""
    fixed = settings.get(f"{kind}CapacityUnits")
    scaling = settings.get(f"{kind}CapacityAutoScalingSettings") or {}
    units = fixed if isinstance(fixed, int | float) else scaling.get("MinCapacity", 0)
    return {f"{kind}CapacityUnits": float(units) if isinstance(units, int | float) else 0.0}
