"""The cost model on small templates: the pricing pages' worked examples, tier boundaries, the profile and
the command line. The sample apps' costs are tested in test_apps.py, on the assemblies it synthesizes."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ConstructsLibValidationError
from constructs_lib.checks._model import Stack, Templates
from constructs_lib.cost import METERS, Usage, estimate, load_usage, render, usage_from, with_overrides
from constructs_lib.cost.__main__ import main
from constructs_lib.cost._model import BREAKER_METRICS, GOVERNOR_METRICS
from constructs_lib.cost._prices import cents
from constructs_lib.cost._traffic import Circuit, breaker_reads, breaker_writes
from constructs_lib.cost._usage import MONTH_SECONDS
from tests.harness import REPO_ROOT

FUNCTION = {
    "Type": "AWS::Lambda::Function",
    "Properties": {"MemorySize": 512, "Runtime": "python3.12", "Handler": "index.handler", "Role": "arn"},
    "Metadata": {"aws:cdk:path": "App/Fn/Resource"},
}
REST_API = {
    "Type": "AWS::ApiGateway::RestApi",
    "Properties": {"Name": "api"},
    "Metadata": {"aws:cdk:path": "App/Api/Resource"},
}


def templates_of(resources: dict[str, Any]) -> Templates:
    return Templates([Stack("App", "App.template.json", {"Resources": resources})])


def line_usd(report: Any, item: str) -> Decimal:
    return sum((ln.monthly_usd for ln in report.lines if ln.item.startswith(item)), Decimal(0))


# --- The pricing pages' own worked examples ----------------------------------------------------------------


def test_lambda_pricing_example_512_mb_three_million_one_second_invocations_is_18_74():
    """https://aws.amazon.com/lambda/pricing/ (example 1, read 2026-11-29): 512 MB, 3 million invocations of
    1 s in a month, with the free tier: 1.1 M billable GB-s at $0.00001667 = $18.34, 2 M billable
    requests at $0.20 per million = $0.40; $18.74 in all. The example rounds the GB-s price to
    $0.00001667, so the test prices with that rate, as a user would with ``--prices``."""
    prices = with_overrides(METERS, {"lambda.gb_seconds.x86_64": 0.00001667}, "the example's rate")
    usage = Usage(requests_by_path={"Fn": 3e6}, duration_ms=1000, log_kb_per_invocation=0)
    report = estimate(templates_of({"Fn": FUNCTION}), usage, prices=prices, free_tier=True)
    assert cents(line_usd(report, "compute")) == Decimal("18.34")
    assert cents(line_usd(report, "invocations")) == Decimal("0.40")
    assert cents(report.total_monthly_usd) == Decimal("18.74")
    # With the pinned, unrounded rate the same month is a cent less.
    exact = estimate(templates_of({"Fn": FUNCTION}), usage, free_tier=True)
    assert cents(exact.total_monthly_usd) == Decimal("18.73")


def test_api_gateway_pricing_example_five_million_rest_calls_of_3_kb_is_18_79():
    """https://aws.amazon.com/api-gateway/pricing/ (REST example, read 2026-11-29): 5 million calls with 3 KB
    responses and no caching: 5 M x $3.50 per million = $17.50, 14.3 GB out x $0.09 = $1.29; $18.79."""
    usage = Usage(requests_by_path={"Api": 5e6}, api_response_kb=3)
    report = estimate(templates_of({"Api": REST_API}), usage)
    assert cents(line_usd(report, "REST API requests")) == Decimal("17.50")
    assert cents(line_usd(report, "responses to callers")) == Decimal("1.29")
    assert cents(report.total_monthly_usd) == Decimal("18.79")


def test_waf_guide_core_scenario_one_acl_seven_rules_ten_million_requests_is_18_00():
    """AWS's WAF cost guide (aws.github.io/aws-security-services-best-practices/guides/waf/waf-cost/, read
    2026-11-29): one web ACL with five custom rules and two AWS managed rule groups (CRS, KBI), each group
    billed as one rule, and 10 million requests: $5 + 7 x $1 + 10 x $0.60 = $18.00 at the pricing page's
    rates. The guide states the scenario and the counting rule; the total is computed from them."""
    managed = [
        {"Name": name, "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}}}
        for name in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
    ]
    custom = [{"Name": f"custom{i}", "Statement": {"ByteMatchStatement": {}}} for i in range(5)]
    acl = {"Type": "AWS::WAFv2::WebACL", "Properties": {"Scope": "CLOUDFRONT", "Rules": [*custom, *managed]}}
    distribution = {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "WebACLId": {"Fn::GetAtt": ["Acl", "Arn"]},
                "DefaultCacheBehavior": {"TargetOriginId": "o"},
                "Origins": [{"Id": "o", "DomainName": "example.com"}],
            }
        },
    }
    report = estimate(templates_of({"Acl": acl, "Cdn": distribution}), Usage(viewer_requests=10e6))
    waf = sum((ln.monthly_usd for ln in report.lines if ln.service == "WAF"), Decimal(0))
    assert cents(waf) == Decimal("18.00")


def test_only_an_ingest_behavior_sends_request_bodies_to_the_origin():
    """A site behavior whose responses happen to be as small as an ingest 202 uploads nothing."""
    distribution = {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "DefaultCacheBehavior": {"TargetOriginId": "o"},
                "Origins": [{"Id": "o", "DomainName": "example.com"}],
            }
        },
    }
    report = estimate(templates_of({"Cdn": distribution}), Usage(viewer_requests=1e6, response_kb=0.5))
    [uploads] = [ln for ln in report.lines if ln.item == "request bodies to the origin"]
    assert uploads.quantity == 0
    [viewers] = [ln for ln in report.lines if ln.item == "HTTPS requests"]
    assert viewers.quantity == 1e6


# --- Tiers and the free tier -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meter", "boundary", "at_boundary", "next_unit_price"),
    [
        ("apigateway.rest_requests", 333e6, Decimal("1165.50"), Decimal("2.80") / 10**6),
        ("apigateway.http_requests", 300e6, Decimal("300.00"), Decimal("0.90") / 10**6),
        ("sqs.standard_requests", 100e9, Decimal("40000.00"), Decimal("0.30") / 10**6),
        ("cloudfront.data_transfer_out", 10 * 1024, Decimal("870.40"), Decimal("0.080")),
        ("lambda.gb_seconds.x86_64", 6e9, Decimal("100000.20"), Decimal("0.000015")),
        ("cloudwatch.custom_metrics", 10_000, Decimal("3000.00"), Decimal("0.10")),
    ],
)
def test_tier_boundaries_are_exact(meter, boundary, at_boundary, next_unit_price):
    priced = METERS[meter]
    assert priced.charge(boundary, free_tier=False) == at_boundary
    assert priced.charge(boundary + 1000, free_tier=False) == at_boundary + 1000 * next_unit_price
    below = priced.charge(boundary - 1000, free_tier=False)
    assert at_boundary - below == 1000 * priced.first_price


def test_the_free_tier_is_off_by_default_and_subtracts_each_allowance_once():
    requests = METERS["lambda.requests"]
    assert requests.charge(1e6, free_tier=True) == 0
    assert requests.charge(3e6, free_tier=True) == Decimal("0.40")
    assert requests.charge(3e6, free_tier=False) == Decimal("0.60")
    # The allowance is the account's: two functions share it, and share the charge by their calls.
    two = {"Fn": FUNCTION, "Other": {**FUNCTION, "Metadata": {"aws:cdk:path": "App/Other/Resource"}}}
    usage = Usage(requests_by_path={"Fn": 2e6, "Other": 1e6}, log_kb_per_invocation=0, duration_ms=0)
    report = estimate(templates_of(two), usage, free_tier=True)
    by_path = {ln.path: ln.monthly_usd for ln in report.lines if ln.item == "invocations"}
    assert cents(sum(by_path.values(), Decimal(0))) == Decimal("0.40")
    assert by_path["App/Fn/Resource"] == pytest.approx(
        2 * by_path["App/Other/Resource"], rel=Decimal("1e-20")
    )


# --- What the model reads ----------------------------------------------------------------------------------


def test_a_resource_type_the_model_has_never_seen_is_listed_not_dropped():
    report = estimate(templates_of({"Thing": {"Type": "AWS::Foo::Bar", "Properties": {}}}))
    [listed] = report.not_priced
    assert listed.path == "App/Thing"
    assert "no price for AWS::Foo::Bar" in listed.why
    assert report.lines == []


def test_a_fifo_queue_is_priced_on_the_fifo_meter_and_large_messages_per_64_kb():
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}}
    method = {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "HttpMethod": "POST",
            "RestApiId": {"Ref": "Api"},
            "Integration": {
                "Uri": "arn:aws:apigateway:us-east-1:sqs:path/1/q",
                "X": {"Fn::GetAtt": ["Q", "Arn"]},
            },
        },
    }
    report = estimate(
        templates_of({"Api": REST_API, "Q": queue, "M": method}), Usage(orders=1e6, order_kb=100)
    )
    [sends] = [ln for ln in report.lines if ln.item.startswith("sends")]
    assert sends.meter == "sqs.fifo_requests"
    assert sends.quantity == 2e6  # 100 KB is two 64 KB chunks


def test_the_breaker_reads_once_per_thousand_calls_at_a_thousand_calls_a_second():
    busy = Circuit(None, None, "payments", 1.0, 1000 * MONTH_SECONDS, 1)  # type: ignore[arg-type]
    assert busy.calls / breaker_reads(busy) == pytest.approx(1000)
    sparse = Circuit(None, None, "payments", 1.0, 1000, 5)  # type: ignore[arg-type]
    assert breaker_reads(sparse) == pytest.approx(1000, rel=1e-3)  # calls minutes apart: one read each


def test_fleet_mode_writes_failures_once_per_container_period_and_transitions_to_every_copy():
    usage = Usage(downstream_failure_ratio=0.5, circuit_openings=10)
    calls = 1000 * MONTH_SECONDS  # 1,000 calls a second, half of them failing, on one container
    one = Circuit(None, None, "payments", 1.0, calls, 1)  # type: ignore[arg-type]
    fleet = Circuit(None, None, "payments", 1.0, calls, 1, read_copies=32)  # type: ignore[arg-type]
    assert breaker_writes(one, usage) == calls * 0.5 + 10 * 3
    # One ADD per (jittered, 1.1 s on average) cache period instead of one per failure ...
    assert breaker_writes(fleet, usage) - 10 * (3 * 33 + 32) == pytest.approx(MONTH_SECONDS / 1.1, rel=1e-6)
    # ... and each transition's write to every copy, with a claim per copy at each opening's end.
    quiet = Usage(downstream_failure_ratio=0.0, circuit_openings=10)
    assert breaker_writes(fleet, quiet) == 10 * (3 * 33 + 32)


def test_the_metrics_priced_are_the_metrics_the_runtime_emits():
    runtime = REPO_ROOT / "constructs_lib" / "runtime"
    emitted = set(re.findall(r'_emit\(\s*"\w+",\s*"(\w+)"', (runtime / "breaker.py").read_text()))
    emitted |= set(re.findall(r'also_count=\("(\w+)",\)', (runtime / "breaker.py").read_text()))
    emitted |= set(re.findall(r'State\.\w+: "(\w+)"', (runtime / "breaker.py").read_text()))  # transitions
    assert emitted == set(BREAKER_METRICS)
    governor = (runtime / "governor.py").read_text()
    names = set(re.findall(r'_emit\(\s*"\w+",\s*"(\w+)"', governor))
    assert 'event.replace("Mapping", "Mappings")' in governor  # MappingPaused/Resumed -> Mappings...
    names |= {"MappingsPaused", "MappingsResumed"}
    assert names == set(GOVERNOR_METRICS)


# --- The profile -------------------------------------------------------------------------------------------


def test_the_profile_refuses_unknown_keys_non_numbers_and_ratios_above_one():
    with pytest.raises(ConstructsLibValidationError) as raised:
        usage_from(
            {"oders": 5, "orders": "many", "cache_hit_ratio": 1.5, "behavior_share": {"/a*": 0.7, "/b*": 2}}
        )
    text = str(raised.value)
    assert "oders: got 'oders'" not in text  # the value shown is the value, not the key
    for expected in ("oders", "orders: got 'many'", "cache_hit_ratio: got 1.5", "behavior_share./b*"):
        assert expected in text


def test_set_overrides_one_value_and_table_keys_take_a_dot(tmp_path):
    profile = tmp_path / "usage.toml"
    profile.write_text('orders = 10\n[behavior_share]\n"/api/catalog*" = 0.1\n')
    usage = load_usage(profile, ["orders=2_000_000", "behavior_share./api/catalog*=0.25"])
    assert usage.orders == 2e6
    assert usage.behavior_share == {"/api/catalog*": 0.25}
    with pytest.raises(ConstructsLibValidationError, match="write KEY=VALUE"):
        load_usage(profile, ["orders"])


def test_prices_file_replaces_a_price_and_refuses_an_unknown_meter():
    changed = with_overrides(METERS, {"sqs.standard_requests": {"price": 0.0000003, "free": 0}}, "mine.toml")
    assert changed["sqs.standard_requests"].charge(1e6, free_tier=True) == Decimal("0.3")
    assert changed["sqs.standard_requests"].source == "mine.toml"
    with pytest.raises(ConstructsLibValidationError, match="is not a meter"):
        with_overrides(METERS, {"sqs.requests": 1}, "mine.toml")


# --- The command line --------------------------------------------------------------------------------------


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    (tmp_path / "App.template.json").write_text(json.dumps({"Resources": {"Api": REST_API, "Fn": FUNCTION}}))
    manifest = {
        "artifacts": {
            "App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "App.template.json"}}
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_json_output_has_the_documented_keys(assembly, capsys):
    assert main([str(assembly), "--set", "requests_by_path.Api=2e6", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"total_monthly_usd", "by_service", "lines", "cdn", "not_priced", "prices_as_of", "region"} <= set(
        report
    )
    assert report["region"] == "us-east-1"
    rest = next(p for p in report["prices"] if p["meter"] == "apigateway.rest_requests")
    assert rest["source"] == "https://aws.amazon.com/api-gateway/pricing/"
    assert rest["as_of"] == report["prices_as_of"]
    assert report["by_service"]["API Gateway"] == 7.0  # 2 M requests at $3.50 a million
    assert report["by_service"]["Data transfer"] == pytest.approx(2e6 * 0.5 / 1024**2 * 0.09, abs=0.005)
    line_keys = {
        "stack",
        "path",
        "resource_type",
        "service",
        "item",
        "quantity",
        "unit",
        "unit_price_usd",
        "monthly_usd",
    }
    assert all(line_keys <= set(line) for line in report["lines"])


def test_bad_input_exits_2_with_the_reason(assembly, capsys):
    assert main([str(assembly), "--set", "orders=lots"]) == 2
    assert "orders" in capsys.readouterr().err
    assert main([str(assembly / "missing")]) == 2
    assert "not a cloud assembly" in capsys.readouterr().err


def test_table_and_markdown_formats_state_the_total(assembly, capsys):
    for form in ("table", "markdown"):
        assert main([str(assembly), "--set", "requests_by_path.Api=1e6", "--format", form]) == 0
        # $3.50 of requests and $0.04 of 0.5 KB responses (0.48 GB at $0.09).
        assert "Monthly cost: $3.54" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("resource", "why"),
    [
        (
            {"Type": "AWS::Lambda::Alias", "Properties": {"ProvisionedConcurrencyConfig": {"X": 2}}},
            "provisioned concurrency",
        ),
        ({"Type": "AWS::ApiGateway::Stage", "Properties": {"CacheClusterEnabled": True}}, "cache cluster"),
    ],
)
def test_what_bills_by_the_hour_beyond_the_model_is_listed_not_called_free(resource, why):
    """Warm provisioned concurrency and an API cache cost money the model does not price: each is listed,
    with the reason, rather than passed off as free or as on-demand."""
    report = estimate(templates_of({"Thing": resource}))
    [listed] = report.not_priced
    assert why in listed.why
    assert report.free == []
    assert report.lines == []


def test_an_alias_and_a_stage_without_hourly_extras_are_free():
    report = estimate(
        templates_of(
            {
                "Alias": {"Type": "AWS::Lambda::Alias", "Properties": {"Name": "live"}},
                "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"StageName": "prod"}},
            }
        )
    )
    assert sorted(item.resource_type for item in report.free) == [
        "AWS::ApiGateway::Stage",
        "AWS::Lambda::Alias",
    ]
    assert report.not_priced == []


@pytest.mark.slow
def test_the_command_line_imports_nothing_from_aws_cdk_or_jsii(assembly):
    """Reading JSON needs no CDK: the CLI must not start jsii's node runtime (about 1 s a run)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "constructs_lib.cost", str(assembly), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"constructs_lib", "json", "tomllib"} <= imported  # the trace lists what the run imported
    assert imported.isdisjoint({"aws_cdk", "jsii", "constructs", "cdk_nag"})
    assert json.loads(run.stdout)["region"] == "us-east-1"


