"""``CdnFrontedOrigin``'s props: each checked, its default resolved, the escape hatch merged."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._core import (
    Problems,
    check_types,
    check_whole_seconds,
    is_unresolved,
    merge_props,
    or_default,
    seconds,
)
from .._core.regions import CLOUDFRONT_REGION, arn_region, resolved_region
from .origins import (
    BucketCdnOrigin,
    CdnOrigin,
    RestApiCdnOrigin,
)

DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HSTS_MAX_AGE = Duration.days(730)
DEFAULT_ERROR_RATE_THRESHOLD = 5.0
DEFAULT_WEB_ACL_RATE_LIMIT = 2000
DEFAULT_PRICE_CLASS = cloudfront.PriceClass.PRICE_CLASS_100
DEFAULT_LOG_RETENTION = Duration.days(90)
DEFAULT_ORIGIN_LATENCY_THRESHOLD = Duration.seconds(3)
DEFAULT_ORIGIN_SECRET_GENERATION = 1
#: The common rule set's body-size rule blocks bodies over 8 KB; the origin enforces its own limit.
BODY_SIZE_RULE = ("AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY")
WAF_RULE_ACTIONS = ("allow", "block", "count", "captcha", "challenge")
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Every prop checked and resolved: what the builders need."""

    problems: Problems
    default_origin: CdnOrigin
    behaviors: dict[str, CdnOrigin]
    domain_names: list[str] | None
    certificate: acm.ICertificate | None
    hosted_zone: route53.IHostedZone | None
    web_acl_id: str | None
    create_web_acl: bool
    web_acl_rate_limit: int
    web_acl_rule_actions: dict[str, dict[str, str]]
    price_class: cloudfront.PriceClass
    geo_restriction: cloudfront.GeoRestriction | None
    content_security_policy: str | None
    default_root_object: str | None
    log_bucket: s3.IBucket | None
    log_retention: Duration
    error_rate_threshold: float
    enable_additional_metrics: bool
    origin_latency_threshold: Duration
    origin_secret_generation: int
    alarm_topic: sns.ITopic | None
    distribution_kwargs: dict[str, Any]


def plan_props(
    scope: Construct, where: str, given: Mapping[str, Any], signature: Callable[..., None]
) -> Plan:
    """Check every prop against ``signature`` (the constructor's), resolve defaults and merge the escape
    hatch; raise once with every problem."""
    problems = Problems(f"CdnFrontedOrigin '{where}'")
    if not check_types(problems, signature, given):
        problems.raise_if_any()  # the checks below assume the right types
    check_whole_seconds(problems, given, "log_retention")
    default_origin: CdnOrigin = given["default_origin"]
    behaviors = dict(given["additional_behaviors"] or {})
    _check_origins(problems, scope, default_origin, behaviors)
    _check_single_page_app_errors(problems, default_origin, behaviors, given["distribution_props"])
    _check_ignored_props(problems, given)
    domain_names = given["domain_names"]
    _check_domain(problems, domain_names, given["certificate"], given["hosted_zone"])
    create_web_acl = bool(given["create_web_acl"])
    rate_limit = or_default(given["web_acl_rate_limit"], DEFAULT_WEB_ACL_RATE_LIMIT)
    _check_waf(problems, scope, given["web_acl_id"], create_web_acl, rate_limit)
    numbers = _check_numbers(problems, given)
    _warn_about_metrics_region(problems, scope)
    default_root_object = given["default_root_object"]
    if default_root_object is None and isinstance(default_origin, BucketCdnOrigin):
        default_root_object = "index.html"
    plan = Plan(
        problems=problems,
        default_origin=default_origin,
        behaviors=behaviors,
        domain_names=domain_names,
        certificate=given["certificate"],
        hosted_zone=given["hosted_zone"],
        web_acl_id=given["web_acl_id"],
        create_web_acl=create_web_acl,
        web_acl_rate_limit=rate_limit,
        web_acl_rule_actions=_web_acl_rule_actions(
            problems, default_origin, behaviors, create_web_acl, given["web_acl_rule_actions"]
        ),
        price_class=or_default(given["price_class"], DEFAULT_PRICE_CLASS),
        geo_restriction=given["geo_restriction"],
        content_security_policy=or_default(given["content_security_policy"], DEFAULT_CONTENT_SECURITY_POLICY),
        default_root_object=default_root_object,
        log_bucket=given["log_bucket"],
        enable_additional_metrics=bool(given["enable_additional_metrics"]),
        origin_latency_threshold=or_default(
            given["origin_latency_threshold"], DEFAULT_ORIGIN_LATENCY_THRESHOLD
        ),
        alarm_topic=given["alarm_topic"],
        distribution_kwargs=_merge_distribution_props(
            problems, where, given["distribution_props"], has_domain=bool(domain_names)
        ),
        **numbers,
    )
    problems.raise_if_any()
    return plan


