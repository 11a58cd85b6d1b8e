"""Fleet mode's read copies: many containers read a circuit without all reading (or writing) one item.

DynamoDB serves one item from one partition: about 3,000 read units and 1,000 write units a second. With
``read_copies`` = K above 1:

- a container reads one of K copies of the state, at random, eventually consistent (half a read unit),
  once per (jittered) cache period, so each copy takes 1/K of the fleet's reads and the circuit's own item
  takes none in steady traffic;
- the container that wins a transition on the circuit's item writes the new state to every copy the
  item records (``readCopies``); a copy that is still older than the circuit's item
  ``COPY_SETTLE_SECONDS`` after the transition (its writer crashed, or its write failed) is repaired by
  the next container that learns of the difference;
- before a container tries a half-open probe on the circuit's item, it must win its copy's claim, so at
  most K containers at a time write to the circuit's item when its open period ends or a probe slot
  frees, however many containers are waiting.

A copy is a cache, never a decision: nothing here raises. A copy that cannot be read, is not trusted
(missing, expired, or kept for fewer containers than this one reads), or whose claim cannot be written
sends the container to the circuit's own item for that call; a failed copy write is reported and the
copy repaired later. Only the circuit's own item decides, and only its failures are store failures.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._store import DynamoStore, Snapshot, is_throttled

if TYPE_CHECKING:
    from collections.abc import Callable
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
#: The longest a container that calls keeps deciding by a state older than the circuit's item, in cache
#: periods (each stretched by up to CACHE_JITTER): one when the transition's winner wrote the copies; two
#: when the copy it reads was left behind, as its next read then writes its failures to the circuit's item,
#: whose answer carries the state (a call into a circuit opened for failures fails, and is counted).
PROPAGATION_PERIODS = 2

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


def propagation_seconds(cache_ttl: float) -> float:
    """How long after a transition a calling container may still decide by the state before it."""
    return PROPAGATION_PERIODS * (1.0 + CACHE_JITTER) * cache_ttl


@dataclass(frozen=True)
class Claim:
    """A read copy's half-open claim that this container holds."""

    copy: int
    owner: str


#: What a claim attempt found: this container holds the claim now (``WON``), another container holds it
#: (``HELD``: reject), or it could not be decided (``UNDECIDED``: the write failed, or the copy moved on),
#: in which case the circuit's own item decides the call.
WON, HELD, UNDECIDED = "won", "held", "undecided"


class ReadCopies:
    """One container's view of a circuit's read copies.

    Args:
        store: The circuit's store.
        count: The copies this container reads (its ``read_copies``).
        report: Receives each failed copy request (the breaker logs and counts it); never raises.
        rng: Picks the copy and the jitter. Default: a new ``random.Random``.
    """

    def __init__(
        self,
        store: DynamoStore,
        count: int,
        report: Callable[[str, int | None, Exception], None],
        rng: random.Random | None = None,
    ) -> None:
        self.count = count
        self._store = store
        self._report = report
        self._rng = rng or random.Random()
        #: The copy read last, as read (None before the first read).
        self.last_read: Snapshot | None = None
        #: The claim this container holds, if any.
        self.claim: Claim | None = None

    def jitter(self) -> float:
        """A factor from 1 to 1 + CACHE_JITTER for this cache period."""
        return 1.0 + CACHE_JITTER * self._rng.random()

    def read(self) -> Snapshot:
        """One copy, chosen at random, as stored (store errors propagate: the caller decides)."""
        snapshot = self._store.read(self._rng.randrange(self.count))
        self.last_read = snapshot
        return snapshot

    def trusted(self, snapshot: Snapshot, now: float) -> bool:
        """A copy that every transition writes for this container: it exists, the circuit's item kept
        at least this container's count of copies when it was written (that count only grows), and it
        has not expired (a copy never outlives its circuit's item, which a later write may re-create)."""
        return snapshot.exists and snapshot.read_copies >= self.count and snapshot.expires_at > now

    def propagate(self, snapshot: Snapshot, *, now: float) -> list[int]:
        """Write the circuit's new state (just won by this container) to every copy the item records (and
        to this container's own count), all at once: until a copy has it, the containers that read that
        copy decide by the old state. Returns the copies that could not be written (reported); the next
        container to notice repairs each."""
        self.claim = None  # every copy is rewritten, claims with them

        def write(copy: int) -> int | None:
            for attempt in range(COPY_WRITE_ATTEMPTS):
                try:
                    self._store.write_copy(copy, snapshot, now=now)
                    return None
                except Exception as exc:  # throttled, unreachable or lost: the other copies still get it
                    if attempt == COPY_WRITE_ATTEMPTS - 1 or not is_throttled(exc):
                        self._report("propagate", copy, exc)
                        return copy
                    time.sleep(COPY_RETRY_SECONDS * 2**attempt)
            return None

        copies = range(max(self.count, snapshot.read_copies))
        return [copy for copy in _writers().map(write, copies) if copy is not None]

    def repair(self, circuit: Snapshot, *, now: float) -> None:
        """Bring the copy read last up to ``circuit`` (the state as the circuit's item has it) if it is
        behind (older, or not trusted) ``COPY_SETTLE_SECONDS`` after the transition, when its winner
        should have written it. A failed repair is reported and changes nothing else."""
        seen = self.last_read
        if seen is None or seen.copy is None or not circuit.exists or circuit.expires_at <= now:
            return  # nothing to repair, or nothing to repair it with (an expired item is enlisted)
        if self.trusted(seen, now) and seen.version >= circuit.version:
            return
        if (circuit.state_changed_at or 0.0) > now - COPY_SETTLE_SECONDS:
            return  # the transition's winner is still writing the copies
        self.last_read = None  # one repair per read, written or not
        try:
            self._store.write_copy(seen.copy, circuit, now=now)
        except Exception as exc:
            self._report("repair", seen.copy, exc)
            return
        if self.claim is not None and self.claim.copy == seen.copy:
            self.claim = None

    def try_claim(self, snapshot: Snapshot, *, now: float, until: float) -> tuple[str, Snapshot | None]:
        """Claim ``snapshot``'s copy (read at ``snapshot.version``) until ``until``, if it is free: ``WON``,
        ``HELD`` (with the copy that shows who holds it) or ``UNDECIDED`` (with the copy, if one came
        back)."""
        assert snapshot.copy is not None
        owner = uuid.uuid4().hex
        try:
            outcome = self._store.claim_copy(
                snapshot.copy, version=snapshot.version, owner=owner, until=until, now=now
            )
        except Exception as exc:
            self._report("claim", snapshot.copy, exc)
            return UNDECIDED, None
        found = outcome.snapshot
        if outcome.won:
            self.claim = Claim(snapshot.copy, owner)
            self.last_read = found
            return WON, found
        held = found.exists and found.version == snapshot.version and found.claim_until > now
        return (HELD if held else UNDECIDED), (found if found.exists else None)

    def release(self, *, now: float) -> None:
        """Free the claim this container holds (its probe is settled), so another container may probe. A
        release that fails is reported; the claim then ends at its own time."""
        claim, self.claim = self.claim, None
        if claim is None:
            return
        try:
            self._store.release_claim(claim.copy, owner=claim.owner, now=now)
        except Exception as exc:
            self._report("release", claim.copy, exc)
