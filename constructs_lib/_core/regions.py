"""Region facts that constructs check at synth time."""

from __future__ import annotations

from aws_cdk import Stack, Token
from constructs import IConstruct

#: CloudFront's certificates, web ACLs and metrics live in this region.
CLOUDFRONT_REGION = "us-east-1"


def resolved_region(construct: IConstruct) -> str | None:
    """The region of the construct's stack, or None when the stack is environment-agnostic."""
    region = Stack.of(construct).region
    return None if Token.is_unresolved(region) else region


def arn_region(arn: str) -> str | None:
    """The region field of a literal ARN; None for a token or a malformed ARN."""
    if Token.is_unresolved(arn):
        return None
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else None


def environment_mismatch(resource: IConstruct, scope: IConstruct) -> str | None:
    """Why a reference from ``scope``'s stack to ``resource``'s would fail with CannotUseCrossEnvironment.

    aws-cdk-lib refers across stacks of one app only when both name the same account and region, or when
    both are environment-agnostic; None when the reference can work.
    """
    here, there = Stack.of(scope), Stack.of(resource)
    if here is there:
        return None

    def env(stack: Stack) -> str:
        account = "<agnostic>" if Token.is_unresolved(stack.account) else stack.account
        region = "<agnostic>" if Token.is_unresolved(stack.region) else stack.region
        return f"{account}/{region}"

    if env(here) == env(there):
        return None
    return (
        f"'{resource.node.path}' is in stack '{there.stack_name}' ({env(there)}) and this construct in "
        f"'{here.stack_name}' ({env(here)}); stacks can refer to each other only when both have the same "
        "account and region, or both are environment-agnostic (CannotUseCrossEnvironment at synth); give "
        "both stacks the same env"
    )
