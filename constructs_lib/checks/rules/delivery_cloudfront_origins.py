"""CloudFront's Origin Access Control can read its bucket (policy and key) and call its function URL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._edges import BUCKET, Edge, combine, edge, may, source_context
from .._iam import Decision, Principal, render_arn, resolve
from .._lambda import function_target
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryCloudFrontOrigins"
CLOUDFRONT = Principal(service="cloudfront.amazonaws.com")
FIX = (
    "Allow cloudfront.amazonaws.com with aws:SourceArn = this distribution: s3:GetObject in the bucket "
    "policy and kms:Decrypt in a customer managed key's policy (never SSE-KMS with aws/s3, which CloudFront "
    "cannot use); lambda:InvokeFunctionUrl and lambda:InvokeFunction (InvokedViaFunctionUrl) on the URL's "
    "function. S3BucketOrigin/FunctionUrlOrigin.with_origin_access_control write them"
)


def edges(templates: Templates) -> Iterator[Edge]:
    for distribution in templates.of_type("AWS::CloudFront::Distribution"):
        config = distribution.props.get("DistributionConfig") or {}
        for index, origin in enumerate(config.get("Origins") or []):
            if not isinstance(origin, Mapping) or "OriginAccessControlId" not in origin:
                continue
            where = f"Properties.DistributionConfig.Origins.{index}"
            bucket = resolve(templates, distribution.stack, origin.get("DomainName"), BUCKET)
            url = resolve(templates, distribution.stack, origin.get("DomainName"), "AWS::Lambda::Url")
            if bucket is not None:
                yield _bucket(templates, distribution, bucket, where)
            elif url is not None:
                yield _function_url(templates, distribution, url, where)
            else:
                decision = Decision(None, "its origin is not a bucket or function URL of this app")
                yield edge(FAMILY, distribution, where, "its origin", decision, FIX)


def _bucket(templates: Templates, distribution: Resource, bucket: Resource, where: str) -> Edge:
    decision = may(
        templates,
        CLOUDFRONT,
        ("s3:GetObject",),
        bucket,
        arn=f"{render_arn(bucket)}/«object»",
        context=source_context(distribution),
        key_actions=("kms:Decrypt",),
    )
    return edge(FAMILY, distribution, where, f"bucket {bucket.logical_id}", decision, FIX)


def _function_url(templates: Templates, distribution: Resource, url: Resource, where: str) -> Edge:
    target = function_target(templates, url.stack, url.props.get("TargetFunctionArn"))
    if target is None:
        decision = Decision(None, "the URL's function is not in this app")
        return edge(FAMILY, distribution, where, f"function URL {url.logical_id}", decision, FIX)
    context: dict[str, Any] = source_context(distribution)
    decision = combine(
        may(
            templates,
            CLOUDFRONT,
            ("lambda:InvokeFunctionUrl",),
            target.function,
            context={**context, "lambda:functionurlauthtype": str(url.props.get("AuthType"))},
        ),
        may(
            templates,
            CLOUDFRONT,
            ("lambda:InvokeFunction",),
            target.function,
            context={**context, "lambda:invokedviafunctionurl": "true"},
        ),
    )
    return edge(FAMILY, distribution, where, f"function URL {url.logical_id}", decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="CloudFront's Origin Access Control cannot read its origin: every request answers 403",
    fix=FIX,
    find=edge_findings(edges),
)
