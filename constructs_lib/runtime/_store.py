"""The breaker's state in DynamoDB: one item per circuit, changed only by conditional writes.

Item schema (partition key ``id``):

=====================  ======  =====================================================================
attribute              type    meaning
=====================  ======  =====================================================================
``id``                 S       the circuit id
``schemaVersion``      N       1
``version``            N       bumped by every state transition (optimistic lock)
``circuitState``       S       ``CLOSED``, ``OPEN`` or ``HALF_OPEN``
``stateChangedAt``     N       epoch seconds of the last transition
``failureCount``       N       failures in the current window (CLOSED)
``windowStart``        N       epoch seconds of the window's first failure (CLOSED)
``openUntil``          N       epoch seconds before which calls are rejected (OPEN)
``consecutiveOpens``   N       opens since the circuit was last CLOSED (drives the backoff)
``halfOpenSuccesses``  N       successful probes in this HALF_OPEN period
``probes``             M       probe slot -> ``{owner, expiresAt}`` leases (HALF_OPEN)
``expiresAt``          N       TTL attribute: deletes circuits idle for long; never read for decisions
``readCopies``         N       fleet mode: the read copies every transition writes (absent: none)
=====================  ======  =====================================================================

With ``read_copies`` above 1, each circuit also has read copies, ``<circuit id>#copy-<i>``:
``circuitState``, ``version``, ``openUntil``, ``consecutiveOpens``, ``stateChangedAt``, ``readCopies``
and ``expiresAt`` as the circuit's item had them at ``version``, ``copyOf`` (the circuit id, so stream
readers can skip copies) and, while a container tries a half-open probe through the copy, ``claimOwner``
and ``claimUntil``. Copies are written by the container that won a transition (and, 0.1 s after it, by
one that finds a copy older than the state it knows), each write conditional on the copy being older.

The circuit's ``readCopies`` only grows: a container in fleet mode raises it to its own ``read_copies``
(``enlist``) before it trusts a copy, and every transition's winner, whatever its own setting, writes
that many copies. A copy is trusted only while its ``readCopies`` covers the reader's and its
``expiresAt`` (never later than the item's) has not passed, so no mix of settings, and no item that TTL
deleted and a later write re-created, leaves a container deciding by a copy that nobody writes.

A missing item is a CLOSED circuit with no failures. Every write returns an :class:`Outcome`: the item
as written (``ReturnValues=ALL_NEW``), or, when its condition did not hold (a lost race), the item as
it stood then (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so the caller never needs another read
and never overwrites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient

SCHEMA_VERSION = 1
#: Joins a circuit id and a read copy's number into the copy's item id.
COPY_SEPARATOR = "#copy-"
#: DynamoDB's answers to a request over the item's, the table's or the account's throughput.
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
#: The TTL attribute the table must be configured with.
TTL_ATTRIBUTE = "expiresAt"
#: The only DynamoDB actions this module performs; the CDK construct grants exactly these.
IAM_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem")
#: The default client's settings: a breaker exists to fail fast, so it must not wait on DynamoDB for
#: botocore's default 60-second timeouts. 2 attempts x 1 s connect + 1 s read: about 4 s at most.
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.0
MAX_ATTEMPTS = 2


def default_client(config: Config | None = None) -> DynamoDBClient:
    """A DynamoDB client with short timeouts and bounded retries (``config`` replaces them)."""
    import boto3
    from botocore.config import Config

    config = config or Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    client: DynamoDBClient = boto3.client("dynamodb", config=config)
    return client


class State(str, Enum):  # noqa: UP042 - StrEnum needs Python 3.11; the layer also serves 3.10
    """The state of a circuit."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True)
