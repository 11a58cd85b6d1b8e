"""The cost model on small templates: the pricing pages' worked examples, tier boundaries, the profile and
the command line. The sample apps' costs are tested in test_apps.py, on the assemblies it synthesizes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from constructs_lib import ConstructsLibValidationError
from constructs_lib.checks._model import Stack, Templates
from constructs_lib.cost import METERS, Usage, estimate, load_usage, usage_from, with_overrides
from constructs_lib.cost.__main__ import main
from constructs_lib.cost._estimate import cents
from constructs_lib.cost._model import BREAKER_METRICS, GOVERNOR_METRICS
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
    assert by_path["App/Fn/Resource"] == 2 * by_path["App/Other/Resource"]


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
        ({"Type": "AWS::DynamoDB::Table", "Properties": {}}, "provisioned capacity"),
        (
            {"Type": "AWS::Lambda::Alias", "Properties": {"ProvisionedConcurrencyConfig": {"X": 2}}},
            "provisioned concurrency",
        ),
        ({"Type": "AWS::ApiGateway::Stage", "Properties": {"CacheClusterEnabled": True}}, "cache cluster"),
    ],
)
def test_what_bills_by_the_hour_beyond_the_model_is_listed_not_called_free(resource, why):
    """A provisioned table, warm provisioned concurrency and an API cache cost money the model does not
    price: each is listed, with the reason, rather than passed off as free or as on-demand."""
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
