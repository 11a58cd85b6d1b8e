"""What a call through the breaker gets: leave to run (a permit), or a rejection it can act on."""

from __future__ import annotations

from dataclasses import dataclass

from ._store import Snapshot, State

#: How many conditional writes one decision may lose before it gives up (and rejects the call).
MAX_RACE_RETRIES = 8
#: Why a container rejects while its own unwritten failures reach the threshold (``StateView.hold``).
HELD_REASON = "this container's own failures, not yet written, reach failure_threshold"


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
class Permit:
    """Leave to make one call: a normal call, or a half-open probe holding a lease on a slot."""

    slot: str | None = None
    owner: str | None = None
    version: int = 0


NORMAL = Permit()


def why_rejected(snapshot: Snapshot) -> str:
    """The reason a rejection by ``snapshot`` gives."""
    if snapshot.held:
        return HELD_REASON
    if snapshot.state is State.OPEN:
        return "circuit is open"
    return "circuit is half-open and its probe slots are taken"


def settled(snapshot: Snapshot, now: float) -> bool:
    """A state that decides a call without any write: CLOSED, or OPEN before ``openUntil``."""
    return snapshot.state is State.CLOSED or (snapshot.state is State.OPEN and now < snapshot.open_until)
