"""Sample apps: snapshots, cdk-nag + cfn-lint policy, the acknowledgment inventory and the CLI entry."""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import pickle
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsonschema
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from apps.all import build_app as build_samples_app
from apps.breaker.stack import BreakerStack
from apps.catalog.stack import CatalogStack
from apps.edge.stack import EdgeStack
from apps.ingest.stack import OrderIngestStack
from apps.storefront.app import build_app as build_storefront_app
from apps.storefront.app import compose as compose_storefront
from constructs_lib.checks import run_rules
from constructs_lib.checks._lambda import sqs_mappings
from constructs_lib.checks._model import Resource, Templates
from constructs_lib.checks.rules.delivery_undecided import delivery_edges
from constructs_lib.testing.velocity import IngestMethod
from tests.assembly_cache import cached_assembly, templates
from tests.harness import (
    FEATURE_FLAGS,
    NAG_PACKS,
    PINNED_ENV,
    REPO_ROOT,
    CheckovFinding,
    PolicyReport,
    check_policy,
    new_app,
    read_policy,
    run_checkov,
    scrubbed,
    without_checkov_skips,
)
from tests.inventory import SAMPLE_APPS

INVENTORY = json.loads((REPO_ROOT / "tests" / "acknowledgments.json").read_text())

#: Each app and its stacks. The storefront is the default app in cdk.json; apps.all builds the four
#: one-pattern samples. The policy tests check each assembly stack by stack.
PINNED_STACKS: dict[str, tuple[type[cdk.Stack], cdk.Environment]] = {
    "OrderIngest": (OrderIngestStack, PINNED_ENV),
    "Breaker": (BreakerStack, PINNED_ENV),
    "Catalog": (CatalogStack, PINNED_ENV),
    "Edge": (EdgeStack, cdk.Environment(account=PINNED_ENV.account, region="us-east-1")),
}


def run_cdk_json_app(outdir: Path, *, builtin_validation: bool = False, script: str | None = None) -> int:
    """Run the cdk.json app command (or ``python -c script``) as the CLI does, into ``outdir``; its exit
    code. ``builtin_validation`` turns aws-cdk-lib's built-in CloudFormation validation on for the run."""
    command = json.loads((REPO_ROOT / "cdk.json").read_text())["app"].split()
    assert command[:2] == ["python3", "-m"]
    argv = [sys.executable, *command[1:]] if script is None else [sys.executable, "-c", script]
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(FEATURE_FLAGS),
        "CDK_VALIDATION": "true" if builtin_validation else "false",
    }
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    (outdir / "exit-code").write_text(f"{done.returncode}\n{done.stderr[-4000:]}")
    return done.returncode


def _synthesize_cli(outdir: Path) -> None:
    assert run_cdk_json_app(outdir, builtin_validation=True) == 0, (outdir / "exit-code").read_text()


@pytest.fixture(scope="module")
def cli_assembly() -> Path:
    """What `cdk synth` runs from the repository root: the cdk.json app command, with aws-cdk-lib's
    built-in CloudFormation validation on (the samples leave it off unless asked; this run asks).

    Its assembly (every sample stack, with cdk-nag's packs run at synth) is shared by the policy tests,
    and cached on disk while the sources hold (tests/assembly_cache.py).
    """
    return cached_assembly("cli", _synthesize_cli)


def synthesized(name: str, build_app: Callable[[cdk.App], cdk.App], *, acknowledgments: bool = True) -> Path:
    """The assembly ``build_app`` synthesizes with the packs (cached); read it with ``read_policy``."""

    def build(outdir: Path) -> None:
        check_policy(build_app, outdir, acknowledgments=acknowledgments, cfn_lint=False)

    return cached_assembly(name, build)


def linted_policy(outdir: Path) -> PolicyReport:
    """``read_policy(outdir)`` with cfn-lint, for a cached assembly: the report is kept beside it, keyed by
    cfn-lint's version (the directory never changes under its key, so neither do the findings)."""
    kept = outdir / f"policy-report-cfn-lint-{importlib.metadata.version('cfn-lint')}.pickle"
    if kept.exists():
        report: PolicyReport = pickle.loads(kept.read_bytes())
        return report
    report = read_policy(outdir)
    kept.write_bytes(pickle.dumps(report))
    return report


