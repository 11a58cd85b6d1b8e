"""constructs_lib.runtime.CircuitBreaker against moto DynamoDB, with a fake clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from botocore.config import Config
from botocore.stub import Stubber

from constructs_lib.runtime import BreakerSettings, CircuitBreaker, CircuitOpenError, State
from constructs_lib.runtime._store import IAM_ACTIONS
from tests.breaker_support import (
    REGION,
    TABLE,
    Downstream,
    RequestCounter,
    fail,
    item,
    make_breaker,
    new_client,
    succeed,
)
from tests.harness import REPO_ROOT

pytestmark = pytest.mark.usefixtures("aws")


def open_circuit(breaker: CircuitBreaker) -> None:
    fail(breaker, breaker.settings.failure_threshold)
    assert item()["circuitState"]["S"] == "OPEN"


# ------------------------------------------------------------------------------------ state machine


class TestClosed:
    def test_a_new_circuit_is_closed_and_successes_write_nothing(self, clock, events):
        client = new_client()
        counter = RequestCounter(client)
        breaker = make_breaker(clock, events, client)
        for _ in range(10):
            succeed(breaker)
        assert "UpdateItem" not in counter.names()
        assert item() == {}
        assert breaker.state is State.CLOSED

    def test_opens_at_the_failure_threshold_within_the_window(self, clock, events):
        breaker = make_breaker(clock, events)
        fail(breaker, 4)
        assert item()["circuitState"]["S"] == "CLOSED"
        assert item()["failureCount"]["N"] == "4"
        fail(breaker)
        stored = item()
        assert stored["circuitState"]["S"] == "OPEN"
        assert float(stored["openUntil"]["N"]) == clock() + 30
        assert events.transitions() == [("CLOSED", "OPEN")]

    def test_failures_outside_the_window_do_not_add_up(self, clock, events):
        breaker = make_breaker(clock, events)
        fail(breaker, 4)
        clock.advance(61)
        fail(breaker, 4)
        stored = item()
        assert stored["circuitState"]["S"] == "CLOSED"
        assert stored["failureCount"]["N"] == "4"
        assert float(stored["windowStart"]["N"]) == clock()

    def test_successes_do_not_reset_the_count(self, clock, events):
        breaker = make_breaker(clock, events)
        fail(breaker, 4)
        succeed(breaker)
        fail(breaker)
        assert item()["circuitState"]["S"] == "OPEN"

    def test_ignored_and_unlisted_exceptions_do_not_count(self, clock, events):
        breaker = make_breaker(
            clock,
            events,
            failure_exceptions=(ConnectionError, TimeoutError),
            ignored_exceptions=(ConnectionRefusedError,),
            failure_threshold=1,
        )
        for exc in (ValueError("bad input"), ConnectionRefusedError("not counted")):
            with pytest.raises(type(exc)), breaker.call():
                raise exc
        assert item() == {}
        with pytest.raises(TimeoutError), breaker.call():
            raise TimeoutError
        assert item()["circuitState"]["S"] == "OPEN"

    def test_slow_calls_count_as_failures_when_enabled(self, clock, events):
        breaker = make_breaker(clock, events, slow_call_duration=2.0, failure_threshold=2)

        @breaker.guard()
        def slow() -> str:
            clock.advance(3)
            return "late but fine"

        assert slow() == "late but fine"
        assert item()["failureCount"]["N"] == "1"

    def test_slow_calls_do_not_count_by_default(self, clock, events):
        breaker = make_breaker(clock, events)
        with breaker.call():
            clock.advance(100)
        assert item() == {}


class TestOpen:
    def test_rejects_with_circuit_id_and_time_until_retry(self, clock, events):
        breaker = make_breaker(clock, events)
        open_circuit(breaker)
        downstream = Downstream()
        clock.advance(10)
        with pytest.raises(CircuitOpenError) as raised:
            breaker.guard()(downstream)()
        assert raised.value.circuit_id == "payments"
        assert raised.value.retry_after == pytest.approx(20)
        assert raised.value.state is State.OPEN
        assert downstream.calls == 0
        rejected = events.named("CallRejected")
        assert rejected[-1]["CallsRejected"] == 1
        assert rejected[-1]["retryAfter"] == pytest.approx(20)

    def test_fallback_answers_instead(self, clock, events):
        breaker = make_breaker(clock, events)
        open_circuit(breaker)

        @breaker.guard(fallback=lambda order: {"order": order, "status": "deferred"})
        def charge(order: str) -> dict[str, str]:
            raise AssertionError("must not be called while open")

        assert charge("o-1") == {"order": "o-1", "status": "deferred"}

    def test_an_open_circuit_costs_no_requests_until_it_may_probe(self, clock, events):
        client = new_client()
        breaker = make_breaker(clock, events, client)
        open_circuit(breaker)
        counter = RequestCounter(client)
        for _ in range(25):
            clock.advance(1)
            with pytest.raises(CircuitOpenError):
                succeed(breaker)
        assert counter.count == 0


class TestHalfOpen:
    def test_first_call_after_the_open_duration_probes_and_a_success_closes(self, clock, events):
        breaker = make_breaker(clock, events)
        open_circuit(breaker)
        clock.advance(30)
        with breaker.call():
            assert item()["circuitState"]["S"] == "HALF_OPEN"
        assert item()["circuitState"]["S"] == "CLOSED"
        assert events.transitions() == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]

    def test_success_threshold_probes_are_needed_to_close(self, clock, events):
        breaker = make_breaker(clock, events, success_threshold=3)
        open_circuit(breaker)
        clock.advance(30)
        succeed(breaker)
        succeed(breaker)
        assert item()["circuitState"]["S"] == "HALF_OPEN"
        assert item()["halfOpenSuccesses"]["N"] == "2"
        succeed(breaker)
        assert item()["circuitState"]["S"] == "CLOSED"

    def test_a_probe_failure_reopens_with_doubled_time_up_to_the_cap(self, clock, events):
        breaker = make_breaker(clock, events, open_duration=30, max_open_duration=100)
        open_circuit(breaker)
        durations = []
        for _ in range(3):
            clock.advance(float(item()["openUntil"]["N"]) - clock())
            fail(breaker)
            durations.append(float(item()["openUntil"]["N"]) - clock())
        assert durations == [60, 100, 100]
        assert item()["consecutiveOpens"]["N"] == "4"

    def test_closing_resets_the_backoff(self, clock, events):
        breaker = make_breaker(clock, events)
        open_circuit(breaker)
        clock.advance(30)
        fail(breaker)  # re-open for 60 s
        clock.advance(60)
        succeed(breaker)  # closed
        open_circuit(breaker)
        assert float(item()["openUntil"]["N"]) - clock() == 30

    def test_at_most_half_open_max_calls_probes_at_once(self, clock, events):
        containers = [make_breaker(clock, events, half_open_max_calls=2) for _ in range(3)]
        open_circuit(containers[0])
        clock.advance(30)
        with containers[0].call(), containers[1].call():
            assert set(item()["probes"]["M"]) == {"s0", "s1"}
            with pytest.raises(CircuitOpenError) as raised:
                succeed(containers[2])
            assert raised.value.state is State.HALF_OPEN
        assert item()["circuitState"]["S"] == "CLOSED"

    def test_a_crashed_probe_frees_its_slot_when_the_lease_expires(self, clock, events):
        crashed, other = (
            make_breaker(clock, events, probe_timeout=10),
            make_breaker(clock, events, probe_timeout=10),
        )
        open_circuit(crashed)
        clock.advance(30)
        stuck = crashed.call()
        stuck.__enter__()  # the container dies mid-call and never reports back
        with pytest.raises(CircuitOpenError):
            succeed(other)
        clock.advance(11)
        succeed(other)
        assert item()["circuitState"]["S"] == "CLOSED"

    def test_a_late_success_of_an_expired_probe_is_not_counted(self, clock, events):
        slow, fast = (
            make_breaker(clock, events, probe_timeout=5),
            make_breaker(clock, events, probe_timeout=5),
        )
        open_circuit(slow)
        clock.advance(30)
        late = slow.call()
        late.__enter__()
        clock.advance(6)
        with fast.call():  # takes over the expired slot
            late.__exit__(None, None, None)  # the slow probe finishes, but its lease is gone
            assert item()["circuitState"]["S"] == "HALF_OPEN"
        assert item()["circuitState"]["S"] == "CLOSED"


# ------------------------------------------------------------------------------ races, interleaved


class TestInterleavings:
    def test_a_stale_container_never_overwrites_a_newer_state(self, clock, events):
        stale, fresh = make_breaker(clock, events, cache_ttl=60), make_breaker(clock, events)
        succeed(stale)  # caches CLOSED
        open_circuit(fresh)
        version = item()["version"]["N"]
        fail(stale)  # allowed by its stale cache; its failure write loses the race
        stored = item()
        assert stored["circuitState"]["S"] == "OPEN"
        assert stored["version"]["N"] == version
        assert "failureCount" not in stored
        with pytest.raises(CircuitOpenError):
            succeed(stale)  # it re-read the state when it lost the race

    def test_only_one_container_wins_the_half_open_transition(self, clock, events):
        first, second = make_breaker(clock, events), make_breaker(clock, events)
        open_circuit(first)
        succeed_or_reject = []
        clock.advance(30)
        second._current(clock())  # both hold the same OPEN snapshot
        with first.call():
            try:
                succeed(second)
                succeed_or_reject.append("allowed")
            except CircuitOpenError:
                succeed_or_reject.append("rejected")
        assert succeed_or_reject == ["rejected"]
        assert events.transitions().count(("OPEN", "HALF_OPEN")) == 1

    def test_a_close_based_on_an_old_period_is_refused(self, clock, events):
        a, b = (
            make_breaker(clock, events, half_open_max_calls=2),
            make_breaker(clock, events, half_open_max_calls=2),
        )
        open_circuit(a)
        clock.advance(30)
        probe_a = a.call()
        probe_a.__enter__()
        fail(b)  # b's probe fails: the circuit re-opens, a new version
        reopened = item()["version"]["N"]
        probe_a.__exit__(None, None, None)  # a's success belongs to the old period
        assert item()["circuitState"]["S"] == "OPEN"
        assert item()["version"]["N"] == reopened

    def test_every_write_is_conditional(self, clock, events):
        client = new_client()
        counter = RequestCounter(client)
        breaker = make_breaker(clock, events, client)
        open_circuit(breaker)
        clock.advance(30)
        fail(breaker)
        clock.advance(60)
        succeed(breaker)
        writes = [params for name, params in counter.calls if name != "GetItem"]
        assert {name for name, _ in counter.calls} <= {"GetItem", "UpdateItem"}
        assert {f"dynamodb:{name}" for name, _ in counter.calls} == set(IAM_ACTIONS), (
            "what the construct grants"
        )
        assert writes
        for params in writes:
            assert params["ConditionExpression"]


# ------------------------------------------------------------------------------------------- cost


def test_a_thousand_successful_calls_in_one_cache_period_cost_at_most_two_requests(clock, events):
    client = new_client()
    counter = RequestCounter(client)
    breaker = make_breaker(clock, events, client)
    downstream = Downstream()
    guarded = breaker.guard()(downstream)
    for i in range(1000):
        assert guarded(i) == i
    assert downstream.calls == 1000
    assert counter.count <= 2
    print(f"\nDynamoDB requests for 1,000 successful CLOSED calls: {counter.count}")


def test_reads_are_cached_for_cache_ttl(clock, events):
    client = new_client()
    counter = RequestCounter(client)
    breaker = make_breaker(clock, events, client, cache_ttl=1.0)
    for _ in range(5):
        succeed(breaker)
        clock.advance(0.5)
    # reads at t=0, 1.0 and 2.0
    assert counter.names() == ["GetItem", "GetItem", "GetItem"]


# ------------------------------------------------------------------------------------------ faults


def unreachable_client() -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 0}, connect_timeout=0.5, read_timeout=0.5),
    )


def throttling_client() -> Any:
    client = new_client()
    stubber = Stubber(client)
    for _ in range(10):
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", http_status_code=400)
    stubber.activate()
    return client


@pytest.mark.parametrize(
    "make_client", [unreachable_client, throttling_client], ids=["unreachable", "throttled"]
)
def test_fail_open_lets_calls_through_and_counts_the_store_error(clock, events, make_client):
    breaker = make_breaker(clock, events, make_client())
    downstream = Downstream()
    assert breaker.guard()(downstream)("ok") == "ok"
    assert downstream.calls == 1
    [error] = events.named("StateStoreError")
    assert error["StateStoreErrors"] == 1
    assert error["failOpen"] is True
    assert error["level"] == "ERROR"


@pytest.mark.parametrize(
    "make_client", [unreachable_client, throttling_client], ids=["unreachable", "throttled"]
)
def test_fail_closed_rejects_when_the_store_fails(clock, events, make_client):
    breaker = make_breaker(clock, events, make_client(), fail_open=False)
    downstream = Downstream()
    with pytest.raises(CircuitOpenError, match="state store unavailable"):
        breaker.guard()(downstream)()
    assert downstream.calls == 0
    fallback = breaker.guard(fallback=lambda: "fallback")(downstream)
    assert fallback() == "fallback"


def test_a_failed_write_never_hides_the_callers_own_error(clock, events):
    client = new_client()
    breaker = make_breaker(clock, events, client)
    succeed(breaker)  # cached CLOSED
    stubber = Stubber(client)
    stubber.add_client_error("update_item", "ThrottlingException", http_status_code=400)
    stubber.activate()
    with pytest.raises(ConnectionError), breaker.call():
        raise ConnectionError("downstream")
    assert events.named("StateStoreError")[0]["during"] == "record"


def test_conditional_check_failures_are_races_not_store_errors(clock, events):
    stale, fresh = make_breaker(clock, events, cache_ttl=60), make_breaker(clock, events)
    succeed(stale)
    open_circuit(fresh)
    fail(stale)
    assert events.named("StateStoreError") == []


# ---------------------------------------------------------------------------------- observability


def test_transitions_and_rejections_are_emf_records(clock, events):
    breaker = make_breaker(clock, events, metrics_namespace="Payments/Breakers")
    open_circuit(breaker)
    with pytest.raises(CircuitOpenError):
        succeed(breaker)
    opened = events.named("StateTransition")[0]
    metric_block = opened["_aws"]["CloudWatchMetrics"][0]
    assert metric_block["Namespace"] == "Payments/Breakers"
    assert metric_block["Dimensions"] == [["CircuitId", "StateTable"]]
    assert metric_block["Metrics"] == [{"Name": "CircuitOpened", "Unit": "Count"}]
    assert opened["CircuitId"] == "payments"
    assert opened["StateTable"] == breaker.table_name
    assert opened["CircuitOpened"] == 1
    assert opened["_aws"]["Timestamp"] == int(clock() * 1000)
    assert (
        events.named("CallRejected")[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
        == "CallsRejected"
    )


def test_default_emit_prints_one_json_line(clock, capsys):
    breaker = CircuitBreaker(
        "payments", table_name=TABLE, clock=clock, client=new_client(), settings={"failure_threshold": 1}
    )
    fail(breaker)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["StateTransition"]


# ------------------------------------------------------------------------------------ item, settings


def test_item_schema_and_ttl_that_decisions_never_read(clock, events):
    breaker = make_breaker(clock, events)
    open_circuit(breaker)
    stored = item()
    assert stored["schemaVersion"]["N"] == "1"
    assert int(stored["version"]["N"]) == 1
    assert float(stored["expiresAt"]["N"]) == int(clock() + 7 * 24 * 3600)
    # An expired TTL must not change any decision: rewrite it into the past.
    new_client().update_item(
        TableName=TABLE,
        Key={"id": {"S": "payments"}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    clock.advance(5)
    with pytest.raises(CircuitOpenError):
        succeed(make_breaker(clock, events))


def test_settings_come_from_the_environment_written_by_attach(clock, events, monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", TABLE)
    monkeypatch.setenv(
        "CIRCUIT_BREAKER_SETTINGS",
        json.dumps(
            {"payments": {"failure_threshold": 2, "open_duration": 5}, "other": {"failure_threshold": 9}}
        ),
    )
    breaker = CircuitBreaker("payments", clock=clock, client=new_client(), emit=events)
    assert breaker.table_name == TABLE
    assert (breaker.settings.failure_threshold, breaker.settings.open_duration, breaker.settings.window) == (
        2,
        5.0,
        60.0,
    )
    explicit = CircuitBreaker(
        "payments", settings={"failure_threshold": 7}, clock=clock, client=new_client(), emit=events
    )
    assert explicit.settings.failure_threshold == 7
    assert explicit.settings.open_duration == 5.0  # the keys not passed still come from attach()


def test_a_whole_settings_object_must_agree_with_what_attach_configured(clock, events, monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", TABLE)
    monkeypatch.setenv("CIRCUIT_BREAKER_SETTINGS", json.dumps({"payments": {"failure_threshold": 2}}))
    agreeing = BreakerSettings(failure_threshold=2, cache_ttl=0.5)
    breaker = CircuitBreaker("payments", settings=agreeing, clock=clock, client=new_client(), emit=events)
    assert breaker.settings is agreeing
    with pytest.raises(ValueError, match="failure_threshold=5: attach\\(\\) configured 2"):
        CircuitBreaker("payments", settings=BreakerSettings(), clock=clock, client=new_client(), emit=events)
    with pytest.raises(ValueError, match="pass a BreakerSettings, a mapping of settings, or None"):
        CircuitBreaker("payments", settings=[("failure_threshold", 3)], clock=clock, client=new_client())  # type: ignore[arg-type]
    assert not hasattr(breaker, "failure_threshold"), "settings are read from breaker.settings only"


@pytest.mark.parametrize(
    "settings",
    [
        {"failure_threshold": 0},
        {"window": 0},
        {"open_duration": 60, "max_open_duration": 30},
        {"half_open_max_calls": 0},
        {"cache_ttl": -1},
    ],
)
def test_invalid_settings_are_refused(clock, events, settings):
    with pytest.raises(ValueError, match="invalid settings"):
        make_breaker(clock, events, **settings)


def test_a_missing_table_is_refused(monkeypatch):
    monkeypatch.delenv("CIRCUIT_BREAKER_TABLE", raising=False)
    with pytest.raises(ValueError, match="no state table"):
        CircuitBreaker("payments")


def test_runtime_imports_where_aws_cdk_cannot_be_imported():
    """What a Lambda function sees: the layer's package, no aws_cdk."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('aws_cdk', 'constructs', 'jsii', 'cdk_nag'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from constructs_lib.runtime import CircuitBreaker, CircuitOpenError, State\n"
        "assert not any(m.split('.')[0] in ('aws_cdk', 'jsii') for m in sys.modules)\n"
        "print(State.HALF_OPEN.value)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "HALF_OPEN"


