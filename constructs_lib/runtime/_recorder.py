"""What a container writes: the failures it saw, the probes it settled, and the transitions it won."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ._outcomes import MAX_RACE_RETRIES, Permit
from ._store import Snapshot, State, is_throttled

if TYPE_CHECKING:
    from ._access import StoreAccess
    from ._view import StateView
    from .breaker import Telemetry
    from .settings import BreakerSettings


class Recorder:
    """Writes one container's outcomes to the circuit's item, with the failures not yet written.

    Failures seen but not yet written wait here: in fleet mode until the next read, and in either mode
    while the store throttles the write. They are written with one ADD, and dropped if the circuit is no
    longer CLOSED. A container's threads share them under a lock.
    """

    def __init__(
        self, settings: BreakerSettings, access: StoreAccess, view: StateView, telemetry: Telemetry
    ) -> None:
        self.settings = settings
        self._access = access
        self._view = view
        self._telemetry = telemetry
        self.pending = 0
        self._pending_since = 0.0  # when the first of them happened
        self._pending_lock = threading.Lock()

    def holds(self) -> bool:
        """This container's own unwritten failures reach ``failure_threshold``."""
        return self.pending >= self.settings.failure_threshold

    def refresh(self, now: float) -> Snapshot:
        """Read the state (a random read copy in fleet mode), and write the failures waiting for it."""
        view = self._view
        snapshot = view.read(now)
        if self.pending and snapshot.state is State.CLOSED:
            try:
                self.flush(now)
            except Exception as exc:  # the read worked: decide by it
                self._telemetry.store_error("record", exc)
                if self.holds():
                    view.hold(now)
            return view.cache[0] if view.cache is not None else snapshot
        with self._pending_lock:  # the circuit is open or probing: failures in it are not counted
            self.pending = 0
        return snapshot

    def settle(self, permit: Permit, failed: bool, now: float) -> None:
        """Record the outcome of a permitted call; store errors are logged, never raised."""
        try:
            if permit.slot is not None:
                self.settle_probe(permit, failed, now)
            elif failed:
                self.count_failure(now)
        except Exception as store_exc:
            self._telemetry.store_error("record", store_exc)
        if failed and permit.slot is None and self.holds():
            self._view.hold(now)

    def count_failure(self, now: float) -> None:
        """Add a failure to those not yet written (dropping them if their window has passed); write
        them now, or in fleet mode with the next read."""
        with self._pending_lock:
            if self.pending and now - self._pending_since > self.settings.window:
                self.pending = 0
            if not self.pending:
                self._pending_since = now
            self.pending += 1
        if self.settings.read_copies == 1:
            self.flush(now)

    def flush(self, now: float) -> None:
        """Write the failures not yet written with one ADD; throttled, they wait for the next read."""
        with self._pending_lock:
            count, self.pending = self.pending, 0
        if not count:
            return  # another thread of this container wrote them
        try:
            self._record(now, count)
        except Exception as exc:
            if is_throttled(exc):
                with self._pending_lock:
                    self.pending += count
            raise

    def _record(self, now: float, count: int) -> None:
        store, view = self._access.store(), self._view
        for _ in range(MAX_RACE_RETRIES):
            outcome = store.add_failure(
                now=now, window=self.settings.window, expires_at=view.expires_at(now), count=count
            )
            if not outcome.won:
                current = view.learn(outcome, now)
                if current.state is not State.CLOSED:
                    return  # already open or probing: nothing to count
                if current.window_start is None:
                    continue  # the item was just created or closed: counting again will succeed
                outcome = store.restart_window(
                    now=now,
                    old_window_start=current.window_start,
                    expires_at=view.expires_at(now),
                    count=count,
                )
                if not outcome.won:
                    view.learn(outcome, now)
                    continue  # another container restarted the window first: count in it
            written = view.learn(outcome, now)
            if written.failure_count >= self.settings.failure_threshold:
                self.open(written, State.CLOSED, consecutive_opens=1, now=now)
            return

    def settle_probe(self, permit: Permit, failed: bool, now: float) -> None:
        """A probe's end: a failure re-opens the circuit (for longer), enough successes close it."""
        store, view = self._access.store(), self._view
        assert permit.slot is not None
        assert permit.owner is not None
        if failed:
            current = view.reread(now)
            if current.state is State.HALF_OPEN and current.version == permit.version:
                self.open(current, State.HALF_OPEN, consecutive_opens=current.consecutive_opens + 1, now=now)
            return
        outcome = store.probe_succeeded(version=permit.version, slot=permit.slot, owner=permit.owner)
        written = view.learn(outcome, now)
        if outcome.won and written.half_open_successes >= self.settings.success_threshold:
            closing = store.close(now=now, version=written.version, expires_at=view.expires_at(now))
            closed = view.learn(closing, now)
            if closing.won:
                self.transition(State.HALF_OPEN, State.CLOSED, closed, now)
        # Not counted if the period ended or our lease expired and was taken. Either way the probe is over:
        # free our copy's claim (if the copies were not rewritten), so the next probe may come through it.
        if self._access.copies_made is not None:
            self._access.copies_made.release(now=now)

    def open(self, snapshot: Snapshot, from_state: State, *, consecutive_opens: int, now: float) -> None:
        """CLOSED or HALF_OPEN -> OPEN, for an open period that doubles with each consecutive opening."""
        duration = min(
            self.settings.open_duration * 2 ** (consecutive_opens - 1), self.settings.max_open_duration
        )
        outcome = self._access.store().open(
            now=now,
            version=snapshot.version,
            from_state=from_state,
            open_until=now + duration,
            consecutive_opens=consecutive_opens,
            expires_at=self._view.expires_at(now),
        )
        written = self._view.learn(outcome, now)
        if outcome.won:  # otherwise someone else moved the circuit first
            self.transition(from_state, State.OPEN, written, now, open_for=duration)

    def transition(
        self, from_state: State, to_state: State, snapshot: Snapshot, now: float, **fields: Any
    ) -> None:
        """A transition this container won: its record, and the new state on every read copy."""
        self._telemetry.transition(from_state, to_state, snapshot, now, **fields)
        if max(self.settings.read_copies, snapshot.read_copies) > 1:
            self._access.copies().propagate(snapshot, now=now)
