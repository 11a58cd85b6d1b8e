"""Networks and workflows: NAT gateways, Elastic IPs and endpoints; Step Functions state machines."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..checks._model import Resource, Templates
from ._ledger import Collaborator
from ._prices import MONTH_HOURS

#: Express workflows bill memory in 64 MB steps, duration in 100 ms steps.
EXPRESS_MEMORY_STEP_MB = 64
EXPRESS_DURATION_STEP_MS = 100


class Infrastructure(Collaborator):
    """Prices NAT gateways and their addresses, VPC endpoints and state machines."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::EC2::NatGateway": self._nat_gateway,
            "AWS::EC2::EIP": self._elastic_ip,
            "AWS::EC2::VPCEndpoint": self._vpc_endpoint,
            "AWS::StepFunctions::StateMachine": self._state_machine,
        }

    def _nat_gateway(self, nat: Resource) -> None:
        gb = self.traffic.resolved.volume(nat, "gb")
        self.ledger.charge(nat, "vpc.nat_gateway_hours", MONTH_HOURS, "NAT gateway hours")
        item = "data processed" if gb is not None else "data processed (none given: set gb under [resources])"
        self.ledger.charge(nat, "vpc.nat_gateway_gb", gb or 0.0, item)

    def _elastic_ip(self, address: Resource) -> None:
        self.ledger.charge(address, "vpc.public_ipv4_hours", MONTH_HOURS, "public IPv4 address")

    def _vpc_endpoint(self, endpoint: Resource) -> None:
        if endpoint.props.get("VpcEndpointType", "Gateway") == "Gateway":
            self.ledger.free((endpoint, "gateway endpoints (S3, DynamoDB) have no charge"))
        else:
            why = "interface endpoints (per AZ-hour and GB) are not modelled"
            self.ledger.not_priced((endpoint, why))

    def _state_machine(self, machine: Resource) -> None:
        """Standard: state transitions (the profile's per execution, else one per state of the
        definition); Express: requests and GB-seconds (100 ms and 64 MB steps)."""
        resolved = self.traffic.resolved
        executions = self.traffic.executions.get(machine, 0.0)
        if machine.props.get("StateMachineType") == "EXPRESS":
            duration = resolved.volume(machine, "duration_ms") or self.usage.duration_ms
            memory = resolved.volume(machine, "memory_mb") or EXPRESS_MEMORY_STEP_MB
            billed_ms = math.ceil(duration / EXPRESS_DURATION_STEP_MS) * EXPRESS_DURATION_STEP_MS
            billed_gb = math.ceil(memory / EXPRESS_MEMORY_STEP_MB) * EXPRESS_MEMORY_STEP_MB / 1024
            item = self.traffic.noted(machine, "Express executions")
            self.ledger.charge(machine, "states.express_requests", executions, item)
            self.ledger.charge(
                machine,
                "states.express_gb_seconds",
                executions * billed_ms / 1000 * billed_gb,
                f"Express duration ({billed_ms:g} ms at {billed_gb * 1024:g} MB each)",
            )
            return
        transitions = resolved.volume(machine, "transitions") or float(_states(self.templates, machine))
        self.ledger.charge(
            machine,
            "states.state_transitions",
            executions * transitions,
            self.traffic.noted(machine, f"state transitions ({transitions:g} per execution)"),
        )


def _states(templates: Templates, machine: Resource) -> int:
    """States in a state machine's definition (each execution passes each once, as an estimate)."""
    definition = machine.props.get("Definition")
    if not isinstance(definition, Mapping):
        text = templates.literal_text(machine.stack, machine.props.get("DefinitionString"))
        try:
            definition = json.loads(text) if text else {}
        except json.JSONDecodeError:
            return text.count('"Type"') or 1
    return max(1, _count_states(definition))


def _count_states(definition: Any) -> int:
    if not isinstance(definition, Mapping):
        return 0
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return 0
    nested = sum(
        _count_states(branch)
        for state in states.values()
        if isinstance(state, Mapping)
        for branch in [*(state.get("Branches") or []), state.get("Iterator"), state.get("ItemProcessor")]
    )
    return len(states) + nested
