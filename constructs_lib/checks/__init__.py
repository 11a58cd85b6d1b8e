"""A policy pack of this library's rules, for the whole app: ``ServerlessPatternsChecks``.

Each rule lives in its own module under ``rules/``; ``ALL_RULES`` lists them in the README's order.

The pack and its rules are imported lazily: the template model (``_model``, ``_assembly``) that the cost
model shares imports without aws_cdk, so ``python -m constructs_lib.cost`` never starts jsii's runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._rule import PACK, Rule

if TYPE_CHECKING:
    import aws_cdk as cdk

    from .pack import ServerlessPatternsChecks, run_rules
    from .rules import ALL_RULES

__all__ = ["ALL_RULES", "PACK", "Rule", "ServerlessPatternsChecks", "policy_packs", "run_rules"]
_LAZY = {"ALL_RULES": ".rules", "ServerlessPatternsChecks": ".pack", "run_rules": ".pack"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def policy_packs(app: cdk.App) -> list[Any]:
    """cdk-nag's AwsSolutions and Serverless packs and this library's ServerlessPatterns pack, for
    ``Validations.of(app).add_plugins(*policy_packs(app))``."""
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from .pack import ServerlessPatternsChecks

    return [AwsSolutionsChecks(app), ServerlessChecks(app), ServerlessPatternsChecks()]
