"""A policy pack of this library's rules, for the whole app: ``ServerlessPatternsChecks``.

Each rule lives in its own module under ``rules/``; ``ALL_RULES`` lists them in the README's order.
"""

from __future__ import annotations

from ._rule import PACK, Rule
from .pack import ServerlessPatternsChecks, run_rules
from .rules import ALL_RULES

__all__ = ["ALL_RULES", "PACK", "Rule", "ServerlessPatternsChecks", "run_rules"]