@pytest.fixture(scope="module")
def samples_assembly() -> PolicyReport:
    return linted_policy(synthesized("samples", build_samples_app))


@pytest.fixture(scope="module")
def policy(cli_assembly: Path, samples_assembly: PolicyReport) -> dict[str, PolicyReport]:
    storefront = linted_policy(cli_assembly)
    return {name: storefront if name == "storefront" else samples_assembly for name in SAMPLE_APPS}


def build_everything(app: cdk.App) -> cdk.App:
    return build_storefront_app(build_samples_app(app))


@pytest.fixture(scope="module")
def policy_without_acknowledgments() -> PolicyReport:
    """Every sample built with its acknowledgments ignored; the packs' findings only (cfn-lint has nothing
    to do with acknowledgments, and runs on the acknowledged builds above)."""
    return read_policy(synthesized("unacknowledged", build_everything, acknowledgments=False), cfn_lint=False)


@pytest.fixture(scope="module")
def checkov(
    cli_assembly: Path, samples_assembly: PolicyReport, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, list[CheckovFinding]]]:
    """One checkov run over every sample template, as synthesized and with its checkov skips removed.

    Returns ``{"synthesized" | "unskipped": {stack: findings}}``.
    """
    # Directory names with dashes: checkov 3.3 reads a function's template path as one of its environment
    # variables, and a run of 40 path characters without "-" or "." looks like an AWS secret key to it.
    root = tmp_path_factory.mktemp("checkov-templates")
    sources = {"storefront-app": cli_assembly, "samples-app": samples_assembly.outdir}
    for variant in ("synthesized", "unskipped"):
        for assembly, outdir in sources.items():
            folder = root / f"{variant}-templates" / assembly
            folder.mkdir(parents=True)
            for template in outdir.glob("*.template.json"):
                text = template.read_text()
                if variant == "unskipped":
                    text = json.dumps(without_checkov_skips(json.loads(text)), indent=1)
                (folder / template.name).write_text(text)
                metadata = template.with_name(template.name.replace(".template.json", ".metadata.json"))
                (folder / metadata.name).write_bytes(metadata.read_bytes())
    by_stack: dict[str, dict[str, list[CheckovFinding]]] = {"synthesized": {}, "unskipped": {}}
    for path, findings in run_checkov(root).items():
        variant = Path(path).relative_to(root).parts[0].removesuffix("-templates")
        by_stack[variant][Path(path).name.removesuffix(".template.json")] = findings
    return by_stack


def _synthesize_pinned(outdir: Path) -> None:
    app = new_app(outdir=outdir)
    for name, (stack_class, env) in PINNED_STACKS.items():
        stack_class(app, name, env=env)
    compose_storefront(app, env=cdk.Environment(account=PINNED_ENV.account, region="us-east-1"))
    app.synth()


@pytest.fixture(scope="module")
def pinned_templates() -> dict[str, Any]:
    """Every sample stack with a pinned account and region, synthesized once (cached), for the snapshots."""
    return templates(
        cached_assembly("pinned-samples", _synthesize_pinned), *PINNED_STACKS, *SAMPLE_APPS["storefront"]
    )