# --- Exact output ------------------------------------------------------------------------------------------


def test_json_carries_each_published_price_in_full(assembly, capsys):
    """Rounded to 6 decimals, Lambda's $0.20 per million read 0.0 and x86 GB-seconds 1.7e-05."""
    usage = [
        "--set",
        "requests_by_path.Fn=3e6",
        "--set",
        "duration_ms=1000",
        "--set",
        "log_kb_per_invocation=0",
    ]
    usage += ["--format", "json"]
    assert main([str(assembly), *usage]) == 0
    report = json.loads(capsys.readouterr().out)
    [requests] = [ln for ln in report["lines"] if ln["item"] == "invocations"]
    assert requests["unit_price_usd"] == 0.0000002
    assert requests["quoted_price"] == "$0.20 per million requests"
    [compute] = [ln for ln in report["lines"] if ln["item"].startswith("compute")]
    assert compute["unit_price_usd"] == 0.0000166667
    assert compute["quoted_price"] == "$0.0000166667 per GB-s"
    # Money keeps at least cents: 3 M x 0.5 GB-s x $0.0000166667 = $25.000050.
    assert compute["monthly_usd"] == 25.00005
    assert report["total_monthly_usd"] == 25.60  # and 3 M requests at $0.20 a million


def test_table_and_markdown_quote_prices_in_the_pricing_pages_units(assembly, capsys):
    for form in ("table", "markdown"):
        settings = ["--set", "requests_by_path.Api=1e6", "--set", "requests_by_path.Fn=1e6"]
        assert main([str(assembly), *settings, "--format", form]) == 0
        out = capsys.readouterr().out
        for quoted in ("$3.50 per million requests", "$0.20 per million requests", "$0.0000166667 per GB-s"):
            assert quoted in out, (form, quoted)


