"""A policy pack of this library's rules, for the whole app: ``ServerlessPatternsChecks``.

Each rule lives in its own module under ``rules/``; ``ALL_RULES`` lists them in the order of the pack's page.

The pack and its rules are imported lazily: the template model (``_model``, ``_assembly``) that the cost
model shares imports without aws_cdk, so ``python -m constructs_lib.cost`` never starts jsii's runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._lazy import lazy_exports
from ._rule import PACK, Rule

if TYPE_CHECKING:
    import aws_cdk as cdk

    from .pack import ServerlessPatternsChecks, run_rules
    from .rules import ALL_RULES

__all__ = ["ALL_RULES", "PACK", "Rule", "ServerlessPatternsChecks", "policy_packs", "run_rules"]
_LAZY = {"ALL_RULES": ".rules", "ServerlessPatternsChecks": ".pack", "run_rules": ".pack"}


__getattr__ = lazy_exports(__name__, _LAZY, globals())


def policy_packs(app: cdk.App) -> list[Any]:
    """cdk-nag's AwsSolutions and Serverless packs and this library's ServerlessPatterns pack, for
    ``Validations.of(app).add_plugins(*policy_packs(app))``."""
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from .pack import ServerlessPatternsChecks

    return [AwsSolutionsChecks(app), ServerlessChecks(app), ServerlessPatternsChecks()]
