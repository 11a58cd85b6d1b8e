"""CloudFront can read its origins: an S3 bucket through Origin Access Control (bucket policy and key) or
an Origin Access Identity (bucket policy), and a function URL through Origin Access Control."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._edges import BUCKET, Edge, combine, edge, guarded, label, may, source_call, values_at
from .._env import resolve
from .._iam import Decision, Principal
from .._lambda import function_target, invoked_arn
from .._model import Resource, Templates
from .._policies import ConditionalKey, key_of
from .._rule import Rule, edge_findings

FAMILY = "DeliveryCloudFrontOrigins"
CLOUDFRONT = "cloudfront.amazonaws.com"
OAI = "AWS::CloudFront::CloudFrontOriginAccessIdentity"
FIX = (
    "Allow cloudfront.amazonaws.com with aws:SourceArn = this distribution: s3:GetObject in the bucket "
    "policy and kms:Decrypt in a customer managed key's policy (never SSE-KMS with aws/s3, which CloudFront "
    "cannot use); lambda:InvokeFunctionUrl and lambda:InvokeFunction (InvokedViaFunctionUrl) on the URL's "
    "function. S3BucketOrigin/FunctionUrlOrigin.with_origin_access_control write them. An origin access "
    "identity needs s3:GetObject in the bucket policy and a bucket without SSE-KMS"
)


def edges(templates: Templates) -> Iterator[Edge]:
    distributions = ("AWS::CloudFront::Distribution",)
    yield from guarded(FAMILY, FIX, templates, distributions, lambda d: _origins(templates, d))


def _origins(templates: Templates, distribution: Resource) -> Iterator[Edge]:
    config = distribution.props.get("DistributionConfig") or {}
    for index, origin in enumerate(values_at(config.get("Origins"))):
        if not isinstance(origin, Mapping):
            continue
        where = f"Properties.DistributionConfig.Origins.{index}"
        identity = (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")
        if "OriginAccessControlId" not in origin and not identity:
            continue
        bucket = resolve(templates, distribution.stack, origin.get("DomainName"), BUCKET)
        url = resolve(templates, distribution.stack, origin.get("DomainName"), "AWS::Lambda::Url")
        if bucket is not None and "OriginAccessControlId" in origin:
            yield _bucket(templates, distribution, bucket, where)
        elif bucket is not None:
            yield _identity(templates, distribution, bucket, identity, where)
        elif url is not None:
            yield _function_url(templates, distribution, url, where)
        else:
            decision = Decision(None, "its origin is not a bucket or function URL of this app")
            yield edge(FAMILY, distribution, where, "its origin", decision, FIX)


def _bucket(templates: Templates, distribution: Resource, bucket: Resource, where: str) -> Edge:
    decision = may(
        templates,
        Principal(service=CLOUDFRONT),
        ("s3:GetObject",),
        bucket,
        context=source_call(templates, CLOUDFRONT, distribution),
        key_actions=("kms:Decrypt",),
    )
    return edge(FAMILY, distribution, where, label(bucket), decision, FIX)


def _identity(
    templates: Templates, distribution: Resource, bucket: Resource, identity: Any, where: str
) -> Edge:
    """An origin access identity: a CloudFront user the bucket policy must name (as its canonical user or
    its IAM ARN); it cannot read objects encrypted with SSE-KMS."""
    oai = resolve(templates, distribution.stack, identity, OAI)
    if oai is None:
        decision = Decision(None, "its origin access identity is not defined in this app")
        return edge(FAMILY, distribution, where, label(bucket), decision, FIX)
    decision = may(templates, Principal(oai=oai), ("s3:GetObject",), bucket)
    key = key_of(templates, bucket)
    if isinstance(key, ConditionalKey) and "none" in (key.when, key.otherwise):
        why = (
            f"{label(bucket)}'s encryption is conditional (Fn::If on {key.condition}), and an origin access "
            "identity cannot read SSE-KMS objects"
        )
        decision = combine(decision, Decision(None, why))
    elif key != "none":
        why = (
            f"{label(bucket)} is encrypted with SSE-KMS, which an origin access identity cannot read; use OAC"
        )
        decision = combine(decision, Decision(False, why))
    return edge(FAMILY, distribution, where, label(bucket), decision, FIX)


def _function_url(templates: Templates, distribution: Resource, url: Resource, where: str) -> Edge:
    target = function_target(templates, url.stack, {"Fn::GetAtt": [url.logical_id, "FunctionArn"]})
    if target is None:
        decision = Decision(None, "the URL's function is not in this app")
        return edge(FAMILY, distribution, where, f"function URL {url.path}", decision, FIX)
    context = source_call(templates, CLOUDFRONT, distribution)
    principal = Principal(service=CLOUDFRONT)
    arn = invoked_arn(templates, target) if target.qualified else None
    decision = combine(
        may(
            templates,
            principal,
            ("lambda:InvokeFunctionUrl",),
            target.function,
            arn=arn,
            context={**context, "lambda:functionurlauthtype": str(url.props.get("AuthType"))},
        ),
        may(
            templates,
            principal,
            ("lambda:InvokeFunction",),
            target.function,
            arn=arn,
            context={**context, "lambda:invokedviafunctionurl": "true"},
        ),
    )
    return edge(FAMILY, distribution, where, f"function URL {url.path}", decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="CloudFront cannot read its origin through Origin Access Control or an origin access "
    "identity: every request answers 403",
    fix=FIX,
    find=edge_findings(edges),
)