class Snapshot:
    """One read of a circuit's item."""

    state: State = State.CLOSED
    version: int = 0
    failure_count: int = 0
    window_start: float | None = None
    open_until: float = 0.0
    consecutive_opens: int = 0
    half_open_successes: int = 0
    state_changed_at: float | None = None
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)
    exists: bool = False
    #: Which read copy this snapshot came from (None: the circuit's own item).
    copy: int | None = None
    #: A read copy's half-open claim: who holds it and until when.
    claim_owner: str | None = None
    claim_until: float = 0.0
    #: Not read but decided here: this container's own failures, not yet written, reach the threshold,
    #: so it treats the circuit as OPEN until its next read writes them.
    held: bool = False
    #: The read copies every transition writes (``readCopies``; 1: none).
    read_copies: int = 1
    #: The item's TTL (epoch seconds; 0 when absent). A copy's is never later than its circuit's.
    expires_at: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """What a conditional write found: ``won`` and the item as written, or the item that won instead."""

    won: bool
    snapshot: Snapshot


def _n(value: float | int) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _num(item: dict[str, Any], name: str, default: float = 0.0) -> float:
    value = item.get(name)
    return float(value["N"]) if value else default


def parse(item: dict[str, Any] | None, copy: int | None = None) -> Snapshot:
    if not item:
        return Snapshot(copy=copy)
    probes = {
        slot: {"owner": lease["M"]["owner"]["S"], "expiresAt": float(lease["M"]["expiresAt"]["N"])}
        for slot, lease in item.get("probes", {}).get("M", {}).items()
    }
    return Snapshot(
        state=State(item.get("circuitState", {}).get("S", State.CLOSED.value)),
        version=int(_num(item, "version")),
        failure_count=int(_num(item, "failureCount")),
        window_start=_num(item, "windowStart") if "windowStart" in item else None,
        open_until=_num(item, "openUntil"),
        consecutive_opens=int(_num(item, "consecutiveOpens")),
        half_open_successes=int(_num(item, "halfOpenSuccesses")),
        state_changed_at=_num(item, "stateChangedAt") if "stateChangedAt" in item else None,
        probes=probes,
        exists=True,
        copy=copy,
        claim_owner=item["claimOwner"]["S"] if "claimOwner" in item else None,
        claim_until=_num(item, "claimUntil"),
        read_copies=int(_num(item, "readCopies", 1)),
        expires_at=_num(item, TTL_ATTRIBUTE),
    )


