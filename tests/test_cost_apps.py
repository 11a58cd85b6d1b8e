"""The cost model on plain aws-cdk-lib apps as users write them (tests/cost_apps.py): a nested stack, an
explicit environment, a VPC with a NAT gateway, provisioned and warmed tables, Kinesis, Step Functions,
and the integrations that invoke functions. The apps are synthesized once (the ``plain_assembly``
fixture); each test prices them with the profile it needs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.cost import Usage, estimate, load_assembly
from constructs_lib.cost._prices import MONTH_HOURS, cents

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
    """Reads autoscale from 5 (the template says 20 before scaling); writes are fixed at 3."""
    ledger = lines(plain, "Data/Ledger/Resource")
    reads = ledger["read capacity: 5 units (autoscaling at its minimum)"]
    assert reads.quantity == 5 * MONTH_HOURS
    assert reads.monthly_usd == Decimal(repr(5 * MONTH_HOURS)) * Decimal("0.00013")
    assert ledger["write capacity: 3 units (provisioned)"].monthly_usd == Decimal(
        repr(3 * MONTH_HOURS)
    ) * Decimal("0.00065")


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
