"""``CdnFrontedOrigin``: a CloudFront distribution in front of a REST API, a function URL or a bucket.

Most traffic ends at the edge, and no origin can be reached around the distribution (see ``origins``).
The distribution is logged, WAF-protected on request, sends security headers and alarms on 5xx errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Annotations, Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct, IValidation

from .._core import (
    ABOVE,
    Problems,
    acknowledge,
    child_path,
    given_props,
    threshold_alarm,
    visible_signature,
    wire_alarms,
)
from ._plan import HSTS_MAX_AGE, MANAGED_RULE_GROUPS, Plan, check_allowed_methods, plan_props
from .origins import IAM_BEHIND_CLOUDFRONT_FIX, BucketCdnOrigin, CdnOrigin, OriginContext, RestApiCdnOrigin

__all__ = ["CdnFrontedOrigin"]


@jsii.implements(IValidation)
class _NoIamMethodsBehindCloudFront:
    """At synth, refuses IAM-authorized methods added to a fronted REST API after the construct."""

    def __init__(self, plan: Plan) -> None:
        self._origins = {"default_origin": plan.default_origin} | {
            f"additional_behaviors[{pattern!r}]": origin for pattern, origin in plan.behaviors.items()
        }

    def validate(self) -> list[str]:
        errors = [
            f"{prop}: got {origin.iam_methods()!r}; {IAM_BEHIND_CLOUDFRONT_FIX}"
            for prop, origin in self._origins.items()
            if isinstance(origin, RestApiCdnOrigin) and origin.iam_methods()
        ]
        for prop, origin in self._origins.items():
            if isinstance(origin, RestApiCdnOrigin) and isinstance(origin.api, apigateway.RestApi):
                problems = Problems("")
                check_allowed_methods(problems, prop, origin)
                errors += [f"{p.prop}: got {p.value!r}; {p.fix}" for p in problems.problems]
        return errors


DEFAULT_CERTIFICATE_REASON = (
    "No custom domain: the default *.cloudfront.net certificate makes CloudFront use the TLSv1 security "
    "policy regardless of settings; pass domain_names and certificate for TLSv1.2_2021"
)


@visible_signature
class CdnFrontedOrigin(Construct):
    """A CloudFront distribution in front of one default origin and optional path-pattern behaviors.

    ``None`` for any optional prop means its default.

    Args:
        default_origin: The origin of the default behavior (``*``).
        additional_behaviors: Path pattern (for example ``"/api/*"``) to origin. Default: none.
        domain_names: Custom domain names. Needs ``certificate``. Default: the ``*.cloudfront.net`` name.
        certificate: ACM certificate for ``domain_names``, in us-east-1. Default: none.
        hosted_zone: Route 53 zone in which to create alias A and AAAA records for each domain name.
            Default: no records.
        web_acl_id: ARN of an existing CLOUDFRONT-scope WAFv2 web ACL. Default: none.
        create_web_acl: Create a web ACL with AWS managed rule groups (common, known bad inputs, IP
            reputation) and a per-IP rate-based rule; the stack must be in us-east-1. Default: False.
        web_acl_rate_limit: Requests per 5 minutes per IP before the rate-based rule blocks. Default: 2000.
        web_acl_rule_actions: Rule action overrides of the created web ACL's managed groups: group name
            to ``{rule name: "count" | "block" | "allow" | "captcha" | "challenge"}``, over the
            defaults. Default: ``AWSManagedRulesCommonRuleSet``'s ``SizeRestrictions_BODY`` (which blocks
            bodies over 8 KB) counts instead of blocking when an origin accepts bodies (a REST API, or a
            function URL that allows POST), so that the origin enforces its own size limit.
        price_class: Edge locations to use. Default: ``PRICE_CLASS_100``.
        geo_restriction: Countries to allow or deny. Default: none.
        content_security_policy: The Content-Security-Policy header; ``""`` leaves it out. Default:
            same-origin content, no plugins, no framing.
        default_root_object: Object served for ``/``. Default: ``"index.html"`` when the default origin
            is a bucket, otherwise none.
        log_bucket: Bucket for CloudFront access logs. Default: a new encrypted, TLS-only,
            public-access-blocked bucket that expires logs after ``log_retention``.
        log_retention: How long the new log bucket keeps logs. Default: 90 days.
        error_rate_threshold: Alarm when the 5xx error rate exceeds this percentage over 5 minutes.
            Default: 5.
        enable_additional_metrics: Publish CloudFront's additional (billed) metrics, including origin
            latency and cache hit rate, and alarm on origin latency. Default: False.
        origin_latency_threshold: Origin latency (p90 over 5 minutes) that raises the origin-latency
            alarm. Default: 3 seconds.
        origin_secret_generation: Generation of the API key CloudFront sends to REST API origins. Raise it
            by one to rotate: a new key is generated and sent, and the previous one stays valid until the
            next rotation. Default: 1.
        alarm_topic: SNS topic for every alarm's ALARM and OK actions. Default: no actions.
        distribution_props: Extra ``cloudfront.Distribution`` kwargs, as a dict. (A mapping, not
            ``cloudfront.DistributionProps``: that struct requires ``default_behavior``, which this
            construct owns.) Default: none.

    Raises:
        ConstructsLibValidationError: listing every invalid prop at once; nothing is created then.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        default_origin: CdnOrigin,
        additional_behaviors: Mapping[str, CdnOrigin] | None = None,
        domain_names: list[str] | None = None,
        certificate: acm.ICertificate | None = None,
        hosted_zone: route53.IHostedZone | None = None,
        web_acl_id: str | None = None,
        create_web_acl: bool | None = None,
        web_acl_rate_limit: int | None = None,
        web_acl_rule_actions: Mapping[str, Mapping[str, str]] | None = None,
        price_class: cloudfront.PriceClass | None = None,
        geo_restriction: cloudfront.GeoRestriction | None = None,
        content_security_policy: str | None = None,
        default_root_object: str | None = None,
        log_bucket: s3.IBucket | None = None,
        log_retention: Duration | None = None,
        error_rate_threshold: float | None = None,
        enable_additional_metrics: bool | None = None,
        origin_latency_threshold: Duration | None = None,
        origin_secret_generation: int | None = None,
        alarm_topic: sns.ITopic | None = None,
        distribution_props: Mapping[str, Any] | None = None,
    ) -> None:
        plan = plan_props(scope, child_path(scope, id), given_props(locals()), CdnFrontedOrigin.__init__)
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self.response_headers_policy = self._build_response_headers_policy(plan.content_security_policy)
        #: The secrets of the API keys CloudFront sends to REST API origins, and the function URLs.
        self.origin_verify_secrets: list[secretsmanager.Secret] = []
        self.function_urls: list[lambda_.FunctionUrl] = []
        self._build_distribution(plan)
        self.node.add_validation(_NoIamMethodsBehindCloudFront(plan))
        if plan.hosted_zone is not None:
            self._build_alias_records(plan.hosted_zone, plan.domain_names or [])
        self._acknowledge_findings(plan)
        self.alarms: list[cloudwatch.Alarm] = self._build_alarms(plan)
        wire_alarms(self.alarms, plan.alarm_topic)

    # ----------------------------------------------------------------------------------- public API

    def metric(
        self, metric_name: str, *, statistic: str = "Average", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """A CloudFront metric of this distribution, with the ``Region=Global`` dimension CloudFront uses.

        CloudFront publishes metrics in us-east-1 only. Default: average over 5 minutes.
        """
        return cloudwatch.Metric(
            namespace="AWS/CloudFront",
            metric_name=metric_name,
            dimensions_map={"DistributionId": self.distribution.distribution_id, "Region": "Global"},
            statistic=statistic,
            period=period or Duration.minutes(5),
        )

    def metric_5xx_error_rate(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Percentage of viewer requests answered 5xx. Default: average over 5 minutes."""
        return self.metric("5xxErrorRate", period=period)

    def metric_requests(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Viewer requests. Default: sum over 5 minutes."""
        return self.metric("Requests", statistic="Sum", period=period)

    def metric_origin_latency(
        self, *, period: Duration | None = None, statistic: str = "p90"
    ) -> cloudwatch.Metric:
        """Origin latency in milliseconds (an additional metric). Default: p90 over 5 minutes."""
        return self.metric("OriginLatency", statistic=statistic, period=period)

    def metric_cache_hit_rate(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Percentage of cacheable requests served from the cache (an additional metric)."""
        return self.metric("CacheHitRate", period=period)

    # ----------------------------------------------------------------------------------- building

    def _build_distribution(self, plan: Plan) -> None:
        dist_kwargs = dict(plan.distribution_kwargs)
        self.log_bucket: s3.IBucket | None = None
        if dist_kwargs.get("enable_logging"):
            self.log_bucket = plan.log_bucket or self._build_log_bucket(plan.log_retention)
            dist_kwargs["log_bucket"] = self.log_bucket
        self.web_acl: wafv2.CfnWebACL | None = None
        web_acl_id = plan.web_acl_id
        if plan.create_web_acl:
            self.web_acl = self._build_web_acl(plan.web_acl_rate_limit, plan.web_acl_rule_actions)
            web_acl_id = self.web_acl.attr_arn
        context = OriginContext(
            scope=self,
            response_headers_policy=self.response_headers_policy,
            secret_generation=plan.origin_secret_generation,
            api_patterns=[p for p, o in plan.behaviors.items() if not isinstance(o, BucketCdnOrigin)],
            app_patterns=[
                p for p, o in plan.behaviors.items() if isinstance(o, BucketCdnOrigin) and o.single_page_app
            ],
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            default_behavior=self._behavior(plan.default_origin, context, "Default"),
            additional_behaviors={
                pattern: self._behavior(origin, context, f"Behavior{i}")
                for i, (pattern, origin) in enumerate(plan.behaviors.items(), start=1)
            },
            certificate=plan.certificate,
            domain_names=plan.domain_names,
            web_acl_id=web_acl_id,
            geo_restriction=plan.geo_restriction,
            price_class=plan.price_class,
            default_root_object=plan.default_root_object,
            publish_additional_metrics=plan.enable_additional_metrics or None,
            **dist_kwargs,
        )
        if plan.default_root_object and isinstance(plan.default_origin, BucketCdnOrigin):
            # List access lets a missing object answer 404; with a root object, "/" never lists the bucket.
            Annotations.of(self.distribution).acknowledge_warning(
                "@aws-cdk/aws-cloudfront-origins:listBucketSecurityRisk",
                f"default_root_object is {plan.default_root_object!r}, so a request for / serves that object "
                "and never a bucket listing",
            )
        self.domain_name: str = self.distribution.distribution_domain_name
        self.url: str = f"https://{(plan.domain_names or [self.domain_name])[0]}"

    def _behavior(self, origin: CdnOrigin, context: OriginContext, name: str) -> cloudfront.BehaviorOptions:
        """Bind ``origin`` and keep what it created that this construct exposes."""
        bound = origin.bind(context, name)
        if bound.function_url is not None:
            self.function_urls.append(bound.function_url)
        self.origin_verify_secrets.extend(
            s for s in bound.origin_verify_secrets if s not in self.origin_verify_secrets
        )
        return origin.behavior(bound, context)

    def _build_response_headers_policy(self, csp: str | None) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            "ResponseHeadersPolicy",
            comment="Security headers added by constructs_lib CdnFrontedOrigin",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                content_security_policy=(
                    cloudfront.ResponseHeadersContentSecurityPolicy(
                        content_security_policy=csp, override=True
                    )
                    if csp
                    else None
                ),
            ),
        )

    def _build_log_bucket(self, retention: Duration) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "LogBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront standard logs are delivered through an ACL grant, which needs ObjectWriter.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(int(retention.to_days())))],
        )
        for rule in ("AwsSolutions::AwsSolutions-S1", "checkov::CKV_AWS_18"):
            acknowledge(
                bucket,
                rule,
                "This bucket only receives CloudFront access logs; logging the log deliveries into another "
                "bucket would add cost without recording any viewer activity",
            )
        acknowledge(
            bucket,
            "checkov::CKV_AWS_21",
            "CloudFront's log delivery writes each log object once and the lifecycle rule expires it; "
            "versions would only keep expired logs longer",
        )
        return bucket

    def _build_web_acl(self, rate_limit: int, rule_actions: dict[str, dict[str, str]]) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=group,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(**{action: {}})
                            )
                            for rule, action in sorted(rule_actions.get(group, {}).items())
                        ]
                        or None,
                    )
                ),
                visibility_config=visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=visibility("RateLimitPerIp"),
            )
        )
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("CdnFrontedOrigin"),
            rules=rules,
        )

    def _build_alias_records(self, zone: route53.IHostedZone, domain_names: list[str]) -> None:
        target = route53.RecordTarget.from_alias(route53_targets.CloudFrontTarget(self.distribution))
        for i, name in enumerate(domain_names, start=1):
            route53.ARecord(self, f"AliasRecord{i}", zone=zone, record_name=name, target=target)
            route53.AaaaRecord(self, f"AliasRecordIpv6{i}", zone=zone, record_name=name, target=target)

    def _acknowledge_findings(self, plan: Plan) -> None:
        has_domain = bool(plan.domain_names)
        has_waf = plan.web_acl_id is not None or plan.create_web_acl
        has_geo = plan.geo_restriction is not None
        if not has_domain:
            for rule in ("AwsSolutions::AwsSolutions-CFR4", "checkov::CKV_AWS_174"):
                acknowledge(self.distribution, rule, DEFAULT_CERTIFICATE_REASON)
        if not has_waf:
            acknowledge(
                self.distribution,
                "AwsSolutions::AwsSolutions-CFR2",
                "No web ACL was requested (web_acl_id or create_web_acl=True); origins are still reachable "
                "only through this distribution",
            )
        if not has_geo:
            acknowledge(
                self.distribution,
                "AwsSolutions::AwsSolutions-CFR1",
                "No geo_restriction was requested: the content is meant for viewers in every country",
            )

    def _build_alarms(self, plan: Plan) -> list[cloudwatch.Alarm]:
        threshold = plan.error_rate_threshold
        alarms = [
            threshold_alarm(
                self,
                "ErrorRateAlarm",
                self.metric_5xx_error_rate(),
                threshold=threshold,
                comparison=ABOVE,
                description=f"More than {threshold}% of viewer requests answered 5xx",
            )
        ]
        if plan.enable_additional_metrics:
            alarms.append(
                threshold_alarm(
                    self,
                    "OriginLatencyAlarm",
                    self.metric_origin_latency(),
                    threshold=plan.origin_latency_threshold.to_milliseconds(),
                    comparison=ABOVE,
                    evaluation_periods=3,
                    datapoints_to_alarm=2,
                    description="Origins answer slowly (p90 origin latency)",
                )
            )
        return alarms
