"""A circuit breaker whose state every Lambda container shares through one DynamoDB item."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._copies import HELD, UNDECIDED, ReadCopies
from ._emf import EmfWriter
from ._store import (
    CopyNotWrittenError,
    DynamoStore,
    Outcome,
    Snapshot,
    State,
    default_client,
    error_code,
    is_throttled,
)
from .settings import BreakerSettings, InvalidSettingsError

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["CircuitBreaker", "CircuitOpenError"]

TABLE_ENV = "CIRCUIT_BREAKER_TABLE"
SETTINGS_ENV = "CIRCUIT_BREAKER_SETTINGS"
NAMESPACE_ENV = "CIRCUIT_BREAKER_NAMESPACE"
#: JSON list of the circuits whose consumer ``pause_while_open`` pauses (set on the consumer by attach).
PAUSED_ENV = "CIRCUIT_BREAKER_PAUSED_CIRCUITS"
DEFAULT_NAMESPACE = "ConstructsLib/CircuitBreaker"
#: DynamoDB errors that no retry can cure: the table, its key schema or the role is wrong.
MISCONFIGURATION_CODES = frozenset(
    {
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
    }
)
#: How many conditional writes one decision may lose before it gives up (and rejects the call).
MAX_RACE_RETRIES = 8
#: Why a container rejects while its own unwritten failures reach the threshold (``_hold``).
HELD_REASON = "this container's own failures, not yet written, reach failure_threshold"
#: Fleet mode: the shortest time a read copy's half-open claim is held (it is held for a cache period).
MIN_CLAIM_SECONDS = 0.1

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("constructs_lib.runtime")


class CircuitOpenError(Exception):
    """The call was not made: the circuit is open (or its state could not be read with fail_open=False).

    ``retry_after`` is the number of seconds until the circuit lets a probe through.
    """

    def __init__(
        self, circuit_id: str, retry_after: float, state: State, reason: str = "circuit is open"
    ) -> None:
        self.circuit_id = circuit_id
        self.retry_after = max(0.0, retry_after)
        self.state = state
        self.reason = reason
        super().__init__(
            f"circuit '{circuit_id}' rejected the call ({reason}); retry in {self.retry_after:.1f}s"
        )


@dataclass(frozen=True)
class _Permit:
    """Leave to make one call: a normal call, or a half-open probe holding a lease on a slot."""

    slot: str | None = None
    owner: str | None = None
    version: int = 0


_NORMAL = _Permit()
_CLOSED = State.CLOSED


class CircuitBreaker:
    """Guards calls to one downstream; the state lives in DynamoDB and is shared by every container.

    Args:
        circuit_id: Names the circuit: one DynamoDB item, one metric dimension.
        settings: How the circuit behaves (:class:`~constructs_lib.runtime.settings.BreakerSettings`
            documents each setting and its default). Default None: the circuit's entry in the
            ``CIRCUIT_BREAKER_SETTINGS`` environment variable (JSON, written by the CDK construct's
            ``attach``), else the defaults. A mapping of some settings (``{"failure_threshold": 3}``) puts
            those over the environment's entry. A ``BreakerSettings`` is used whole, and must agree with
            the environment's entry where one exists (attach() configured the alarms and the governor for
            those values). Invalid settings raise ``InvalidSettingsError`` (a ``ValueError``).
        table_name: The state table. Default: ``CIRCUIT_BREAKER_TABLE``.
        failure_exceptions: Exception classes that count as failures (a class, or a tuple or list of them).
            Default: ``(Exception,)``.
        ignored_exceptions: Exception classes that never count, even if they match. Default: none.
        metrics_namespace: EMF namespace. Default: ``CIRCUIT_BREAKER_NAMESPACE`` or
            ``ConstructsLib/CircuitBreaker``.
        clock: Epoch seconds. Default: ``time.time``.
        client: A boto3 DynamoDB client. Default: one created on first use with ``boto_config``.
        boto_config: botocore ``Config`` for the default client. Default: 1-second connect and read
            timeouts and 2 attempts in standard retry mode, so that a DynamoDB that does not answer
            costs about 4 seconds at most, not botocore's minutes.
        emit: Receives each structured log / EMF line. Default: print to standard output.
    """

    def __init__(
        self,
        circuit_id: str,
        *,
        settings: BreakerSettings | Mapping[str, Any] | None = None,
        table_name: str | None = None,
        failure_exceptions: type[BaseException] | Iterable[type[BaseException]] = (Exception,),
        ignored_exceptions: type[BaseException] | Iterable[type[BaseException]] = (),
        metrics_namespace: str | None = None,
        clock: Callable[[], float] = time.time,
        client: DynamoDBClient | None = None,
        boto_config: Config | None = None,
        emit: Callable[[str], None] | None = None,
    ) -> None:
        if not circuit_id or len(circuit_id) > 256:
            raise ValueError(f"circuit_id must be 1-256 characters, got {circuit_id!r}")
        self.settings = _resolve_settings(circuit_id, settings)
        self.circuit_id = circuit_id
        self.failure_exceptions = _exception_types(circuit_id, "failure_exceptions", failure_exceptions)
        self.ignored_exceptions = _exception_types(circuit_id, "ignored_exceptions", ignored_exceptions)
        self.table_name: str = table_name or os.environ.get(TABLE_ENV, "")
        self.metrics_namespace = metrics_namespace or os.environ.get(NAMESPACE_ENV, DEFAULT_NAMESPACE)
        if not self.table_name:
            raise ValueError(
                f"circuit '{circuit_id}': no state table; pass table_name or set {TABLE_ENV} "
                "(the CDK construct's attach() sets it)"
            )
        self._clock = clock
        self._client = client
        self._boto_config = boto_config
        self._emf = EmfWriter(self.metrics_namespace, self.table_name, emit)
        self._store: DynamoStore | None = None
        self._copies: ReadCopies | None = None
        # The last state read and the time until which it is trusted. Replaced whole (one reference
        # assignment under the GIL), so threads read it without a lock.
        self._cache: tuple[Snapshot, float] | None = None
        self._read_at = float("-inf")  # when the cached state was read or learned
        self._known: Snapshot | None = None  # the state read or learned last (never a local hold)
        # Failures seen but not yet written: in fleet mode until the next read, and in either mode while
        # the store throttles the write. Written with one ADD; dropped if the circuit is no longer CLOSED.
        self._pending_failures = 0
        self._pending_since = 0.0  # when the first of them happened
        self._pending_lock = threading.Lock()  # threads of one container share them
        self._told_copies = False  # logged once that the circuit keeps more copies than this container reads

    # ------------------------------------------------------------------------------------ public

    @property
    def state(self) -> State:
        """The circuit's current state, read from DynamoDB (store errors propagate)."""
        snapshot = self._store_for().read()
        self._remember(snapshot, self._clock())
        return snapshot.state

    def guard(self, function: F | None = None, *, fallback: Callable[..., Any] | None = None) -> Any:
        """Decorate a function (or a coroutine function) so that each call goes through the breaker.

        Both forms work: ``@breaker.guard`` and ``@breaker.guard(fallback=...)``. When the circuit rejects
        the call, ``fallback`` (called with the same arguments) answers instead; without a fallback,
        :class:`CircuitOpenError` is raised. A consumer that ``pause_while_open`` pauses must let
        ``CircuitOpenError`` reach its batch processor (the record is then retried, not deleted), so a
        fallback on its circuit is refused.
        """
        if function is not None and not callable(function):
            raise TypeError(
                f"circuit '{self.circuit_id}': guard takes the function to decorate, got {function!r}; "
                "pass a fallback by keyword: @breaker.guard(fallback=...)"
            )
        if fallback is not None and self.circuit_id in _paused_circuits():
            raise InvalidSettingsError(
                self.circuit_id,
                [
                    (
                        "fallback",
                        getattr(fallback, "__name__", fallback),
                        "this function's queue consumer is paused while the circuit is open "
                        "(pause_while_open): a fallback would answer instead, and the batch would delete the "
                        "message; let CircuitOpenError reach the batch processor so the record is retried",
                    )
                ],
            )

        def decorate(target: F) -> F:
            if inspect.iscoroutinefunction(target):
                return cast(F, self._guard_coroutine(target, fallback))

            clock, timed = self._clock, self.settings.slow_call_duration is not None

            @functools.wraps(target)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                # The common case first: a CLOSED state read within cache_ttl, and no slow-call timing.
                # Such a call writes nothing when it succeeds, so only a failure needs the full path.
                cached = self._cache
                if cached is not None and not timed and cached[0].state is _CLOSED:
                    now = clock()
                    if now < cached[1]:
                        try:
                            return target(*args, **kwargs)
                        except BaseException as exc:
                            self._settle(_NORMAL, exc, now)
                            raise
                try:
                    permit = self._acquire()
                except CircuitOpenError:
                    if fallback is None:
                        raise
                    return fallback(*args, **kwargs)
                return self._run(permit, target, args, kwargs)

            return cast(F, guarded)

        return decorate(function) if function is not None else decorate

    def _guard_coroutine(
        self, target: Callable[..., Any], fallback: Callable[..., Any] | None
    ) -> Callable[..., Any]:
        @functools.wraps(target)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                permit = self._acquire()
            except CircuitOpenError:
                if fallback is None:
                    raise
                answer = fallback(*args, **kwargs)
                return await answer if inspect.isawaitable(answer) else answer
            started = self._clock()
            try:
                result = await target(*args, **kwargs)
            except BaseException as exc:
                self._settle(permit, exc, started)
                raise
            self._settle(permit, None, started)
            return result

        return guarded

    @property
    def call(self) -> _GuardedBlock:
        """Guard a block: ``with breaker.call():`` (or ``with breaker.call:``). Raises
        :class:`CircuitOpenError` when rejected."""
        return _GuardedBlock(self)

    @contextmanager
    def _block(self) -> Iterator[None]:
        permit = self._acquire()
        started = self._clock()
        try:
            yield
        except BaseException as exc:
            self._settle(permit, exc, started)
            raise
        self._settle(permit, None, started)

    # ------------------------------------------------------------------------------------ decisions

    def _run(self, permit: _Permit, function: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        started = self._clock()
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:
            self._settle(permit, exc, started)
            raise
        self._settle(permit, None, started)
        return result

    def _acquire(self) -> _Permit:
        now = self._clock()
        try:
            snapshot = self._current(now)
            if self.settings.read_copies > 1:
                snapshot = self._through_copy(snapshot, now)
            for _ in range(MAX_RACE_RETRIES):
                if snapshot.state is State.CLOSED:
                    return _NORMAL
                if snapshot.state is State.OPEN:
                    if now < snapshot.open_until:
                        raise self._reject(snapshot, now, snapshot.open_until - now)
                    permit, snapshot = self._try_begin_half_open(snapshot, now)
                else:
                    permit, snapshot = self._try_take_probe_slot(snapshot, now)
                if permit is not None:
                    return permit
                if snapshot.state is State.HALF_OPEN and self._free_slots(snapshot, now) == []:
                    raise self._reject(snapshot, now, self._earliest_lease_end(snapshot, now))
            raise self._reject(snapshot, now, 0.0, reason="too much contention for the state item")
        except CircuitOpenError:
            raise
        except Exception as exc:  # DynamoDB (or the network to it) failed
            return self._decide_unread(exc, now)

    def _decide_unread(self, exc: Exception, now: float) -> _Permit:
        """Decide without the store. Throttling means the store works but is busy: the state read last
        decides (CLOSED lets the call through, unless this container's own failures not yet written
        reach ``failure_threshold``; OPEN and HALF_OPEN reject it), and the store is asked again after a
        cache period. Any other error, or no state read yet, follows ``fail_open``."""
        self._store_error("acquire", exc)
        if self._known is not None and is_throttled(exc):
            self._remember(self._known, now)
            if self._pending_failures >= self.settings.failure_threshold:
                self._hold(now)
            snapshot = self._cache[0] if self._cache is not None else self._known
            if snapshot.state is State.CLOSED:
                return _NORMAL
            opened = snapshot.state is State.OPEN and now < snapshot.open_until
            retry = snapshot.open_until - now if opened else self.settings.cache_ttl
            raise self._reject(snapshot, now, retry, reason="state store throttled; last state read")
        if self.settings.fail_open:
            return _NORMAL
        raise CircuitOpenError(self.circuit_id, 0.0, State.OPEN, reason="state store unavailable") from exc

    def _through_copy(self, snapshot: Snapshot, now: float) -> Snapshot:
        """Fleet mode: a call that could probe must first win the claim of the copy it read, so that at
        most ``read_copies`` containers at a time write to the circuit's item for a probe. Returns the
        state to decide by: as read (CLOSED, or OPEN before ``openUntil``), or the circuit's own item. A
        claim that cannot be decided (its write failed, or the copy moved on) leaves the call to the
        circuit's item, whose conditional writes still admit ``half_open_max_calls`` probes at most."""
        if _settled(snapshot, now):
            return snapshot
        if snapshot.state is State.OPEN or snapshot.copy is None:
            cached = self._cache
            if cached is not None and snapshot.state is State.OPEN and self._read_at < now < cached[1]:
                raise self._reject(snapshot, now, cached[1] - now)  # the open period's jittered end
            if self._read_at < now:
                snapshot = self._refresh(now)  # what the copies say now
            if _settled(snapshot, now) or snapshot.copy is None:
                return snapshot  # decided, or the circuit's item was read instead of a copy
        if snapshot.claim_until > now:
            raise self._reject(snapshot, now, snapshot.claim_until - now)
        claim_period = max(self.settings.cache_ttl, MIN_CLAIM_SECONDS)
        found, copy = self._copies_for().try_claim(snapshot, now=now, until=now + claim_period)
        if copy is not None and found is not UNDECIDED:
            self._remember(copy, now)
        if found is HELD:
            assert copy is not None
            raise self._reject(copy, now, copy.claim_until - now)
        return self._reread(now)

    def _try_begin_half_open(self, snapshot: Snapshot, now: float) -> tuple[_Permit | None, Snapshot]:
        owner, slot = uuid.uuid4().hex, "s0"
        outcome = self._store_for().begin_half_open(
            now=now,
            version=snapshot.version,
            slot=slot,
            owner=owner,
            lease_until=now + self.settings.probe_timeout,
            expires_at=self._expires_at(now),
        )
        if not outcome.won:
            return None, self._learn(outcome, now)
        written = self._learn(outcome, now)
        self._transition(State.OPEN, State.HALF_OPEN, written, now)
        return _Permit(slot=slot, owner=owner, version=written.version), written

    def _try_take_probe_slot(self, snapshot: Snapshot, now: float) -> tuple[_Permit | None, Snapshot]:
        free = self._free_slots(snapshot, now)
        if not free:
            return None, snapshot
        owner = uuid.uuid4().hex
        outcome = self._store_for().take_probe_slot(
            now=now,
            version=snapshot.version,
            slot=free[0],
            owner=owner,
            lease_until=now + self.settings.probe_timeout,
        )
        written = self._learn(outcome, now)
        if not outcome.won:
            return None, written
        return _Permit(slot=free[0], owner=owner, version=written.version), written

    def _settle(self, permit: _Permit, exc: BaseException | None, started: float) -> None:
        """Record the outcome of a permitted call; store errors are logged, never raised."""
        now = self._clock()
        failed = self._counts_as_failure(exc) or self._too_slow(now - started)
        try:
            if permit.slot is not None:
                self._settle_probe(permit, failed, now)
            elif failed:
                self._count_failure(now)
        except Exception as store_exc:
            self._store_error("record", store_exc)
        if failed and permit.slot is None and self._pending_failures >= self.settings.failure_threshold:
            self._hold(now)

    def _count_failure(self, now: float) -> None:
        """Add a failure to those not yet written (dropping them if their window has passed); write
        them now, or in fleet mode with the next read."""
        with self._pending_lock:
            if self._pending_failures and now - self._pending_since > self.settings.window:
                self._pending_failures = 0
            if not self._pending_failures:
                self._pending_since = now
            self._pending_failures += 1
        if self.settings.read_copies == 1:
            self._flush_failures(now)

    def _hold(self, now: float) -> None:
        """This container's own failures not yet written (fleet mode, or throttled) reach the threshold:
        they alone would open the circuit, so it rejects its calls until its next read writes them."""
        cached = self._cache
        if cached is None or cached[0].state is not State.CLOSED:
            return
        until = cached[1] if cached[1] > now else now + self.settings.cache_ttl
        self._cache = (replace(cached[0], state=State.OPEN, open_until=until, held=True), until)

    def _flush_failures(self, now: float) -> None:
        """Write the failures not yet written with one ADD; throttled, they wait for the next read."""
        with self._pending_lock:
            count, self._pending_failures = self._pending_failures, 0
        if not count:
            return  # another thread of this container wrote them
        try:
            self._record_failure(now, count)
        except Exception as exc:
            if is_throttled(exc):
                with self._pending_lock:
                    self._pending_failures += count
            raise

    def _record_failure(self, now: float, count: int) -> None:
        store = self._store_for()
        for _ in range(MAX_RACE_RETRIES):
            outcome = store.add_failure(
                now=now, window=self.settings.window, expires_at=self._expires_at(now), count=count
            )
            if not outcome.won:
                current = self._learn(outcome, now)
                if current.state is not State.CLOSED:
                    return  # already open or probing: nothing to count
                if current.window_start is None:
                    continue  # the item was just created or closed: counting again will succeed
                outcome = store.restart_window(
                    now=now,
                    old_window_start=current.window_start,
                    expires_at=self._expires_at(now),
                    count=count,
                )
                if not outcome.won:
                    self._learn(outcome, now)
                    continue  # another container restarted the window first: count in it
            written = self._learn(outcome, now)
            if written.failure_count >= self.settings.failure_threshold:
                self._open(written, State.CLOSED, consecutive_opens=1, now=now)
            return

    def _settle_probe(self, permit: _Permit, failed: bool, now: float) -> None:
        store = self._store_for()
        assert permit.slot is not None
        assert permit.owner is not None
        if failed:
            current = self._reread(now)
            if current.state is State.HALF_OPEN and current.version == permit.version:
                self._open(current, State.HALF_OPEN, consecutive_opens=current.consecutive_opens + 1, now=now)
            return
        outcome = store.probe_succeeded(version=permit.version, slot=permit.slot, owner=permit.owner)
        written = self._learn(outcome, now)
        if outcome.won and written.half_open_successes >= self.settings.success_threshold:
            closing = store.close(now=now, version=written.version, expires_at=self._expires_at(now))
            closed = self._learn(closing, now)
            if closing.won:
                self._transition(State.HALF_OPEN, State.CLOSED, closed, now)
        # Not counted if the period ended or our lease expired and was taken. Either way the probe is over:
        # free our copy's claim (if the copies were not rewritten), so the next probe may come through it.
        if self._copies is not None:
            self._copies.release(now=now)

    def _open(self, snapshot: Snapshot, from_state: State, *, consecutive_opens: int, now: float) -> None:
        duration = min(
            self.settings.open_duration * 2 ** (consecutive_opens - 1), self.settings.max_open_duration
        )
        outcome = self._store_for().open(
            now=now,
            version=snapshot.version,
            from_state=from_state,
            open_until=now + duration,
            consecutive_opens=consecutive_opens,
            expires_at=self._expires_at(now),
        )
        written = self._learn(outcome, now)
        if outcome.won:  # otherwise someone else moved the circuit first
            self._transition(from_state, State.OPEN, written, now, open_for=duration)

    # ------------------------------------------------------------------------------------ state

    def _current(self, now: float) -> Snapshot:
        cached = self._cache
        if cached is not None:
            snapshot, fresh_until = cached
            # An OPEN circuit stays OPEN until openUntil: nothing else can change it before then.
            if now < fresh_until or (snapshot.state is State.OPEN and now < snapshot.open_until):
                return snapshot
        return self._refresh(now)

    def _refresh(self, now: float) -> Snapshot:
        """Read the state (a random read copy in fleet mode), and write the failures waiting for it."""
        snapshot = self._read_copy(now) if self.settings.read_copies > 1 else self._reread(now)
        if self._pending_failures and snapshot.state is State.CLOSED:
            try:
                self._flush_failures(now)
            except Exception as exc:  # the read worked: decide by it
                self._store_error("record", exc)
                if self._pending_failures >= self.settings.failure_threshold:
                    self._hold(now)
            return self._cache[0] if self._cache is not None else snapshot
        with self._pending_lock:  # the circuit is open or probing: failures in it are not counted
            self._pending_failures = 0
        return snapshot

    def _read_copy(self, now: float) -> Snapshot:
        """Fleet mode: the state from one read copy. A copy that cannot be read, or is not trusted, leaves
        the call to the circuit's own item; a throttled read with a state known keeps deciding by it
        (the store is busy, not failing); a copy older than the state known never takes it back."""
        copies = self._copies_for()
        try:
            copy = copies.read()
        except Exception as exc:
            if is_throttled(exc) and self._known is not None:
                raise  # _decide_unread: the state read last decides
            self._copy_error("read", None, exc)
            return self._reread(now)
        if not copies.trusted(copy, now):
            return self._enlist(now)
        known = self._known
        if known is not None and _newer(known, copy, now):
            copies.repair(known, now=now)
        self._remember(copy, now)
        return self._cache[0] if self._cache is not None else copy

    def _enlist(self, now: float) -> Snapshot:
        """The copy read is not one every transition writes for this container: decide by the circuit's
        own item, and make sure from now on it is. The item keeps fewer copies than this container reads
        (or has expired): raise (or renew) it, and write every copy. Otherwise repair the copy read."""
        item = self._store_for().read()
        self._remember(item, now)
        copies = self._copies_for()
        if item.exists and item.read_copies >= copies.count and item.expires_at > now:
            copies.repair(item, now=now)
            return item
        wanted = max(copies.count, item.read_copies)
        try:
            outcome = self._store_for().enlist(read_copies=wanted, now=now, expires_at=self._expires_at(now))
        except Exception as exc:  # bookkeeping: the item, read just now, decides this call
            self._copy_error("enlist", None, exc)
            return item
        written = self._learn(outcome, now)
        if outcome.won:
            copies.propagate(written, now=now)
        return written

    def _reread(self, now: float) -> Snapshot:
        """Read the circuit's own item."""
        snapshot = self._store_for().read()
        self._learn(Outcome(True, snapshot), now)
        return snapshot

    def _learn(self, outcome: Outcome, now: float) -> Snapshot:
        """Remember the item a write returned: as written, or as it stood when the write lost. In fleet
        mode, an item of the circuit newer than the copy read last repairs that copy (after a while)."""
        self._remember(outcome.snapshot, now)
        if self._copies is not None and outcome.snapshot.copy is None:
            self._copies.repair(outcome.snapshot, now=now)
        return outcome.snapshot

    def _remember(self, snapshot: Snapshot, now: float) -> None:
        """Trust ``snapshot`` for a cache period. A copy older than the state known is not taken: the
        known state stays, as if read from that copy (version guard)."""
        known = self._known
        if snapshot.copy is not None and known is not None and _newer(known, snapshot, now):
            snapshot = replace(known, copy=snapshot.copy, claim_owner=None, claim_until=0.0)
        elif snapshot.read_copies > self.settings.read_copies and not self._told_copies:
            self._told_copies = True
            self._emf.log(
                "ReadCopiesDiffer",
                self.circuit_id,
                now,
                level="WARNING",
                circuitReadCopies=snapshot.read_copies,
                containerReadCopies=self.settings.read_copies,
                detail="another container raised the circuit's read copies; this one keeps reading its "
                "own count and writes all of the circuit's copies at each transition it wins",
            )
        self._read_at = now
        self._known = snapshot
        ttl = self.settings.cache_ttl
        if self.settings.read_copies == 1:
            self._cache = (snapshot, now + ttl)
            return
        # Fleet mode: jittered periods, and an OPEN state trusted past openUntil by the same jitter, so
        # that the fleet does not come back to the copies in step when the open period ends.
        jitter = self._copies_for().jitter()
        fresh_until = now + ttl * jitter
        if snapshot.state is State.OPEN:
            fresh_until = max(fresh_until, snapshot.open_until + ttl * (jitter - 1.0))
        self._cache = (snapshot, fresh_until)

    def _copies_for(self) -> ReadCopies:
        if self._copies is None:
            self._copies = ReadCopies(self._store_for(), self.settings.read_copies, self._copy_error)
        return self._copies

    def _free_slots(self, snapshot: Snapshot, now: float) -> list[str]:
        slots = [f"s{i}" for i in range(self.settings.half_open_max_calls)]
        return [s for s in slots if s not in snapshot.probes or snapshot.probes[s]["expiresAt"] < now]

    def _earliest_lease_end(self, snapshot: Snapshot, now: float) -> float:
        ends = [lease["expiresAt"] for lease in snapshot.probes.values()]
        return min(ends) - now if ends else 0.0

    def _store_for(self) -> DynamoStore:
        if self._store is None:
            if self._client is None:
                self._client = default_client(self._boto_config)
            self._store = DynamoStore(self._client, self.table_name, self.circuit_id)
        return self._store

    def _expires_at(self, now: float) -> int:
        return int(now + self.settings.idle_expiry)

    def _counts_as_failure(self, exc: BaseException | None) -> bool:
        if exc is None or isinstance(exc, self.ignored_exceptions):
            return False
        return isinstance(exc, self.failure_exceptions)

    def _too_slow(self, elapsed: float) -> bool:
        return self.settings.slow_call_duration is not None and elapsed > self.settings.slow_call_duration

    # ------------------------------------------------------------------------------------ telemetry

    def _reject(
        self, snapshot: Snapshot, now: float, retry_after: float, reason: str = ""
    ) -> CircuitOpenError:
        why = reason or (HELD_REASON if snapshot.held else _why(snapshot.state))
        error = CircuitOpenError(self.circuit_id, retry_after, snapshot.state, why)
        self._emit(
            "CallRejected", "CallsRejected", now, state=snapshot.state.value, retryAfter=error.retry_after
        )
        return error

    def _transition(
        self, from_state: State, to_state: State, snapshot: Snapshot, now: float, **fields: Any
    ) -> None:
        metric = {
            State.OPEN: "CircuitOpened",
            State.HALF_OPEN: "CircuitHalfOpened",
            State.CLOSED: "CircuitClosed",
        }
        self._emit(
            "StateTransition",
            metric[to_state],
            now,
            fromState=from_state.value,
            toState=to_state.value,
            version=snapshot.version,
            **fields,
        )
        if max(self.settings.read_copies, snapshot.read_copies) > 1:
            self._copies_for().propagate(snapshot, now=now)

    def _copy_error(self, during: str, copy: int | None, exc: Exception) -> None:
        """Log a failed request to a read copy (a log line, no metric). Never a store error: the circuit's
        own item decides, and the copy is repaired by the next container to notice it is behind."""
        self._emf.log(
            "CopyError",
            self.circuit_id,
            self._clock(),
            level="WARNING",
            during=during,
            copy=copy,
            error=f"{type(exc).__name__}: {exc}",
            errorCode="ConditionNotMet" if isinstance(exc, CopyNotWrittenError) else error_code(exc),
        )

    def _store_error(self, during: str, exc: Exception) -> None:
        """Log and count a state-store failure; a misconfiguration is told apart from a passing fault.

        A missing table, a key schema the breaker cannot use or a role without access fails on every
        call: the breaker is then off (failing open or closed), which an operator must fix, not wait out.
        """
        code = error_code(exc)
        misconfigured = code in MISCONFIGURATION_CODES
        self._emit(
            "StateStoreError",
            "StateStoreErrors",
            self._clock(),
            level="ERROR",
            also_count=("StateStoreMisconfigurations",) if misconfigured else (),
            during=during,
            error=f"{type(exc).__name__}: {exc}",
            errorCode=code,
            kind="misconfiguration" if misconfigured else "transient",
            failOpen=self.settings.fail_open,
        )

    def _emit(
        self,
        event: str,
        metric: str,
        now: float,
        *,
        level: str = "INFO",
        also_count: tuple[str, ...] = (),
        **fields: Any,
    ) -> None:
        """One structured log line that is also an EMF record of ``metric`` (and ``also_count``)."""
        counted = dict.fromkeys((metric, *also_count), (1.0, "Count"))
        self._emf.write(event, self.circuit_id, counted, now, level=level, **fields)


class _GuardedBlock:
    """``breaker.call``: a context manager, also when called (``breaker.call()``)."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._active: Any = None

    def __call__(self) -> _GuardedBlock:
        return _GuardedBlock(self._breaker)

    def __enter__(self) -> None:
        self._active = self._breaker._block()
        self._active.__enter__()

    def __exit__(self, *exc_info: Any) -> bool:
        return bool(self._active.__exit__(*exc_info))


def _exception_types(circuit_id: str, name: str, value: Any) -> tuple[type[BaseException], ...]:
    """An exception class, or a tuple or list of them, as a tuple; anything else is refused by name."""
    items = (value,) if isinstance(value, type) else value
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        items = (items,)
    items = tuple(items)
    wrong = [item for item in items if not (isinstance(item, type) and issubclass(item, BaseException))]
    if wrong:
        raise InvalidSettingsError(
            circuit_id,
            [(name, value, "must be an exception class or a tuple/list of them, e.g. (ConnectionError,)")],
        )
    return items


def _paused_circuits() -> list[str]:
    try:
        paused = json.loads(os.environ.get(PAUSED_ENV, "[]"))
    except json.JSONDecodeError:
        return []
    return [str(c) for c in paused] if isinstance(paused, list) else []


def _newer(known: Snapshot, copy: Snapshot, now: float) -> bool:
    """``known`` is a later state of the circuit than ``copy`` holds (and not from an item that has
    expired since: a re-created item counts versions from 0 again)."""
    return known.version > copy.version and known.expires_at > now


def _settled(snapshot: Snapshot, now: float) -> bool:
    """A state that decides a call without any write: CLOSED, or OPEN before ``openUntil``."""
    return snapshot.state is State.CLOSED or (snapshot.state is State.OPEN and now < snapshot.open_until)


def _why(state: State) -> str:
    return "circuit is open" if state is State.OPEN else "circuit is half-open and its probe slots are taken"


def _resolve_settings(circuit_id: str, given: BreakerSettings | Mapping[str, Any] | None) -> BreakerSettings:
    """The circuit's settings: ``given`` (whole, or some over the environment's entry), else the entry. A
    ``read_copies`` other than attach()'s (its default included) is refused: one circuit, one mode."""
    from_env = _settings_from_env(circuit_id)
    if given is not None and not isinstance(given, (BreakerSettings, Mapping)):
        raise InvalidSettingsError(
            circuit_id, [("settings", given, "pass a BreakerSettings, a mapping of settings, or None")]
        )
    if isinstance(given, BreakerSettings):
        resolved = given
        problems = [
            (
                name,
                getattr(given, name),
                f"attach() configured {value!r} ({SETTINGS_ENV}); pass that, or "
                "pass settings=None to use attach()'s, or change attach()",
            )
            for name, value in (from_env or {}).items()
            if name in BreakerSettings.names() and name != "read_copies" and getattr(given, name) != value
        ]
    else:
        resolved = BreakerSettings.resolve(circuit_id, given or {}, from_env or {})
        problems = []
    if from_env is not None:
        problems.extend(_mode_problems(resolved, from_env))
    if problems:
        raise InvalidSettingsError(circuit_id, problems)
    return resolved


