"""Nothing silent, second round: each mistake a new user made with the newer features is refused, warned or
supported, and the correct setups named beside them pass untouched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Annotations, Match

from constructs_lib import CircuitBreaker, QueueBufferedIngest
from constructs_lib.runtime import CircuitBreaker as RuntimeBreaker
from constructs_lib.runtime import CircuitOpenError, InvalidSettingsError
from tests import breaker_support
from tests.conftest import make_function
from tests.harness import assert_misconfigured, new_stack, template_of

# ------------------------------------------------------------------------------------ the runtime

STATE = breaker_support.TABLE


@pytest.fixture
def breaker(aws, clock, events):
    return breaker_support.make_breaker(clock, events, failure_threshold=2)


def test_guard_works_with_and_without_parentheses(breaker):
    calls: list[str] = []

    @breaker.guard
    def bare(x: str) -> str:
        calls.append(x)
        return x.upper()

    @breaker.guard()
    def called(x: str) -> str:
        calls.append(x)
        return x

    assert bare("a") == "A"
    assert called("b") == "b"
    assert calls == ["a", "b"], "the downstream is called in both forms"


def test_guard_counts_failures_of_coroutines_and_rejects_them_when_open(breaker):
    attempts = 0

    @breaker.guard
    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            asyncio.run(flaky())
    with pytest.raises(CircuitOpenError):
        asyncio.run(flaky())
    assert attempts == 2, "the open circuit rejects the third call before the coroutine runs"


def test_guard_refuses_a_fallback_passed_positionally(breaker):
    with pytest.raises(TypeError, match="fallback by keyword"):
        breaker.guard("not a function")


def test_call_works_as_a_context_manager_with_and_without_parentheses(breaker):
    for block in (breaker.call, breaker.call()):
        with pytest.raises(ConnectionError), block:
            raise ConnectionError("down")
    with pytest.raises(CircuitOpenError), breaker.call:
        pass


@pytest.mark.parametrize("value", [[KeyError], KeyError, (KeyError, ValueError)])
def test_exception_lists_and_single_classes_are_accepted(value):
    breaker = RuntimeBreaker("payments", table_name=STATE, ignored_exceptions=value)
    assert KeyError in breaker.ignored_exceptions


@pytest.mark.parametrize("value", ["KeyError", [KeyError, "ValueError"], 42])
def test_anything_but_exception_classes_is_refused_at_construction(value):
    with pytest.raises(InvalidSettingsError, match=r"ignored_exceptions=.*must be an exception class"):
        RuntimeBreaker("payments", table_name=STATE, ignored_exceptions=value)


def test_a_circuit_id_the_environment_does_not_list_is_refused_naming_the_attached_ones(monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_SETTINGS", json.dumps({"payments": {}, "tenant:42": {}}))
    with pytest.raises(InvalidSettingsError, match="'payments', 'tenant:42'"):
        RuntimeBreaker("payment", table_name=STATE)
    RuntimeBreaker("payments", table_name=STATE)  # an attached id passes


def test_a_fallback_on_a_paused_circuit_is_refused_at_decoration(monkeypatch):
    monkeypatch.setenv("CIRCUIT_BREAKER_PAUSED_CIRCUITS", json.dumps(["payments"]))
    breaker = RuntimeBreaker("payments", table_name=STATE)
    with pytest.raises(InvalidSettingsError, match=r"batch item failure|retried"):
        breaker.guard(fallback=lambda order: {"status": "deferred"})
    breaker.guard()  # without a fallback: CircuitOpenError reaches the batch processor
    other = RuntimeBreaker("inventory", table_name=STATE)
    other.guard(fallback=lambda: None)  # another, unpaused circuit keeps its fallback


# ------------------------------------------------------------------------------------ attach and pause


def attached_ingest(stack: cdk.Stack, breaker: CircuitBreaker, **attach: Any) -> QueueBufferedIngest:
    consumer = make_function(stack)
    breaker.attach(consumer, circuit_id="payments", **attach)
    return QueueBufferedIngest(stack, "Ingest", consumer=consumer, max_receive_count=10)


def test_two_functions_on_one_circuit_with_different_settings_are_refused(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(make_function(stack, "A"), circuit_id="payments", failure_threshold=3)
    assert_misconfigured(
        lambda: breaker.attach(make_function(stack, "B"), circuit_id="payments", failure_threshold=5),
        "settings",
        "one state item",
    )
    breaker.attach(make_function(stack, "C"), circuit_id="payments", failure_threshold=3)  # the same: fine


def test_a_slow_call_duration_at_or_above_the_timeout_is_refused(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    fn = make_function(stack, timeout=Duration.seconds(30))
    assert_misconfigured(
        lambda: breaker.attach(fn, circuit_id="payments", slow_call_duration=Duration.seconds(30)),
        "slow_call_duration",
        "below the timeout",
    )
    breaker.attach(fn, circuit_id="payments", slow_call_duration=Duration.seconds(5))


def test_a_metric_of_a_circuit_nobody_attaches_fails_synth():
    stack = new_stack()
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(make_function(stack), circuit_id="payments")
    breaker.metric_calls_rejected("payment")
    with pytest.raises(RuntimeError, match=r"circuit_id: got 'payment'.*attached: \['payments'\]"):
        template_of(stack)


def test_two_breakers_with_one_circuit_id_alarm_on_their_own_state_only(stack):
    dev, prod = CircuitBreaker(stack, "Dev"), CircuitBreaker(stack, "Prod")
    dev.attach(make_function(stack, "DevFn"), circuit_id="payments")
    prod.attach(make_function(stack, "ProdFn"), circuit_id="payments")
    dimensions = {
        json.dumps(alarm["Properties"]["Dimensions"], sort_keys=True)
        for alarm in template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "CircuitOpened"
    }
    assert len(dimensions) == 2, "each breaker's alarm reads its own table's metrics"


def stream_table(
    stack: cdk.Stack, view: dynamodb.StreamViewType | None, ttl: str | None = "expiresAt"
) -> Any:
    return dynamodb.Table(
        stack,
        "State",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        stream=view,
        time_to_live_attribute=ttl,
    )


@pytest.mark.parametrize("view", [dynamodb.StreamViewType.KEYS_ONLY, dynamodb.StreamViewType.NEW_IMAGE, None])
def test_a_table_whose_stream_cannot_carry_the_state_is_refused_for_pausing(stack, view):
    breaker = CircuitBreaker(stack, "Breaker", existing_table=stream_table(stack, view))
    ingest = attached_ingest(stack, breaker)
    assert_misconfigured(
        lambda: breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments"),
        "existing_table",
        "NEW_AND_OLD_IMAGES",
    )


def test_a_table_without_ttl_on_the_expiry_attribute_warns(stack):
    CircuitBreaker(stack, "Breaker", existing_table=stream_table(stack, None, ttl=None))
    CircuitBreaker(stack, "Fine", existing_table=stream_table(new_stack(), None))
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("no TTL on 'expiresAt'")
    )
    assert [w.id for w in warnings] == ["/TestStack/Breaker"]
    assert "acknowledge_warning('constructs_lib:breakerTableTtl'" in warnings[0].entry.data


def test_the_consumer_learns_which_of_its_circuits_are_paused(stack):
    breaker = CircuitBreaker(stack, "Breaker")
    ingest = attached_ingest(stack, breaker)
    breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments")
    functions = template_of(stack).find_resources("AWS::Lambda::Function")
    consumer = functions[stack.get_logical_id(ingest.consumer.node.default_child)]["Properties"]
    assert consumer["Environment"]["Variables"]["CIRCUIT_BREAKER_PAUSED_CIRCUITS"] == '["payments"]'