@pytest.fixture
def json_snapshot(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_ingest_stack_snapshot(json_snapshot, pinned_templates):
    assert scrubbed(pinned_templates["OrderIngest"]) == json_snapshot


def test_breaker_stack_snapshot(json_snapshot, pinned_templates):
    assert scrubbed(pinned_templates["Breaker"]) == json_snapshot


def test_catalog_stack_snapshot(json_snapshot, pinned_templates):
    assert scrubbed(pinned_templates["Catalog"]) == json_snapshot


def test_edge_stack_snapshot(json_snapshot, pinned_templates):
    assert scrubbed(pinned_templates["Edge"]) == json_snapshot


def test_storefront_stateful_stack_snapshot(json_snapshot, pinned_templates):
    assert scrubbed(pinned_templates["StorefrontStateful"]) == json_snapshot


def test_storefront_stateless_stack_snapshot(json_snapshot, pinned_templates):
    assert scrubbed(pinned_templates["Storefront"]) == json_snapshot


# ------------------------------------------------------------------------------------ the storefront

STATEFUL_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Cognito::UserPool")


def test_storefront_stateful_resources_are_retained(pinned_templates):
    resources = pinned_templates["StorefrontStateful"]["Resources"]
    stateful = {k: r for k, r in resources.items() if r["Type"] in STATEFUL_TYPES}
    assert sorted(r["Type"] for r in stateful.values()) == sorted(
        ["AWS::DynamoDB::Table"] * 2 + ["AWS::SQS::Queue"] * 2 + ["AWS::Cognito::UserPool"]
    )
    for logical_id, resource in stateful.items():
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == (
            "Retain",
            "Retain",
        ), logical_id
    # Nothing stateful hides in the stateless stack but the site bucket, which is retained too.
    stateless = pinned_templates["Storefront"]["Resources"]
    assert not [
        k for k, r in stateless.items() if r["Type"] in STATEFUL_TYPES and "GovernorFailures" not in k
    ]
    [site] = [r for k, r in stateless.items() if r["Type"] == "AWS::S3::Bucket" and k.startswith("Site")]
    assert site["DeletionPolicy"] == "Retain"


def test_storefront_stacks_deploy_in_dependency_order_with_tags_and_outputs(cli_assembly):
    manifest = json.loads((cli_assembly / "manifest.json").read_text())["artifacts"]
    assert "StorefrontStateful" in manifest["Storefront"]["dependencies"]
    assert "Storefront" not in manifest["StorefrontStateful"].get("dependencies", [])
    stateless = json.loads((cli_assembly / "Storefront.template.json").read_text())
    assert set(stateless["Outputs"]) >= {"StorefrontUrl", "OrdersEndpoint", "AlarmTopicArn"}
    for name, role in (("StorefrontStateful", "stateful"), ("Storefront", "stateless")):
        template = json.loads((cli_assembly / f"{name}.template.json").read_text())
        tagged = [
            r
            for r in template["Resources"].values()
            if r["Type"] in (*STATEFUL_TYPES, "AWS::Lambda::Function")
        ]
        assert tagged
        for resource in tagged:
            tags = resource["Properties"].get("Tags") or resource["Properties"].get("UserPoolTags")
            pairs = tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}
            assert pairs["app"] == "storefront"
            assert pairs["stack-role"] == role


def test_every_storefront_alarm_goes_to_the_one_topic(pinned_templates):
    resources = pinned_templates["Storefront"]["Resources"]
    [topic] = [k for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) >= 12
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic}], alarm["AlarmDescription"]


def test_the_storefront_dashboard_shows_the_system_at_a_glance(pinned_templates):
    resources = pinned_templates["Storefront"]["Resources"]
    [dashboard] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = "".join(p if isinstance(p, str) else "X" for p in dashboard["DashboardBody"]["Fn::Join"][1])
    widgets = json.loads(body)["widgets"]
    metrics = {m[1] if m[0] != "." else None for w in widgets for m in w["properties"]["metrics"]}
    assert {
        "Count",
        "4XXError",
        "5XXError",  # ingest
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "ConcurrentExecutions",
        "ConsumerPaused",  # consumer
        "CircuitOpened",
        "CircuitHalfOpened",
        "CircuitClosed",
        "CallsRejected",  # circuit
        "Requests",
        "CacheHitRate",
        "5xxErrorRate",  # CDN
        "Duration",  # catalog
    } <= metrics
    stats = {
        json.dumps(m[-1]) for w in widgets for m in w["properties"]["metrics"] if isinstance(m[-1], dict)
    }
    assert any('"p50"' in s for s in stats)
    assert any('"p99"' in s for s in stats)


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_sample_app_passes_cdk_nag_and_cfn_lint(name, policy):
    report = policy[name].only(*SAMPLE_APPS[name])
    assert set(NAG_PACKS) <= set(report.plugins), "every nag pack must have run"
    assert report.finding_lines == []
    assert report.cfn_lint_findings == []
    # Every acknowledgment is listed, with its reason, in tests/acknowledgments.json.
    assert report.inventory() == INVENTORY[name]
    assert report.inventory(), "each sample acknowledges at least one finding, so this check compares rows"


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_sample_app_passes_the_serverless_patterns_pack(name, policy):
    """Synth ran the pack (a finding would have failed it above); here its rules read the same templates."""
    outdir = policy[name].outdir
    templates = Templates.load([str(outdir / f"{stack}.template.json") for stack in SAMPLE_APPS[name]])
    assert [f"{rule.id} {finding.resource}" for rule, finding in run_rules(templates)] == []
    # The rules saw what they check: each SQS consumer's queue and function are resolved, across the
    # storefront's two stacks too, so a passing result is not a skipped one.
    for mapping in sqs_mappings(templates):
        assert mapping.queue is not None, mapping.mapping
        assert mapping.function is not None, mapping.mapping