class DynamoStore:
    """Conditional reads and writes of one circuit's item."""

    def __init__(self, client: DynamoDBClient, table_name: str, circuit_id: str) -> None:
        self._client = client
        self._table = table_name
        self._circuit_id = circuit_id
        self._key = {"id": _s(circuit_id)}

    def read(self, copy: int | None = None) -> Snapshot:
        """The circuit's item (strongly consistent), or its read copy ``copy`` (eventually consistent: half
        the read units, and a copy older than a state the reader knows never takes it back)."""
        response = self._client.get_item(
            TableName=self._table, Key=self._key_of(copy), ConsistentRead=copy is None
        )
        return parse(dict(response.get("Item") or {}), copy)

    def write_copy(self, copy: int, snapshot: Snapshot, *, now: float) -> None:
        """Bring read copy ``copy`` up to ``snapshot`` (the circuit's item), unless it is as new already.

        Raises:
            CopyNotWrittenError: the write's condition failed, but the copy it returned is not as new (or
                none came back): the copy is behind, as after any other failed write.
        """
        values: dict[str, Any] = {
            ":state": _s(snapshot.state.value),
            ":v": _n(snapshot.version),
            ":until": _n(snapshot.open_until),
            ":opens": _n(snapshot.consecutive_opens),
            ":changed": _n(snapshot.state_changed_at or 0),
            ":of": _s(self._circuit_id),
            ":sv": _n(SCHEMA_VERSION),
            ":exp": _n(int(snapshot.expires_at)),
            ":k": _n(snapshot.read_copies),
            ":now": _n(now),
        }
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key_of(copy),
                UpdateExpression="SET circuitState = :state, version = :v, openUntil = :until, "
                "consecutiveOpens = :opens, stateChangedAt = :changed, copyOf = :of, schemaVersion = :sv, "
                "expiresAt = :exp, readCopies = :k REMOVE claimOwner, claimUntil",
                ConditionExpression="attribute_not_exists(version) OR version < :v OR expiresAt <= :now OR "
                "(version = :v AND (attribute_not_exists(readCopies) OR readCopies < :k))",
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as lost:
            found = parse(lost.response.get("Item"), copy)
            if not (found.exists and found.version >= snapshot.version):
                raise CopyNotWrittenError(copy, found) from lost

    def enlist(self, *, read_copies: int, now: float, expires_at: int) -> Outcome:
        """Raise the circuit's ``readCopies`` to ``read_copies`` (and renew an expired item), creating a
        new circuit CLOSED. Changes no state and no version, so no lease or claim is lost to it."""
        return self._update(
            "SET readCopies = :k, expiresAt = :exp, schemaVersion = :sv, "
            "circuitState = if_not_exists(circuitState, :closed), version = if_not_exists(version, :zero)",
            "attribute_not_exists(readCopies) OR readCopies < :k OR expiresAt <= :now",
            {
                ":k": _n(read_copies),
                ":exp": _n(expires_at),
                ":sv": _n(SCHEMA_VERSION),
                ":closed": _s(State.CLOSED.value),
                ":zero": _n(0),
                ":now": _n(now),
            },
        )

    def claim_copy(self, copy: int, *, version: int, owner: str, until: float, now: float) -> Outcome:
        """Hold read copy ``copy``'s half-open claim until ``until``, if it is free at ``version``."""
        return self._update(
            "SET claimOwner = :owner, claimUntil = :until",
            "version = :v AND (attribute_not_exists(claimUntil) OR claimUntil <= :now)",
            {":owner": _s(owner), ":until": _n(until), ":v": _n(version), ":now": _n(now)},
            copy=copy,
        )

    def release_claim(self, copy: int, *, owner: str, now: float) -> Outcome:
        """End, at ``now``, a claim on read copy ``copy`` if this owner still holds it."""
        return self._update(
            "SET claimUntil = :now",
            "claimOwner = :owner",
            {":owner": _s(owner), ":now": _n(now)},
            copy=copy,
        )

    def add_failure(self, *, now: float, window: float, expires_at: int, count: int = 1) -> Outcome:
        """Count ``count`` failures in the current window of a CLOSED (or new) circuit."""
        return self._update(
            "SET schemaVersion = :sv, circuitState = if_not_exists(circuitState, :closed), "
            "version = if_not_exists(version, :zero), windowStart = if_not_exists(windowStart, :now), "
            "expiresAt = :exp ADD failureCount :one",
            "attribute_not_exists(id) OR "
            "(circuitState = :closed AND (attribute_not_exists(windowStart) OR windowStart > :floor))",
            {
                ":sv": _n(SCHEMA_VERSION),
                ":closed": _s(State.CLOSED.value),
                ":zero": _n(0),
                ":one": _n(count),
                ":now": _n(now),
                ":floor": _n(now - window),
                ":exp": _n(expires_at),
            },
        )

    def restart_window(
        self, *, now: float, old_window_start: float, expires_at: int, count: int = 1
    ) -> Outcome:
        """Start a new window with these ``count`` failures, unless someone else already did."""
        return self._update(
            "SET failureCount = :one, windowStart = :now, expiresAt = :exp",
            "circuitState = :closed AND windowStart = :old",
            {
                ":one": _n(count),
                ":now": _n(now),
                ":old": _n(old_window_start),
                ":closed": _s(State.CLOSED.value),
                ":exp": _n(expires_at),
            },
        )

    def open(
        self,
        *,
        now: float,
        version: int,
        from_state: State,
        open_until: float,
        consecutive_opens: int,
        expires_at: int,
    ) -> Outcome:
        """CLOSED or HALF_OPEN -> OPEN, if nobody changed the state since ``version``."""
        return self._update(
            "SET circuitState = :open, openUntil = :until, consecutiveOpens = :opens, stateChangedAt = :now, "
            "version = :next, expiresAt = :exp REMOVE failureCount, windowStart, probes, halfOpenSuccesses",
            "circuitState = :from AND version = :v",
            {
                ":open": _s(State.OPEN.value),
                ":from": _s(from_state.value),
                ":until": _n(open_until),
                ":opens": _n(consecutive_opens),
                ":now": _n(now),
                ":v": _n(version),
                ":next": _n(version + 1),
                ":exp": _n(expires_at),
            },
        )

    def begin_half_open(
        self, *, now: float, version: int, slot: str, owner: str, lease_until: float, expires_at: int
    ) -> Outcome:
        """OPEN -> HALF_OPEN once ``openUntil`` has passed, taking the first probe slot. One winner."""
        return self._update(
            "SET circuitState = :half, probes = :probes, halfOpenSuccesses = :zero, stateChangedAt = :now, "
            "version = :next, expiresAt = :exp",
            "circuitState = :open AND version = :v AND openUntil <= :now",
            {
                ":half": _s(State.HALF_OPEN.value),
                ":open": _s(State.OPEN.value),
                ":probes": {"M": {slot: _lease(owner, lease_until)}},
                ":zero": _n(0),
                ":now": _n(now),
                ":v": _n(version),
                ":next": _n(version + 1),
                ":exp": _n(expires_at),
            },
        )

    def take_probe_slot(
        self, *, now: float, version: int, slot: str, owner: str, lease_until: float
    ) -> Outcome:
        """Lease a free (or expired) probe slot of this HALF_OPEN period."""
        return self._update(
            "SET probes.#slot = :lease",
            "circuitState = :half AND version = :v AND "
            "(attribute_not_exists(probes.#slot) OR probes.#slot.expiresAt < :now)",
            {
                ":half": _s(State.HALF_OPEN.value),
                ":v": _n(version),
                ":now": _n(now),
                ":lease": _lease(owner, lease_until),
            },
            names={"#slot": slot},
        )

    def probe_succeeded(self, *, version: int, slot: str, owner: str) -> Outcome:
        """Count a successful probe and free its slot, if the lease is still ours."""
        return self._update(
            "ADD halfOpenSuccesses :one REMOVE probes.#slot",
            "circuitState = :half AND version = :v AND probes.#slot.#owner = :owner",
            {":one": _n(1), ":half": _s(State.HALF_OPEN.value), ":v": _n(version), ":owner": _s(owner)},
            names={"#slot": slot, "#owner": "owner"},
        )

    def close(self, *, now: float, version: int, expires_at: int) -> Outcome:
        """HALF_OPEN -> CLOSED, if nobody changed the state since ``version``."""
        return self._update(
            "SET circuitState = :closed, stateChangedAt = :now, version = :next, expiresAt = :exp "
            "REMOVE probes, halfOpenSuccesses, openUntil, consecutiveOpens, failureCount, windowStart",
            "circuitState = :half AND version = :v",
            {
                ":closed": _s(State.CLOSED.value),
                ":half": _s(State.HALF_OPEN.value),
                ":now": _n(now),
                ":v": _n(version),
                ":next": _n(version + 1),
                ":exp": _n(expires_at),
            },
        )

    def _key_of(self, copy: int | None) -> dict[str, Any]:
        return self._key if copy is None else {"id": _s(copy_id(self._circuit_id, copy))}

    def _update(
        self,
        expression: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        copy: int | None = None,
    ) -> Outcome:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key_of(copy),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            response = self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException as lost:
            return Outcome(False, parse(lost.response.get("Item"), copy))
        return Outcome(True, parse(response.get("Attributes"), copy))


class CopyNotWrittenError(Exception):
    """A read copy's write lost its condition to nothing newer: the copy is still behind."""

    def __init__(self, copy: int, found: Snapshot) -> None:
        self.copy = copy
        self.found = found
        super().__init__(f"read copy {copy} was not written (it holds version {found.version})")


def error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ClientError; None for anything else (timeouts, connections)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_throttled(exc: Exception) -> bool:
    """DynamoDB refused the request for throughput: the store works, it is only busy."""
    return error_code(exc) in THROTTLING_CODES


def copy_id(circuit_id: str, copy: int) -> str:
    """The item id of a circuit's read copy ``copy``."""
    return f"{circuit_id}{COPY_SEPARATOR}{copy}"


def _lease(owner: str, until: float) -> dict[str, Any]:
    return {"M": {"owner": _s(owner), "expiresAt": _n(until)}}