def _merge_distribution_props(
    problems: Problems, where: str, user: Any, *, has_domain: bool
) -> dict[str, Any]:
    tls = (
        {
            "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            "ssl_support_method": cloudfront.SSLMethod.SNI,
        }
        if has_domain
        else {}
    )
    return merge_props(
        problems,
        prop_name="distribution_props",
        l2_class=cloudfront.Distribution,
        defaults={
            "http_version": cloudfront.HttpVersion.HTTP2_AND_3,
            "enable_ipv6": True,
            "enable_logging": True,
            "log_file_prefix": "cloudfront/",
            "comment": f"constructs_lib CdnFrontedOrigin {where}"[:128],
            **tls,
        },
        user=user,
        owned={
            "default_behavior": "default_origin",
            "additional_behaviors": "additional_behaviors",
            "certificate": "certificate",
            "domain_names": "domain_names",
            "web_acl_id": "web_acl_id or create_web_acl",
            "geo_restriction": "geo_restriction",
            "price_class": "price_class",
            "log_bucket": "log_bucket",
            "default_root_object": "default_root_object",
            "publish_additional_metrics": "enable_additional_metrics",
        },
        security_defaults=("enable_logging", "minimum_protocol_version", "ssl_support_method"),
    )


def _check_origins(
    problems: Problems, scope: Construct, default_origin: CdnOrigin, behaviors: Mapping[str, CdnOrigin]
) -> None:
    if not isinstance(default_origin, CdnOrigin):
        problems.add(
            "default_origin", default_origin, "must be a CdnOrigin: CdnOrigin.bucket/function_url/rest_api"
        )
        return
    default_origin.check(problems, "default_origin", scope)
    if isinstance(default_origin, RestApiCdnOrigin) and isinstance(default_origin.api, apigateway.RestApi):
        check_allowed_methods(problems, "default_origin", default_origin)
    for pattern, origin in behaviors.items():
        if not isinstance(origin, CdnOrigin):
            problems.add(
                f"additional_behaviors[{pattern!r}]", origin, "must be a CdnOrigin: CdnOrigin.bucket/..."
            )
            continue
        origin.check(problems, f"additional_behaviors[{pattern!r}]", scope)
        if isinstance(origin, RestApiCdnOrigin) and isinstance(origin.api, apigateway.RestApi):
            _check_pattern_reaches_the_api(problems, pattern, origin.api)
            check_allowed_methods(problems, f"additional_behaviors[{pattern!r}]", origin)
        if pattern.strip() in {"", "*", "/*"}:
            problems.add(
                f"additional_behaviors[{pattern!r}]",
                pattern,
                "'*' is the default behavior; use default_origin for it, and a narrower pattern "
                "such as '/api/*' here",
            )


def _web_acl_rule_actions(
    problems: Problems,
    default_origin: CdnOrigin,
    behaviors: Mapping[str, CdnOrigin],
    create_web_acl: bool,
    user: Mapping[str, Mapping[str, str]] | None,
) -> dict[str, dict[str, str]]:
    """Rule action overrides per managed group: the body-size rule counts when bodies reach an origin."""
    actions: dict[str, dict[str, str]] = {}
    if any(origin.accepts_bodies for origin in (default_origin, *behaviors.values())):
        group, rule = BODY_SIZE_RULE
        actions[group] = {rule: "count"}
    if user is None:
        return actions
    if not create_web_acl:
        problems.add(
            "web_acl_rule_actions", dict(user), "only used with create_web_acl=True; set it or remove this"
        )
    for group, rules in user.items():
        if group not in MANAGED_RULE_GROUPS:
            problems.add(
                f"web_acl_rule_actions[{group!r}]",
                rules,
                f"not a group of the web ACL; use one of {MANAGED_RULE_GROUPS}",
            )
            continue
        for rule, action in dict(rules).items():
            if action not in WAF_RULE_ACTIONS:
                problems.add(
                    f"web_acl_rule_actions[{group!r}][{rule!r}]", action, f"must be one of {WAF_RULE_ACTIONS}"
                )
        actions[group] = {**actions.get(group, {}), **dict(rules)}
    return actions


