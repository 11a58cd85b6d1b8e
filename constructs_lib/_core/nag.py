"""Acknowledging cdk-nag (v3) findings next to the resource that causes them."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 20


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``construct``, next to the resource that causes it.

    ``rule`` is the finding's id as the validation report names it, with its pack, for example
    ``"AwsSolutions::AwsSolutions-IAM5[Resource::*]"`` or ``"Serverless::Serverless-LambdaDLQ"``;
    acknowledge each wildcard finding on its own. The acknowledgment covers ``construct`` and its
    children. ``reason`` must say why the finding is acceptable for this resource (20 characters at
    least); it is recorded in the cloud assembly next to the acknowledgment.

    Raises:
        ValueError: the reason is missing or too short to be specific.
    """
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledgment of {rule} needs a specific reason ({MIN_REASON_LENGTH}+ characters saying why "
            f"the finding is acceptable here), got {reason!r}"
        )
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


XRAY_WILDCARD_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level "
    "permissions, so AWS requires Resource '*' for them"
)


def acknowledge_xray_wildcard(role: IConstruct) -> None:
    """Acknowledge the ``Resource::*`` that active tracing adds to a function's role."""
    acknowledge(role, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", XRAY_WILDCARD_REASON)