#: Edges each sample must have decided deliverable: a floor, so that zero findings never means "no edge".
EDGE_FLOOR = {
    "storefront": {
        "DeliveryAlarmActions": 26,
        "DeliveryEventTargets": 2,
        "DeliveryEventSourceMappings": 3,
        "DeliveryFunctionDestinations": 1,
        "DeliveryApiIntegrations": 1,
        "DeliveryCloudFrontOrigins": 2,
        "DeliveryCognitoAuthorizers": 1,
    },
    "ingest": {"DeliveryAlarmActions": 8, "DeliveryEventSourceMappings": 1, "DeliveryApiIntegrations": 1},
    "edge": {"DeliveryCloudFrontOrigins": 2, "DeliveryCognitoAuthorizers": 1, "DeliveryApiIntegrations": 1},
    "breaker": {"DeliveryAlarmActions": 2},
    "catalog": {"DeliveryAlarmActions": 2},
}


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_every_service_to_service_edge_of_each_sample_delivers(name, policy, record_property):
    """Each alarm reaches its topic, each rule and mapping its target, CloudFront its origins... decided
    from the templates' policies, with none left undecided."""
    outdir = policy[name].outdir
    templates = Templates.load([str(outdir / f"{stack}.template.json") for stack in SAMPLE_APPS[name]])
    edges = delivery_edges(templates)
    assert [f"{e.description}: {e.decision.why}" for e in edges if e.decision.allowed is not True] == []
    by_family = Counter(e.family for e in edges)
    record_property(
        "figures", f"delivery edges decided in {name}: {len(edges)} {dict(sorted(by_family.items()))}"
    )
    for family, floor in EDGE_FLOOR[name].items():
        assert by_family[family] >= floor, (family, by_family)


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_every_acknowledgment_hides_a_real_finding(name, policy_without_acknowledgments):
    """Built with acknowledgments ignored, the app shows exactly the findings the inventory lists."""
    report = policy_without_acknowledgments.only(*SAMPLE_APPS[name])
    found = sorted((f.path, f.rule) for f in report.findings)
    acknowledged = []
    for row in INVENTORY[name]:
        pack, _, rule = row["rule"].partition("::")
        if pack == "checkov":
            continue  # test_checkov_finds_nothing_that_is_neither_fixed_nor_listed checks these
        matching = [
            (path, r) for path, r in found if r == rule and ("/" + path).startswith(row["path"] + "/")
        ]
        assert matching, f"{row['rule']} on {row['path']} acknowledges nothing"
        acknowledged.extend(matching)
    assert sorted(acknowledged) == found


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_checkov_finds_nothing_that_is_neither_fixed_nor_listed(name, checkov):
    """checkov honours the skips in the templates, and each listed skip hides a real finding."""
    stacks = SAMPLE_APPS[name]
    assert sorted(checkov["synthesized"]) == sorted(checkov["unskipped"])
    assert set(stacks) <= set(checkov["synthesized"]), "every stack of the app was scanned"
    assert [str(f) for s in stacks for f in checkov["synthesized"][s]] == []
    found = sorted((f.path, f.check) for s in stacks for f in checkov["unskipped"][s])
    skips = [row for row in INVENTORY[name] if row["rule"].startswith("checkov::")]
    assert skips, "the inventory lists this app's checkov skips"
    hidden = []
    for row in skips:
        check = row["rule"].removeprefix("checkov::")
        matching = [
            (path, c) for path, c in found if c == check and (path + "/").startswith(row["path"] + "/")
        ]
        assert matching, f"{row['rule']} on {row['path']} skips nothing"
        hidden.extend(matching)
    assert sorted(set(hidden)) == found, "every finding is fixed or listed with a reason"


