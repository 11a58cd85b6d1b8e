"""The cost model's volumes on small templates: what a profile volume replaces and what a resource's mode
refuses, schedules counted from their expressions, bucket notifications, the SQS pollers' concurrency, and
the breaker's reads as the runtime makes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.stub import Stubber

from constructs_lib import ConstructsLibValidationError
from constructs_lib.checks._model import Stack, Templates
from constructs_lib.cost import Usage, estimate
from constructs_lib.cost._prices import cents
from constructs_lib.cost._usage import MONTH_SECONDS
from constructs_lib.runtime.breaker import SETTINGS_ENV, TABLE_ENV


def templates_of(resources: dict[str, Any]) -> Templates:
    return Templates([Stack("App", "App.template.json", {"Resources": resources})])


def function(name: str, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"MemorySize": 128, "Runtime": "python3.13", "Handler": "index.handler", **props},
        "Metadata": {"aws:cdk:path": f"App/{name}/Resource"},
    }


def quantities(report: Any, meter: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in report.lines:
        if line.meter == meter:
            found[line.path] = found.get(line.path, 0.0) + line.quantity
    return found


# --- A volume replaces what the model derives, and only a volume the resource's mode uses is taken ----------

PROVISIONED = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}},
}
ON_DEMAND = {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}
EXPRESS = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineType": "EXPRESS"}}
STANDARD = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": "{}"}}


@pytest.mark.parametrize(
    ("resource", "volume", "said"),
    [
        (PROVISIONED, "reads", "a provisioned AWS::DynamoDB::Table takes: read_capacity"),
        (PROVISIONED, "writes", "a provisioned AWS::DynamoDB::Table takes: read_capacity"),
        (ON_DEMAND, "read_capacity", "an on-demand AWS::DynamoDB::Table takes: reads"),
        (EXPRESS, "transitions", "an Express AWS::StepFunctions::StateMachine takes: executions"),
        (STANDARD, "duration_ms", "a Standard AWS::StepFunctions::StateMachine takes: executions"),
        (STANDARD, "memory_mb", "a Standard AWS::StepFunctions::StateMachine takes: executions"),
    ],
)
def test_a_volume_the_resources_mode_does_not_use_is_refused(resource, volume, said):
    """Reads on a provisioned table, transitions on an Express workflow, duration and memory on a Standard
    one were accepted, then ignored."""
    with pytest.raises(ConstructsLibValidationError) as raised:
        estimate(templates_of({"Thing": resource}), Usage(resources={"App/Thing": {volume: 1000.0}}))
    assert f"resources.App/Thing.{volume}: got 1000.0; {said}" in str(raised.value)


def test_a_queues_messages_replace_what_its_topic_delivers():
    """A subscribed queue's ``messages`` were added to its topic's publishes instead of replacing them."""
    resources = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Sub": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "Protocol": "sqs",
                "TopicArn": {"Ref": "Topic"},
                "Endpoint": {"Fn::GetAtt": ["Q", "Arn"]},
            },
        },
    }
    usage = Usage(resources={"App/Topic": {"messages": 7000}, "App/Q": {"messages": 100}})
    sends = [ln for ln in estimate(templates_of(resources), usage).lines if ln.item.startswith("sends")]
    assert [(ln.path, ln.quantity) for ln in sends] == [("App/Q", 100)]


def test_a_rules_events_replace_its_firings():
    """``events`` on a scheduled rule was added to its 720 hourly firings."""
    resources = {
        "Fn": function("Fn"),
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "rate(1 hour)",
                "Targets": [{"Id": "t", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}],
            },
        },
    }
    derived = estimate(templates_of(resources))
    assert quantities(derived, "lambda.requests") == {"App/Fn/Resource": 720}
    given = estimate(templates_of(resources), Usage(resources={"App/Rule": {"events": 10}}))
    assert quantities(given, "lambda.requests") == {"App/Fn/Resource": 10}


# --- Schedules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "month"),
    [
        ("cron(0 2 * * ? *)", 30),  # nightly
        ("cron(* * * * ? *)", 43_200),  # every minute
        ("cron(0/15 * * * ? *)", 2_880),
        ("cron(0 * * * ? *)", 720),
        ("rate(5 minutes)", 8_640),
        ("rate(1 day)", 30),
        ("cron(0 9 ? * MON-FRI *)", 30 * 5 / 7),  # weekdays: 5 of 7 days
        ("cron(0 0 1 * ? *)", 30 * 12 / 365.25),  # the 1st of each month: 12 in a year
        ("cron(0 0 L * ? *)", 30 * 12 / 365.25),  # the last day of each month
        ("cron(0 0 ? * 3#2 *)", 30 * 12 / 365.25),  # the second Tuesday
        ("cron(0 12 * JAN,JUL ? *)", 30 * 62 / 365.25),  # every day of two months of 31 days
        ("at(2027-01-01T00:00:00)", 0),  # once, not monthly
    ],
)
def test_schedule_expressions_are_counted_in_a_30_day_month(expression, month):
    from constructs_lib.cost._schedules import expression_ticks

    assert expression_ticks(expression) == pytest.approx(month, rel=1e-3)


def test_a_schedule_the_model_cannot_read_is_said_so_and_its_events_replace_it():
    schedule = {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {"ScheduleExpression": "cron(0 2 * * *)", "Target": {"Arn": "arn"}},
    }
    [line] = estimate(templates_of({"S": schedule})).lines
    assert (
        line.item == "scheduled invocations (cron(0 2 * * *) is not understood: set events under [resources])"
    )
    [given] = estimate(templates_of({"S": schedule}), Usage(resources={"App/S": {"events": 500}})).lines
    assert given.quantity == 500


def test_a_disabled_rule_fires_never():
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "ScheduleExpression": "rate(1 minute)",
            "State": "DISABLED",
            "Targets": [{"Id": "t", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}],
        },
    }
    report = estimate(templates_of({"Fn": function("Fn"), "Rule": rule}))
    assert quantities(report, "lambda.requests") == {"App/Fn/Resource": 0}


# --- Bucket notifications in CloudFormation's own form -----------------------------------------------


def test_a_buckets_own_notification_configuration_invokes_its_function():
    """CloudFormation's ``NotificationConfiguration`` (``LambdaConfigurations``, one ``Event`` each)."""
    bucket = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "NotificationConfiguration": {
                "LambdaConfigurations": [
                    {
                        "Event": "s3:ObjectCreated:*",
                        "Function": {"Fn::GetAtt": ["Fn", "Arn"]},
                        "Filter": {"S3Key": {"Rules": [{"Name": "suffix", "Value": ".jpg"}]}},
                    }
                ]
            }
        },
    }
    usage = Usage(resources={"App/Bucket": {"writes": 4000}})
    report = estimate(templates_of({"Fn": function("Fn"), "Bucket": bucket}), usage)
    [invoked] = [ln for ln in report.lines if ln.meter == "lambda.requests"]
    assert invoked.quantity == 4000
    assert invoked.item == (
        "invocations (4,000 from App/Bucket: one per object created, from its writes, all taken to match "
        "its filter)"
    )
    gets = next(ln for ln in report.lines if ln.meter == "s3.get_requests")
    assert gets.item == "GETs (none derived: set reads under [resources])"  # no CDN fronts it


