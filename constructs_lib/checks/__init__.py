"""A policy pack of this library's rules, for the whole app: ``ServerlessPatternsChecks``.

Each rule lives in its own module under ``rules/``; ``ALL_RULES`` lists them in the README's order.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from ._rule import PACK, Rule
from .pack import ServerlessPatternsChecks, run_rules
from .rules import ALL_RULES

__all__ = ["ALL_RULES", "PACK", "Rule", "ServerlessPatternsChecks", "policy_packs", "run_rules"]


def policy_packs(app: cdk.App) -> list[Any]:
    """cdk-nag's AwsSolutions and Serverless packs and this library's ServerlessPatterns pack, for
    ``Validations.of(app).add_plugins(*policy_packs(app))``."""
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    return [AwsSolutionsChecks(app), ServerlessChecks(app), ServerlessPatternsChecks()]
