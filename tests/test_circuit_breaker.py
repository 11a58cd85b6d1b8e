"""CircuitBreaker (the construct): table, layer, attach() wiring, least privilege and alarms."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match

from constructs_lib import (
    CircuitBreaker,
    ConstructsLibValidationError,
    QueueBufferedIngest,
    SnapStartFunction,
)
from constructs_lib.runtime import BreakerSettings, InvalidSettingsError
from constructs_lib.runtime import CircuitBreaker as RuntimeBreaker
from constructs_lib.runtime._capacity import OVERLOAD_ODDS, fleet_need, overload_odds
from tests.breaker_support import TABLE
from tests.conftest import make_function
from tests.harness import (
    REPO_ROOT,
    assert_misconfigured,
    load_handler,
    new_app,
    only_resource,
    resources_of,
    template_of,
)


def statements_of(stack: cdk.Stack, role: iam.IRole) -> list[dict[str, Any]]:
    role_id = stack.get_logical_id(role.node.default_child)
    return [
        s
        for p in resources_of(template_of(stack), "AWS::IAM::Policy").values()
        if role_id in json.dumps(p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def env_of(stack: cdk.Stack, fn: lambda_.Function) -> dict[str, Any]:
    props = template_of(stack).to_json()["Resources"][stack.get_logical_id(fn.node.default_child)][
        "Properties"
    ]
    variables: dict[str, Any] = props["Environment"]["Variables"]
    return variables


def big_function(stack: cdk.Stack, id: str = "Big", reserved: int | None = None) -> lambda_.Function:
    return lambda_.Function(
        stack,
        id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        reserved_concurrent_executions=reserved,
    )


class TestTable:
    def test_on_demand_pk_id_ttl_pitr_encrypted_and_retained(self, stack):
        CircuitBreaker(stack, "Breaker")
        table = only_resource(template_of(stack), "AWS::DynamoDB::Table")
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert table["DeletionPolicy"] == "Retain"

    def test_removal_policy_and_table_props(self, stack):
        CircuitBreaker(
            stack,
            "Breaker",
            removal_policy=RemovalPolicy.DESTROY,
            table_props={"table_name": "circuits", "deletion_protection": True},
        )
        table = only_resource(template_of(stack), "AWS::DynamoDB::Table")
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["TableName"] == "circuits"
        assert table["Properties"]["DeletionProtectionEnabled"] is True

    def test_existing_table(self, stack):
        existing = dynamodb.Table.from_table_name(stack, "Existing", "shared-circuits")
        breaker = CircuitBreaker(stack, "Breaker", existing_table=existing)
        template_of(stack).resource_count_is("AWS::DynamoDB::Table", 0)
        wiring = breaker.attach(make_function(stack), circuit_id="payments")
        assert wiring.environment["CIRCUIT_BREAKER_TABLE"] == "shared-circuits"


class TestAttach:
    def test_adds_the_layer_env_grant_and_alarm(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        fn = make_function(stack)
        wiring = breaker.attach(fn, circuit_id="payments", failure_threshold=3, window=Duration.seconds(30))
        t = template_of(stack)
        layer_id = stack.get_logical_id(breaker.layer.node.default_child)
        props = t.to_json()["Resources"][stack.get_logical_id(fn.node.default_child)]["Properties"]
        assert props["Layers"] == [{"Ref": layer_id}]
        env = props["Environment"]["Variables"]
        assert env["CIRCUIT_BREAKER_TABLE"] == {"Ref": stack.get_logical_id(breaker.table.node.default_child)}
        assert env["CIRCUIT_BREAKER_NAMESPACE"] == "ConstructsLib/CircuitBreaker"
        assert json.loads(env["CIRCUIT_BREAKER_SETTINGS"]) == {
            "payments": {"failure_threshold": 3, "window": 30.0}
        }
        assert wiring.layer_added is True
        assert wiring.settings == {"failure_threshold": 3, "window": 30.0}
        assert wiring.function.node.path == fn.node.path
        assert wiring.alarm is breaker.alarms[0]

    def test_fleet_mode_is_a_setting_the_runtime_reads_and_a_wrong_value_fails_synth(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        fn = make_function(stack)
        breaker.attach(fn, circuit_id="payments", read_copies=32)
        assert json.loads(env_of(stack, fn)["CIRCUIT_BREAKER_SETTINGS"]) == {"payments": {"read_copies": 32}}
        with pytest.raises(ConstructsLibValidationError) as refused:
            breaker.attach(make_function(stack, "Other"), circuit_id="orders", read_copies=100)
        assert "read_copies: got 100" in str(refused.value)
        assert "from 1 to 64" in str(refused.value)

    def test_a_function_reserving_more_containers_than_one_item_holds_is_warned_about(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(big_function(stack, "Big", 5000), circuit_id="payments")
        warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("read_copies=32"))
        assert len(warnings) == 1
        assert "reserves 5000 concurrent executions" in str(warnings[0].entry.data)

    def test_fleet_mode_or_a_small_function_is_not_warned_about(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        for name, reserved, copies in (("Big", 5000, 32), ("Small", 1000, None)):
            breaker.attach(big_function(stack, name, reserved), circuit_id=f"c{name}", read_copies=copies)
        assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("read_copies")) == []

    def test_grants_only_the_item_actions_the_runtime_uses_on_this_table(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        fn = make_function(stack)
        breaker.attach(fn, circuit_id="payments")
        table_arn = {"Fn::GetAtt": [stack.get_logical_id(breaker.table.node.default_child), "Arn"]}
        dynamo = [s for s in statements_of(stack, fn.role) if "dynamodb" in json.dumps(s["Action"])]
        assert dynamo == [
            {"Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"], "Effect": "Allow", "Resource": table_arn}
        ]
        everything = json.dumps(statements_of(stack, fn.role))
        assert "dynamodb:*" not in everything
        assert '"Resource": "*"' not in everything

    def test_alarm_fires_when_the_circuit_opens(self, stack):
        topic = sns.Topic(stack, "Topic")
        breaker = CircuitBreaker(stack, "Breaker", alarm_topic=topic, metrics_namespace="Shop/Breakers")
        breaker.attach(make_function(stack), circuit_id="payments")
        alarms = template_of(stack).find_resources("AWS::CloudWatch::Alarm")
        [alarm] = [
            a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "CircuitOpened"
        ]
        assert alarm["Namespace"] == "Shop/Breakers"
        assert alarm["MetricName"] == "CircuitOpened"
        table = stack.get_logical_id(breaker.table.node.default_child)
        assert alarm["Dimensions"] == [
            {"Name": "CircuitId", "Value": "payments"},
            {"Name": "StateTable", "Value": {"Ref": table}},
        ]
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmActions"] == [{"Ref": stack.get_logical_id(topic.node.default_child)}]
        assert alarm["OKActions"] == alarm["AlarmActions"]

    def test_one_function_several_circuits_and_one_alarm_per_circuit(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        fn, other = make_function(stack), make_function(stack, "Other")
        breaker.attach(fn, circuit_id="payments", failure_threshold=2)
        breaker.attach(fn, circuit_id="tenant:42", open_duration=Duration.minutes(1))
        breaker.attach(other, circuit_id="payments", failure_threshold=2)  # one state item: same settings
        assert json.loads(env_of(stack, fn)["CIRCUIT_BREAKER_SETTINGS"]) == {
            "payments": {"failure_threshold": 2},
            "tenant:42": {"open_duration": 60.0},
        }
        props = template_of(stack).to_json()["Resources"][stack.get_logical_id(fn.node.default_child)][
            "Properties"
        ]
        assert len(props["Layers"]) == 1
        # Per circuit: one alarm when it opens, one when its state store fails (the breaker is then off).
        assert len(breaker.alarms) == 4
        template_of(stack).resource_count_is("AWS::CloudWatch::Alarm", 4)

    def test_a_snapstart_alias_is_wired_through_its_function(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        snap = SnapStartFunction(
            stack,
            "Snap",
            code=lambda_.Code.from_inline("x"),
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
        )
        wiring = breaker.attach(snap.alias, circuit_id="payments")
        assert wiring.function.node.path == snap.function.node.path
        assert "CIRCUIT_BREAKER_TABLE" in env_of(stack, snap.function)

    @pytest.mark.parametrize(
        "runtime", [lambda_.Runtime.NODEJS_22_X, lambda_.Runtime.JAVA_21, lambda_.Runtime.PYTHON_3_9]
    )
    def test_functions_that_cannot_load_the_python_layer_are_refused(self, stack, runtime):
        breaker = CircuitBreaker(stack, "Breaker")
        code = lambda_.Code.from_bucket(s3.Bucket.from_bucket_name(stack, "Code", "code"), "fn.zip")
        fn = lambda_.Function(stack, "Fn", runtime=runtime, handler="index.handler", code=code)
        error = assert_misconfigured(
            lambda: breaker.attach(fn, circuit_id="payments"), "function", "python3.10, python3.11"
        )
        assert runtime.name in str(error)
        assert "CIRCUIT_BREAKER_TABLE" not in json.dumps(template_of(stack).to_json())

    def test_grant_read_state(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        role = iam.Role(stack, "Ops", assumed_by=iam.AccountRootPrincipal())
        breaker.grant_read_state(role)
        [statement] = statements_of(stack, role)
        assert sorted(statement["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:GetItem"]

    def test_metrics(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(make_function(stack), circuit_id="payments")
        assert breaker.metric_calls_rejected("payments").metric_name == "CallsRejected"
        dimensions = breaker.metric_state_store_errors("payments").dimensions
        assert dimensions is not None
        assert dimensions["CircuitId"] == "payments"
        assert stack.resolve(dimensions["StateTable"]) == {
            "Ref": stack.get_logical_id(breaker.table.node.default_child)
        }


ERRORS = [
    ("imported", lambda s: {"function": lambda_.Function.from_function_name(s, "Imp", "x")}, "function"),
    ("empty id", lambda s: {"circuit_id": ""}, "circuit_id"),
    ("spaces", lambda s: {"circuit_id": "my circuit"}, "circuit_id"),
    ("threshold", lambda s: {"failure_threshold": 0}, "failure_threshold"),
    ("probes", lambda s: {"half_open_max_calls": 0}, "half_open_max_calls"),
    ("window", lambda s: {"window": Duration.seconds(0)}, "window"),
    (
        "cap",
        lambda s: {"open_duration": Duration.minutes(5), "max_open_duration": Duration.minutes(1)},
        "max_open_duration",
    ),
]


@pytest.mark.parametrize(("make", "prop"), [pytest.param(m, p, id=name) for name, m, p in ERRORS])
def test_attach_misconfiguration(stack, make, prop):
    breaker = CircuitBreaker(stack, "Breaker")
    kwargs = {"function": make_function(stack), "circuit_id": "payments", **make(stack)}
    fn = kwargs.pop("function")
    with pytest.raises(ConstructsLibValidationError) as raised:
        breaker.attach(fn, **kwargs)
    assert prop in {p.prop for p in raised.value.problems}


def test_construct_misconfiguration(stack):
    existing = dynamodb.Table.from_table_name(stack, "Existing", "t")
    with pytest.raises(ConstructsLibValidationError) as raised:
        CircuitBreaker(
            stack,
            "Breaker",
            existing_table=existing,
            table_props={"partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)},
            metrics_namespace="has spaces",
        )
    assert {p.prop for p in raised.value.problems} == {
        "table_props",
        "table_props['partition_key']",
        "metrics_namespace",
    }


# ------------------------------------------------------------------------------------------- layer


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("layer")
    app = new_app(outdir=outdir)
    stack = cdk.Stack(app, "Layer")
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(make_function(stack), circuit_id="payments")
    assembly = app.synth()
    layer = only_resource(
        cdk.assertions.Template.from_json(assembly.get_stack_by_name("Layer").template),
        "AWS::Lambda::LayerVersion",
    )
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_hash}"


def test_layer_holds_the_runtime_files(layer_dir):
    files = sorted(p.relative_to(layer_dir).as_posix() for p in layer_dir.rglob("*.py"))
    runtime_files = sorted(p.name for p in (REPO_ROOT / "constructs_lib" / "runtime").glob("*.py"))
    assert files == sorted(
        ["python/constructs_lib/__init__.py", *(f"python/constructs_lib/runtime/{n}" for n in runtime_files)]
    )


def test_layer_imports_as_lambda_sees_it_without_aws_cdk(layer_dir, tmp_path):
    """Only the layer and boto3 on the path, as in a Python function with the layer attached."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('aws_cdk', 'constructs', 'jsii'):\n"
        "            raise ImportError('not on Lambda: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from constructs_lib.runtime import CircuitBreaker\n"
        "import constructs_lib\n"
        "assert constructs_lib.__file__.startswith(sys.argv[1]), constructs_lib.__file__\n"
        "print(CircuitBreaker('payments', table_name='t').settings.failure_threshold)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(layer_dir / "python"), "AWS_DEFAULT_REGION": "eu-west-1"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(layer_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"