def test_rest_and_http_api_requests_cost_3_50_and_1_00_a_million():
    """https://aws.amazon.com/api-gateway/pricing/ (read 2026-11-29): REST APIs $3.50 per million requests
    (first 333 million), HTTP APIs $1.00 per million (first 300 million)."""
    http = {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}}
    usage = Usage(requests_by_path={"Api": 1e6, "Http": 1e6}, api_response_kb=0)
    report = estimate(templates_of({"Api": REST_API, "Http": http}), usage)
    assert cents(line_usd(report, "REST API requests")) == Decimal("3.50")
    assert cents(line_usd(report, "HTTP API requests")) == Decimal("1.00")


# --- The free tier as AWS applies it -----------------------------------------------------------------------

ARM = {**FUNCTION, "Properties": {**FUNCTION["Properties"], "Architectures": ["arm64"]}}


def test_arm64_512_mb_three_million_one_second_invocations_is_15_07_with_the_free_tier():
    """https://aws.amazon.com/lambda/pricing/ (read 2026-11-29): the free 400,000 GB-s are shared across
    architectures. arm64 at $0.0000133334 per GB-s: 3 M x 0.5 GB-s = 1.5 M GB-s, 1.1 M billable = $14.67;
    2 M billable requests at $0.20 a million = $0.40; $15.07 (the model said $20.40: no allowance)."""
    usage = Usage(requests_by_path={"Fn": 3e6}, duration_ms=1000, log_kb_per_invocation=0)
    report = estimate(templates_of({"Fn": ARM}), usage, free_tier=True)
    assert cents(line_usd(report, "compute")) == Decimal("14.67")
    assert cents(report.total_monthly_usd) == Decimal("15.07")


