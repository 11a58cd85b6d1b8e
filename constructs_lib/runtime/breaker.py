"""A circuit breaker whose state every Lambda container shares through one DynamoDB item.

:class:`CircuitBreaker` is the runtime's face: it guards functions and blocks, and hands each call to its
collaborators, one per concern: ``StateView`` (what the container knows, and its reads), ``Gate`` (the
decision for a call), ``Recorder`` (failures, probes and transitions written) and :class:`Telemetry`
(the structured log and EMF records: the metrics the construct alarms on are named here).
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._access import StoreAccess
from ._config import DEFAULT_NAMESPACE as DEFAULT_NAMESPACE
from ._config import NAMESPACE_ENV as NAMESPACE_ENV
from ._config import PAUSED_ENV as PAUSED_ENV
from ._config import SETTINGS_ENV as SETTINGS_ENV
from ._config import TABLE_ENV as TABLE_ENV
from ._config import exception_types, paused_circuits, resolve_settings
from ._emf import EmfWriter
from ._gate import MIN_CLAIM_SECONDS as MIN_CLAIM_SECONDS
from ._gate import Gate
from ._outcomes import HELD_REASON as HELD_REASON
from ._outcomes import MAX_RACE_RETRIES as MAX_RACE_RETRIES
from ._outcomes import NORMAL, CircuitOpenError, Permit, why_rejected
from ._recorder import Recorder
from ._store import CopyNotWrittenError, Snapshot, State, error_code
from ._view import StateView
from .settings import BreakerSettings, InvalidSettingsError

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient

    from ._copies import ReadCopies

__all__ = ["CircuitBreaker", "CircuitOpenError"]

#: DynamoDB errors that no retry can cure: the table, its key schema or the role is wrong.
MISCONFIGURATION_CODES = frozenset(
    {
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
    }
)

F = TypeVar("F", bound=Callable[..., Any])
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
        self.settings = resolve_settings(circuit_id, settings)
        self.circuit_id = circuit_id
        self.failure_exceptions = exception_types(circuit_id, "failure_exceptions", failure_exceptions)
        self.ignored_exceptions = exception_types(circuit_id, "ignored_exceptions", ignored_exceptions)
        self.table_name: str = table_name or os.environ.get(TABLE_ENV, "")
        self.metrics_namespace = metrics_namespace or os.environ.get(NAMESPACE_ENV, DEFAULT_NAMESPACE)
        if not self.table_name:
            raise ValueError(
                f"circuit '{circuit_id}': no state table; pass table_name or set {TABLE_ENV} "
                "(the CDK construct's attach() sets it)"
            )
        self._clock = clock
        self._telemetry = Telemetry(
            EmfWriter(self.metrics_namespace, self.table_name, emit), circuit_id, clock, self.settings
        )
        self._access = StoreAccess(
            self.table_name,
            circuit_id,
            self.settings.read_copies,
            self._telemetry.copy_error,
            client=client,
            boto_config=boto_config,
        )
        self._view = StateView(self.settings, self._access, self._telemetry)
        self._recorder = Recorder(self.settings, self._access, self._view, self._telemetry)
        self._gate = Gate(self.settings, self._access, self._view, self._recorder, self._telemetry, clock)

    # ------------------------------------------------------------------------------------ public

    @property
    def state(self) -> State:
        """The circuit's current state, read from DynamoDB (store errors propagate)."""
        snapshot = self._access.store().read()
        self._view.remember(snapshot, self._clock())
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
        if fallback is not None and self.circuit_id in paused_circuits():
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

            clock, view, timed = self._clock, self._view, self.settings.slow_call_duration is not None

            @functools.wraps(target)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                # The common case first: a CLOSED state read within cache_ttl, and no slow-call timing.
                # Such a call writes nothing when it succeeds, so only a failure needs the full path.
                cached = view.cache
                if cached is not None and not timed and cached[0].state is _CLOSED:
                    now = clock()
                    if now < cached[1]:
                        try:
                            return target(*args, **kwargs)
                        except BaseException as exc:
                            self._settle(NORMAL, exc, now)
                            raise
                try:
                    permit = self._gate.acquire()
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
                permit = self._gate.acquire()
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
        permit = self._gate.acquire()
        started = self._clock()
        try:
            yield
        except BaseException as exc:
            self._settle(permit, exc, started)
            raise
        self._settle(permit, None, started)

    def _run(self, permit: Permit, function: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        started = self._clock()
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:
            self._settle(permit, exc, started)
            raise
        self._settle(permit, None, started)
        return result

    def _settle(self, permit: Permit, exc: BaseException | None, started: float) -> None:
        """Record the outcome of a permitted call; store errors are logged, never raised."""
        now = self._clock()
        self._recorder.settle(permit, self._counts_as_failure(exc) or self._too_slow(now - started), now)

    def _counts_as_failure(self, exc: BaseException | None) -> bool:
        if exc is None or isinstance(exc, self.ignored_exceptions):
            return False
        return isinstance(exc, self.failure_exceptions)

    def _too_slow(self, elapsed: float) -> bool:
        return self.settings.slow_call_duration is not None and elapsed > self.settings.slow_call_duration

    def _current(self, now: float) -> Snapshot:
        """The state this container decides by now (read again when stale)."""
        return self._gate.current(now)

    def _copies_for(self) -> ReadCopies:
        """This container's read copies (made on first use)."""
        return self._access.copies()


class Telemetry:
    """The breaker's records: one JSON line each, a structured log and, for what operators alarm on and
    pay for, an EMF metric by ``CircuitId`` and ``StateTable``."""

    def __init__(
        self, emf: EmfWriter, circuit_id: str, clock: Callable[[], float], settings: BreakerSettings
    ) -> None:
        self.emf = emf
        self._circuit_id = circuit_id
        self._clock = clock
        self._settings = settings

    def reject(
        self, snapshot: Snapshot, now: float, retry_after: float, reason: str = ""
    ) -> CircuitOpenError:
        """The error for a rejected call, counted."""
        error = CircuitOpenError(
            self._circuit_id, retry_after, snapshot.state, reason or why_rejected(snapshot)
        )
        self._emit(
            "CallRejected", "CallsRejected", now, state=snapshot.state.value, retryAfter=error.retry_after
        )
        return error

    def transition(
        self, from_state: State, to_state: State, snapshot: Snapshot, now: float, **fields: Any
    ) -> None:
        """A transition this container won."""
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

    def store_error(self, during: str, exc: Exception) -> None:
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
            failOpen=self._settings.fail_open,
        )

    def copy_error(self, during: str, copy: int | None, exc: Exception) -> None:
        """Log a failed request to a read copy (a log line, no metric). Never a store error: the circuit's
        own item decides, and the copy is repaired by the next container to notice it is behind."""
        self.emf.log(
            "CopyError",
            self._circuit_id,
            self._clock(),
            level="WARNING",
            during=during,
            copy=copy,
            error=f"{type(exc).__name__}: {exc}",
            errorCode="ConditionNotMet" if isinstance(exc, CopyNotWrittenError) else error_code(exc),
        )

    def copies_differ(self, circuit_copies: int, now: float) -> None:
        """Said once: another container raised the circuit's read copies above this one's."""
        self.emf.log(
            "ReadCopiesDiffer",
            self._circuit_id,
            now,
            level="WARNING",
            circuitReadCopies=circuit_copies,
            containerReadCopies=self._settings.read_copies,
            detail="another container raised the circuit's read copies; this one keeps reading its "
            "own count and writes all of the circuit's copies at each transition it wins",
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
        self.emf.write(event, self._circuit_id, counted, now, level=level, **fields)


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