# --------------------------------------------------------------------------------- sample handler


@pytest.mark.usefixtures("aws")
def test_sample_handler_falls_back_once_the_circuit_opens(monkeypatch):
    import boto3

    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", TABLE)
    monkeypatch.setenv(
        "CIRCUIT_BREAKER_SETTINGS", json.dumps({"inventory-service": {"failure_threshold": 3}})
    )
    monkeypatch.setenv("DOWNSTREAM_FAILURE_RATE", "1.0")
    module = load_handler("inventory_client")
    module.breaker._access.client = boto3.client("dynamodb", region_name="eu-west-1")
    module.breaker._telemetry.emf.emit = lambda line: None
    calls = []
    original = module.call_inventory_service
    monkeypatch.setattr(module, "call_inventory_service", lambda sku: calls.append(sku) or original(sku))

    statuses = [
        module.handler({"queryStringParameters": {"sku": "beans"}}, None)["statusCode"] for _ in range(6)
    ]
    assert statuses == [504, 504, 504, 200, 200, 200]
    last = json.loads(module.handler({"queryStringParameters": {"sku": "beans"}}, None)["body"])
    assert last == {"sku": "beans", "available": None, "degraded": True}
    assert len(calls) == 3, "no call reaches the failing service once the circuit is open"


# Each case: the settings as attach() takes them, and as the runtime takes them (seconds).
SHARED_INVALID_SETTINGS = [
    ({"slow_call_duration": Duration.seconds(0)}, {"slow_call_duration": 0}),
    ({"failure_threshold": 0}, {"failure_threshold": 0}),
    ({"success_threshold": 2.5}, {"success_threshold": 2.5}),
    ({"half_open_max_calls": True}, {"half_open_max_calls": True}),
    ({"window": Duration.seconds(0)}, {"window": 0}),
    ({"cache_ttl": 1}, {"cache_ttl": -1}),
    ({"read_copies": 32, "cache_ttl": Duration.seconds(0)}, {"read_copies": 32, "cache_ttl": 0}),
    ({"fail_open": "no"}, {"fail_open": "no"}),
    (
        {"open_duration": Duration.minutes(5), "max_open_duration": Duration.minutes(1)},
        {"open_duration": 300, "max_open_duration": 60},
    ),
]