def test_both_architectures_share_one_allowance_of_gb_seconds():
    """300,000 GB-s on each architecture: 600,000 against one allowance of 400,000, shared out by use."""
    other = {**FUNCTION, "Metadata": {"aws:cdk:path": "App/Other/Resource"}}
    usage = Usage(
        requests_by_path={"Fn": 600_000, "Other": 600_000}, duration_ms=1000, log_kb_per_invocation=0
    )
    report = estimate(templates_of({"Fn": ARM, "Other": other}), usage, free_tier="always")
    by_meter = {ln.meter: ln.monthly_usd for ln in report.lines if ln.item.startswith("compute")}
    assert cents(by_meter["lambda.gb_seconds.arm64"]) == cents(Decimal(100_000) * Decimal("0.0000133334"))
    assert cents(by_meter["lambda.gb_seconds.x86_64"]) == cents(Decimal(100_000) * Decimal("0.0000166667"))


def test_fifo_queues_share_the_free_million_requests():
    """https://aws.amazon.com/sqs/pricing/: the first million requests a month are free, FIFO included,
    one million for both kinds of queue: 600,000 standard and 600,000 FIFO requests leave 200,000 to pay,
    shared by use: 100,000 at $0.40 a million and 100,000 at $0.50."""
    fifo = {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}}
    standard = {"Type": "AWS::SQS::Queue", "Properties": {}}
    usage = Usage(resources={"App/Fifo": {"messages": 6e5}, "App/Standard": {"messages": 6e5}})
    shared = estimate(templates_of({"Fifo": fifo, "Standard": standard}), usage, free_tier="always")
    by_queue = {ln.path: cents(ln.monthly_usd) for ln in shared.lines}
    assert by_queue == {"App/Fifo": Decimal("0.05"), "App/Standard": Decimal("0.04")}
    alone = Usage(resources={"App/Fifo": {"messages": 1e6}})
    assert estimate(templates_of({"Fifo": fifo}), alone, free_tier="always").total_monthly_usd == 0
    assert cents(estimate(templates_of({"Fifo": fifo}), alone).total_monthly_usd) == Decimal("0.50")


def test_the_perpetual_allowances_apply_apart_from_the_12_month_ones(assembly, capsys):
    """Lambda's free million requests never expire; API Gateway's is for an account's first 12 months."""
    usage = Usage(
        requests_by_path={"Api": 1e6, "Fn": 1e6}, duration_ms=0, api_response_kb=0, log_kb_per_invocation=0
    )
    templates = templates_of({"Api": REST_API, "Fn": FUNCTION})
    totals = {
        mode: estimate(templates, usage, free_tier=mode).total_monthly_usd
        for mode in ("none", "always", "all")
    }
    assert {mode: cents(total) for mode, total in totals.items()} == {
        "none": Decimal("3.70"),
        "always": Decimal("3.50"),
        "all": Decimal("0.00"),
    }
    settings = ["--set", "requests_by_path.Api=1e6", "--set", "api_response_kb=0", "--format", "json"]
    for flag, mode in ((["--free-tier"], "all"), (["--free-tier", "always"], "always"), ([], "none")):
        assert main([str(assembly), *settings, *flag]) == 0
        assert json.loads(capsys.readouterr().out)["free_tier"] == mode


# --- Traffic shapes ----------------------------------------------------------------------------------------

TRACED = {**FUNCTION, "Properties": {**FUNCTION["Properties"], "TracingConfig": {"Mode": "Active"}}}


def _traces(report: Any) -> float:
    return sum(ln.quantity for ln in report.lines if ln.meter == "xray.traces_recorded")


def test_xray_traces_by_lambdas_default_rule_from_the_arrival_rate():
    """The first request each second, then 5% of the rest: below one request a second nearly every
    request is traced (the storefront's 1,053,200 invocations were modelled as 52,660 traces)."""
    for invocations in (1_053_200, 1e9):
        report = estimate(templates_of({"Fn": TRACED}), Usage(requests_by_path={"Fn": invocations}))
        rate = invocations / MONTH_SECONDS
        first = 1 - math.exp(-rate)  # a second with at least one request keeps its first
        assert _traces(report) == pytest.approx(MONTH_SECONDS * (first + 0.05 * (rate - first)))
    sparse = estimate(templates_of({"Fn": TRACED}), Usage(requests_by_path={"Fn": 1_053_200}))
    assert _traces(sparse) > 0.8 * 1_053_200
    dense = estimate(templates_of({"Fn": TRACED}), Usage(requests_by_path={"Fn": 1e9}))
    assert 0.05 * 1e9 < _traces(dense) < 0.053 * 1e9  # 5%, and the first of each second


def test_a_sampling_rule_in_the_template_replaces_lambdas_default():
    rule = {
        "Type": "AWS::XRay::SamplingRule",
        "Properties": {
            "SamplingRule": {
                "RuleName": "Sparse",
                "Priority": 10,
                "ReservoirSize": 0,
                "FixedRate": 0.01,
                "ServiceName": "*",
                "ServiceType": "*",
                "Host": "*",
                "HTTPMethod": "*",
                "URLPath": "*",
                "ResourceARN": "*",
                "Version": 1,
            }
        },
    }
    report = estimate(templates_of({"Fn": TRACED, "Rule": rule}), Usage(requests_by_path={"Fn": 1e6}))
    assert _traces(report) == pytest.approx(1e4)
    assert any("sampling rule Sparse" in ln.item for ln in report.lines)


