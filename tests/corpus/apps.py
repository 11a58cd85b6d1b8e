"""Each form of the corpus as one app: every kind in its own stack (or stacks, or nested stacks), so one
app per form serves all kinds, and a finding is attributed to its kind by its construct path. The app is
synthesized twice: correct, then (each kind's mistake made) broken."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.checks import run_rules
from constructs_lib.checks._model import Resource, Templates
from constructs_lib.checks.rules.delivery_undecided import delivery_edges
from tests.harness import FEATURE_FLAGS

from . import kinds_apis, kinds_events, kinds_wiring  # noqa: F401 - they register the kinds
from .kinds import KINDS, Kind

FORMS = ("agnostic", "explicit", "split", "nested")
ACCOUNT, REGION = "111111111111", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
#: The corpus checks the pack, not CloudFormation's template rules: skipping them halves each synth.
CONTEXT = {"@aws-cdk/core:validateAgainstDefaultRules": False}


def scopes(app: cdk.App, kind: Kind, form: str) -> tuple[Construct, Construct]:
    """The (targets, sources) scopes of ``kind`` in ``form``."""
    if form in ("agnostic", "explicit"):
        stack = cdk.Stack(app, kind.name, env=ENV if form == "explicit" else None)
        return stack, stack
    if form == "split":
        sources = cdk.Stack(app, f"{kind.name}-Sources")
        return (sources if kind.together else cdk.Stack(app, f"{kind.name}-Targets")), sources
    parent = cdk.Stack(app, kind.name, env=ENV)
    nested = cdk.NestedStack(parent, "Sources")
    return (nested if kind.together else cdk.NestedStack(parent, "Targets")), nested


@dataclass(frozen=True)
class Assemblies:
    """One form of the corpus, synthesized: the correct apps' assembly and their broken twins'."""

    correct: Path
    broken: Path


def synthesize(root: Path, form: str, *, kinds: Iterable[Kind] | None = None) -> Assemblies:
    """Every kind (or ``kinds``) in ``form`` under ``root``: ``root/correct`` and ``root/broken``."""
    outdir = root / "broken"
    app = cdk.App(
        context={**FEATURE_FLAGS, "aws:cdk:version-reporting": False, **CONTEXT},
        outdir=str(outdir),
        stack_traces=False,
        tree_metadata=False,
    )
    breaks = [each.build(*scopes(app, each, form)) for each in (KINDS.values() if kinds is None else kinds)]
    app.synth()
    shutil.copytree(outdir, root / "correct")  # the second synth writes over the first, in place
    for apply in breaks:
        apply()
    app.synth(force=True)
    return Assemblies(root / "correct", outdir)


def load(outdir: Path) -> Templates:
    manifest = outdir / "manifest.json"
    assert manifest.is_file(), outdir
    return Templates.load(
        [str(p) for p in sorted(outdir.glob("*.template.json")) if ".nested." not in p.name]
    )


def kind_of(resource: Resource) -> str:
    """The kind a resource belongs to: the first segment of its construct path, less the form's suffix."""
    root = resource.stack.root
    name = (root.path or "/" + root.name).strip("/").split("/")[0]
    return name.removesuffix("-Targets").removesuffix("-Sources")


def findings_by_kind(templates: Templates) -> Mapping[str, list[tuple[str, str]]]:
    """Kind → [(rule, detail)] of every finding of the pack, errors and warnings."""
    found: dict[str, list[tuple[str, str]]] = {}
    for rule, finding in run_rules(templates):
        found.setdefault(kind_of(finding.resource), []).append((rule.name, finding.detail))
    return found


def edges_by_kind(templates: Templates) -> Mapping[str, list[bool | None]]:
    found: dict[str, list[bool | None]] = {}
    for edge in delivery_edges(templates):
        found.setdefault(kind_of(edge.source), []).append(edge.decision.allowed)
    return found
