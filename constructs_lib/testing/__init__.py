"""Helpers for testing CDK apps that use constructs_lib: a checked app, policy reports, snapshot scrubbing.

- :func:`checked_app` is an App on which cdk-nag's AwsSolutions and Serverless packs and this library's
  ServerlessPatterns pack run at synth.
- :func:`check_policy` synthesizes an app that way, runs cfn-lint on each template (when cfn-lint is
  installed: ``pip install "constructs_lib[testing]"``) and returns every finding and acknowledgment.
- :func:`scrubbed` replaces asset hashes where CDK writes them in a template, so a snapshot changes only
  when infrastructure does.
- :func:`acknowledgments_disabled` builds apps whose ``constructs_lib.acknowledge`` calls record nothing,
  which shows what each acknowledgment hides.
- :mod:`constructs_lib.testing.velocity` renders API Gateway's Velocity templates offline (airspeed), and
  runs a ``QueueBufferedIngest`` method's request and response templates.
"""

from __future__ import annotations

import contextlib
import json
import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import aws_cdk as cdk
from aws_cdk.assertions import Template

from .._core.types import checked_arguments
from ..checks import policy_packs
from ..checks.pack import forget_runs, packs_that_ran

__all__ = [
    "DEFAULT_CFN_LINT_EXCLUSIONS",
    "Finding",
    "PolicyReport",
    "acknowledgments_disabled",
    "check_policy",
    "checked_app",
    "context_of",
    "policy_packs",
    "read_policy",
    "scrubbed",
]

#: cfn-lint rules excluded for every template, each with the reason.
DEFAULT_CFN_LINT_EXCLUSIONS: Mapping[str, str] = {
    "W3005": "aws-cdk-lib adds an explicit DependsOn from each function to its role's policy on top of "
    "the GetAtt; the redundancy is harmless and comes from the framework",
}


def context_of(cdk_json: Path | str = "cdk.json") -> dict[str, Any]:
    """The ``context`` (feature flags) of a ``cdk.json``, for apps built in tests."""
    context: dict[str, Any] = json.loads(Path(cdk_json).read_text()).get("context", {})
    return context


#: Apps that :func:`checked_app` has registered the packs on, so a second call adds nothing.
_CHECKED_APPS: weakref.WeakSet[cdk.App] = weakref.WeakSet()


def checked_app(app: cdk.App | None = None, **app_props: Any) -> cdk.App:
    """``app`` (or ``cdk.App(**app_props)``) with :func:`policy_packs` registered to run at synth.

    Calling it again on the same app (a helper and a fixture both do) registers nothing more, so every
    finding is reported once.
    """
    app = app or cdk.App(**app_props)
    if app not in _CHECKED_APPS:
        cdk.Validations.of(app).add_plugins(*policy_packs(app))
        _CHECKED_APPS.add(app)
    return app


#: Where CDK writes a file asset's or image's hash: an S3 key or template URL (``<hash>.zip``,
#: ``.jar``, ``.json``), an asset path (``asset.<hash>``), an image tag (``...dkr.ecr...:<hash>``).
_ASSET_HASH = re.compile(
    r"(?<![0-9a-f])[0-9a-f]{64}(?=\.(?:zip|jar|json|tar|tgz)\b)|(?<=asset\.)[0-9a-f]{64}(?![0-9a-f])"
)
_IMAGE_TAG = re.compile(r"(\.dkr\.ecr\.[^\s]*:)[0-9a-f]{64}$")
_CURRENT_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")


def scrubbed(template_json: Any) -> Any:
    """The template (its JSON, or an ``assertions.Template``) with asset hashes replaced where CDK writes
    them, so snapshots survive code-only changes of handlers. Other 64-hex values (a pinned SHA-256 in an
    environment variable, say) are kept: a change of them is a change of the infrastructure."""
    if isinstance(template_json, Template):
        template_json = template_json.to_json()
    return _scrub(json.loads(json.dumps(template_json, sort_keys=True)))


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CURRENT_VERSION_ID.sub(r"\1<version-hash>", k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        value = _IMAGE_TAG.sub(r"\1<asset-hash>", _ASSET_HASH.sub("<asset-hash>", value))
        return _CURRENT_VERSION_ID.sub(r"\1<version-hash>", value)
    return value


@dataclass(frozen=True)
class Finding:
    """One violation a policy pack reported, on one construct."""

    plugin: str
    severity: str
    rule: str
    path: str
    description: str

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} at {self.path}: {self.description}"


