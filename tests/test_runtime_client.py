"""The runtime's own DynamoDB client fails fast: a state store that does not answer costs seconds."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from botocore.config import Config

from constructs_lib.runtime import CircuitBreaker, CircuitOpenError
from tests.breaker_support import Events

#: The default client makes 2 attempts with 1-second connect and read timeouts (plus jittered backoff).
DEFAULT_CLIENT_BOUND_SECONDS = 8


@pytest.fixture
def silent_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A loopback endpoint that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        yield endpoint


def test_fail_open_decides_within_seconds_when_dynamodb_hangs(silent_dynamodb):
    events = Events()
    breaker = CircuitBreaker("payments", table_name="circuit-state", emit=events)
    started = time.monotonic()
    assert breaker.guard()(lambda: "called")() == "called"
    elapsed = time.monotonic() - started
    assert elapsed < DEFAULT_CLIENT_BOUND_SECONDS, f"took {elapsed:.1f}s"
    assert "timeout" in events.named("StateStoreError")[0]["error"].lower()


def test_fail_closed_rejects_within_seconds_with_a_caller_config(silent_dynamodb):
    config = Config(connect_timeout=0.2, read_timeout=0.2, retries={"max_attempts": 1})
    breaker = CircuitBreaker(
        "payments",
        table_name="circuit-state",
        settings={"fail_open": False},
        boto_config=config,
        emit=Events(),
    )
    started = time.monotonic()
    with pytest.raises(CircuitOpenError, match="state store unavailable"):
        breaker.guard()(lambda: "called")()
    assert time.monotonic() - started < 2