@pytest.mark.parametrize(("construct_side", "runtime_side"), SHARED_INVALID_SETTINGS)
def test_construct_and_runtime_refuse_the_same_settings(stack, construct_side, runtime_side):
    """One definition (constructs_lib.runtime.BreakerSettings) judges both sides, so they cannot drift."""
    breaker = CircuitBreaker(stack, "Breaker")
    with pytest.raises(ConstructsLibValidationError) as at_synth:
        breaker.attach(make_function(stack), circuit_id="payments", **construct_side)
    with pytest.raises(InvalidSettingsError) as at_runtime:
        RuntimeBreaker("payments", table_name="t", client=object(), settings=runtime_side)
    assert {p.prop for p in at_synth.value.problems} == {name for name, _, _ in at_runtime.value.problems}


def test_attach_defaults_are_the_runtime_defaults(stack):
    wiring = CircuitBreaker(stack, "Breaker").attach(make_function(stack), circuit_id="payments")
    assert wiring.settings == {}
    runtime = RuntimeBreaker("payments", table_name="t", client=object())
    assert runtime.settings == BreakerSettings()


def test_durations_take_fractions_of_a_second_as_the_runtime_does(stack, monkeypatch):
    fn = make_function(stack)
    wiring = CircuitBreaker(stack, "Breaker").attach(
        fn,
        circuit_id="payments",
        read_copies=32,
        cache_ttl=Duration.millis(500),
        window=Duration.millis(1500),
        slow_call_duration=Duration.millis(250),
    )
    assert wiring.settings == {"read_copies": 32, "cache_ttl": 0.5, "window": 1.5, "slow_call_duration": 0.25}
    monkeypatch.setenv("CIRCUIT_BREAKER_SETTINGS", env_of(stack, fn)["CIRCUIT_BREAKER_SETTINGS"])
    runtime = RuntimeBreaker("payments", table_name="t", client=object())
    assert (runtime.settings.cache_ttl, runtime.settings.window) == (0.5, 1.5)


