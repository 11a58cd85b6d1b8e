"""What one container knows of its circuit: the state it read last, how long it trusts it, and how it
reads again (the circuit's item, or in fleet mode one of its read copies)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ._store import Outcome, Snapshot, State, is_throttled

if TYPE_CHECKING:
    from ._access import StoreAccess
    from .breaker import Telemetry
    from .settings import BreakerSettings


class StateView:
    """The container's knowledge of one circuit, and the reads that renew it."""

    def __init__(self, settings: BreakerSettings, access: StoreAccess, telemetry: Telemetry) -> None:
        self.settings = settings
        self._access = access
        self._telemetry = telemetry
        # The last state read and the time until which it is trusted. Replaced whole (one reference
        # assignment under the GIL), so threads read it without a lock.
        self.cache: tuple[Snapshot, float] | None = None
        self.read_at = float("-inf")  # when the cached state was read or learned
        self.known: Snapshot | None = None  # the state read or learned last (never a local hold)
        self._told_copies = False  # logged once that the circuit keeps more copies than this container reads

    def cached(self, now: float) -> Snapshot | None:
        """The state known, while it is trusted: within the cache period, or OPEN before ``openUntil``
        (nothing else can change an OPEN circuit before then)."""
        cached = self.cache
        if cached is not None:
            snapshot, fresh_until = cached
            if now < fresh_until or (snapshot.state is State.OPEN and now < snapshot.open_until):
                return snapshot
        return None

    def read(self, now: float) -> Snapshot:
        """Read the state: one read copy in fleet mode, the circuit's item otherwise."""
        return self.read_copy(now) if self.settings.read_copies > 1 else self.reread(now)

    def read_copy(self, now: float) -> Snapshot:
        """Fleet mode: the state from one read copy. A copy that cannot be read, or is not trusted, leaves
        the call to the circuit's own item; a throttled read with a state known keeps deciding by it
        (the store is busy, not failing); a copy older than the state known never takes it back."""
        copies = self._access.copies()
        try:
            copy = copies.read()
        except Exception as exc:
            if is_throttled(exc) and self.known is not None:
                raise  # Gate.decide_unread: the state read last decides
            self._telemetry.copy_error("read", None, exc)
            return self.reread(now)
        if not copies.trusted(copy, now):
            return self.enlist(now)
        known = self.known
        if known is not None and newer(known, copy, now):
            copies.repair(known, now=now)
        self.remember(copy, now)
        return self.cache[0] if self.cache is not None else copy

    def enlist(self, now: float) -> Snapshot:
        """The copy read is not one every transition writes for this container: decide by the circuit's
        own item, and make sure from now on it is. The item keeps fewer copies than this container reads
        (or has expired): raise (or renew) it, and write every copy. Otherwise repair the copy read."""
        store, copies = self._access.store(), self._access.copies()
        item = store.read()
        self.remember(item, now)
        if item.exists and item.read_copies >= copies.count and item.expires_at > now:
            copies.repair(item, now=now)
            return item
        wanted = max(copies.count, item.read_copies)
        try:
            outcome = store.enlist(read_copies=wanted, now=now, expires_at=self.expires_at(now))
        except Exception as exc:  # bookkeeping: the item, read just now, decides this call
            self._telemetry.copy_error("enlist", None, exc)
            return item
        written = self.learn(outcome, now)
        if outcome.won:
            copies.propagate(written, now=now)
        return written

    def reread(self, now: float) -> Snapshot:
        """Read the circuit's own item."""
        snapshot = self._access.store().read()
        self.learn(Outcome(True, snapshot), now)
        return snapshot

    def learn(self, outcome: Outcome, now: float) -> Snapshot:
        """Remember the item a write returned: as written, or as it stood when the write lost. In fleet
        mode, an item of the circuit newer than the copy read last repairs that copy (after a while)."""
        self.remember(outcome.snapshot, now)
        copies = self._access.copies_made
        if copies is not None and outcome.snapshot.copy is None:
            copies.repair(outcome.snapshot, now=now)
        return outcome.snapshot

    def remember(self, snapshot: Snapshot, now: float) -> None:
        """Trust ``snapshot`` for a cache period. A copy older than the state known is not taken: the
        known state stays, as if read from that copy (version guard)."""
        known = self.known
        if snapshot.copy is not None and known is not None and newer(known, snapshot, now):
            snapshot = replace(known, copy=snapshot.copy, claim_owner=None, claim_until=0.0)
        elif snapshot.read_copies > self.settings.read_copies and not self._told_copies:
            self._told_copies = True
            self._telemetry.copies_differ(snapshot.read_copies, now)
        self.read_at = now
        self.known = snapshot
        ttl = self.settings.cache_ttl
        if self.settings.read_copies == 1:
            self.cache = (snapshot, now + ttl)
            return
        # Fleet mode: jittered periods, and an OPEN state trusted past openUntil by the same jitter, so
        # that the fleet does not come back to the copies in step when the open period ends.
        jitter = self._access.copies().jitter()
        fresh_until = now + ttl * jitter
        if snapshot.state is State.OPEN:
            fresh_until = max(fresh_until, snapshot.open_until + ttl * (jitter - 1.0))
        self.cache = (snapshot, fresh_until)

    def hold(self, now: float) -> None:
        """This container's own failures not yet written (fleet mode, or throttled) reach the threshold:
        they alone would open the circuit, so it rejects its calls until its next read writes them."""
        cached = self.cache
        if cached is None or cached[0].state is not State.CLOSED:
            return
        until = cached[1] if cached[1] > now else now + self.settings.cache_ttl
        self.cache = (replace(cached[0], state=State.OPEN, open_until=until, held=True), until)

    def expires_at(self, now: float) -> int:
        """The TTL a write at ``now`` gives the item (clean-up only)."""
        return int(now + self.settings.idle_expiry)


def newer(known: Snapshot, copy: Snapshot, now: float) -> bool:
    """``known`` is a later state of the circuit than ``copy`` holds (and not from an item that has
    expired since: a re-created item counts versions from 0 again)."""
    return known.version > copy.version and known.expires_at > now