def _consumer(batch_size: int = 10, **mapping: Any) -> dict[str, Any]:
    return {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Fn": FUNCTION,
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]},
                "FunctionName": {"Ref": "Fn"},
                "BatchSize": batch_size,
                **mapping,
            },
        },
    }


def _requests(report: Any, item: str) -> float:
    return sum(ln.quantity for ln in report.lines if ln.item.startswith(item))


def test_sqs_bills_each_64_kb_of_a_returned_batch_and_one_request_a_delete():
    """10 messages of 100 KB returned together are 1,000 KB: 16 billed requests (not 2); their delete
    carries no payload: 1 request. Two containers that each take 10 s per batch, at 2 messages a second,
    find 10 waiting every time."""
    messages = 2 * MONTH_SECONDS
    usage = Usage(
        resources={"App/Q": {"messages": messages}}, order_kb=100, duration_ms=10_000, log_kb_per_invocation=0
    )
    report = estimate(templates_of(_consumer(ScalingConfig={"MaximumConcurrency": 2})), usage)
    batches = messages / 10
    assert _requests(report, "receives with messages") == pytest.approx(batches * 16)
    assert _requests(report, "batch deletes") == pytest.approx(batches)
    assert _requests(report, "sends") == messages * 2  # each 100 KB message is two 64 KB chunks
    assert _requests(report, "invocations") == pytest.approx(batches)


def test_batches_fill_from_the_arrival_rate_and_the_batching_window():
    """At 100,000 messages a month (one every 26 s) a poller without a batching window returns each
    message alone: about 100,000 invocations, not 10,000. A 20 s window gathers the ones that follow."""
    usage = Usage(resources={"App/Q": {"messages": 1e5}}, log_kb_per_invocation=0)
    alone = estimate(templates_of(_consumer()), usage)
    assert _requests(alone, "invocations") == pytest.approx(1e5, rel=1e-3)
    windowed = estimate(templates_of(_consumer(MaximumBatchingWindowInSeconds=20)), usage)
    followers = 1e5 / MONTH_SECONDS * 20  # Poisson mean of the messages arriving within the window
    assert _requests(windowed, "invocations") == pytest.approx(1e5 / (1 + followers), rel=0.05)


def test_every_integration_counts_toward_its_function():
    """An HTTP API route, an alarm action, an EventBridge rule and an SNS subscription each invoke the
    function they name (only REST API methods did)."""
    functions = {name: {**FUNCTION, "Metadata": {"aws:cdk:path": f"App/{name}/Resource"}} for name in "ABCD"}
    arn = {name: {"Fn::GetAtt": [name, "Arn"]} for name in functions}
    resources = {
        **functions,
        "Http": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}},
        "Integration": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "Http"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": arn["A"],
            },
        },
        "Route": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "Http"},
                "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]},
            },
        },
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [arn["B"]]}},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {"EventPattern": {"source": ["aws.s3"]}, "Targets": [{"Id": "1", "Arn": arn["C"]}]},
        },
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Subscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"Protocol": "lambda", "TopicArn": {"Ref": "Topic"}, "Endpoint": arn["D"]},
        },
    }
    usage = Usage(
        requests_by_path={"App/Http": 3e6},
        alarm_notifications=40,
        resources={"App/Rule": {"events": 5e4}, "App/Topic": {"messages": 7e3}},
    )
    report = estimate(templates_of(resources), usage)
    invocations = {ln.path: ln.quantity for ln in report.lines if ln.item == "invocations"}
    assert invocations == {
        "App/A/Resource": 3e6,
        "App/B/Resource": 40,
        "App/C/Resource": 5e4,
        "App/D/Resource": 7e3,
    }


# --- Types -------------------------------------------------------------------------------------------------


def test_custom_resources_are_free_whatever_their_type_is_called():
    custom = {
        "Type": "AWS::CloudFormation::CustomResource",
        "Properties": {"ServiceToken": "arn:aws:lambda:x"},
    }
    named = {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:x"}}
    report = estimate(templates_of({"A": custom, "B": named}))
    assert report.not_priced == []
    assert [i.why for i in report.free] == ["a custom resource: runs at deploy time only"] * 2


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("TOKEN", "a Lambda (TOKEN) authorizer"),
        ("REQUEST", "a Lambda (REQUEST) authorizer"),
        ("COGNITO_USER_POOLS", "Cognito"),
    ],
)
def test_each_authorizer_is_listed_for_what_it_is(kind, said):
    authorizer = {"Type": "AWS::ApiGateway::Authorizer", "Properties": {"Type": kind, "RestApiId": "x"}}
    [listed] = estimate(templates_of({"Auth": authorizer})).free
    assert said in listed.why
    assert ("Cognito" in listed.why) == (kind == "COGNITO_USER_POOLS")


def test_warm_throughput_is_charged_once_above_what_a_provisioned_table_already_has():
    """A provisioned table is warm at its capacity: only the units above it are charged, once, at the
    provisioned rates ($0.00013 a read unit, $0.00065 a write unit)."""
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 50},
            "WarmThroughput": {"ReadUnitsPerSecond": 1000, "WriteUnitsPerSecond": 50},
        },
    }
    global_table = {
        "Type": "AWS::DynamoDB::GlobalTable",
        "Properties": {
            "BillingMode": "PROVISIONED",
            "WriteProvisionedThroughputSettings": {"WriteCapacityAutoScalingSettings": {"MinCapacity": 10}},
            "Replicas": [
                {"Region": "us-east-1", "ReadProvisionedThroughputSettings": {"ReadCapacityUnits": 20}}
            ],
            "WarmThroughput": {"WriteUnitsPerSecond": 110},
        },
    }
    report = estimate(templates_of({"T": table, "G": global_table}))
    once = {(ln.path, ln.meter): ln.quantity for ln in report.one_time}
    assert once == {
        ("App/T", "dynamodb.warm_read_units"): 900,
        ("App/T", "dynamodb.warm_write_units"): 0,
        ("App/G", "dynamodb.warm_write_units"): 100,
    }
    assert cents(report.one_time_usd) == cents(
        Decimal(900) * Decimal("0.00013") + Decimal(100) * Decimal("0.00065")
    )
    assert not [ln for ln in report.lines if "warm" in ln.meter]