# --- Lambda's SQS pollers ----------------------------------------------------------------------------


def _consumer(**mapping: Any) -> dict[str, Any]:
    return {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Fn": function("Fn"),
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]},
                "FunctionName": {"Ref": "Fn"},
                "BatchSize": 10,
                **mapping,
            },
        },
    }


def test_the_batches_a_mapping_may_have_in_flight_are_stated_on_its_line():
    """Lambda starts a mapping's pollers at five and adds up to 300 a minute while messages remain, to
    1,250 a mapping (AWS Lambda developer guide, "Configuring scaling behavior for SQS event source
    mappings"), within the account's default 1,000 concurrent executions: 1,000 batches at most, said on
    the line, or the mapping's own cap. At 2,000 messages a second of 1 s each, 1,000 batches hold 2
    messages each; two hold 10."""
    usage = Usage(resources={"App/Q": {"messages": 2000 * MONTH_SECONDS}}, duration_ms=1000)
    default = estimate(templates_of(_consumer()), usage)
    [receives] = [ln for ln in default.lines if ln.item.startswith("receives with messages")]
    assert receives.item == (
        "receives with messages (2.00 a batch; each 64 KB returned is a request; at most 1,000 batches at "
        "once: Lambda's pollers scale from 5 toward 1,250 a mapping, within the account's default 1,000 "
        "concurrent executions)"
    )
    capped = estimate(templates_of(_consumer(ScalingConfig={"MaximumConcurrency": 2})), usage)
    [receives] = [ln for ln in capped.lines if ln.item.startswith("receives with messages")]
    assert receives.item.endswith(
        "(10.00 a batch; each 64 KB returned is a request; at most 2 batches at once: its MaximumConcurrency)"
    )


