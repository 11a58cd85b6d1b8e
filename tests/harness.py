"""Test harness shared by every pattern: pinned apps, template helpers and the policy check.

The policy report and snapshot scrubbing come from ``constructs_lib.testing``, which users get too.

Every app a test builds uses the feature flags from ``cdk.json``, so tests see the same templates that
``cdk synth`` writes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from constructs_lib import ConstructsLibValidationError, testing
from constructs_lib.testing import PolicyReport, read_policy, scrubbed

__all__ = ["PolicyReport", "read_policy", "scrubbed"]  # re-exported for the tests

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = json.loads((REPO_ROOT / "cdk.json").read_text())
FEATURE_FLAGS: dict[str, Any] = dict(CDK_JSON["context"])
#: The environment that snapshot tests pin, so a snapshot changes only when the infrastructure does.
PINNED_ENV = cdk.Environment(account="123456789012", region="eu-west-1")
#: The nag packs every sample app must pass.
NAG_PACKS = ("AwsSolutions", "Serverless")


def new_app(outdir: Path | str | None = None, **context: Any) -> cdk.App:
    """An App with the repository's feature flags and no version reporting."""
    ctx = {**FEATURE_FLAGS, "aws:cdk:version-reporting": False, **context}
    return cdk.App(context=ctx, outdir=str(outdir) if outdir else None)


def new_stack(app: cdk.App | None = None, id: str = "TestStack", *, pinned: bool = False) -> cdk.Stack:
    return cdk.Stack(app or new_app(), id, env=PINNED_ENV if pinned else None)


def template_of(stack: cdk.Stack) -> assertions.Template:
    return assertions.Template.from_stack(stack)


def resources_of(template: assertions.Template, resource_type: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(resource_type)
    return found


def only_resource(template: assertions.Template, resource_type: str) -> dict[str, Any]:
    """The one resource of ``resource_type`` (fails when there is not exactly one)."""
    found = resources_of(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def assert_misconfigured(build: Callable[[], Any], prop: str, fix: str) -> ConstructsLibValidationError:
    """``build()`` raises ConstructsLibValidationError with a line for ``prop`` whose fix says ``fix``."""
    with pytest.raises(ConstructsLibValidationError) as raised:
        build()
    problems = {p.prop: p for p in raised.value.problems}
    assert prop in problems, str(raised.value)
    assert fix in problems[prop].fix
    line = next(line for line in str(raised.value).splitlines() if line.strip().startswith(f"- {prop}:"))
    assert "got " in line, "each line names the value received"
    return raised.value


def load_handler(handler_dir: str) -> ModuleType:
    """A sample handler loaded the way Lambda loads it: ``index`` from its asset directory."""
    path = REPO_ROOT / "apps" / "handlers" / handler_dir / "index.py"
    spec = importlib.util.spec_from_file_location(f"{handler_dir}_index", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def acknowledged_rules(construct: Any) -> dict[str, str]:
    """The cdk-nag acknowledgments recorded on ``construct`` itself: rule id -> reason."""
    rules: dict[str, str] = {}
    for entry in construct.node.metadata:
        if entry.type == "aws:cdk:acknowledged-rules":
            rules.update(entry.data)
    return rules


def check_policy(
    build_app: Callable[[cdk.App], cdk.App],
    outdir: Path,
    *,
    acknowledgments: bool = True,
    cfn_lint: bool = True,
) -> PolicyReport:
    """``constructs_lib.testing.check_policy`` with the repository's feature flags."""
    return testing.check_policy(
        build_app, outdir, context=FEATURE_FLAGS, acknowledgments=acknowledgments, cfn_lint=cfn_lint
    )


#: checkov's own venv (``make setup`` creates it from requirements-checkov.txt).
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class CheckovFinding:
    check: str
    path: str  # the construct path of the resource, "/Stack/..."
    resource: str

    def __str__(self) -> str:
        return f"checkov::{self.check} at {self.path} ({self.resource})"


def without_checkov_skips(template: dict[str, Any]) -> dict[str, Any]:
    """The template with every ``Metadata.checkov`` removed: what checkov finds with no skip at all."""
    stripped = json.loads(json.dumps(template))
    for resource in stripped.get("Resources", {}).values():
        resource.get("Metadata", {}).pop("checkov", None)
    return stripped


def construct_paths(template: Path) -> dict[str, str]:
    """Logical id -> construct path ("/Stack/..."), from the ``.metadata.json`` next to a template."""
    metadata = json.loads(
        template.with_name(template.name.replace(".template.json", ".metadata.json")).read_text()
    )
    return {
        entry["data"]: path.removesuffix("/Resource").removesuffix("/Default")
        for path, entries in metadata.items()
        for entry in entries
        if entry.get("type") == "aws:cdk:logicalId"
    }


def checkov_reports(root: Path) -> Any:
    """checkov's JSON report of every template under ``root``. A run's report is kept in
    ``.cache/checkov/``, keyed by the files it read and checkov's pinned requirements, since the same
    bytes give the same findings; file paths are stored relative to ``root``."""
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make setup`"
    digest = hashlib.sha256((REPO_ROOT / "requirements-checkov.txt").read_bytes())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    cached = REPO_ROOT / ".cache" / "checkov" / f"{digest.hexdigest()[:20]}.json"
    if not cached.exists():
        result = subprocess.run(
            [str(CHECKOV), "-d", str(root), "--framework", "cloudformation", "--skip-download", "--quiet",
             "--compact", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=300,
            # checkov asks PyPI for a newer version when it starts, unless told not to: no network in tests.
            env={**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"},
        )  # fmt: skip
        assert result.returncode in (0, 1), result.stderr[-2000:]
        relative = result.stdout.replace(str(root.resolve()) + "/", "<root>/").replace(
            str(root) + "/", "<root>/"
        )
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.with_suffix(".tmp").write_text(relative)
        cached.with_suffix(".tmp").rename(cached)
    return json.loads(cached.read_text().replace("<root>/", str(root) + "/"))


def run_checkov(root: Path) -> dict[str, list[CheckovFinding]]:
    """checkov's failed checks (offline) for every template under ``root``, by template path.

    Each template needs its ``.metadata.json`` beside it, which names the construct of each resource.
    """
    reports = checkov_reports(root)
    templates = sorted(root.rglob("*.template.json"))
    paths = {str(p): construct_paths(p) for p in templates}  # each metadata file read once
    found: dict[str, list[CheckovFinding]] = {str(p): [] for p in templates}
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report.get("results", {}).get("failed_checks", []):
            path = str(Path(check["file_abs_path"]))
            logical_id = check["resource"].split(".", 1)[1]
            found[path].append(CheckovFinding(check["check_id"], paths[path][logical_id], logical_id))
    return found