def _check_numbers(problems: Problems, given: Mapping[str, Any]) -> dict[str, Any]:
    """The alarm threshold, key generation and log retention, checked and with defaults applied."""
    error_rate = or_default(given["error_rate_threshold"], DEFAULT_ERROR_RATE_THRESHOLD)
    generation = or_default(given["origin_secret_generation"], DEFAULT_ORIGIN_SECRET_GENERATION)
    retention = or_default(given["log_retention"], DEFAULT_LOG_RETENTION)
    problems.check(
        is_unresolved(error_rate) or 0 < error_rate <= 100,
        "error_rate_threshold",
        error_rate,
        "must be a percentage above 0 and at most 100",
    )
    if not is_unresolved(error_rate) and 0 < error_rate < 1:
        problems.warn(
            "errorRateFraction",
            f"error_rate_threshold is {error_rate}: a percentage, so the alarm fires when {error_rate}% (not "
            f"{error_rate * 100:g}%) of requests answer 5xx; pass {error_rate * 100:g} if a fraction was "
            "meant",
        )
    problems.check(
        is_unresolved(generation) or generation >= 1,
        "origin_secret_generation",
        generation,
        "must be 1 or more; raise it by one to rotate the origin key",
    )
    retention_seconds = seconds(retention)
    problems.check(
        retention_seconds is None or retention_seconds >= 86400,
        "log_retention",
        retention,
        "must be at least 1 day (S3 lifecycle expiration works in whole days)",
    )
    return {
        "error_rate_threshold": error_rate,
        "origin_secret_generation": generation,
        "log_retention": retention,
    }


def _check_domain(
    problems: Problems,
    domain_names: list[str] | None,
    certificate: acm.ICertificate | None,
    hosted_zone: route53.IHostedZone | None,
) -> None:
    if domain_names and certificate is None:
        problems.add(
            "certificate", None, "domain_names need an ACM certificate in us-east-1 that covers them"
        )
    if certificate is not None and not domain_names:
        problems.add("domain_names", domain_names, "a certificate is only used with domain_names; add them")
    if hosted_zone is not None and not domain_names:
        problems.add("hosted_zone", hosted_zone.node.path, "alias records need domain_names; add them")
    if certificate is not None:
        # A literal ARN names its region; a certificate defined in this app lives in its stack's region.
        literal = arn_region(certificate.certificate_arn)
        defined_here = isinstance(certificate, acm.Certificate)
        region = literal or (resolved_region(certificate) if defined_here else None)
        if region is not None and region != CLOUDFRONT_REGION:
            problems.add(
                "certificate",
                certificate.certificate_arn if literal else region,
                f"CloudFront only uses ACM certificates from {CLOUDFRONT_REGION}; request or import the "
                f"certificate there (a {region} certificate cannot be attached)",
            )


def _check_waf(
    problems: Problems, scope: Construct, web_acl_id: str | None, create_web_acl: bool, rate_limit: int
) -> None:
    if web_acl_id is not None and create_web_acl:
        problems.add(
            "create_web_acl", True, "web_acl_id already attaches a web ACL; pass one of the two, not both"
        )
    if web_acl_id is not None and not is_unresolved(web_acl_id) and ":global/webacl/" not in web_acl_id:
        problems.add(
            "web_acl_id",
            web_acl_id,
            "must be the ARN of a CLOUDFRONT-scope WAFv2 web ACL (arn:aws:wafv2:us-east-1:<account>:"
            "global/webacl/<name>/<id>)",
        )
    if create_web_acl:
        region = resolved_region(scope)
        if region is not None and region != CLOUDFRONT_REGION:
            problems.add(
                "create_web_acl",
                region,
                f"a CloudFront web ACL can only be created in {CLOUDFRONT_REGION}; deploy this stack "
                "there, or create the ACL in a us-east-1 stack and pass its ARN as web_acl_id",
            )
        elif region is None:
            problems.warn(
                "webAclRegionUnknown",
                "create_web_acl needs this stack in us-east-1, but the stack has no region; set "
                "env=Environment(region='us-east-1') or deployment fails outside us-east-1",
            )
        problems.check(
            is_unresolved(rate_limit) or 10 <= rate_limit <= 2_000_000_000,
            "web_acl_rate_limit",
            rate_limit,
            "must be between 10 and 2,000,000,000 requests per 5 minutes",
        )


def _check_single_page_app_errors(
    problems: Problems, default_origin: CdnOrigin, behaviors: Mapping[str, CdnOrigin], user: Any
) -> None:
    """Distribution-wide 403/404 -> app responses turn every API error into the app's HTML with 200."""
    spa = any(
        isinstance(o, BucketCdnOrigin) and o.single_page_app for o in (default_origin, *behaviors.values())
    )
    responses = user.get("error_responses") if isinstance(user, Mapping) else None
    codes = sorted(
        int(getattr(r, "http_status", 0))
        for r in responses or []
        if getattr(r, "http_status", None) in (403, 404)
    )
    if spa and codes:
        problems.add(
            "distribution_props['error_responses']",
            codes,
            "single_page_app=True already serves the app for client-side routes; distribution-wide 403/404 "
            "responses would also replace the APIs' 403/404 answers with the app's HTML and a 200; remove "
            "them",
        )