# --- The breaker's reads, as the runtime makes them ---------------------------------------------------------


def _guarded(read_copies: int) -> dict[str, Any]:
    settings = f'{{"payments": {{"cache_ttl": 1, "read_copies": {read_copies}}}}}'
    environment = {"Variables": {TABLE_ENV: {"Ref": "State"}, SETTINGS_ENV: settings}}
    return {
        "State": ON_DEMAND,
        "Fn": function("Fn", Environment=environment, ReservedConcurrentExecutions=4),
    }


def test_fleet_mode_copy_reads_are_half_a_read_unit_and_the_circuits_own_reads_one():
    """The circuit's own item is read strongly consistent (a read unit); in fleet mode a container reads a
    copy, eventually consistent (half a unit). Copy reads were priced as strong reads."""
    usage = Usage(resources={"App/Fn": {"invocations": 1e6}})
    own = estimate(templates_of(_guarded(1)), usage)
    fleet = estimate(templates_of(_guarded(8)), usage)
    [own_reads] = [
        ln for ln in own.lines if ln.item.startswith("breaker") and ln.meter.endswith("read_request_units")
    ]
    [copy_reads] = [
        ln for ln in fleet.lines if ln.item.startswith("breaker") and ln.meter.endswith("read_request_units")
    ]
    assert own_reads.item == "breaker state reads (strongly consistent: a read unit each)"
    assert copy_reads.item == "breaker copy reads (fleet mode, eventually consistent: half a read unit each)"
    # Fleet mode's periods are jittered (1.1 s on average), so it reads a little less often as well.
    from constructs_lib.cost._arrivals import periods_with_events

    assert own_reads.quantity == pytest.approx(periods_with_events(1e6, 4, 1.0))
    assert copy_reads.quantity == pytest.approx(periods_with_events(1e6, 4, 1.1) * 0.5)
    assert cents(copy_reads.monthly_usd) == cents(Decimal(repr(copy_reads.quantity)) * Decimal("0.000000125"))


def test_the_runtime_reads_its_circuit_strongly_and_its_copies_eventually():
    """The model's read units follow the runtime's own requests: ``ConsistentRead`` true on the circuit's
    item, false on a copy."""
    import boto3

    from constructs_lib.runtime._store import DynamoStore

    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    store = DynamoStore(client, "state", "payments")
    with Stubber(client) as stub:
        stub.add_response(
            "get_item", {}, {"TableName": "state", "Key": {"id": {"S": "payments"}}, "ConsistentRead": True}
        )
        stub.add_response(
            "get_item",
            {},
            {"TableName": "state", "Key": {"id": {"S": "payments#copy-3"}}, "ConsistentRead": False},
        )
        store.read()
        store.read(3)
        stub.assert_no_pending_responses()