def _mode_problems(resolved: BreakerSettings, from_env: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """Every container of a circuit reads the copies every transition writes, or none: a container that
    read copies nobody writes would let calls through an OPEN circuit."""
    configured = from_env.get("read_copies", BreakerSettings.read_copies)
    if resolved.read_copies == configured:
        return []
    source = "" if "read_copies" in from_env else ", its default"
    return [
        (
            "read_copies",
            resolved.read_copies,
            f"attach() configured read_copies={configured} for this circuit ({SETTINGS_ENV}{source}); "
            "one circuit has one mode, as every container must read the copies every transition "
            "writes: leave read_copies out of the runtime's settings, or pass "
            f"read_copies={resolved.read_copies} to attach()",
        )
    ]


def _settings_from_env(circuit_id: str) -> dict[str, Any] | None:
    """The circuit's entry in ``CIRCUIT_BREAKER_SETTINGS`` (None: attach() wrote none for it)."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        return None
    try:
        settings = json.loads(raw)
    except json.JSONDecodeError:
        _log.warning("%s is not valid JSON; using defaults", SETTINGS_ENV)
        return None
    if isinstance(settings, dict) and settings and circuit_id not in settings:
        raise InvalidSettingsError(
            circuit_id,
            [
                (
                    "circuit_id",
                    circuit_id,
                    f"this function is attached to {', '.join(repr(c) for c in sorted(settings))} only "
                    f"({SETTINGS_ENV}); use one of those ids, or attach() the function to this circuit",
                )
            ],
        )
    entry = settings.get(circuit_id) if isinstance(settings, dict) else None
    return entry if isinstance(entry, dict) else None