# --- Usage by construct path -------------------------------------------------------------------------------

POOL = {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolTier": "ESSENTIALS"}}


def test_a_resources_table_sets_the_volumes_of_plain_resources():
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    usage = Usage(resources={"App/Q": {"messages": 2e6}, "App/T": {"reads": 8e6, "writes": 1.6e6}})
    report = estimate(templates_of({"Q": queue, "T": table}), usage)
    assert cents(line_usd(report, "sends")) == Decimal("0.80")
    assert cents(line_usd(report, "reads (from the profile)")) == Decimal("1.00")
    assert cents(line_usd(report, "writes (from the profile)")) == Decimal("1.00")


def test_monthly_active_users_are_charged_once_per_pool_or_given_by_pool():
    """An app with three pools was charged the profile's users three times."""
    pools = {"Shop": POOL, "Staff": POOL, "Partners": POOL}
    with pytest.raises(ConstructsLibValidationError) as raised:
        estimate(templates_of(pools), Usage(monthly_active_users=20_000))
    assert "3 user pools (App/Partners, App/Shop, App/Staff)" in str(raised.value)
    usage = Usage(monthly_active_users={"Shop": 20_000, "Staff": 100})
    report = estimate(templates_of(pools), usage)
    assert {ln.path: ln.quantity for ln in report.lines} == {
        "App/Shop": 20_000,
        "App/Staff": 100,
        "App/Partners": 0,
    }
    one = estimate(templates_of({"Shop": POOL}), Usage(monthly_active_users=20_000))
    assert cents(one.total_monthly_usd) == Decimal("300.00")  # 20,000 at $0.015, once


def test_every_path_key_that_names_nothing_is_refused_with_the_paths_that_exist():
    usage = usage_from(
        {
            "requests_by_path": {"Apii": 1e6},
            "duration_ms_by_path": {"Fnn": 50},
            "behavior_share": {"/nowhere*": 0.1},
            "resources": {"App/Queue": {"messages": 1}, "App/Fn": {"reads": 5}},
            "monthly_active_users": {"Pool": 10},
        }
    )
    with pytest.raises(ConstructsLibValidationError) as raised:
        estimate(templates_of({"Api": REST_API, "Fn": FUNCTION}), usage)
    text = str(raised.value)
    assert "(6 problem(s))" in text
    assert (
        "requests_by_path.Apii: got 1000000.0; matches no resource it applies to; the app has: "
        "App/Api/Resource, App/Fn/Resource" in text
    )
    assert (
        "duration_ms_by_path.Fnn: got 50.0; matches no resource it applies to; the app has: App/Fn/Resource"
        in text
    )
    assert "behavior_share./nowhere*: got 0.1; matches no behavior: the app has none" in text
    assert "resources.App/Queue" in text
    assert "resources.App/Fn.reads: got 5.0; a AWS::Lambda::Function takes: invocations" in text
    assert "monthly_active_users.Pool: got 10.0; matches no resource that takes it: the app has none" in text


def test_a_key_that_names_several_resources_must_say_which():
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    templates = templates_of({"Orders": queue, "OrdersDeadLetterQueue": queue, "OrdersArchive": queue})
    report = estimate(templates, Usage(resources={"Orders": {"messages": 10}}))  # whole segments win
    assert {ln.path for ln in report.lines if ln.quantity} == {"App/Orders"}
    with pytest.raises(ConstructsLibValidationError, match="names 3 resources"):
        estimate(templates, Usage(resources={"App": {"messages": 10}}))


# --- Bad input ---------------------------------------------------------------------------------------------


def test_a_malformed_toml_file_names_the_line_and_column(assembly, tmp_path, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text("orders = 10\nviewer_requests = = 5\n")
    for option in ("--usage", "--prices"):
        assert main([str(assembly), option, str(broken)]) == 2
        error = capsys.readouterr().err
        assert f"{option}: got '{broken}'; is not valid TOML" in error
        assert "line 2, column" in error


def test_bad_levels_say_what_they_take(assembly, capsys):
    for levels in ("1e5;1e7", "many", "0,1e5", "1e5,,1e7"):
        assert main([str(assembly), "--set", "viewer_requests=1e6", "--levels", levels]) == 2
        assert "comma-separated page views a month, each above 0" in capsys.readouterr().err
    assert main([str(assembly), "--levels", "1e5"]) == 2  # nothing to scale: the profile has no page views
    assert "set viewer_requests above 0" in capsys.readouterr().err


def test_a_price_far_from_the_pinned_one_is_refused_unless_on_purpose(assembly, tmp_path, capsys):
    """A price per million given as per request (0.20 for $0.0000002) priced 1 M requests at $200,001."""
    prices = tmp_path / "prices.toml"
    prices.write_text('"lambda.requests" = 0.20\n')
    assert main([str(assembly), "--prices", str(prices), "--set", "requests_by_path.Fn=1e6"]) == 2
    error = capsys.readouterr().err
    assert "lambda.requests: got 0.2; is 1,000,000 times the pinned $0.0000002 per request" in error
    assert "($0.20 per million requests); give USD per request, or pass --allow-price-change" in error
    settings = ["--prices", str(prices), "--set", "requests_by_path.Fn=1e6", "--allow-price-change"]
    assert main([str(assembly), *settings, "--format", "json"]) == 0
    lines = json.loads(capsys.readouterr().out)["lines"]
    assert next(ln for ln in lines if ln["item"] == "invocations")["monthly_usd"] == 200_000.0
    with pytest.raises(ConstructsLibValidationError, match="1/1,000 of"):
        with_overrides(METERS, {"sqs.standard_requests": 0.0000000004}, "mine.toml")


# --- The CDN section ---------------------------------------------------------------------------------------

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def _edge_app(web_acl: bool = True) -> Templates:
    rules = [{"Name": f"r{i}", "Statement": {"ByteMatchStatement": {}}} for i in range(4)]
    config: dict[str, Any] = {
        "DefaultCacheBehavior": {"TargetOriginId": "site"},
        "CacheBehaviors": [
            {"PathPattern": "/api/*", "TargetOriginId": "api", "CachePolicyId": CACHING_DISABLED}
        ],
        "Origins": [
            {"Id": "site", "DomainName": {"Fn::GetAtt": ["Site", "RegionalDomainName"]}},
            {
                "Id": "api",
                "DomainName": {"Fn::Join": ["", [{"Ref": "Api"}, ".execute-api.us-east-1.amazonaws.com"]]},
            },
        ],
    }
    resources: dict[str, Any] = {
        "Site": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Api": REST_API,
        "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": config}},
    }
    if web_acl:
        config["WebACLId"] = {"Fn::GetAtt": ["Acl", "Arn"]}
        resources["Acl"] = {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {"Scope": "CLOUDFRONT", "Rules": rules},
        }
    return templates_of(resources)