def test_client_errors_other_than_races_are_store_errors(clock, events):
    client = new_client()
    breaker = make_breaker(clock, events, client, fail_open=False)
    stubber = Stubber(client)
    stubber.add_client_error("get_item", "ResourceNotFoundException", http_status_code=400)
    stubber.activate()
    with pytest.raises(CircuitOpenError):
        succeed(breaker)
    assert "ResourceNotFoundException" in events.named("StateStoreError")[0]["error"]


def test_a_lost_race_learns_the_winner_from_the_failed_write_without_a_read(clock, events):
    """ReturnValuesOnConditionCheckFailure=ALL_OLD: the refused write carries the item that won."""
    winner = make_breaker(clock, events, failure_threshold=2)
    client = new_client()
    stale = make_breaker(clock, events, client, failure_threshold=2)
    succeed(stale)  # caches CLOSED
    counter = RequestCounter(client)
    open_circuit(winner)
    fail(stale)  # permitted from its cache; its failure count is refused because the circuit is OPEN
    assert counter.names() == ["UpdateItem"]
    assert counter.calls[0][1]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    with pytest.raises(CircuitOpenError):
        succeed(stale)  # it learned OPEN from the refused write: rejected with no request
    assert counter.names() == ["UpdateItem"]


def test_a_table_the_runtime_cannot_use_is_reported_as_a_misconfiguration(clock, events):
    """A table keyed 'pk' fails every request: fail-open lets calls through, but never silently."""
    client = new_client()
    client.create_table(
        TableName="keyed-by-pk",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    breaker = CircuitBreaker(
        "payments",
        table_name="keyed-by-pk",
        settings={"failure_threshold": 2},
        clock=clock,
        client=client,
        emit=events,
    )
    downstream = Downstream()
    downstream.healthy = False
    for _ in range(5):
        with pytest.raises(ConnectionError):
            breaker.guard()(downstream)()
    errors = events.named("StateStoreError")
    assert errors, "every failed state read is logged"
    assert {e["kind"] for e in errors} == {"misconfiguration"}
    assert {e["errorCode"] for e in errors} == {"ValidationException"}
    assert all(e["StateStoreErrors"] == 1 and e["StateStoreMisconfigurations"] == 1 for e in errors)
    metrics = errors[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    assert [m["Name"] for m in metrics] == ["StateStoreErrors", "StateStoreMisconfigurations"]


def test_a_passing_fault_is_counted_but_not_called_a_misconfiguration(clock, events):
    client = new_client()
    breaker = make_breaker(clock, events, client)
    stubber = Stubber(client)
    stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", http_status_code=400)
    stubber.activate()
    succeed(breaker)
    [error] = events.named("StateStoreError")
    assert error["kind"] == "transient"
    assert "StateStoreMisconfigurations" not in error
