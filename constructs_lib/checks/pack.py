"""``ServerlessPatternsChecks``: this library's rules as a policy validation plugin for a whole app."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from .._core.validation import ConstructsLibValidationError, Problem
from ._model import Resource, Templates
from ._rule import PACK, Finding, Rule
from .rules import ALL_RULES

#: Assembly directories this process validated with the pack, and the packs' names: CDK's report lists
#: only plugins with findings, so a pack that ran and found nothing would otherwise look absent.
_RAN: dict[Path, set[str]] = {}


def packs_that_ran(outdir: str | Path) -> set[str]:
    """Names of this library's packs that validated the assembly in ``outdir`` in this process."""
    return set(_RAN.get(Path(outdir).resolve(), ()))


def forget_runs(outdir: str | Path) -> None:
    """Forget the runs recorded for ``outdir`` (before it is synthesized again)."""
    _RAN.pop(Path(outdir).resolve(), None)


def run_rules(templates: Templates, rules: Sequence[Rule] = ALL_RULES) -> list[tuple[Rule, Finding]]:
    """Every finding of ``rules`` over ``templates``, in rule order. A rule that cannot read a template
    (a value of a shape no template of aws-cdk-lib writes) reports it as a warning on the resource it
    was reading, never a traceback."""
    found: list[tuple[Rule, Finding]] = []
    for rule in rules:
        try:
            found += [(rule, finding) for finding in rule.find(templates)]
        except Exception as error:
            resource = templates.last_read or Resource(next(iter(templates.stacks.values())), "Template")
            detail = (
                f"the rule cannot read {resource.path} ({type(error).__name__}: {error}); check it by hand"
            )
            found.append((rule, Finding(resource, detail, "Properties", severity="warning")))
    return found


@jsii.implements(cdk.IPolicyValidationPlugin)
class ServerlessPatternsChecks:
    """The mistakes this library's constructs refuse, checked on every resource of an app.

    Add it next to cdk-nag's packs; it reads the synthesized templates, so it also checks resources
    written by hand with aws-cdk-lib's L2/L1 constructs::

        Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessPatternsChecks())

    A finding fails synth and appears in ``validation-report.json`` with its construct path. Acknowledge
    one next to its resource with ``acknowledge(construct, "ServerlessPatterns::<rule id>", reason)``.
    Values only deploy time knows (parameters, imports from outside the app) are skipped, never guessed.

    Args:
        rules: the rule ids to run (``ServerlessPatterns-...``). Default: every rule.
        severity: the severity of each finding of a rule that has none of its own. Default ``"error"``,
            which fails synth; ``"warning"`` reports without failing. A rule's or a finding's own severity
            overrides it: ``SqsConsumerConcurrency`` and ``DeliveryUndecided`` always warn, and
            ``SqsVisibilityTimeout`` warns between the function's timeout and 6 x it.
    """

    def __init__(self, *scope: Any, rules: Sequence[str] | None = None, severity: str = "error") -> None:
        known = {rule.id: rule for rule in ALL_RULES}
        problems = []
        if scope:
            problems.append(
                Problem(
                    "scope",
                    scope[0],
                    "ServerlessPatternsChecks takes no scope (unlike cdk-nag's packs): "
                    "Validations.of(app).add_plugins(ServerlessPatternsChecks())",
                )
            )
        if isinstance(rules, str):
            problems.append(Problem("rules", rules, "must be a list of rule ids, e.g. [" + repr(rules) + "]"))
            rules = None
        elif rules is not None and not rules:
            problems.append(Problem("rules", rules, "is empty; omit rules to run every rule, or name some"))
        unknown = [r for r in rules or () if r not in known]
        if unknown:
            problems.append(Problem("rules", unknown, f"use rule ids of this pack: {', '.join(known)}"))
        if severity not in ("error", "warning"):
            problems.append(Problem("severity", severity, "use 'error' (fails synth) or 'warning'"))
        if problems:
            raise ConstructsLibValidationError("ServerlessPatternsChecks", problems)
        self._rules = tuple(known[r] for r in rules) if rules else ALL_RULES
        self._severity = severity

    @property
    def name(self) -> str:
        return PACK

    @property
    def version(self) -> str | None:
        try:
            return metadata.version("constructs_lib")
        except metadata.PackageNotFoundError:
            return None

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self._rules]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        paths = list(context.template_paths)
        for directory in {Path(path).resolve().parent for path in paths}:
            _RAN.setdefault(directory, set()).add(PACK)
        templates = Templates.load(paths)
        violations = [
            cdk.PolicyViolation(
                rule_name=rule.id,
                description=f"{rule.summary}. {finding.resource.logical_id}: {finding.detail}.",
                fix=rule.fix,
                severity=finding.severity or rule.severity or self._severity,
                violating_resources=[
                    cdk.PolicyViolatingResource(
                        resource_logical_id=finding.resource.logical_id,
                        template_path=finding.resource.stack.template_path,
                        locations=[finding.location],
                    )
                ],
            )
            for rule, finding in run_rules(templates, self._rules)
        ]
        failed = any(violation.severity == "error" for violation in violations)
        return cdk.PolicyValidationPluginReport(success=not failed, violations=violations)
