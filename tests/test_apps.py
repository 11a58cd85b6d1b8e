"""Sample apps: snapshots, cdk-nag + cfn-lint policy, the acknowledgment inventory and the CLI entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsonschema
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from apps.all import build_app as build_default_app
from apps.breaker.stack import BreakerStack
from apps.catalog.stack import CatalogStack
from apps.edge.stack import EdgeStack
from apps.ingest.stack import OrderIngestStack
from tests.harness import (
    FEATURE_FLAGS,
    NAG_PACKS,
    PINNED_ENV,
    REPO_ROOT,
    PolicyReport,
    check_policy,
    new_app,
    read_policy,
    scrubbed,
)
from tests.velocity import IngestMethod

INVENTORY = json.loads((REPO_ROOT / "tests" / "acknowledgments.json").read_text())

#: Each sample app and the stack it builds; apps.all (the default app) builds them all, and the policy
#: tests check that one assembly stack by stack.
SAMPLE_APPS: dict[str, str] = {
    "breaker": "Breaker",
    "catalog": "Catalog",
    "edge": "Edge",
    "ingest": "OrderIngest",
}
PINNED_STACKS: dict[str, tuple[type[cdk.Stack], cdk.Environment]] = {
    "OrderIngest": (OrderIngestStack, PINNED_ENV),
    "Breaker": (BreakerStack, PINNED_ENV),
    "Catalog": (CatalogStack, PINNED_ENV),
    "Edge": (EdgeStack, cdk.Environment(account=PINNED_ENV.account, region="us-east-1")),
}


@pytest.fixture(scope="module")
def cli_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `cdk synth` runs from the repository root: the cdk.json app command, once per session.

    Its assembly (every sample stack, with cdk-nag's packs run at synth) is shared by the policy tests.
    """
    outdir = tmp_path_factory.mktemp("cdk.out")
    command = json.loads((REPO_ROOT / "cdk.json").read_text())["app"].split()
    assert command[:2] == ["python3", "-m"]
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(FEATURE_FLAGS)}
    subprocess.run([sys.executable, *command[1:]], cwd=REPO_ROOT, env=env, check=True, timeout=300)
    return outdir


@pytest.fixture(scope="module")
def policy(cli_assembly: Path) -> PolicyReport:
    return read_policy(cli_assembly)


@pytest.fixture(scope="module")
def policy_without_acknowledgments(tmp_path_factory: pytest.TempPathFactory) -> PolicyReport:
    return check_policy(build_default_app, tmp_path_factory.mktemp("unacknowledged"), acknowledgments=False)


@pytest.fixture(scope="module")
def pinned_templates() -> dict[str, Any]:
    """Every sample stack with a pinned account and region, synthesized once, for the snapshots."""
    app = new_app()
    for name, (stack_class, env) in PINNED_STACKS.items():
        stack_class(app, name, env=env)
    assembly = app.synth()
    return {name: assembly.get_stack_by_name(name).template for name in PINNED_STACKS}


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


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_sample_app_passes_cdk_nag_and_cfn_lint(name, policy):
    report = policy.only(SAMPLE_APPS[name])
    assert set(NAG_PACKS) <= set(report.plugins), "every nag pack must have run"
    assert report.nag_findings == []
    assert report.cfn_lint_findings == []
    # Every acknowledgment is listed, with its reason, in tests/acknowledgments.json.
    assert report.inventory() == INVENTORY[name]
    assert report.inventory(), "each sample acknowledges at least one finding, so this check compares rows"


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_every_acknowledgment_hides_a_real_finding(name, policy_without_acknowledgments):
    """Built with acknowledgments ignored, the app shows exactly the findings the inventory lists."""
    report = policy_without_acknowledgments.only(SAMPLE_APPS[name])
    found = sorted((f.path, f.rule) for f in report.nag)
    acknowledged = []
    for row in INVENTORY[name]:
        _pack, _, rule = row["rule"].partition("::")
        matching = [
            (path, r) for path, r in found if r == rule and ("/" + path).startswith(row["path"] + "/")
        ]
        assert matching, f"{row['rule']} on {row['path']} acknowledges nothing"
        acknowledged.extend(matching)
    assert sorted(acknowledged) == found


@pytest.mark.parametrize("name", sorted(INVENTORY))
def test_acknowledgments_are_specific(name):
    for row in INVENTORY[name]:
        assert len(row["reason"]) >= 40, row
        if "IAM5" in row["rule"] or "IAM4" in row["rule"]:
            assert "[" in row["rule"], f"wildcard findings are acknowledged one by one: {row}"


@pytest.mark.slow
def test_cdk_json_app_entry_synthesizes(cli_assembly):
    templates = sorted(p.name for p in cli_assembly.glob("*.template.json"))
    assert templates == [f"{name}.template.json" for name in ("Breaker", "Catalog", "Edge", "OrderIngest")]
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