@dataclass
class PolicyReport:
    """What the policy packs and cfn-lint said about one synthesized app (or some of its stacks)."""

    outdir: Path
    plugins: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    cfn_lint_findings: list[str] = field(default_factory=list)
    acknowledgments: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def finding_lines(self) -> list[str]:
        return [str(f) for f in self.findings]

    def only(self, *stacks: str) -> PolicyReport:
        """The part of the report about some stacks (findings, cfn-lint lines and acknowledgments)."""
        prefixes = tuple(f"{stack}/" for stack in stacks)
        templates = tuple(f" {stack}.template.json:" for stack in stacks)
        return PolicyReport(
            outdir=self.outdir,
            plugins=self.plugins,
            findings=[f for f in self.findings if f.path.startswith(prefixes)],
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


@contextlib.contextmanager
def acknowledgments_disabled() -> Iterator[None]:
    """Build apps whose ``constructs_lib.acknowledge`` calls have no effect (checkov skips included)."""
    with mock.patch("constructs_lib._core.nag._record"):
        yield


@checked_arguments("check_policy")
def check_policy(
    build_app: Callable[[cdk.App], cdk.App],
    outdir: Path | str,
    *,
    context: Mapping[str, Any] | None = None,
    acknowledgments: bool = True,
    cfn_lint: bool = True,
    cfn_lint_exclusions: Mapping[str, str] = DEFAULT_CFN_LINT_EXCLUSIONS,
) -> PolicyReport:
    """Synthesize ``build_app(App)`` into ``outdir`` and return what the policy packs and cfn-lint found
    (with ``cfn_lint=False``, the packs only).

    ``build_app`` receives a fresh App (with ``context``) and must register the packs, e.g. with
    :func:`checked_app`. A failed check does not raise here: the findings are in the report. With
    ``acknowledgments=False`` every ``constructs_lib.acknowledge`` is ignored, to show what each one hides.
    """
    outdir = Path(outdir)
    # A report from an earlier synth into the same directory must never be read as this one's.
    (outdir / "validation-report.json").unlink(missing_ok=True)
    forget_runs(outdir)
    ctx = {"aws:cdk:version-reporting": False, **(context or {})}
    given = cdk.App(context=ctx, outdir=str(outdir))
    with contextlib.nullcontext() if acknowledgments else acknowledgments_disabled():
        app = build_app(given)
    if not isinstance(app, cdk.App):
        raise TypeError(
            f"check_policy: build_app returned {app!r}; it must return the App it was given (after adding "
            "stacks and the packs), e.g. def build(app): checked_app(app); MyStack(app, 'S'); return app"
        )
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
    report = read_policy(outdir, cfn_lint=cfn_lint, cfn_lint_exclusions=cfn_lint_exclusions)
    if not report.plugins:
        raise ValueError(
            "check_policy: no policy pack ran, so an empty report would prove nothing; register the packs "
            "in build_app, e.g. with constructs_lib.testing.checked_app(app)"
        )
    return report


@checked_arguments("read_policy")
def read_policy(
    outdir: Path | str,
    *,
    cfn_lint: bool = True,
    cfn_lint_exclusions: Mapping[str, str] = DEFAULT_CFN_LINT_EXCLUSIONS,
) -> PolicyReport:
    """The report of an assembly that was synthesized with policy packs into ``outdir``.

    Raises:
        ModuleNotFoundError: ``cfn_lint`` is true and cfn-lint is not installed.
    """
    outdir = Path(outdir)
    report = PolicyReport(outdir=outdir)
    validation = outdir / "validation-report.json"
    # A pack with nothing to say is absent from CDK's report; this library's own pack says it ran.
    report.plugins.extend(sorted(packs_that_ran(outdir)))
    for plugin in json.loads(validation.read_text())["pluginReports"] if validation.exists() else []:
        if plugin["pluginName"] not in report.plugins:
            report.plugins.append(plugin["pluginName"])
        for violation in plugin["violations"]:
            for construct in violation["violatingConstructs"]:
                report.findings.append(
                    Finding(
                        plugin["pluginName"],
                        violation["severity"],
                        violation["ruleName"],
                        construct["constructPath"],
                        violation["description"],
                    )
                )
    templates = sorted(outdir.glob("*.template.json"))
    if not templates:
        raise FileNotFoundError(f"no templates were synthesized into {outdir}")
    lint = _cfn_linter(cfn_lint_exclusions) if cfn_lint else None
    for path in templates:
        if lint is not None:
            report.cfn_lint_findings.extend(lint(path))
        metadata = json.loads(
            path.with_name(path.name.replace(".template.json", ".metadata.json")).read_text()
        )
        for construct_path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    report.acknowledgments.setdefault(construct_path, {}).update(entry["data"])
    return report


def _cfn_linter(exclusions: Mapping[str, str]) -> Callable[[Path], list[str]]:
    try:
        from cfnlint.api import ManualArgs, lint_file
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            'cfn-lint is not installed: pip install "constructs_lib[testing]", or pass cfn_lint=False'
        ) from exc
    config = ManualArgs(ignore_checks=sorted(exclusions))

    def lint(path: Path) -> list[str]:
        return [f"{m.rule.id} {path.name}:{m.linenumber} {m.message}" for m in lint_file(path, config)]

    return lint
