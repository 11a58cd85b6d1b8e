"""Acknowledging policy findings (cdk-nag v3 packs, this library's pack, checkov) next to their resource."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 20


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``construct``, next to the resource that causes it.

    ``rule`` is the finding's id as the validation report names it, with its pack, for example
    ``"AwsSolutions::AwsSolutions-IAM5[Resource::*]"`` or ``"Serverless::Serverless-LambdaDLQ"``;
    acknowledge each wildcard finding on its own. The acknowledgment covers ``construct`` and its
    children. ``reason`` must say why the finding is acceptable for this resource (20 characters at
    least); it is recorded in the cloud assembly next to the acknowledgment.

    A checkov check (``"checkov::CKV_AWS_117"``) is also written into the template, as checkov's own
    skip (``Metadata.checkov.skip`` with the reason as its comment) on every CloudFormation resource
    under ``construct``, so checkov run on the synthesized templates honours it.

    Raises:
        ValueError: the reason is missing or too short to be specific.
    """
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledgment of {rule} needs a specific reason ({MIN_REASON_LENGTH}+ characters saying why "
            f"the finding is acceptable here), got {reason!r}"
        )
    _record(construct, rule, reason)


def _record(construct: IConstruct, rule: str, reason: str) -> None:
    """Write the acknowledgment into the assembly (and, for checkov, into the template)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
    pack, _, check = rule.partition("::")
    if pack == CHECKOV:
        for child in construct.node.find_all():
            if isinstance(child, CfnResource):
                _skip_checkov_check(child, check, reason)


#: The namespace of checkov checks in acknowledgment ids: ``checkov::CKV_AWS_117``.
CHECKOV = "checkov"


def _skip_checkov_check(resource: CfnResource, check: str, reason: str) -> None:
    metadata = resource.get_metadata(CHECKOV) or {}
    skips = [s for s in metadata.get("skip", []) if s.get("id") != check]
    resource.add_metadata(CHECKOV, {**metadata, "skip": [*skips, {"id": check, "comment": reason}]})


XRAY_WILDCARD_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level "
    "permissions, so AWS requires Resource '*' for them"
)


def acknowledge_xray_wildcard(role: IConstruct) -> None:
    """Acknowledge the ``Resource::*`` that active tracing adds to a function's role."""
    acknowledge(role, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", XRAY_WILDCARD_REASON)


LOG_GROUP_KMS_REASON = (
    "CloudWatch Logs encrypts every log group at rest with its own keys; a customer managed key adds a "
    "KMS call per write and restricts no reader here. Pass a log group encrypted with one if you must"
)


def acknowledge_checkov_function_defaults(function: IConstruct, log_group: IConstruct | None) -> None:
    """The generic checkov checks that every function this library creates answers the same way.

    Each only where it applies: CKV_AWS_117 (VPC) unless the function is in one, CKV_AWS_173
    (environment encryption) unless it has a KMS key, and CKV_AWS_158 (KMS) on its log group unless the
    group has one.
    """
    if not getattr(function, "is_bound_to_vpc", False):
        acknowledge(
            function,
            "checkov::CKV_AWS_117",
            "Reaches only AWS APIs and public HTTPS endpoints; a VPC would add ENIs and a NAT path without "
            "protecting any private resource. Attach one through the function's props when the code needs it",
        )
    if not _has_property(function, "kms_key_arn"):
        acknowledge(
            function,
            "checkov::CKV_AWS_173",
            "The environment holds names, ARNs and settings, never secrets; Lambda encrypts it at rest with "
            "an AWS managed key, and secrets belong in Secrets Manager or SSM",
        )
    if log_group is not None and not _has_property(log_group, "kms_key_id"):
        acknowledge(log_group, "checkov::CKV_AWS_158", LOG_GROUP_KMS_REASON)


def _has_property(construct: IConstruct, name: str) -> bool:
    """Whether the CloudFormation resource behind ``construct`` sets ``name`` (a CfnResource attribute)."""
    resource = construct.node.default_child if not isinstance(construct, CfnResource) else construct
    return getattr(resource, name, None) is not None
