"""Fleet mode's read copies: many containers read a circuit without all reading (or writing) one item.

DynamoDB serves one item from one partition: about 3,000 strongly consistent reads and 1,000 writes a
second. With ``read_copies`` = K above 1:

- a container reads one of K copies of the state, at random, once per (jittered) cache period, so each
  copy takes 1/K of the fleet's reads and the circuit's own item takes none in steady traffic;
- the container that wins a transition on the circuit's item writes the new state to every copy; a copy
  that is still older than the circuit's item ``COPY_SETTLE_SECONDS`` after the transition (its writer
  crashed, or was throttled) is repaired by the next container that learns of the difference;
- before a container tries a half-open probe on the circuit's item, it must win its copy's claim, so at
  most K containers at a time write to the circuit's item when its open period ends or a probe slot
  frees, however many containers are waiting.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ._store import DynamoStore, Outcome, Snapshot, is_throttled

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

#: Cache periods are stretched by up to this fraction, at random, so containers do not read in step.
CACHE_JITTER = 0.2
#: Threads that write a transition to the copies at once (a Lambda container's process shares them).
COPY_WRITERS = 32
#: A throttled copy write is tried again, after 10 ms and then 20 ms: a copy left behind is read by
#: 1/read_copies of the fleet until a container repairs it.
COPY_WRITE_ATTEMPTS = 3
COPY_RETRY_SECONDS = 0.01
#: How long after a transition a copy may still be older than the circuit's item before the first
#: container to notice repairs it: the winner writes every copy at once, in a few milliseconds.
COPY_SETTLE_SECONDS = 0.1

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _writers() -> ThreadPoolExecutor:
    """The process's copy writers, started on the first transition (boto3 clients are thread-safe).
    Imported here, not at the module's import, so a cold start in one-item mode does not pay for it."""
    from concurrent.futures import ThreadPoolExecutor

    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=COPY_WRITERS, thread_name_prefix="breaker-copies")
        return _pool


@dataclass(frozen=True)
class Claim:
    """A read copy's half-open claim that this container holds."""

    copy: int
    owner: str


class ReadCopies:
    """One container's view of a circuit's read copies."""

    def __init__(self, store: DynamoStore, count: int, rng: random.Random | None = None) -> None:
        self.count = count
        self._store = store
        self._rng = rng or random.Random()
        #: The copy read last, as read (None before the first read).
        self.last_read: Snapshot | None = None
        #: The claim this container holds, if any.
        self.claim: Claim | None = None

    def jitter(self) -> float:
        """A factor from 1 to 1 + CACHE_JITTER for this cache period."""
        return 1.0 + CACHE_JITTER * self._rng.random()

    def read(self, known: Snapshot | None, *, now: float, expires_at: int) -> Snapshot:
        """One copy, chosen at random. A copy older than the state this container already knows (its
        winner could not write it) never takes the container back: the container keeps what it knows
        and brings the copy forward."""
        snapshot = self._store.read(self._rng.randrange(self.count))
        self.last_read = snapshot
        if known is None or known.version <= snapshot.version:
            return snapshot
        self.repair(known, now=now, expires_at=expires_at)
        return replace(known, copy=snapshot.copy, claim_owner=None, claim_until=0.0)

    def propagate(self, snapshot: Snapshot, *, expires_at: int) -> None:
        """Write the circuit's new state (just won by this container) to every copy, all at once: until a
        copy has it, the containers that read that copy decide by the old state, and a CLOSED one sends
        its failures to the circuit's item. A copy that cannot be written now is repaired later
        (``repair``); the first such error is raised after the other copies are written."""
        self.claim = None  # every copy is rewritten, claims with them

        def write(copy: int) -> Exception | None:
            for attempt in range(COPY_WRITE_ATTEMPTS):
                try:
                    self._store.write_copy(copy, snapshot, expires_at=expires_at)
                    return None
                except Exception as exc:  # throttled or unreachable: the other copies still get the state
                    if attempt == COPY_WRITE_ATTEMPTS - 1 or not is_throttled(exc):
                        return exc
                    time.sleep(COPY_RETRY_SECONDS * 2**attempt)
            return None

        failed = [error for error in _writers().map(write, range(self.count)) if error is not None]
        if failed:
            raise failed[0]

    def repair(self, circuit: Snapshot, *, now: float, expires_at: int) -> None:
        """Bring the copy read last up to ``circuit`` (the state as the circuit's item or a newer copy
        has it) if it is still older ``COPY_SETTLE_SECONDS`` after the transition, when its winner
        should have written it."""
        seen = self.last_read
        if seen is None or seen.copy is None or seen.version >= circuit.version:
            return
        if (circuit.state_changed_at or 0.0) > now - COPY_SETTLE_SECONDS:
            return  # the transition's winner is still writing the copies
        self._store.write_copy(seen.copy, circuit, expires_at=expires_at)
        self.last_read = None  # written: one repair per read
        if self.claim is not None and self.claim.copy == seen.copy:
            self.claim = None

    def try_claim(self, snapshot: Snapshot, *, now: float, until: float) -> Outcome:
        """Claim ``snapshot``'s copy (read at ``snapshot.version``) until ``until``, if it is free."""
        assert snapshot.copy is not None
        owner = uuid.uuid4().hex
        outcome = self._store.claim_copy(
            snapshot.copy, version=snapshot.version, owner=owner, until=until, now=now
        )
        if outcome.won:
            self.claim = Claim(snapshot.copy, owner)
            self.last_read = outcome.snapshot
        return outcome

    def release(self, *, now: float) -> None:
        """Free the claim this container holds (its probe is settled), so another container may probe."""
        claim, self.claim = self.claim, None
        if claim is not None:
            self._store.release_claim(claim.copy, owner=claim.owner, now=now)
