"""Pauses SQS event source mappings while their circuit is open, and resumes them when it may close.

The decision logic is plain Python (``desired_setting``, ``transitions_in``); :class:`Governor` applies
it to AWS Lambda's event source mappings, and ``handler`` is the Lambda entry point that the CDK
construct's ``CircuitBreaker.pause_while_open`` deploys. It runs on two events:

- records from the breaker table's DynamoDB stream (``NEW_AND_OLD_IMAGES``), so a mapping stops within
  seconds of its circuit opening. A record is only a trigger: the governor re-reads the circuit's item
  (consistent read) and acts on its current state, so a duplicate or reordered record can never pause a
  mapping whose circuit is no longer open;
- a scheduled tick every minute, which reconciles every governed mapping with its circuit, so that no
  mapping stays paused past ``openUntil``, whatever happened to the stream.

A circuit that cannot be read resumes its mappings (a paused consumer is worse than a failing one when
the pause itself is the bug) and counts ``GovernorReadErrors``, which the construct alarms on.

The governor resumes only what it paused itself. Each pause writes a marker item
(``governor-pause#<mapping uuid>``) to the state table before the mapping is disabled, and a resume
needs the marker (and deletes it). A mapping created disabled, or disabled by an operator while it was
receiving, has no marker: the governor leaves it disabled (``MappingHeld``) until someone enables it. To
hold a mapping that the governor has paused, delete its marker item; to release a hold, enable the
mapping. A marker that cannot be read counts as present: when the table is unreachable, resuming is
the safe side.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._emf import EmfWriter
from ._store import DynamoStore, Snapshot, State, default_client, error_code
from .breaker import DEFAULT_NAMESPACE, NAMESPACE_ENV, TABLE_ENV

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["GOVERNED_ENV", "PROBE_CONCURRENCY", "GovernedMapping", "Governor", "MappingSetting", "handler"]

#: JSON list of the mappings this governor controls, written by ``pause_while_open``.
GOVERNED_ENV = "CIRCUIT_BREAKER_GOVERNED"
#: The lowest maximum concurrency an SQS event source mapping accepts: the half-open probes run at it.
PROBE_CONCURRENCY = 2
#: An SQS mapping's batch size when none is configured.
DEFAULT_BATCH_SIZE = 10
#: The Lambda actions the governor performs on each governed mapping; the construct grants exactly these.
LAMBDA_ACTIONS = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping")
#: The marker item a pause writes: its id is this prefix and the mapping's UUID.
PAUSE_MARKER_PREFIX = "governor-pause#"
#: The item-level actions the governor performs on the state table; the construct grants exactly these
#: (PutItem and DeleteItem only on marker items).
DYNAMODB_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
#: Settled states of an event source mapping; the others are transitions, during which an update raises
#: ``ResourceInUseException``: the governor leaves such a mapping for the next tick.
SETTLED_STATES = frozenset({"Enabled", "Disabled"})


@dataclass(frozen=True)
class GovernedMapping:
    """One SQS event source mapping and the circuit that governs it: the governor's contract.

    The construct writes each entry of ``CIRCUIT_BREAKER_GOVERNED`` with :meth:`entry`, and the governor
    reads it back with :meth:`parse`, so the two sides cannot disagree on the JSON.
    """

    mapping_id: str
    circuit_id: str
    #: The mapping's configured maximum concurrency, restored when the circuit closes (None: no cap).
    max_concurrency: int | None = None
    #: The mapping's configured batch size, restored when the circuit closes.
    batch_size: int = DEFAULT_BATCH_SIZE
    probe_concurrency: int = PROBE_CONCURRENCY

    def entry(self) -> dict[str, Any]:
        """This mapping as one entry of ``CIRCUIT_BREAKER_GOVERNED`` (JSON)."""
        return {
            "mappingId": self.mapping_id,
            "circuitId": self.circuit_id,
            "maxConcurrency": self.max_concurrency,
            "batchSize": self.batch_size,
            "probeConcurrency": self.probe_concurrency,
        }

    @staticmethod
    def parse(entry: Mapping[str, Any]) -> GovernedMapping:
        return GovernedMapping(
            mapping_id=str(entry["mappingId"]),
            circuit_id=str(entry["circuitId"]),
            max_concurrency=int(entry["maxConcurrency"]) if entry.get("maxConcurrency") else None,
            batch_size=int(entry.get("batchSize") or DEFAULT_BATCH_SIZE),
            probe_concurrency=int(entry.get("probeConcurrency") or PROBE_CONCURRENCY),
        )


@dataclass(frozen=True)
class MappingSetting:
    """What a mapping should be: receiving or not, and at which maximum concurrency."""

    enabled: bool
    max_concurrency: int | None
    batch_size: int


def desired_setting(governed: GovernedMapping, circuit: Snapshot | None, now: float) -> MappingSetting:
    """The setting a mapping should have for its circuit's state at ``now``.

    - OPEN before ``openUntil``: paused; nothing is received, so no receive count is spent.
    - OPEN past ``openUntil``, or HALF_OPEN: receiving one message per batch at the probe concurrency,
      so that the first calls are the half-open probes and few messages spend a receive on them.
    - CLOSED: receiving at the configured concurrency.
    - Unknown (the circuit could not be read): receiving at the configured concurrency.
    """
    if circuit is not None and circuit.state is State.OPEN and now < circuit.open_until:
        return MappingSetting(enabled=False, max_concurrency=governed.probe_concurrency, batch_size=1)
    if circuit is not None and circuit.state in (State.OPEN, State.HALF_OPEN):
        probe = governed.probe_concurrency
        if governed.max_concurrency is not None:
            probe = min(probe, governed.max_concurrency)
        return MappingSetting(enabled=True, max_concurrency=probe, batch_size=1)
    return MappingSetting(
        enabled=True, max_concurrency=governed.max_concurrency, batch_size=governed.batch_size
    )


def transitions_in(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Circuit id -> newest item version, for stream records that change a circuit's state.

    Updates within one state (a failure counted, a probe slot taken) are not transitions and are left
    out, so they cost the governor no read; so are the read copies of fleet mode (``copyOf``), which follow
    their circuit's item.
    """
    found: dict[str, int] = {}
    for record in records:
        change = record.get("dynamodb", {})
        new, old = change.get("NewImage"), change.get("OldImage")
        if not new or "copyOf" in new:
            continue  # deleted (TTL: an idle, CLOSED circuit), or a read copy
        state = new.get("circuitState", {}).get("S", State.CLOSED.value)
        old_state = (old or {}).get("circuitState", {}).get("S", State.CLOSED.value)
        if old is not None and state == old_state:
            continue
        circuit_id = new["id"]["S"]
        version = int(new.get("version", {}).get("N", "0"))
        found[circuit_id] = max(version, found.get(circuit_id, -1))
    return found