EDGE_USAGE = Usage(viewer_requests=5e6, behavior_share={"/api/*": 0.2}, response_kb=30, site_gb=0)


def test_the_cdn_section_prices_the_edge_each_way_cloudfront_is_sold():
    cdn = estimate(_edge_app(), EDGE_USAGE).cdn
    assert cdn is not None
    gb = 5e6 * 30 / 1024**2
    waf = 5 + 4 + 5e6 * 0.6 / 1e6
    edges = {o.name: o.edge_usd for o in cdn.options}
    assert list(edges) == [
        "pay-as-you-go",
        "pay-as-you-go with the perpetual free allowance",
        "Free",
        "Pro",
        "Business",
        "Premium",
    ]
    assert float(edges["pay-as-you-go"]) == pytest.approx(5e6 / 1e4 * 0.01 + gb * 0.085 + waf)
    assert float(edges["pay-as-you-go with the perpetual free allowance"]) == pytest.approx(
        waf
    )  # 1 TB, 10 M free
    assert edges["Free"] is None  # 5 M requests and 143 GB do not fit 1 M and 100 GB
    assert edges["Pro"] == Decimal(15)  # the plan covers CloudFront and the web ACL
    assert edges["Business"] == Decimal(200)
    assert cdn.cheapest_plan is not None
    assert cdn.cheapest_plan.name == "Pro"


def test_without_the_cdn_the_origins_keep_the_same_protection_where_they_can():
    """The with-CDN side carried a web ACL that the without-CDN side did not: a REST API takes a regional
    web ACL with the same rules; an S3 bucket cannot take one, and the section says so."""
    cdn = estimate(_edge_app(), EDGE_USAGE).cdn
    bare = estimate(_edge_app(web_acl=False), EDGE_USAGE).cdn
    assert cdn is not None
    assert bare is not None
    api_requests = 5e6 * 0.2
    regional_acl = Decimal(repr(5 + 4 + api_requests * 0.6 / 1e6))
    assert cents(cdn.origin_monthly_usd_without_cdn - bare.origin_monthly_usd_without_cdn) == cents(
        regional_acl
    )
    assert cdn.protection == (
        "Without the CDN: a regional web ACL with the same 4 rules on each REST API (1); "
        "S3 bucket origins cannot take a web ACL and have none."
    )
    assert bare.protection == "Neither side has a web ACL: the distribution has none."


def test_the_verdict_names_the_assumption_that_decides_it():
    cdn = estimate(_edge_app(), EDGE_USAGE).cdn
    assert cdn is not None
    nets = {o.name: cdn.net_under(o) for o in cdn.options}
    assert nets["pay-as-you-go"] < 0 < nets["Pro"]
    assert max(n for n in nets.values() if n is not None) == nets["Pro"]
    assert cdn.verdict == (
        "Whether the CDN pays for itself depends on how CloudFront is bought: at pay-as-you-go list "
        f"prices it costs ${cents(-nets['pay-as-you-go']):,} a month more than it saves, but with the Pro "
        f"flat-rate plan it saves ${cents(nets['Pro']):,}."
    )
    heavy = estimate(_edge_app(), replace(EDGE_USAGE, response_kb=3000, cache_hit_ratio=0.99)).cdn
    assert heavy is not None
    assert heavy.verdict.startswith("The CDN saves $")


def test_each_way_of_buying_cloudfront_prices_both_sides_in_its_own_free_tier_mode():
    """The edge with the perpetual free allowance was set against origins priced without it: the verdict
    compared sides priced under different free-tier modes. The viewers' 143 GB out of the region without
    the CDN are 100 GB free under the perpetual allowance ($0.09 a GB, https://aws.amazon.com/ec2/pricing/
    on-demand/#Data_Transfer), so the CDN saves $9.00 less there than a report without the free tier says."""
    cdn = estimate(_edge_app(), EDGE_USAGE).cdn
    assert cdn is not None
    options = {o.name: o for o in cdn.options}
    listed, allowance = options["pay-as-you-go"], options["pay-as-you-go with the perpetual free allowance"]
    assert (listed.free_tier, allowance.free_tier, options["Pro"].free_tier) == ("none", "always", "none")
    assert listed.origin_without_usd == cdn.origin_monthly_usd_without_cdn
    assert cents(listed.origin_without_usd - allowance.origin_without_usd) == Decimal("9.00")
    assert cdn.net_under(allowance) == (
        allowance.origin_without_usd - allowance.origin_usd - (allowance.edge_usd or Decimal(0))
    )


# --- Cognito, the free tier, and what the command line takes -----------------------------------------------

