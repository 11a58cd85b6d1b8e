"""The decision for each call: let it through, let it probe, or reject it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._copies import HELD, UNDECIDED
from ._outcomes import MAX_RACE_RETRIES, NORMAL, CircuitOpenError, Permit, settled
from ._store import Snapshot, State, is_throttled

if TYPE_CHECKING:
    from ._access import StoreAccess
    from ._recorder import Recorder
    from ._view import StateView
    from .breaker import Telemetry
    from .settings import BreakerSettings

#: Fleet mode: the shortest time a read copy's half-open claim is held (it is held for a cache period).
MIN_CLAIM_SECONDS = 0.1


class Gate:
    """Decides each call of one container from the state it knows (read again when it is stale)."""

    def __init__(
        self,
        settings: BreakerSettings,
        access: StoreAccess,
        view: StateView,
        recorder: Recorder,
        telemetry: Telemetry,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self._access = access
        self._view = view
        self._recorder = recorder
        self._telemetry = telemetry
        self._clock = clock

    def current(self, now: float) -> Snapshot:
        """The state to decide by: the one known while it is trusted, else read again."""
        return self._view.cached(now) or self._recorder.refresh(now)

    def acquire(self) -> Permit:
        """Leave for one call, or CircuitOpenError."""
        now = self._clock()
        try:
            snapshot = self.current(now)
            if self.settings.read_copies > 1:
                snapshot = self.through_copy(snapshot, now)
            for _ in range(MAX_RACE_RETRIES):
                if snapshot.state is State.CLOSED:
                    return NORMAL
                if snapshot.state is State.OPEN:
                    if now < snapshot.open_until:
                        raise self._telemetry.reject(snapshot, now, snapshot.open_until - now)
                    permit, snapshot = self._try_begin_half_open(snapshot, now)
                else:
                    permit, snapshot = self._try_take_probe_slot(snapshot, now)
                if permit is not None:
                    return permit
                if snapshot.state is State.HALF_OPEN and self._free_slots(snapshot, now) == []:
                    raise self._telemetry.reject(snapshot, now, self._earliest_lease_end(snapshot, now))
            raise self._telemetry.reject(snapshot, now, 0.0, reason="too much contention for the state item")
        except CircuitOpenError:
            raise
        except Exception as exc:  # DynamoDB (or the network to it) failed
            return self.decide_unread(exc, now)

    def decide_unread(self, exc: Exception, now: float) -> Permit:
        """Decide without the store. Throttling means the store works but is busy: the state read last
        decides (CLOSED lets the call through, unless this container's own failures not yet written
        reach ``failure_threshold``; OPEN and HALF_OPEN reject it), and the store is asked again after a
        cache period. Any other error, or no state read yet, follows ``fail_open``."""
        view = self._view
        self._telemetry.store_error("acquire", exc)
        if view.known is not None and is_throttled(exc):
            view.remember(view.known, now)
            if self._recorder.holds():
                view.hold(now)
            snapshot = view.cache[0] if view.cache is not None else view.known
            if snapshot.state is State.CLOSED:
                return NORMAL
            opened = snapshot.state is State.OPEN and now < snapshot.open_until
            retry = snapshot.open_until - now if opened else self.settings.cache_ttl
            raise self._telemetry.reject(
                snapshot, now, retry, reason="state store throttled; last state read"
            )
        if self.settings.fail_open:
            return NORMAL
        raise CircuitOpenError(
            self._access.circuit_id, 0.0, State.OPEN, reason="state store unavailable"
        ) from exc

    def through_copy(self, snapshot: Snapshot, now: float) -> Snapshot:
        """Fleet mode: a call that could probe must first win the claim of the copy it read, so that at
        most ``read_copies`` containers at a time write to the circuit's item for a probe. Returns the
        state to decide by: as read (CLOSED, or OPEN before ``openUntil``), or the circuit's own item. A
        claim that cannot be decided (its write failed, or the copy moved on) leaves the call to the
        circuit's item, whose conditional writes still admit ``half_open_max_calls`` probes at most."""
        view, telemetry = self._view, self._telemetry
        if settled(snapshot, now):
            return snapshot
        if snapshot.state is State.OPEN or snapshot.copy is None:
            cached = view.cache
            if cached is not None and snapshot.state is State.OPEN and view.read_at < now < cached[1]:
                raise telemetry.reject(snapshot, now, cached[1] - now)  # the open period's jittered end
            if view.read_at < now:
                snapshot = self._recorder.refresh(now)  # what the copies say now
            if settled(snapshot, now) or snapshot.copy is None:
                return snapshot  # decided, or the circuit's item was read instead of a copy
        if snapshot.claim_until > now:
            raise telemetry.reject(snapshot, now, snapshot.claim_until - now)
        claim_period = max(self.settings.cache_ttl, MIN_CLAIM_SECONDS)
        found, copy = self._access.copies().try_claim(snapshot, now=now, until=now + claim_period)
        if copy is not None and found is not UNDECIDED:
            view.remember(copy, now)
        if found is HELD:
            assert copy is not None
            raise telemetry.reject(copy, now, copy.claim_until - now)
        return view.reread(now)

    def _try_begin_half_open(self, snapshot: Snapshot, now: float) -> tuple[Permit | None, Snapshot]:
        owner, slot = uuid.uuid4().hex, "s0"
        outcome = self._access.store().begin_half_open(
            now=now,
            version=snapshot.version,
            slot=slot,
            owner=owner,
            lease_until=now + self.settings.probe_timeout,
            expires_at=self._view.expires_at(now),
        )
        written = self._view.learn(outcome, now)
        if not outcome.won:
            return None, written
        self._recorder.transition(State.OPEN, State.HALF_OPEN, written, now)
        return Permit(slot=slot, owner=owner, version=written.version), written

    def _try_take_probe_slot(self, snapshot: Snapshot, now: float) -> tuple[Permit | None, Snapshot]:
        free = self._free_slots(snapshot, now)
        if not free:
            return None, snapshot
        owner = uuid.uuid4().hex
        outcome = self._access.store().take_probe_slot(
            now=now,
            version=snapshot.version,
            slot=free[0],
            owner=owner,
            lease_until=now + self.settings.probe_timeout,
        )
        written = self._view.learn(outcome, now)
        if not outcome.won:
            return None, written
        return Permit(slot=free[0], owner=owner, version=written.version), written

    def _free_slots(self, snapshot: Snapshot, now: float) -> list[str]:
        slots = [f"s{i}" for i in range(self.settings.half_open_max_calls)]
        return [s for s in slots if s not in snapshot.probes or snapshot.probes[s]["expiresAt"] < now]

    def _earliest_lease_end(self, snapshot: Snapshot, now: float) -> float:
        ends = [lease["expiresAt"] for lease in snapshot.probes.values()]
        return min(ends) - now if ends else 0.0
