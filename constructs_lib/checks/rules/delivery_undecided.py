"""Edges whose policies synth cannot read: reported as a warning, never guessed."""

from __future__ import annotations

from collections.abc import Iterator

from .._edges import Edge, EdgeFinder, decided
from .._model import Templates
from .._rule import Finding, Rule
from . import (
    delivery_alarm_actions,
    delivery_api_integrations,
    delivery_cloudfront_origins,
    delivery_cognito_authorizers,
    delivery_event_source_mappings,
    delivery_event_targets,
    delivery_function_destinations,
    delivery_subscriptions,
)

#: The edge families, in the README's order; each module also holds its rule.
FAMILY_MODULES = (
    delivery_alarm_actions,
    delivery_event_targets,
    delivery_event_source_mappings,
    delivery_function_destinations,
    delivery_api_integrations,
    delivery_cloudfront_origins,
    delivery_subscriptions,
    delivery_cognito_authorizers,
)
FAMILIES: tuple[EdgeFinder, ...] = tuple(module.edges for module in FAMILY_MODULES)


def delivery_edges(templates: Templates) -> list[Edge]:
    """Every service-to-service edge of the app, decided (True, False, or None: cannot decide)."""
    return [found for family in FAMILIES for found in decided(templates, family)]


def _find(templates: Templates) -> Iterator[Finding]:
    for found in delivery_edges(templates):
        if found.decision.allowed is None:
            yield Finding(
                found.source, f"{found.description} ({found.family}): {found.decision.why}", found.location
            )


RULE = Rule(
    name="DeliveryUndecided",
    summary="A service-to-service edge cannot be decided at synth (an imported resource, a value only "
    "deploy time knows, a condition the pack does not model); check it by hand",
    fix="Check the edge's resource policy and key policy by hand, or define the resource in this app so "
    "the pack can read them; acknowledge the finding once checked",
    find=_find,
    severity="warning",
)