def check_allowed_methods(problems: Problems, prop: str, origin: RestApiCdnOrigin) -> None:
    """Every method of the API must pass the behavior, or CloudFront answers it 403 itself."""
    allowed = set((origin.allowed_methods or cloudfront.AllowedMethods.ALLOW_ALL).methods)
    missing = sorted(
        f"{method.http_method} {method.resource.path}"
        for method in origin.api.methods
        if (method.http_method == "ANY" and len(allowed) < 7)
        or (method.http_method != "ANY" and method.http_method not in allowed)
    )
    if missing:
        problems.add(
            prop,
            missing,
            f"the behavior allows only {', '.join(sorted(allowed))}, so CloudFront answers these methods 403 "
            "before they reach the API; pass allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL (the "
            "default for API origins)",
        )


def _check_pattern_reaches_the_api(problems: Problems, pattern: str, api: apigateway.RestApi) -> None:
    """CloudFront forwards the viewer's path as it is, so the pattern must match a path the API serves."""
    paths = sorted({method.resource.path for method in api.methods})
    if not paths:
        return  # methods may still be added; nothing to compare yet
    if any(
        path == "/{proxy+}" or (path.endswith("/{proxy+}") and pattern.startswith(path[: -len("{proxy+}")]))
        for path in paths
    ):
        return  # a greedy proxy resource serves every path below it
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    regex = regex if regex.startswith("/") else "/" + regex
    if not any(re.fullmatch(regex, path) for path in paths):
        problems.add(
            f"additional_behaviors[{pattern!r}]",
            pattern,
            f"matches none of the API's paths ({', '.join(paths)}): CloudFront forwards the viewer's path "
            "unchanged below the stage, so every request through this behavior would answer 403/404; "
            + (
                f"use a pattern such as '/{first}/*', or give the API resources under it"
                if (first := next((p.strip("/").split("/")[0] for p in paths if p.strip("/")), None))
                else "give the API resources under the pattern (api.root.add_resource(...)), or a {proxy+} "
                "resource"
            ),
        )


def _check_ignored_props(problems: Problems, given: Mapping[str, Any]) -> None:
    """Props that only take effect with another one are refused without it."""
    needs = (
        (
            "web_acl_rate_limit",
            "create_web_acl",
            "the rate-based rule belongs to the web ACL that create_web_acl=True makes",
        ),
        (
            "origin_latency_threshold",
            "enable_additional_metrics",
            "origin latency is an additional metric, published and alarmed on only with "
            "enable_additional_metrics=True",
        ),
    )
    for prop, switch, why in needs:
        if given[prop] is not None and not given[switch]:
            problems.add(prop, given[prop], f"ignored without {switch}=True ({why}); set it or remove {prop}")
    origins = [given["default_origin"], *dict(given["additional_behaviors"] or {}).values()]
    if given["origin_secret_generation"] is not None and not any(
        isinstance(o, RestApiCdnOrigin) for o in origins
    ):
        problems.add(
            "origin_secret_generation",
            given["origin_secret_generation"],
            "only rotates the key CloudFront sends to REST API origins, and this distribution has none; "
            "remove it",
        )
    if given["log_retention"] is not None and given["log_bucket"] is not None:
        problems.add(
            "log_retention",
            given["log_retention"],
            "only applies to the log bucket the construct creates; with your own log_bucket, set a lifecycle "
            "rule on it and remove log_retention",
        )


def _warn_about_metrics_region(problems: Problems, scope: Construct) -> None:
    region = resolved_region(scope)
    if region is None:
        problems.warn(
            "cloudFrontMetricsRegion",
            f"CloudFront publishes its metrics in {CLOUDFRONT_REGION} only, and this stack has no region: "
            f"deployed anywhere but {CLOUDFRONT_REGION}, the distribution's alarms never see data; set "
            f"env=Environment(region='{CLOUDFRONT_REGION}') on the stack",
        )
    elif region != CLOUDFRONT_REGION:
        problems.warn(
            "cloudFrontMetricsRegion",
            f"CloudFront publishes its metrics in {CLOUDFRONT_REGION} only, so alarms in {region} never "
            "see data; deploy the distribution's stack in us-east-1 to keep them useful",
        )
