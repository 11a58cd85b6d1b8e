"""The cost model on plain aws-cdk-lib apps as users write them (tests/cost_apps.py): a nested stack, an
explicit environment, a VPC with a NAT gateway, provisioned and warmed tables, Kinesis, Step Functions,
and the integrations that invoke functions. The apps are synthesized once (the ``plain_assembly``
fixture); each test prices them with the profile it needs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ConstructsLibValidationError
from constructs_lib.cost import Usage, estimate, load_assembly
from constructs_lib.cost._prices import GUIDES, MONTH_HOURS, UNCHECKED, cents

PROFILE = {
    "duration_ms": 200,
    "log_kb_per_invocation": 0,
    "resources": {
        "Parent/Child/Jobs": {"messages": 2e6},
        "Network/Vpc/PublicSubnet1/NATGateway": {"gb": 500},
        "Data/Clicks": {"records": 1e7, "record_kb": 2.5},
        "Data/Audit": {"records": 1e6, "record_kb": 30},
        "Workflows/Orders": {"executions": 1e5},
        "Workflows/Enrich": {"executions": 1e6, "duration_ms": 250},
        "Workflows/Http": {"requests": 3e6},
        "Workflows/OnUpload": {"events": 5e4},
        "Workflows/Events": {"messages": 7e3},
        "Workflows/Rest": {"requests": 1e6},
    },
}

#: https://aws.amazon.com/dynamodb/pricing/provisioned/ (us-east-1): $0.00013 per RCU-hour and $0.00065 per
#: WCU-hour. The page renders its rates in script; the pinned rates are those independent guides quote, and
#: the report marks them "[guides]" (``checked`` in JSON).
RCU_HOUR, WCU_HOUR = Decimal("0.00013"), Decimal("0.00065")


@pytest.fixture(scope="module")
def plain(plain_assembly: Path) -> Any:
    from constructs_lib.cost import usage_from

    return estimate(load_assembly(plain_assembly), usage_from(PROFILE))


def lines(report: Any, path: str) -> dict[str, Any]:
    return {ln.item: ln for ln in [*report.lines, *report.one_time] if ln.path.startswith(path)}


def test_a_nested_stacks_resources_are_priced_and_its_stack_resource_is_free(plain):
    """Only "no price for AWS::CloudFormation::Stack" was listed for a nested stack."""
    worker = lines(plain, "Parent/Child/Worker/Resource")
    assert worker["invocations"].quantity == pytest.approx(2e6, rel=1e-3)  # one message a batch at this rate
    assert (
        lines(plain, "Parent/Child/Jobs/Resource")["sends (each 64 KB of a message is a request)"].quantity
        == 2e6
    )
    assert "storage" in lines(plain, "Parent/Child/Results/Resource")
    [stack] = [i for i in plain.free if i.resource_type == "AWS::CloudFormation::Stack"]
    assert stack.path == "Parent/Child.NestedStack/Child.NestedStackResource"
    assert stack.why == "a nested stack: its resources are priced from its own template"


def test_the_vpc_is_free_and_its_nat_gateway_and_address_are_billed_by_the_hour(plain):
    """$0.045 an hour and $0.045 a GB processed (https://aws.amazon.com/vpc/pricing/), and the NAT
    gateway's Elastic IP as a public IPv4 address at $0.005 an hour."""
    nat = lines(plain, "Network/Vpc/PublicSubnet1/NATGateway")
    assert cents(nat["NAT gateway hours"].monthly_usd) == Decimal("32.40")  # 720 h
    assert cents(nat["data processed"].monthly_usd) == Decimal("22.50")  # 500 GB
    assert cents(lines(plain, "Network/Vpc/PublicSubnet1/EIP")["public IPv4 address"].monthly_usd) == Decimal(
        "3.60"
    )
    vpc_types = {i.resource_type for i in plain.free if i.path.startswith("Network/Vpc")}
    assert {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::Route"} <= vpc_types
    assert {"AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::InternetGateway"} <= vpc_types
    assert "AWS::EC2::SecurityGroup" in {i.resource_type for i in plain.free}
    assert not [i for i in plain.not_priced if i.path.startswith("Network")]


def test_a_provisioned_table_is_billed_per_capacity_unit_hour_autoscaling_at_its_minimum(plain):
    """Reads autoscale from 5 (the template says 20 before scaling); writes are fixed at 3. At the pinned
    $0.00013 per RCU-hour and $0.00065 per WCU-hour (RCU_HOUR, WCU_HOUR below: the provisioned pricing
    page's us-east-1 rates as guides quote them, marked [guides])."""
    ledger = lines(plain, "Data/Ledger/Resource")
    reads = ledger["read capacity: 5 units (autoscaling at its minimum)"]
    assert reads.quantity == 5 * MONTH_HOURS
    assert reads.monthly_usd == Decimal(repr(5 * MONTH_HOURS)) * RCU_HOUR
    assert reads.checked == GUIDES
    writes = ledger["write capacity: 3 units (provisioned)"]
    assert writes.monthly_usd == Decimal(repr(3 * MONTH_HOURS)) * WCU_HOUR


def test_warm_throughput_is_a_one_time_charge_outside_the_monthly_total(plain):
    """15,000 reads and 6,000 writes a second on a new on-demand table (warm at 12,000 and 4,000): the
    3,000 and 2,000 units raised, once, at the provisioned rates."""
    warm = lines(plain, "Data/Sessions/Resource")
    assert cents(
        warm["warm throughput: 15000 read units a second (3000 above its 12000)"].monthly_usd
    ) == Decimal("0.39")
    assert cents(
        warm["warm throughput: 6000 write units a second (2000 above its 4000)"].monthly_usd
    ) == Decimal("1.30")
    assert cents(plain.one_time_usd) == Decimal("1.69")
    assert not any(ln.meter.startswith("dynamodb.warm") for ln in plain.lines)


def test_kinesis_streams_on_demand_and_provisioned(plain):
    clicks = lines(plain, "Data/Clicks/Resource")
    written = 1e7 * 3 / 1024**2  # 2.5 KB records are billed as 3 KB
    assert clicks["on-demand stream"].quantity == MONTH_HOURS
    assert clicks["data written (records rounded up to 1 KB)"].quantity == pytest.approx(written)
    assert clicks["data read (1 consumer(s))"].quantity == pytest.approx(written)
    audit = lines(plain, "Data/Audit/Resource")
    assert audit["2 shard(s)"].quantity == 2 * MONTH_HOURS
    assert audit["PUT payload units (25 KB each)"].quantity == 2e6  # 30 KB records are 2 units each
    assert lines(plain, "Data/ClickReader/Resource")["invocations"].quantity > 0
    # https://aws.amazon.com/kinesis/data-streams/pricing/ (us-east-1): on-demand $0.04 a stream-hour,
    # $0.08 a GB written, $0.04 a GB read; provisioned $0.015 a shard-hour, $0.014 a million PUT payload
    # units. No stored copy of the page shows them (the report marks them [unchecked]).
    assert cents(clicks["on-demand stream"].monthly_usd) == Decimal("28.80")  # 720 h
    assert clicks["data written (records rounded up to 1 KB)"].monthly_usd == pytest.approx(
        Decimal(repr(written)) * Decimal("0.08")
    )
    assert clicks["data read (1 consumer(s))"].monthly_usd == pytest.approx(
        Decimal(repr(written)) * Decimal("0.04")
    )
    assert cents(audit["2 shard(s)"].monthly_usd) == Decimal("21.60")  # 1,440 shard-hours
    assert cents(audit["PUT payload units (25 KB each)"].monthly_usd) == Decimal("0.03")  # 2 M at $0.014
    assert {clicks["on-demand stream"].checked, audit["2 shard(s)"].checked} == {UNCHECKED}


def test_step_functions_standard_and_express(plain):
    orders = lines(plain, "Workflows/Orders/Resource")
    assert orders["state transitions (2 per execution)"].quantity == 2e5
    assert cents(orders["state transitions (2 per execution)"].monthly_usd) == Decimal(
        "5.00"
    )  # $0.025 a 1,000
    enrich = lines(plain, "Workflows/Enrich/Resource")
    assert cents(enrich["Express executions"].monthly_usd) == Decimal("1.00")
    assert enrich["Express duration (300 ms at 64 MB each)"].quantity == pytest.approx(1e6 * 0.3 * 64 / 1024)
    assert lines(plain, "Workflows/Step/Resource")["invocations"].quantity == 1e5  # the task's function


def test_each_integration_invokes_its_function(plain):
    invoked = {
        path: lines(plain, f"Workflows/{path}/Resource")["invocations"].quantity
        for path in ("ApiHandler", "Listener", "Notified", "Responder", "Checker")
    }
    assert invoked == {"ApiHandler": 3e6, "Listener": 5e4, "Notified": 7e3, "Responder": 20, "Checker": 1e6}
    [token] = [i for i in plain.free if i.resource_type == "AWS::ApiGateway::Authorizer"]
    assert "Cognito" not in token.why
    assert "Lambda (TOKEN)" in token.why


def test_the_explicit_environment_is_read_and_noted(plain_assembly):
    templates = load_assembly(plain_assembly)
    assert (templates.stacks["Network"].account, templates.stacks["Network"].region) == (
        "111111111111",
        "us-east-1",
    )
    report = estimate(templates, Usage())
    assert not any("prices may differ" in note for note in report.notes)


# --- Shapes from apps nobody here wrote -----------------------------------------------------------------


def capacity(report: Any, path: str) -> dict[str, tuple[float, str]]:
    """``{"read": (units, item), "write": (units, item)}`` of a provisioned table."""
    found = {}
    for line in report.lines:
        if line.path == path and line.meter.endswith("capacity_unit_hours"):
            found[line.item.split()[0]] = (line.quantity / MONTH_HOURS, line.item)
    return found


def test_autoscaling_replaces_only_the_capacity_its_scalable_target_names(plain):
    """A table autoscaled from 50 reads and 20 writes, with an index fixed at 5 and 5, was billed 50 and
    20 (the index dropped); a fixed table whose index's reads autoscale from 100 was billed 100 reads (the
    table's 10 dropped). Each scalable target replaces its own part only."""
    orders = capacity(plain, "Capacity/Orders/Resource")
    assert orders["read"] == (
        55,
        "read capacity: 55 units (table: 50, autoscaling at its minimum; index byStatus: 5, provisioned)",
    )
    assert orders["write"][0] == 25
    audit = capacity(plain, "Capacity/Audit/Resource")
    assert audit["read"] == (
        110,
        "read capacity: 110 units (table: 10, provisioned; index byStatus: 100, autoscaling at its minimum)",
    )
    assert audit["write"] == (15, "write capacity: 15 units (provisioned)")
    monthly = {ln.item: ln.monthly_usd for ln in plain.lines if ln.path == "Capacity/Orders/Resource"}
    assert monthly[orders["read"][1]] == Decimal(55 * 720) * RCU_HOUR
    assert monthly[orders["write"][1]] == Decimal(25 * 720) * WCU_HOUR


def test_a_table_v2s_indexes_are_billed_and_its_autoscaled_capacity_is_labelled_so(plain):
    """A TableV2's indexes were ignored, and its autoscaled capacity was labelled "(provisioned)"."""
    accounts = capacity(plain, "Capacity/Accounts/Resource")
    assert accounts["read"] == (17, "read capacity: 17 units (provisioned)")  # 10 and its index's 7
    assert accounts["write"] == (24, "write capacity: 24 units (autoscaling at its minimum)")  # 20 and 4


def test_a_table_v2_takes_the_volumes_a_table_takes(plain_assembly):
    """ "set them in the profile" was refused for a TableV2: it took no volume at all."""
    usage = Usage(resources={"Capacity/Carts": {"reads": 8e6, "writes": 1.6e6, "gb": 30}})
    carts = lines(estimate(load_assembly(plain_assembly), usage), "Capacity/Carts/Resource")
    assert cents(carts["reads (from the profile)"].monthly_usd) == Decimal("1.00")  # $0.125 a million
    assert cents(carts["writes (from the profile)"].monthly_usd) == Decimal("1.00")  # $0.625 a million
    assert carts["storage"].quantity == 30
    refused = Usage(resources={"Capacity/Accounts": {"reads": 1e6}})
    with pytest.raises(ConstructsLibValidationError, match="a provisioned AWS::DynamoDB::GlobalTable takes"):
        estimate(load_assembly(plain_assembly), refused)


def test_cron_schedules_are_counted_in_a_30_day_month_and_shown_on_the_line(plain):
    """Every cron expression counted as hourly: a nightly rule invoked its function 720 times a month (30),
    one every minute 720 times (43,200)."""
    nightly = [
        ln for ln in plain.lines if ln.path == "Events/Nightly/Resource" and ln.meter == "lambda.requests"
    ]
    assert [ln.quantity for ln in nightly] == [30]
    assert (
        nightly[0].item == "invocations (Events/NightlyRule/Resource: cron(0 2 * * ? *): 30 a 30-day month)"
    )
    minutely = lines(plain, "Events/Minutely/Resource")
    assert next(ln for item, ln in minutely.items() if item.startswith("invocations")).quantity == 43_200
    schedule = lines(plain, "Events/EveryMinute/Resource")
    assert schedule["scheduled invocations (rate(1 minute): 43,200 a 30-day month)"].quantity == 43_200
    [rule] = [i for i in plain.free if i.path == "Events/NightlyRule/Resource"]
    assert rule.why.endswith("cron(0 2 * * ? *): 30 a 30-day month")


def test_a_rules_or_schedules_events_replace_its_count(plain_assembly):
    """``events`` on a scheduled rule was added to its ticks; a schedule took no volume."""
    usage = Usage(resources={"Events/NightlyRule": {"events": 10}, "Events/EveryMinute": {"events": 100}})
    report = estimate(load_assembly(plain_assembly), usage)
    invoked = {ln.path: ln.quantity for ln in report.lines if ln.meter == "lambda.requests"}
    assert invoked["Events/Nightly/Resource"] == 10
    assert invoked["Events/Ticking/Resource"] == 100
    assert lines(report, "Events/EveryMinute/Resource")[
        "scheduled invocations (100 events, from the profile)"
    ]


def test_s3_notifications_invoke_send_and_publish_one_per_object_created(plain_assembly):
    """A bucket's notifications never reached their targets. Objects created are the bucket's writes: its
    function is invoked and its topic published to once per write (and the topic's queue sent to); what
    objects removed send is not known, and the line says so."""
    usage = Usage(resources={"Events/Uploads": {"writes": 50_000}})
    report = estimate(load_assembly(plain_assembly), usage)
    [invoked] = [
        ln for ln in report.lines if ln.path == "Events/OnUpload/Resource" and ln.meter == "lambda.requests"
    ]
    assert invoked.quantity == 50_000
    assert invoked.item == "invocations (50,000 from Events/Uploads: one per object created, from its writes)"
    [published] = [
        ln for ln in report.lines if ln.path == "Events/Created/Resource" and ln.meter == "sns.publishes"
    ]
    assert published.quantity == 50_000
    assert "every write taken as s3:ObjectCreated:Put" in published.item
    fanned = next(
        ln for ln in report.lines if ln.path == "Events/Fanned/Resource" and ln.item.startswith("sends")
    )
    assert fanned.quantity == 50_000
    removed = next(
        ln for ln in report.lines if ln.path == "Events/Removed/Resource" and ln.item.startswith("sends")
    )
    assert removed.quantity == 0
    assert removed.item.endswith(
        "(Events/Uploads's s3:ObjectRemoved:* notifications are not counted: "
        'set its messages under [resources."Events/Removed"])'
    )
    silent = estimate(load_assembly(plain_assembly), Usage())
    [unknown] = [
        ln for ln in silent.lines if ln.path == "Events/OnUpload/Resource" and ln.meter == "lambda.requests"
    ]
    assert unknown.item == (
        "invocations (Events/Uploads notifies on objects created: "
        'set its writes under [resources."Events/Uploads"])'
    )


def test_what_aws_bills_beside_requests_is_priced_or_listed(plain):
    """Listed as free: an advanced parameter ($0.05 a month), ephemeral storage above 512 MB, a mapping in
    provisioned mode (billed per event poller unit, a rate no stored page shows: listed, not priced)."""
    assert cents(
        lines(plain, "Events/Big/Resource")["advanced parameter (Advanced tier)"].monthly_usd
    ) == Decimal("0.05")
    assert "Events/Small/Resource" in {i.path for i in plain.free}
    [poller] = [i for i in plain.not_priced if i.resource_type == "AWS::Lambda::EventSourceMapping"]
    assert poller.path.startswith("Events/Poller/")
    assert "provisioned mode: at least 20 event pollers" in poller.why


def test_ephemeral_storage_above_512_mb_is_billed_per_gb_second(plain_assembly):
    """$0.0000000309 per GB-second above the 512 MB included (https://aws.amazon.com/lambda/pricing/, x86,
    us-east-1; the page renders it in script: the rate guides and AWS's price list quote, marked
    [guides]). 10 GB configured, 1 M invocations of 100 ms: 9.5 GB x 100,000 s = 950,000 GB-s, $0.03."""
    usage = Usage(resources={"Events/Scratch": {"invocations": 1e6}}, duration_ms=100)
    scratch = lines(estimate(load_assembly(plain_assembly), usage), "Events/Scratch/Resource")
    storage = scratch["ephemeral storage: 10240 MB, 9728 MB above the 512 MB included"]
    assert storage.quantity == pytest.approx(9.5 * 1e6 * 0.1)
    assert storage.monthly_usd == Decimal(repr(9.5 * 1e6 * 0.1)) * Decimal("0.0000000309")
    assert storage.checked.startswith("not on a stored copy of the pricing page")


def test_two_distributions_each_take_their_own_viewer_requests(plain_assembly):
    """``viewer_requests`` reached both distributions, so the app's viewers were counted twice, and the
    flat-rate plans were fitted to an even split. With two distributions, each takes its own requests."""
    templates = load_assembly(plain_assembly)
    with pytest.raises(ConstructsLibValidationError) as raised:
        estimate(templates, Usage(viewer_requests=5e6))
    assert "this app has 2 CloudFront distributions (Web/Cdn/Resource, Web/DocsCdn/Resource)" in str(
        raised.value
    )
    usage = Usage(
        resources={"Web/Cdn/Resource": {"requests": 5e6}, "Web/DocsCdn": {"requests": 2e5}},
        behavior_share={"/api/*": 0.2},
    )
    report = estimate(templates, usage)
    https = {ln.path: ln.quantity for ln in report.lines if ln.meter == "cloudfront.https_requests"}
    assert https == {"Web/Cdn/Resource": 5e6, "Web/DocsCdn/Resource": 2e5}
    assert report.cdn is not None
    options = {o.name: o for o in report.cdn.options}
    assert options["Free"].edge_usd is None  # the site's 5 M requests do not fit; the docs' 200,000 would
    assert "Web/Cdn/Resource has 5,000,000 requests" in options["Free"].detail
    assert options["Pro"].edge_usd == Decimal(30)  # both fit Pro: $15 each
    each = options["each distribution on its cheapest plan"]
    assert each.edge_usd == Decimal(15)
    assert each.detail == "Web/Cdn/Resource on Pro, Web/DocsCdn/Resource on Free"
    with pytest.raises(ConstructsLibValidationError, match="Web/DocsCdn/Resource has none"):
        estimate(templates, Usage(resources={"Web/Cdn/Resource": {"requests": 5e6}}))
