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