# ------------------------------------------------------------------------------------- one mode

#: attach()'s read_copies for the circuit (None: the function is wired by hand, no attach()), and the
#: runtime's settings: every combination, and whether the runtime accepts it.
ATTACHED = {"hand-wired": None, "attach() default": {}, "attach(read_copies=32)": {"read_copies": 32}}
RUNTIME_SIDES = {
    "settings=None": None,
    "a mapping without read_copies": {"cache_ttl": 0.5},
    "{'read_copies': 1}": {"read_copies": 1},
    "{'read_copies': 32}": {"read_copies": 32},
    "BreakerSettings()": BreakerSettings(),
    "BreakerSettings(read_copies=32)": BreakerSettings(read_copies=32),
}


def _runtime_copies(given: Any, attached: dict[str, Any] | None) -> int:
    if isinstance(given, BreakerSettings):
        return given.read_copies
    return int({**(attached or {}), **(given or {})}.get("read_copies", 1))


@pytest.mark.parametrize("attached", list(ATTACHED), ids=list(ATTACHED))
@pytest.mark.parametrize("runtime_side", list(RUNTIME_SIDES), ids=list(RUNTIME_SIDES))
def test_one_mode_per_circuit_whatever_attach_and_the_runtime_are_given(
    stack, monkeypatch, attached, runtime_side
):
    """The runtime refuses, at construction, a read_copies other than the one attach() configured for its
    circuit (its default included), naming both. A function wired by hand has no attach() to agree with:
    the circuit's item keeps every mix safe (tests/test_breaker_fleet.py, TestMixedModes)."""
    entry, given = ATTACHED[attached], RUNTIME_SIDES[runtime_side]
    if entry is not None:
        fn = make_function(stack)
        CircuitBreaker(stack, "Breaker").attach(fn, circuit_id="payments", **entry)
        monkeypatch.setenv("CIRCUIT_BREAKER_SETTINGS", env_of(stack, fn)["CIRCUIT_BREAKER_SETTINGS"])
    configured = (entry or {}).get("read_copies", 1)
    wanted = _runtime_copies(given, entry)

    def build() -> RuntimeBreaker:
        return RuntimeBreaker("payments", table_name="t", client=object(), settings=given)

    if entry is None or wanted == configured:
        assert build().settings.read_copies == wanted
        return
    with pytest.raises(InvalidSettingsError) as refused:
        build()
    [(name, value, fix)] = refused.value.problems
    assert (name, value) == ("read_copies", wanted)
    assert f"attach() configured read_copies={configured}" in fix
    assert ("its default" in fix) == ("read_copies" not in entry)


