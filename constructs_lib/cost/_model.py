"""Every resource of an app either charged by meter, known to be free, or listed as not priced.

``Model`` walks the resources once and hands each to the collaborator that prices its type: functions,
APIs, messaging, tables, the edge, operations, and networks and workflows. They share a ``Ledger``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..checks._lambda import FUNCTION
from ..checks._model import Resource, Templates
from ._apis import Apis
from ._catalog import CUSTOM_RESOURCE, FREE, NESTED_STACK, NOT_MODELLED
from ._edge import Edge
from ._functions import Functions
from ._infrastructure import Infrastructure
from ._ledger import Charge, Ledger, Priced
from ._messaging import Messaging
from ._operations import Operations
from ._tables import BREAKER_METRICS, GOVERNOR_METRICS, Tables
from ._traffic import Traffic
from ._usage import Usage

__all__ = ["BREAKER_METRICS", "FREE", "GOVERNOR_METRICS", "Charge", "Model", "Priced"]
_COLLABORATORS = (Functions, Apis, Messaging, Tables, Edge, Operations, Infrastructure)


class Model:
    """Walks every resource once; a handler per type adds its charges (or says why it costs nothing)."""

    def __init__(self, templates: Templates, usage: Usage, traffic: Traffic) -> None:
        self.ledger = Ledger(templates, usage, traffic)
        self._handlers: dict[str, Callable[[Resource], None]] = {
            NESTED_STACK: self._nested_stack,
            CUSTOM_RESOURCE: self._custom_resource,
        }
        for collaborator in _COLLABORATORS:
            self._handlers.update(collaborator(self.ledger).handlers())

    @property
    def result(self) -> Priced:
        return self.ledger.result

    def run(self) -> Priced:
        # Functions and APIs first: they decide the records and log bytes that tables and log groups
        # are priced on; log groups last.
        for resource in sorted(self._resources(), key=_pricing_order):
            self._price(resource)
        return self.result

    def _resources(self) -> Iterator[Resource]:
        """Every resource of every stack, nested stacks' included."""
        for stack in self.ledger.templates.stacks.values():
            for logical_id in stack.resources:
                yield Resource(stack, logical_id)

    def _price(self, resource: Resource) -> None:
        kind = resource.type
        if kind in self._handlers:
            self._handlers[kind](resource)
        elif kind in FREE:
            self.ledger.free((resource, FREE[kind]))
        elif kind in NOT_MODELLED:
            self.ledger.not_priced((resource, NOT_MODELLED[kind]))
        elif kind.startswith("Custom::"):
            self._custom_resource(resource)
        else:
            self.ledger.not_priced((resource, f"the cost model has no price for {kind}"))

    def _custom_resource(self, resource: Resource) -> None:
        """A custom resource (``Custom::*`` or ``AWS::CloudFormation::CustomResource``): its handler runs
        when CloudFormation deploys it, and is priced (as free) where it is defined."""
        if "ServiceToken" in resource.props:
            self.ledger.free((resource, "a custom resource: runs at deploy time only"))
        else:
            self.ledger.not_priced((resource, "a custom resource without a ServiceToken"))

    def _nested_stack(self, resource: Resource) -> None:
        if self.ledger.templates.nested(resource.stack, resource.logical_id) is not None:
            self.ledger.free((resource, "a nested stack: its resources are priced from its own template"))
        else:
            why = "a nested stack whose template is not in the assembly: its resources cannot be priced"
            self.ledger.not_priced((resource, why))


def _pricing_order(resource: Resource) -> int:
    if resource.type in (FUNCTION, "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
        return 0
    return 2 if resource.type == "AWS::Logs::LogGroup" else 1
