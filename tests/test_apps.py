"""Sample apps: snapshots, cdk-nag + cfn-lint policy, the acknowledgment inventory and the CLI entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from apps.breaker.app import build_app as build_breaker_app
from apps.breaker.stack import BreakerStack
from apps.catalog.app import build_app as build_catalog_app
from apps.catalog.stack import CatalogStack
from apps.edge.app import build_app as build_edge_app
from apps.edge.stack import EdgeStack
from apps.ingest.app import build_app as build_ingest_app
from apps.ingest.stack import OrderIngestStack
from tests.harness import FEATURE_FLAGS, NAG_PACKS, PINNED_ENV, REPO_ROOT, check_policy, new_app, scrubbed

INVENTORY = json.loads((REPO_ROOT / "tests" / "acknowledgments.json").read_text())

SAMPLE_APPS: dict[str, Callable[[cdk.App], cdk.App]] = {
    "breaker": build_breaker_app,
    "catalog": build_catalog_app,
    "edge": build_edge_app,
    "ingest": build_ingest_app,
}


@pytest.fixture
def json_snapshot(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_ingest_stack_snapshot(json_snapshot):
    stack = OrderIngestStack(new_app(), "OrderIngest", env=PINNED_ENV)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert scrubbed(template) == json_snapshot


def test_breaker_stack_snapshot(json_snapshot):
    stack = BreakerStack(new_app(), "Breaker", env=PINNED_ENV)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert scrubbed(template) == json_snapshot


def test_catalog_stack_snapshot(json_snapshot):
    stack = CatalogStack(new_app(), "Catalog", env=PINNED_ENV)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert scrubbed(template) == json_snapshot


def test_edge_stack_snapshot(json_snapshot):
    stack = EdgeStack(new_app(), "Edge", env=cdk.Environment(account=PINNED_ENV.account, region="us-east-1"))
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert scrubbed(template) == json_snapshot


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_sample_app_passes_cdk_nag_and_cfn_lint(name, tmp_path):
    report = check_policy(SAMPLE_APPS[name], tmp_path)
    assert set(NAG_PACKS) <= set(report.plugins), "every nag pack must have run"
    assert report.nag_findings == []
    assert report.cfn_lint_findings == []
    # Every acknowledgment is listed, with its reason, in tests/acknowledgments.json.
    assert report.inventory() == INVENTORY[name]


@pytest.mark.parametrize("name", sorted(SAMPLE_APPS))
def test_every_acknowledgment_hides_a_real_finding(name, tmp_path):
    """Built with acknowledgments ignored, the app shows exactly the findings the inventory lists."""
    report = check_policy(SAMPLE_APPS[name], tmp_path, acknowledgments=False)
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


def test_cdk_json_app_entry_synthesizes(tmp_path):
    """What `cdk synth` runs from the repository root: the cdk.json app command with its context."""
    command = json.loads((REPO_ROOT / "cdk.json").read_text())["app"].split()
    assert command[:2] == ["python3", "-m"]
    env = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(FEATURE_FLAGS),
    }
    subprocess.run([sys.executable, *command[1:]], cwd=REPO_ROOT, env=env, check=True, timeout=300)
    templates = sorted(p.name for p in Path(tmp_path).glob("*.template.json"))
    assert templates == [f"{name}.template.json" for name in ("Breaker", "Catalog", "Edge", "OrderIngest")]
    assert list(Path(tmp_path).glob("asset.*.jar")), "the Java catalog's jar was built through bundling"
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert {p["pluginName"] for p in report["pluginReports"]} >= set(NAG_PACKS)