LITE = {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolTier": "LITE"}}


def test_cognito_tiers_count_every_user_the_free_ones_included():
    """https://aws.amazon.com/cognito/pricing/ (Lite): the first 10,000 users free, 10,001-100,000 at
    $0.0055, 100,001-1,000,000 at $0.0046. 200,000 users: 90,000 x $0.0055 + 100,000 x $0.0046 = $955.00
    (the model said $964.00: its tiers started after the free 10,000)."""
    usage = Usage(monthly_active_users=200_000)
    report = estimate(templates_of({"Pool": LITE}), usage, free_tier="always")
    assert cents(report.total_monthly_usd) == Decimal("955.00")
    assert cents(estimate(templates_of({"Pool": LITE}), usage).total_monthly_usd) == Decimal("1010.00")


def test_lite_and_essentials_share_one_free_allowance():
    """One allowance of 10,000 users an account for both plans (as guides say; the pricing page could not
    be read here, and the report's notes say so), shared out by users: not 10,000 each."""
    pools = {"Shop": LITE, "Staff": POOL}
    usage = Usage(monthly_active_users={"Shop": 10_000, "Staff": 10_000})
    report = estimate(templates_of(pools), usage, free_tier="always")
    by_pool = {ln.path: ln.monthly_usd for ln in report.lines}
    assert by_pool == {"App/Shop": Decimal("27.5"), "App/Staff": Decimal("75")}  # 5,000 each free
    assert any("share one allowance of 10,000 users" in note for note in report.notes)


def test_the_12_month_allowances_carry_the_2025_caveat(assembly, capsys):
    """Accounts created on or after 2025-07-15 get credits instead of the 12-month allowances (AWS Free
    Tier, https://aws.amazon.com/free/): the help, the report's notes (with --free-tier all) and docs/cost.md
    say so."""
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "2025-07-15" in " ".join(capsys.readouterr().out.split())
    assert main([str(assembly), "--free-tier", "all"]) == 0
    assert "accounts created before 2025-07-15" in capsys.readouterr().out
    assert main([str(assembly), "--free-tier", "always"]) == 0
    assert "2025-07-15" not in capsys.readouterr().out
    assert "2025-07-15" in (REPO_ROOT / "docs" / "cost.md").read_text()


def test_a_toml_file_that_ends_too_soon_names_its_last_line(assembly, tmp_path, capsys):
    """ "Unclosed array (at end of document)" named no line."""
    broken = tmp_path / "broken.toml"
    broken.write_text("orders = 5\nfoo = [1,\n")
    assert main([str(assembly), "--usage", str(broken)]) == 2
    assert "(at line 2, column 10: the end of the file)" in capsys.readouterr().err


def test_a_missing_file_names_the_option(assembly, tmp_path, capsys):
    for option in ("--usage", "--prices"):
        assert main([str(assembly), option, str(tmp_path / "missing.toml")]) == 2
        error = capsys.readouterr().err
        assert (
            f"{option}: got '{tmp_path / 'missing.toml'}'; cannot be read (No such file or directory)"
            in error
        )


def test_empty_levels_are_refused(assembly, capsys):
    """``--levels ""`` printed the report as if no levels were asked for."""
    assert main([str(assembly), "--set", "viewer_requests=1e6", "--levels", ""]) == 2
    assert "comma-separated page views a month" in capsys.readouterr().err


def test_the_free_tier_flag_takes_only_its_words(assembly, capsys):
    """``--free-tier cdk.out`` took the directory as the flag's value: it is the bare flag, then the
    cloud assembly; any other word after the flag is refused, saying what it takes."""
    assert main(["--free-tier", str(assembly), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["free_tier"] == "all"
    with pytest.raises(SystemExit):
        main(["--free-tier", "sometimes", str(assembly)])
    assert "use one of none, always, all (e.g. --free-tier all)" in capsys.readouterr().err


def test_a_free_allowance_far_from_the_pinned_one_is_refused():
    """``{free = 1e12}`` in --prices was taken as is."""
    with pytest.raises(ConstructsLibValidationError, match="the pinned free allowance is 1,000,000 requests"):
        with_overrides(METERS, {"lambda.requests": {"free": 1e12}}, "mine.toml")
    with pytest.raises(ConstructsLibValidationError, match="no free allowance"):
        with_overrides(METERS, {"kms.keys": {"free": 5}}, "mine.toml")
    assert (
        with_overrides(METERS, {"lambda.requests": {"free": 2e6}}, "mine.toml")["lambda.requests"].free == 2e6
    )
    given = with_overrides(METERS, {"kms.keys": {"free": 5}}, "mine.toml", allow_change=True)
    assert given["kms.keys"].free == 5


def test_a_resource_setting_without_a_volume_says_how_to_write_one(tmp_path):
    with pytest.raises(ConstructsLibValidationError) as raised:
        load_usage(None, ["resources.Orders=5"])
    assert "write resources.<construct path>.<volume>=VALUE, e.g. resources.Stack/Orders.messages=2e6" in str(
        raised.value
    )


def test_effective_prices_carry_no_float_noise():
    """Functions sharing a meter's cost by their calls: 2.0000000000000002e-07 a request, not 2e-07."""
    calls = {"A": 20, "B": 412_498.0197620396, "C": 500_000, "D": 100_000}
    functions = {name: {**FUNCTION, "Metadata": {"aws:cdk:path": f"App/{name}/Resource"}} for name in calls}
    usage = Usage(requests_by_path={f"App/{name}/": n for name, n in calls.items()}, log_kb_per_invocation=0)
    report = json.loads(render(estimate(templates_of(functions), usage), "json"))
    prices = {ln["effective_unit_price_usd"] for ln in report["lines"] if ln["item"] == "invocations"}
    assert prices == {2e-07}


def test_the_header_dates_every_price_and_the_table_marks_prices_from_guides(capsys, tmp_path):
    """The header said "as of 2026-11-29" over prices read on 2026-12-03, and only JSON said which prices
    no stored pricing page shows."""
    nat = {"Type": "AWS::EC2::NatGateway", "Properties": {}, "Metadata": {"aws:cdk:path": "App/Nat"}}
    eip = {"Type": "AWS::EC2::EIP", "Properties": {}, "Metadata": {"aws:cdk:path": "App/Ip"}}
    report = estimate(
        templates_of({"Fn": FUNCTION, "Nat": nat, "Ip": eip}), Usage(requests_by_path={"Fn": 1e6})
    )
    for form in ("table", "markdown"):
        out = render(report, form)
        assert "us-east-1 list prices read 2026-11-29 to 2026-12-03" in out
        assert "$0.005 per public IPv4 address-hour [guides]" in out
        assert "Prices marked [guides] are the rates independent guides quote" in out
        assert "$0.045 per NAT gateway-hour [guides]" not in out  # read on a transcription of its page
    assert json.loads(render(report, "json"))["prices_read_from"] == "2026-11-29"


def test_one_distributions_requests_are_given_once():
    """With one distribution, its ``requests`` replace ``viewer_requests``; giving both is refused."""
    given = Usage(resources={"App/Cdn": {"requests": 3e6}}, behavior_share={"/api/*": 0.2})
    report = estimate(_edge_app(), given)
    assert [ln.quantity for ln in report.lines if ln.item == "HTTPS requests"] == [3e6]
    with pytest.raises(ConstructsLibValidationError, match="viewer_requests already gives App/Cdn"):
        estimate(_edge_app(), replace(given, viewer_requests=5e6))


def test_one_rule_is_one_rule():
    rules = [{"Name": "only", "Statement": {"ByteMatchStatement": {}}}]
    templates = _edge_app()
    acl = templates.stacks["App"].resources["Acl"]
    acl["Properties"]["Rules"] = rules
    cdn = estimate(templates, EDGE_USAGE).cdn
    assert cdn is not None
    assert "a regional web ACL with the same 1 rule on each REST API (1)" in cdn.protection
