"""Edges whose policies synth cannot read: reported as a warning, never guessed."""

from __future__ import annotations

from collections.abc import Iterator

from .._assembly import NESTED_STACK
from .._edges import Edge, EdgeFinder, decided
from .._model import Resource, Templates
from .._rule import Finding, Rule
from . import (
    delivery_alarm_actions,
    delivery_api_integrations,
    delivery_cloudfront_origins,
    delivery_cognito_authorizers,
    delivery_event_source_mappings,
    delivery_event_targets,
    delivery_function_destinations,
    delivery_pipes,
    delivery_state_machine_tasks,
    delivery_subscriptions,
)

#: The edge families, in the order of the pack's page; each module also holds its rule.
FAMILY_MODULES = (
    delivery_alarm_actions,
    delivery_event_targets,
    delivery_event_source_mappings,
    delivery_function_destinations,
    delivery_api_integrations,
    delivery_cloudfront_origins,
    delivery_subscriptions,
    delivery_state_machine_tasks,
    delivery_pipes,
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
    yield from _unread(templates)


def _unread(templates: Templates) -> Iterator[Finding]:
    """Nested stacks whose template is missing or unreadable: nothing in them is checked."""
    for nested in templates.of_type(NESTED_STACK):
        child = templates.nested(nested.stack, nested.logical_id)
        if child is None or child.unreadable:
            why = child.unreadable if child else "it is not in the assembly"
            yield Finding(
                nested,
                f"the template of nested stack {nested.path} cannot be read ({why}), so none of its edges "
                "is checked",
                "Properties.TemplateURL",
            )
    for stack in templates.stacks.values():
        if stack.unreadable and stack.parent is None:
            yield Finding(
                Resource(stack, "Template"),
                f"the template {stack.template_path} cannot be read ({stack.unreadable}), so none of its "
                "edges is checked",
                "Resources",
            )


RULE = Rule(
    name="DeliveryUndecided",
    summary="A service-to-service edge cannot be decided at synth (an imported resource, a value only "
    "deploy time knows, a condition the pack does not model, a template it cannot read); check it by hand",
    fix="Check the edge's resource policy and key policy by hand, or define the resource in this app so "
    "the pack can read them; acknowledge the finding once checked",
    find=_find,
    severity="warning",
)
