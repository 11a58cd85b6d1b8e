"""What a rule is: an id, what it finds, how to fix it, and the function that finds it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._model import Resource, Templates

if TYPE_CHECKING:
    from ._edges import Edge

PACK = "ServerlessPatterns"


@dataclass(frozen=True)
class Finding:
    """One resource that breaks a rule; ``detail`` says how, with the values read from the template."""

    resource: Resource
    detail: str
    location: str = "Properties"
    #: Overrides the rule's severity: ``"warning"`` where the rule could not read the resource.
    severity: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule of the pack. ``name`` is the short name; ``id`` is what reports and acknowledgments use."""

    name: str
    summary: str
    fix: str
    find: Callable[[Templates], Iterable[Finding]]
    #: Overrides the pack's severity (``"warning"`` for what cannot be decided at synth).
    severity: str | None = None
    #: How severe its findings are, where that differs by finding (for the rules table).
    severity_note: str | None = None

    @property
    def id(self) -> str:
        return f"{PACK}-{self.name}"

    @property
    def acknowledgment_id(self) -> str:
        """The id to pass to ``acknowledge`` (or ``Validations.acknowledge``) for this rule."""
        return f"{PACK}::{self.id}"


def edge_findings(edges: Callable[[Templates], Iterable[Edge]]) -> Callable[[Templates], Iterable[Finding]]:
    """A rule's ``find`` from an edge family: one finding per edge that cannot deliver."""

    def find(templates: Templates) -> Iterable[Finding]:
        from ._edges import decided

        for found in decided(templates, edges):
            if found.decision.allowed is False:
                yield Finding(found.source, f"{found.description}: {found.decision.why}", found.location)

    return find
