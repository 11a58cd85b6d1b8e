"""Test harness shared by every pattern: pinned apps, template helpers, snapshots and the policy check.

Every app a test builds uses the feature flags from ``cdk.json``, so tests see the same templates that
``cdk synth`` writes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from cfnlint.api import ManualArgs, lint_file

from constructs_lib import ConstructsLibValidationError

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = json.loads((REPO_ROOT / "cdk.json").read_text())
FEATURE_FLAGS: dict[str, Any] = dict(CDK_JSON["context"])
#: The environment that snapshot tests pin, so a snapshot changes only when the infrastructure does.
PINNED_ENV = cdk.Environment(account="123456789012", region="eu-west-1")
#: The nag packs every sample app must pass.
NAG_PACKS = ("AwsSolutions", "Serverless")

#: cfn-lint rules excluded for every template, each with the reason.
CFN_LINT_EXCLUSIONS: dict[str, str] = {
    "W3005": "aws-cdk-lib adds an explicit DependsOn from each function to its role's policy on top of "
    "the GetAtt; the redundancy is harmless and comes from the framework, not from this library",
}


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


_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
_CURRENT_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")


def scrubbed(template_json: Any) -> Any:
    """The template with asset hashes replaced, so snapshots survive code-only changes of handlers."""
    text = json.dumps(template_json, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _CURRENT_VERSION_ID.sub(r"\1<version-hash>", text)
    return json.loads(text)


@dataclass(frozen=True)
class NagFinding:
    severity: str
    rule: str
    path: str
    description: str

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} at {self.path}: {self.description}"


@dataclass
class PolicyReport:
    """What the policy tools said about one synthesized app (or the stacks of it under ``prefix``)."""

    outdir: Path
    plugins: list[str] = field(default_factory=list)
    nag: list[NagFinding] = field(default_factory=list)
    cfn_lint_findings: list[str] = field(default_factory=list)
    acknowledgments: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def nag_findings(self) -> list[str]:
        return [str(f) for f in self.nag]

    def only(self, *stacks: str) -> PolicyReport:
        """The part of the report about some stacks (findings, cfn-lint lines and acknowledgments)."""
        prefixes = tuple(f"{stack}/" for stack in stacks)
        templates = tuple(f" {stack}.template.json:" for stack in stacks)
        return PolicyReport(
            outdir=self.outdir,
            plugins=self.plugins,
            nag=[f for f in self.nag if f.path.startswith(prefixes)],
            cfn_lint_findings=[f for f in self.cfn_lint_findings if any(t in f for t in templates)],
            acknowledgments={
                path: rules
                for path, rules in self.acknowledgments.items()
                if path.startswith(tuple("/" + p for p in prefixes))
            },
        )

    def inventory(self) -> list[dict[str, str]]:
        """Every acknowledgment as ``{path, rule, reason}``, sorted, for an inventory test."""
        rows = [
            {"path": path, "rule": rule, "reason": reason}
            for path, rules in self.acknowledgments.items()
            for rule, reason in rules.items()
        ]
        return sorted(rows, key=lambda r: (r["path"], r["rule"]))


class _IgnoreAcknowledgments:
    """Stands in for ``aws_cdk.Validations`` so that ``acknowledge`` records nothing."""

    @staticmethod
    def of(_construct: Any) -> Any:
        return mock.Mock()


@contextlib.contextmanager
def acknowledgments_disabled() -> Iterator[None]:
    """Build apps whose ``constructs_lib._core.acknowledge`` calls have no effect."""
    with mock.patch("constructs_lib._core.nag.Validations", _IgnoreAcknowledgments):
        yield


def check_policy(
    build_app: Callable[[cdk.App], cdk.App], outdir: Path, *, acknowledgments: bool = True
) -> PolicyReport:
    """Synthesize an app with cdk-nag (AwsSolutions + Serverless) and run cfn-lint on its templates.

    ``build_app`` receives a fresh App with the repository's flags and must register the nag plugins
    (as each sample app's ``build_app`` does for ``cdk synth``). Errors and warnings from either tool are
    returned as findings; acknowledged cdk-nag findings are collected from the cloud assembly metadata.
    With ``acknowledgments=False`` the app is built with every acknowledgment ignored, which shows what
    each one hides.
    """
    with contextlib.nullcontext() if acknowledgments else acknowledgments_disabled():
        app = build_app(new_app(outdir))
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
    return read_policy(outdir)


def read_policy(outdir: Path) -> PolicyReport:
    """The policy report of an assembly that was synthesized with the nag plugins into ``outdir``."""
    report = PolicyReport(outdir=outdir)
    nag = json.loads((outdir / "validation-report.json").read_text())
    for plugin in nag["pluginReports"]:
        report.plugins.append(plugin["pluginName"])
        for violation in plugin["violations"]:
            for construct in violation["violatingConstructs"]:
                report.nag.append(
                    NagFinding(
                        violation["severity"],
                        violation["ruleName"],
                        construct["constructPath"],
                        violation["description"],
                    )
                )
    templates = sorted(outdir.glob("*.template.json"))
    assert templates, f"no templates were synthesized into {outdir}"
    config = ManualArgs(ignore_checks=sorted(CFN_LINT_EXCLUSIONS))
    for path in templates:
        for match in lint_file(path, config):
            report.cfn_lint_findings.append(f"{match.rule.id} {path.name}:{match.linenumber} {match.message}")
        metadata = json.loads(
            path.with_name(path.name.replace(".template.json", ".metadata.json")).read_text()
        )
        for construct_path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:acknowledged-rules":
                    report.acknowledgments.setdefault(construct_path, {}).update(entry["data"])
    return report
