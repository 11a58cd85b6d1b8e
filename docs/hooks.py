"""Build hooks of the documentation site: pages generated from the code, and a gate on docstrings.

- ``<!-- rules-table -->`` on a page becomes the table of every rule of the ServerlessPatterns pack,
  read from the rules themselves (id, severity, what it finds, the fix, how to acknowledge it).
- ``<!-- changelog -->`` becomes ``CHANGELOG.md``.
- Every public name (in a public module's ``__all__``) must have a docstring: a missing one is a
  warning, which the strict build turns into a failure.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("mkdocs.hooks.constructs_lib")

#: Public modules whose ``__all__`` names are documented in the API reference.
PUBLIC_MODULES = (
    "constructs_lib",
    "constructs_lib.runtime",
    "constructs_lib.checks",
    "constructs_lib.cost",
    "constructs_lib.testing",
    "constructs_lib.testing.velocity",
)


def rules_table() -> str:
    """The pack's rules as a Markdown table, in the order the pack runs them."""
    from constructs_lib.checks import ALL_RULES

    rows = [
        "| rule id | severity | finds | fix | acknowledge with |",
        "|---|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        cells = (
            f"`{rule.id}`",
            rule.severity_note or rule.severity or "error (the pack's severity)",
            rule.summary,
            rule.fix,
            f'`acknowledge(construct, "{rule.acknowledgment_id}", reason)`',
        )
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def undocumented() -> list[str]:
    """Public names without a docstring of their own."""
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if callable(value) and not (value.__doc__ or "").strip():
                missing.append(f"{module_name}.{name}")
    return missing


def on_pre_build(config: Any) -> None:
    for name in undocumented():
        log.warning("public name without a docstring: %s", name)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if "<!-- rules-table -->" in markdown:
        markdown = markdown.replace("<!-- rules-table -->", rules_table())
    if "<!-- changelog -->" in markdown:
        changelog = (ROOT / "CHANGELOG.md").read_text()
        markdown = markdown.replace("<!-- changelog -->", changelog.split("\n", 1)[1])
    return markdown