# ------------------------------------------------------------------------------- warm throughput


def warm_throughput(stack: cdk.Stack) -> dict[str, Any] | None:
    table = only_resource(template_of(stack), "AWS::DynamoDB::Table")
    value: dict[str, Any] | None = table["Properties"].get("WarmThroughput")
    return value


class TestWarmThroughput:
    """In fleet mode attach() pre-warms the table for the fleet it is told about: enough partitions that the
    copies, wherever their keys hash, overload none with 99% odds (``fleet_need``)."""

    def test_a_fleet_of_20000_containers_gets_eight_partitions_worth_of_reads(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(
            make_function(stack), circuit_id="payments", read_copies=32, expected_containers=20_000
        )
        assert warm_throughput(stack) == {"ReadUnitsPerSecond": 24_000}, "96 write units: the default 4,000"
        need = fleet_need(20_000, 1.0, 32)
        assert (need.partitions, need.copies_per_partition) == (8, 10)
        assert need.read_units == pytest.approx(20_000 / 1.1 * 0.5), "containers / (cache x 1.1), half a unit"
        assert need.overload_odds <= OVERLOAD_ODDS
        assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []

    def test_the_fleet_is_the_reserved_concurrency_or_the_sum_of_the_circuits_functions(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(big_function(stack, "One", 10_000), circuit_id="payments", read_copies=32)
        cfn = breaker.table.node.default_child
        assert cfn.warm_throughput is None, "10,000 containers: a new table's 12,000 read units serve them"
        breaker.attach(
            big_function(stack, "Two"), circuit_id="payments", read_copies=32, expected_containers=10_000
        )
        assert warm_throughput(stack) == {"ReadUnitsPerSecond": 24_000}

    def test_a_shorter_cache_period_asks_for_more(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(
            make_function(stack),
            circuit_id="payments",
            read_copies=64,
            cache_ttl=Duration.millis(500),
            expected_containers=20_000,
        )
        need = fleet_need(20_000, 0.5, 64)
        assert warm_throughput(stack) == {"ReadUnitsPerSecond": need.warm_read_units}
        assert need.warm_read_units > 24_000

    def test_small_fleets_one_item_mode_and_unknown_fleets_write_none(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(make_function(stack), circuit_id="a", read_copies=32, expected_containers=5_000)
        breaker.attach(make_function(stack, "Unknown"), circuit_id="b", read_copies=32)
        breaker.attach(big_function(stack, "OneItem", 900), circuit_id="c")
        assert warm_throughput(stack) is None

    def test_expected_containers_is_a_whole_number_for_fleet_mode_only(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        error = assert_misconfigured(
            lambda: breaker.attach(make_function(stack), circuit_id="p", expected_containers=20_000),
            "expected_containers",
            "pass read_copies=32 too",
        )
        assert "20000" in str(error)
        for wrong in (0, 2.5, True):
            assert_misconfigured(
                lambda wrong=wrong: breaker.attach(
                    make_function(stack, f"F{wrong}"),
                    circuit_id="p",
                    read_copies=4,
                    expected_containers=wrong,
                ),
                "expected_containers",
                "must be",
            )

    def test_fleets_beyond_the_table_quota_are_capped_and_warned_about(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        for circuit in ("payments", "inventory"):
            breaker.attach(
                make_function(stack, circuit.title()),
                circuit_id=circuit,
                read_copies=32,
                expected_containers=20_000,
            )
        assert warm_throughput(stack) == {"ReadUnitsPerSecond": 40_000}
        [warning] = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("breakerTableQuota")
        )
        assert "48,000 read units" in str(warning.entry.data)

    def test_too_few_copies_for_the_fleet_are_warned_about(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(make_function(stack), circuit_id="payments", read_copies=8, expected_containers=20_000)
        [warning] = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("breakerFleetCopies")
        )
        fix = re.search(r"pass read_copies=(\d+) \(the fewest that fit\)", str(warning.entry.data))
        assert fix is not None, warning.entry.data
        suggested = int(fix[1])
        assert fleet_need(20_000, 1.0, suggested).fits
        assert not fleet_need(20_000, 1.0, suggested - 1).fits

    def test_a_warm_throughput_of_the_users_own_is_kept_and_checked(self, stack):
        low = dynamodb.WarmThroughput(read_units_per_second=15_000)
        breaker = CircuitBreaker(stack, "Breaker", table_props={"warm_throughput": low})
        breaker.attach(
            make_function(stack), circuit_id="payments", read_copies=32, expected_containers=20_000
        )
        assert warm_throughput(stack) == {"ReadUnitsPerSecond": 15_000}, "the user's, untouched"
        [warning] = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("breakerTableWarmThroughput")
        )
        assert "24,000 read units" in str(warning.entry.data)
        assert "table_props['warm_throughput'] is lower" in str(warning.entry.data)

    def test_an_existing_table_is_not_changed_but_told_what_it_needs(self, stack):
        existing = dynamodb.Table.from_table_name(stack, "Existing", "shared-circuits")
        breaker = CircuitBreaker(stack, "Breaker", existing_table=existing)
        breaker.attach(
            make_function(stack), circuit_id="payments", read_copies=32, expected_containers=20_000
        )
        warnings = Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp("breakerTableWarmThroughput")
        )
        assert len(warnings) == 1
        assert "not this construct's to change" in str(warnings[0].entry.data)


def test_the_placement_odds_are_exact():
    """overload_odds counts placements exactly: it agrees with every placement of 5 copies on 3 partitions."""
    import itertools

    placements = list(itertools.product(range(3), repeat=5))
    for most in range(6):
        over = sum(max(p.count(i) for i in range(3)) > most for p in placements) / len(placements)
        assert overload_odds(5, 3, most) == pytest.approx(over)


# ------------------------------------------------------------------------------- pause_while_open


def paused_ingest(stack: cdk.Stack, **ingest_props: Any) -> tuple[CircuitBreaker, Any, Any]:
    consumer = make_function(stack, "OrderConsumer")
    ingest = QueueBufferedIngest(stack, "Ingest", consumer=consumer, **ingest_props)
    breaker = CircuitBreaker(stack, "Breaker")
    breaker.attach(consumer, circuit_id="payments")
    return breaker, ingest, breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments")


def test_receives_an_outage_costs_follow_the_open_durations():
    from constructs_lib.circuit_breaker import receives_for_outage

    # 30 s doubling to 300 s, each followed by up to a minute's tick: 7 probe rounds in 30 minutes.
    assert receives_for_outage(BreakerSettings()) == 9
    assert receives_for_outage(BreakerSettings(open_duration=300, max_open_duration=300)) == 7
    assert receives_for_outage(BreakerSettings(), minutes=1) == 2


class TestPauseWhileOpen:
    def test_the_table_streams_new_and_old_images(self, stack):
        paused_ingest(stack)
        table = only_resource(template_of(stack), "AWS::DynamoDB::Table")["Properties"]
        assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}

    def test_the_governor_follows_the_stream_with_an_on_failure_destination(self, stack):
        _, _, pause = paused_ingest(stack)
        t = template_of(stack)
        mappings = t.find_resources("AWS::Lambda::EventSourceMapping")
        governor_id = stack.get_logical_id(pause.function.node.default_child)
        [stream] = [
            m["Properties"]
            for m in mappings.values()
            if m["Properties"]["FunctionName"] == {"Ref": governor_id}
        ]
        assert stream["EventSourceArn"] == {"Fn::GetAtt": [breaker_table_id(t), "StreamArn"]}
        assert stream["StartingPosition"] == "LATEST"
        assert stream["BisectBatchOnFunctionError"] is True
        queue_id = stack.get_logical_id(pause.failure_queue.node.default_child)
        queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}
        assert stream["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
        function = t.to_json()["Resources"][governor_id]["Properties"]
        assert function["Handler"] == "constructs_lib.runtime.governor.handler"
        assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}

    def test_the_failure_queue_keeps_what_eventbridge_delivers_to_it(self, stack):
        """SSE-SQS, not alias/aws/sqs (whose policy never admits events.amazonaws.com), and retained."""
        _, _, pause = paused_ingest(stack)
        queue_id = stack.get_logical_id(pause.failure_queue.node.default_child)
        queue = template_of(stack).to_json()["Resources"][queue_id]
        assert queue["Properties"].get("SqsManagedSseEnabled") is True
        assert "KmsMasterKeyId" not in queue["Properties"]
        assert queue["DeletionPolicy"] == queue["UpdateReplacePolicy"] == "Retain"

    def test_a_tick_every_minute(self, stack):
        _, _, pause = paused_ingest(stack)
        rule = only_resource(template_of(stack), "AWS::Events::Rule")["Properties"]
        assert rule["ScheduleExpression"] == "rate(1 minute)"
        [target] = rule["Targets"]
        governor_id = stack.get_logical_id(pause.function.node.default_child)
        assert target["Arn"] == {"Fn::GetAtt": [governor_id, "Arn"]}
        assert "DeadLetterConfig" in target

    def test_the_governed_mapping_and_its_settings_reach_the_governor(self, stack):
        _, ingest, pause = paused_ingest(stack, max_concurrency=7, batch_size=4)
        variables = env_of(stack, pause.function)
        parts = stack.resolve(variables["CIRCUIT_BREAKER_GOVERNED"])["Fn::Join"][1]
        tokens = [p for p in parts if not isinstance(p, str)]
        [entry] = json.loads("".join(p if isinstance(p, str) else "MAPPING" for p in parts))
        mapping_id = stack.get_logical_id(ingest.event_source_mapping.node.default_child)
        assert tokens == [{"Ref": mapping_id}]
        assert entry == {
            "mappingId": "MAPPING",
            "circuitId": "payments",
            "maxConcurrency": 7,
            "batchSize": 4,
            "probeConcurrency": 2,
        }

    def test_least_privilege(self, stack):
        _, ingest, pause = paused_ingest(stack)
        statements = statements_of(stack, pause.function.role)
        mapping_id = stack.get_logical_id(ingest.event_source_mapping.node.default_child)
        by_action = {}
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                by_action[action] = json.dumps(statement["Resource"])
        assert mapping_id in by_action["lambda:UpdateEventSourceMapping"]
        assert mapping_id in by_action["lambda:GetEventSourceMapping"]
        assert ":event-source-mapping:" in by_action["lambda:UpdateEventSourceMapping"]
        assert '"StreamArn"' in by_action["dynamodb:GetRecords"]
        assert by_action["dynamodb:GetItem"].endswith('"Arn"]}')
        wildcards = sorted(a for a, r in by_action.items() if r == '"*"')
        assert wildcards == ["dynamodb:ListStreams", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        assert "dynamodb:UpdateItem" not in by_action
        # It writes and deletes its own pause markers only, never a circuit's item.
        [markers] = [s for s in statements if "dynamodb:PutItem" in s["Action"]]
        assert sorted(markers["Action"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
        assert markers["Condition"] == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["governor-pause#*"]}
        }

    def test_alarms_on_failed_batches_errors_and_unreadable_circuits(self, stack):
        _, _, pause = paused_ingest(stack)
        names = {alarm.node.id for alarm in pause.alarms}
        assert {"GovernorFailuresAlarm", "GovernorErrorsAlarm"} <= names
        assert any(name.endswith("GovernorReadErrorsAlarm") for name in names)
        alarms = template_of(stack).find_resources("AWS::CloudWatch::Alarm")
        assert any(a["Properties"].get("MetricName") == "GovernorReadErrors" for a in alarms.values())

    def test_one_circuit_may_govern_several_mappings_with_one_governor(self, stack):
        breaker, _, first = paused_ingest(stack)
        other_consumer = make_function(stack, "Refunds")
        breaker.attach(other_consumer, circuit_id="payments")
        refunds = QueueBufferedIngest(stack, "RefundIngest", consumer=other_consumer)
        second = breaker.pause_while_open(refunds.event_source_mapping, circuit_id="payments")
        assert second.function is first.function
        template_of(stack).resource_count_is("AWS::Events::Rule", 1)

    def test_a_low_receive_count_is_warned_about(self, stack):
        paused_ingest(stack, max_receive_count=3)
        Annotations.from_stack(stack).has_warning(
            "/TestStack/Breaker", Match.string_like_regexp("raise max_receive_count to 9 or more")
        )

    def test_refusals(self, stack):
        breaker, ingest, _ = paused_ingest(stack)
        assert_misconfigured(
            lambda: breaker.pause_while_open(ingest.event_source_mapping, circuit_id="payments"),
            "mapping",
            "call pause_while_open once per mapping",
        )
        assert_misconfigured(
            lambda: breaker.pause_while_open(ingest.event_source_mapping, circuit_id="inventory"),
            "circuit_id",
            "is not a circuit of this breaker",
        )

    def test_a_mapping_whose_function_is_not_attached_is_refused(self, stack):
        breaker, _, _ = paused_ingest(stack)
        other = QueueBufferedIngest(stack, "Other", consumer=make_function(stack, "Unattached"))
        assert_misconfigured(
            lambda: breaker.pause_while_open(other.event_source_mapping, circuit_id="payments"),
            "mapping",
            "is not attached to circuit 'payments'",
        )

    def test_a_stream_mapping_is_refused(self, stack):
        breaker = CircuitBreaker(stack, "Breaker")
        fn = make_function(stack)
        breaker.attach(fn, circuit_id="payments")
        table = dynamodb.Table(
            stack,
            "Orders",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        stream_mapping = lambda_.EventSourceMapping(
            stack,
            "FromStream",
            target=fn,
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
        )
        assert_misconfigured(
            lambda: breaker.pause_while_open(stream_mapping, circuit_id="payments"),
            "mapping",
            "reads from AWS::DynamoDB::Table; only SQS mappings",
        )


def breaker_table_id(template: Any) -> str:
    tables = template.find_resources("AWS::DynamoDB::Table")
    [logical_id] = [k for k in tables if k.startswith("BreakerTable")]
    return logical_id


# ------------------------------------------------------------------------------------------- layout


def test_every_public_name_stays_where_it_was():
    import constructs_lib
    import constructs_lib.circuit_breaker as construct_side
    import constructs_lib.runtime as runtime
    import constructs_lib.runtime.breaker as breaker_module

    assert {
        constructs_lib.CircuitBreaker,
        constructs_lib.CircuitBreakerWiring,
        constructs_lib.ConsumerPause,
    } == {
        construct_side.CircuitBreaker,
        construct_side.CircuitBreakerWiring,
        construct_side.ConsumerPause,
    }
    for name in ("receives_for_outage", "ONE_ITEM_CONTAINERS", "GOVERNOR_RUNTIME", "RECONCILE_SECONDS"):
        assert hasattr(construct_side, name), name
    assert set(runtime.__all__) == {
        "BreakerSettings",
        "CircuitBreaker",
        "CircuitOpenError",
        "InvalidSettingsError",
        "State",
    }
    for name in (
        "CircuitBreaker",
        "CircuitOpenError",
        "TABLE_ENV",
        "SETTINGS_ENV",
        "NAMESPACE_ENV",
        "PAUSED_ENV",
        "DEFAULT_NAMESPACE",
        "MISCONFIGURATION_CODES",
        "MAX_RACE_RETRIES",
        "HELD_REASON",
        "MIN_CLAIM_SECONDS",
    ):
        assert hasattr(breaker_module, name), name
    assert runtime.CircuitOpenError is breaker_module.CircuitOpenError