@pytest.mark.parametrize("name", sorted(INVENTORY))
def test_acknowledgments_are_specific(name):
    for row in INVENTORY[name]:
        assert len(row["reason"]) >= 40, row
        if "IAM5" in row["rule"] or "IAM4" in row["rule"]:
            assert "[" in row["rule"], f"wildcard findings are acknowledged one by one: {row}"


#: A queue whose visibility timeout is past SQS's 12 hours: schema-valid JSON that CloudFormation refuses.
OUT_OF_RANGE_QUEUE_APP = """
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
import apps.common
app = apps.common.checked_app()
sqs.CfnQueue(cdk.Stack(app, "Broken"), "Queue", visibility_timeout=99999)
app.synth()
"""


def builtin_validation_findings(outdir: Path) -> list[str]:
    report = json.loads((outdir / "validation-report.json").read_text())
    return [
        violation["ruleName"]
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "CloudFormation Validate"
        for violation in plugin["violations"]
    ]


def test_the_default_app_passes_aws_cdk_libs_builtin_validation(cli_assembly):
    """The samples leave the built-in engine off (cfn-lint checks their templates here); the cdk.json run
    above turned it on, and it found nothing: a finding would have failed that synth, or be listed."""
    assert (cli_assembly / "exit-code").read_text()[:2] == "0\n"
    report = cli_assembly / "validation-report.json"
    assert not report.exists() or builtin_validation_findings(cli_assembly) == []


@pytest.mark.slow
def test_the_samples_builtin_validation_runs_when_asked_and_only_then():
    """Its broken twin: the same sample App settings refuse an out-of-range queue with the engine on,
    and leave the queue to cfn-lint with it off (the default)."""

    def twin(builtin_validation: bool) -> Callable[[Path], None]:
        def build(outdir: Path) -> None:
            run_cdk_json_app(outdir, builtin_validation=builtin_validation, script=OUT_OF_RANGE_QUEUE_APP)

        return build

    on = cached_assembly("builtin-validation-on", twin(True))
    off = cached_assembly("builtin-validation-off", twin(False))
    assert (on / "exit-code").read_text().startswith("1\n")
    assert builtin_validation_findings(on) == ["F3034"]
    assert builtin_validation_findings(off) == []


@pytest.mark.slow
def test_cdk_json_app_entry_synthesizes(cli_assembly):
    templates = sorted(p.name for p in cli_assembly.glob("*.template.json"))
    assert templates == [f"{name}.template.json" for name in ("Storefront", "StorefrontStateful")]
    assert list(cli_assembly.glob("asset.*.jar")), "the Java catalog's jar was built through bundling"
    report = json.loads((cli_assembly / "validation-report.json").read_text())
    assert {p["pluginName"] for p in report["pluginReports"]} >= set(NAG_PACKS)


def test_the_edge_sample_takes_a_large_order_through_cloudfront_end_to_end(pinned_templates):
    """The edge stack as synthesized: behavior, authorizer, web ACL, model and request template in turn."""
    template = pinned_templates["Edge"]
    resources = template["Resources"]

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in resources.values() if r["Type"] == kind]

    [distribution] = of_type("AWS::CloudFront::Distribution")
    behaviors = {b["PathPattern"]: b for b in distribution["DistributionConfig"]["CacheBehaviors"]}
    assert "POST" in behaviors["/ingest/*"]["AllowedMethods"]
    # Authorization travels through CloudFront: a Cognito token, not a SigV4 signature of another host.
    method = IngestMethod.from_template(template)
    assert method.method["AuthorizationType"] == "COGNITO_USER_POOLS"
    # An order over 8 KB passes the web ACL (its body-size rule counts) and the API's own model...
    [acl] = of_type("AWS::WAFv2::WebACL")
    [common] = [r for r in acl["Rules"] if r["Name"] == "AWSManagedRulesCommonRuleSet"]
    overrides = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}} in overrides
    order = {
        "orderId": "o-" + "9" * 60,
        "customerId": "c-1",
        "items": [
            {"sku": f"sku-{i:03d}-" + "x" * 55, "quantity": i + 1, "unitPrice": 1.5} for i in range(100)
        ],
    }
    body = json.dumps(order)
    assert len(body.encode()) > 8 * 1024
    [model] = of_type("AWS::ApiGateway::Model")
    jsonschema.Draft4Validator(model["Schema"]).validate(order)
    # ...and reaches SQS as exactly the body the client sent.
    params = method.send_message_request(
        body, {"Authorization": "Bearer token", "Content-Type": "application/json"}
    )
    assert json.loads(params["MessageBody"]) == order
    # A body the model refuses is answered 400 by the validator and never queued.
    assert not jsonschema.Draft4Validator(model["Schema"]).is_valid({"orderId": "o-1"})
    assert method.gateway_response("BAD_REQUEST_BODY", message="Invalid request body").status == 400