@dataclass(frozen=True)
class Change:
    """One update the governor made to a mapping."""

    mapping_id: str
    circuit_id: str
    setting: MappingSetting
    circuit_state: str


class Governor:
    """Keeps each governed mapping's setting in line with its circuit.

    Args:
        table_name: The breaker's state table.
        governed: The mappings to control.
        lambda_client: A boto3 Lambda client.
        dynamodb_client: A boto3 DynamoDB client. Default: the runtime's fail-fast client.
        clock: Epoch seconds. Default: ``time.time``.
        emit: Receives each structured log / EMF line. Default: print to standard output.
        metrics_namespace: EMF namespace. Default: ``CIRCUIT_BREAKER_NAMESPACE`` or the breaker's default.
    """

    def __init__(
        self,
        *,
        table_name: str,
        governed: Iterable[GovernedMapping],
        lambda_client: Any,
        dynamodb_client: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.time,
        emit: Callable[[str], None] | None = None,
        metrics_namespace: str | None = None,
    ) -> None:
        self.table_name = table_name
        self.governed = list(governed)
        self._lambda = lambda_client
        self._dynamodb = dynamodb_client
        self._clock = clock
        self.metrics_namespace = metrics_namespace or os.environ.get(NAMESPACE_ENV, DEFAULT_NAMESPACE)
        self._emf = EmfWriter(self.metrics_namespace, table_name, emit)

    @staticmethod
    def from_environment(lambda_client: Any = None) -> Governor:
        """A governor configured by the variables ``pause_while_open`` sets on its function."""
        if lambda_client is None:
            import boto3

            lambda_client = boto3.client("lambda")
        entries = json.loads(os.environ.get(GOVERNED_ENV, "[]"))
        return Governor(
            table_name=os.environ[TABLE_ENV],
            governed=[GovernedMapping.parse(entry) for entry in entries],
            lambda_client=lambda_client,
        )

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """A stream batch reconciles the circuits that changed state; anything else reconciles all.

        A failure raises, so Lambda retries the batch (and, at last, sends it to the on-failure queue).
        """
        records = event.get("Records")
        if records:
            changed = transitions_in(records)
            changes = self.reconcile(changed) if changed else []
            return {"changed": [c.mapping_id for c in changes]}
        return {"changed": [c.mapping_id for c in self.reconcile(None)]}

    def reconcile(self, circuit_ids: Iterable[str] | None) -> list[Change]:
        """Bring each mapping of ``circuit_ids`` (None: every governed mapping) in line with its circuit."""
        wanted = None if circuit_ids is None else set(circuit_ids)
        now = self._clock()
        circuits: dict[str, Snapshot | None] = {}
        changes: list[Change] = []
        for governed in self.governed:
            if wanted is not None and governed.circuit_id not in wanted:
                continue
            if governed.circuit_id not in circuits:
                circuits[governed.circuit_id] = self._read(governed.circuit_id, now)
            circuit = circuits[governed.circuit_id]
            change = self._apply(governed, circuit, now)
            if change is not None:
                changes.append(change)
        return changes

    # ---------------------------------------------------------------------------------- internals

    def _read(self, circuit_id: str, now: float) -> Snapshot | None:
        if self._dynamodb is None:
            self._dynamodb = default_client()
        try:
            return DynamoStore(self._dynamodb, self.table_name, circuit_id).read()
        except Exception as exc:  # the circuit is unknown: resume rather than risk a pause forever
            self._emit(
                "GovernorReadError",
                "GovernorReadErrors",
                now,
                circuit_id,
                level="ERROR",
                error=f"{type(exc).__name__}: {exc}",
            )
            return None

    def _apply(self, governed: GovernedMapping, circuit: Snapshot | None, now: float) -> Change | None:
        want = desired_setting(governed, circuit, now)
        current = self._lambda.get_event_source_mapping(UUID=governed.mapping_id)
        if current.get("State") not in SETTLED_STATES:
            self._busy(governed, current.get("State"), now)
            return None
        enabled = current.get("State") == "Enabled"
        concurrency = (current.get("ScalingConfig") or {}).get("MaximumConcurrency")
        batch_size = current.get("BatchSize")
        paused = 0 if want.enabled else 1
        state = circuit.state.value if circuit is not None else "UNKNOWN"
        self._emit(
            "MappingChecked",
            "ConsumerPaused",
            now,
            governed.circuit_id,
            value=paused,
            unit="None",
            mappingId=governed.mapping_id,
            circuitState=state,
        )
        if enabled == want.enabled and (
            not want.enabled or (concurrency == want.max_concurrency and batch_size == want.batch_size)
        ):
            return None
        if want.enabled and not enabled and not self._paused_by_me(governed):
            self._emit("MappingHeld", "MappingsHeld", now, governed.circuit_id, mappingId=governed.mapping_id)
            return None  # disabled by someone else (an operator, or created so): theirs to enable
        if not want.enabled:
            self._mark_paused(governed, now)
        update: dict[str, Any] = {
            "UUID": governed.mapping_id,
            "Enabled": want.enabled,
            "BatchSize": want.batch_size,
        }
        if want.max_concurrency is not None:
            update["ScalingConfig"] = {"MaximumConcurrency": want.max_concurrency}
        elif concurrency is not None:
            update["ScalingConfig"] = {}  # remove the probe cap: no maximum was configured
        try:
            self._lambda.update_event_source_mapping(**update)
        except Exception as exc:
            if error_code(exc) != "ResourceInUseException":
                raise
            self._busy(governed, "ResourceInUse", now)  # it started a transition since we read it
            return None
        if want.enabled and not enabled:
            self._unmark(governed)
        event = "MappingPaused" if not want.enabled else "MappingResumed"
        self._emit(
            event,
            event.replace("Mapping", "Mappings"),
            now,
            governed.circuit_id,
            mappingId=governed.mapping_id,
            circuitState=state,
            maxConcurrency=want.max_concurrency,
        )
        return Change(governed.mapping_id, governed.circuit_id, want, state)

    def _marker_key(self, governed: GovernedMapping) -> dict[str, Any]:
        return {"id": {"S": PAUSE_MARKER_PREFIX + governed.mapping_id}}

    def _mark_paused(self, governed: GovernedMapping, now: float) -> None:
        assert self._dynamodb is not None
        item = {
            **self._marker_key(governed),
            "circuitId": {"S": governed.circuit_id},
            "pausedAt": {"N": str(int(now))},
        }
        self._dynamodb.put_item(TableName=self.table_name, Item=item)

    def _paused_by_me(self, governed: GovernedMapping) -> bool:
        assert self._dynamodb is not None
        try:
            found = self._dynamodb.get_item(
                TableName=self.table_name, Key=self._marker_key(governed), ConsistentRead=True
            )
        except Exception:
            return True  # unknown: resume, as for a circuit that cannot be read
        return "Item" in found

    def _unmark(self, governed: GovernedMapping) -> None:
        assert self._dynamodb is not None
        # The mapping is receiving; a marker left behind only lets a later resume happen.
        with contextlib.suppress(Exception):
            self._dynamodb.delete_item(TableName=self.table_name, Key=self._marker_key(governed))

    def _busy(self, governed: GovernedMapping, state: Any, now: float) -> None:
        """A mapping in transition (another update, a deploy) is left alone: the next tick settles it."""
        self._emit(
            "MappingBusy",
            "MappingsBusy",
            now,
            governed.circuit_id,
            mappingId=governed.mapping_id,
            mappingState=state,
        )

    def _emit(
        self,
        event: str,
        metric: str,
        now: float,
        circuit_id: str,
        *,
        level: str = "INFO",
        value: float = 1,
        unit: str = "Count",
        **fields: Any,
    ) -> None:
        self._emf.write(event, circuit_id, {metric: (value, unit)}, now, level=level, **fields)


_GOVERNOR: Governor | None = None


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point: stream records and scheduled ticks."""
    global _GOVERNOR
    if _GOVERNOR is None:
        _GOVERNOR = Governor.from_environment()
    return _GOVERNOR.handle(event)