# --- What the samples cost (constructs_lib.cost over the assemblies above) ------------------------------

STOREFRONT_USAGE = REPO_ROOT / "apps" / "storefront" / "usage.toml"
#: The traffic levels of docs/cost.md: page views a month.
DOC_LEVELS = (1e5, 1e7, 1e9)


@pytest.fixture(scope="module")
def storefront_costed(cli_assembly: Path) -> tuple[Any, Any]:
    from constructs_lib.cost import load_assembly, load_usage

    return load_assembly(cli_assembly), load_usage(STOREFRONT_USAGE)


#: The cloud assemblies the cost model must account for in full: a name, and how a test gets the
#: assembly directory (or directories) from its fixtures. Adding an assembly is one line.
COSTED_ASSEMBLIES: dict[str, Callable[[pytest.FixtureRequest], Path | Iterable[Path]]] = {
    "storefront": lambda request: request.getfixturevalue("cli_assembly"),
    "samples": lambda request: request.getfixturevalue("samples_assembly").outdir,
    "plain aws-cdk-lib apps": lambda request: request.getfixturevalue("plain_assembly"),
}
#: Types AWS does not bill by themselves: none may be listed as "not priced".
UNBILLED_TYPES = {
    *(f"AWS::IAM::{kind}" for kind in ("Role", "Policy", "ManagedPolicy", "InstanceProfile")),
    *(f"AWS::Lambda::{kind}" for kind in ("Permission", "EventSourceMapping", "Url", "EventInvokeConfig")),
    *(
        f"AWS::EC2::{kind}"
        for kind in (
            "VPC",
            "Subnet",
            "RouteTable",
            "Route",
            "SubnetRouteTableAssociation",
            "SecurityGroup",
            "SecurityGroupIngress",
            "SecurityGroupEgress",
            "InternetGateway",
            "VPCGatewayAttachment",
            "NetworkAcl",
            "NetworkAclEntry",
        )
    ),
    *(
        f"AWS::ApiGateway::{kind}"
        for kind in (
            "Method",
            "Resource",
            "Deployment",
            "Model",
            "RequestValidator",
            "GatewayResponse",
            "Account",
        )
    ),
    *(f"AWS::ApiGatewayV2::{kind}" for kind in ("Route", "Integration", "Stage", "Deployment")),
    *(f"AWS::ApplicationAutoScaling::{kind}" for kind in ("ScalableTarget", "ScalingPolicy")),
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::CustomResource",
    "AWS::CDK::Metadata",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::Events::Rule",
    "AWS::XRay::SamplingRule",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::ResponseHeadersPolicy",
}


@pytest.mark.parametrize("name", COSTED_ASSEMBLIES)
def test_every_resource_is_priced_free_or_listed_and_nothing_unbilled_is_unpriced(name, request):
    """No resource dropped (nested stacks' included), no type the model has never seen, and no type AWS
    does not bill listed as "not priced". The corpus of correct apps is checked the same way where it is
    built (``test_checks.py`` and ``test_corpus.py``)."""
    given = COSTED_ASSEMBLIES[name](request)
    for assembly in [given] if isinstance(given, Path) else list(given):
        assert_every_resource_costed(assembly)


def assert_every_resource_costed(assembly: Path) -> None:
    """The cost model's report on ``assembly`` accounts for every resource, knows every type, and lists
    nothing AWS does not bill as "not priced"."""
    from constructs_lib.cost import estimate, load_assembly
    from constructs_lib.cost._volumes import construct_path

    templates = load_assembly(assembly)
    report = estimate(templates)
    accounted = {ln.path for ln in [*report.lines, *report.one_time]}
    accounted |= {i.path for i in [*report.free, *report.not_priced]}
    resources = [
        r for stack in templates.stacks.values() for r in map(stack_resource(stack), stack.resources)
    ]
    dropped = [f"{construct_path(r)} ({r.type})" for r in resources if construct_path(r) not in accounted]
    assert dropped == [], f"{assembly}: neither priced, free nor listed"
    unknown = [f"{i.path} ({i.resource_type})" for i in report.not_priced if "has no price" in i.why]
    assert unknown == [], f"{assembly}: types the model has never seen"
    unbilled = [
        f"{i.path} ({i.resource_type})"
        for i in report.not_priced
        if (i.resource_type in UNBILLED_TYPES or i.resource_type.startswith("Custom::"))
        and not i.why.startswith("provisioned mode")  # a mapping's provisioned pollers are billed
    ]
    assert unbilled == [], f"{assembly}: types AWS does not bill, listed as not priced"
    assert report.total_monthly_usd > 0


def stack_resource(stack: Any) -> Callable[[str], Resource]:
    return lambda logical_id: Resource(stack, logical_id)


def test_the_storefront_profile_names_only_what_the_storefront_has(storefront_costed):
    """Every path key of apps/storefront/usage.toml names a resource or behavior of the storefront."""
    from constructs_lib.cost._volumes import resolve

    templates, usage = storefront_costed
    resolved = resolve(templates, usage)
    assert len(resolved.users) == 1  # one user pool, charged once
    assert sum(resolved.users.values()) == usage.monthly_active_users


def test_request_driven_costs_scale_linearly_with_traffic(storefront_costed):
    from constructs_lib.cost import estimate, scaled_usage

    templates, usage = storefront_costed
    meters = ("cloudfront.https_requests", "waf.requests", "apigateway.rest_requests", "s3.get_requests")

    def by_meter(views: float) -> dict[str, Any]:
        report = estimate(templates, scaled_usage(usage, views))
        return {m: sum(ln.monthly_usd for ln in report.lines if ln.meter == m) for m in meters}

    one, three = by_meter(5e7), by_meter(1.5e8)  # both inside every meter's first tier
    for meter in meters:
        assert one[meter] > 0
        assert three[meter] == pytest.approx(3 * one[meter], rel=Decimal("1e-9")), meter


def test_a_cache_that_hits_nothing_saves_nothing_at_the_origin(storefront_costed):
    from dataclasses import replace

    from constructs_lib.cost import estimate

    templates, usage = storefront_costed
    # Without response bytes, the origin's cost without the CDN is its requests alone, and the regional
    # web ACL (the distribution's rules) that its REST API takes in the CDN's place.
    cdn = estimate(templates, replace(usage, cache_hit_ratio=0.0, response_kb=0.0, orders=0.0)).cdn
    [acl] = templates.of_type("AWS::WAFv2::WebACL")
    regional_acl = Decimal(5) + len(acl.props["Rules"])  # $5 an ACL, $1 a rule; no requests reach the API
    assert cdn.origin_requests_avoided == 0
    assert cdn.origin_requests == cdn.viewer_requests
    assert cdn.origin_monthly_usd_without_cdn - cdn.origin_monthly_usd == regional_acl
    assert cdn.net_savings_usd == regional_acl - cdn.cdn_monthly_usd


def test_a_higher_hit_ratio_never_raises_the_origins_cost(storefront_costed):
    from dataclasses import replace

    from constructs_lib.cost import estimate

    templates, usage = storefront_costed
    costs = [
        estimate(templates, replace(usage, cache_hit_ratio=ratio / 10)).cdn.origin_monthly_usd
        for ratio in range(11)
    ]
    assert all(later <= earlier for earlier, later in itertools.pairwise(costs))
    assert costs[-1] < costs[0]


def test_the_documented_cost_table_and_chart_are_what_the_tool_computes_today(storefront_costed):
    """docs/cost.md's numbers and docs/storefront-cost.svg come from `make cost-docs`; stale ones fail."""
    from constructs_lib.cost import chart_svg
    from constructs_lib.cost.levels import chart_points, levels_markdown

    templates, usage = storefront_costed
    page = (REPO_ROOT / "docs" / "cost.md").read_text()
    assert levels_markdown(templates, usage, DOC_LEVELS) in page
    chart = chart_svg(chart_points(templates, usage), title="Storefront: monthly cost against traffic")
    assert (REPO_ROOT / "docs" / "storefront-cost.svg").read_text() == chart
