"""CDN-fronted origin: CloudFront in front of a REST API, a Lambda function URL or an S3 bucket.

Most traffic ends at the edge, and no origin can be reached around the distribution: buckets and function
URLs only accept requests that CloudFront signs (Origin Access Control), and REST APIs require an API key
whose value CloudFront sends from a Secrets Manager secret.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Annotations, Aspects, Duration, IAspect, Stack, Token
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct, IConstruct, IValidation

from ._core import (
    ABOVE,
    ConstructsLibValidationError,
    Problem,
    Problems,
    acknowledge,
    check_types,
    child_path,
    given_props,
    is_unresolved,
    merge_props,
    or_default,
    seconds,
    threshold_alarm,
    unqualified_snapstart_fix,
    visible_signature,
    wire_alarms,
)
from ._core.regions import CLOUDFRONT_REGION, arn_region, resolved_region

__all__ = ["BucketCdnOrigin", "CdnFrontedOrigin", "CdnOrigin", "FunctionUrlCdnOrigin", "RestApiCdnOrigin"]

#: Sent by CloudFront to REST API origins; API Gateway checks it as the API key.
ORIGIN_VERIFY_HEADER = "x-api-key"
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
#: Why an IAM-authorized REST API cannot sit behind the distribution, and what to do instead.
IAM_BEHIND_CLOUDFRONT_FIX = (
    "these methods are IAM-authorized, but a SigV4 signature covers the Host header and the path, and "
    "CloudFront replaces the Host with the API's own and prefixes the stage, so every request signed for "
    "the distribution answers 403; authorize them with a Cognito user pool, JWT or Lambda authorizer "
    "(CloudFront forwards Authorization), or pass CdnOrigin.rest_api(api, iam_signed_for_origin_host=True) "
    "if clients really sign for the API's own host and stage path"
)
#: Path prefixes the single-page-app rewrite never touches, besides those of the API behaviors: a request
#: under them that no API behavior matched is an API client's mistake, which must answer 403/404, not 200.
SINGLE_PAGE_APP_EXCLUDED_PREFIXES = ("/api/",)
#: A viewer-request function for single-page apps: a GET or HEAD of an extension-less path outside the
#: API prefixes (a client-side route, as a browser asks for it) gets the app. ``__EXCLUDED__`` is replaced
#: by the JSON list of those prefixes.
SINGLE_PAGE_APP_FUNCTION = """var EXCLUDED = __EXCLUDED__;
var APPS = __APPS__;
function handler(event) {
  var request = event.request;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return request;
  }
  for (var i = 0; i < EXCLUDED.length; i++) {
    if (request.uri.indexOf(EXCLUDED[i]) === 0 || request.uri + '/' === EXCLUDED[i]) {
      return request;
    }
  }
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    var index = '/index.html';
    for (var j = 0; j < APPS.length; j++) {
      if (request.uri.indexOf(APPS[j]) === 0 || request.uri + '/' === APPS[j]) {
        index = APPS[j] + 'index.html';
        break;
      }
    }
    request.uri = index;
  }
  return request;
}
"""


def _literal_prefix(pattern: str) -> str:
    return re.split(r"[*?]", "/" + pattern.lstrip("/"))[0]


def single_page_app_function_code(api_patterns: list[str], app_patterns: list[str] | None = None) -> str:
    """The rewrite's code: ``/api/`` and each API behavior's literal prefix are excluded; a route under an
    app behavior (``/app/*``) gets that app's ``/app/index.html``, any other route ``/index.html``."""
    prefixes = list(SINGLE_PAGE_APP_EXCLUDED_PREFIXES)
    for pattern in api_patterns:
        literal = _literal_prefix(pattern)
        if literal not in ("", "/") and literal not in prefixes:
            prefixes.append(literal)
    apps = sorted(
        {_literal_prefix(p).rsplit("/", 1)[0] + "/" for p in app_patterns or []} - {"/"},
        key=len,
        reverse=True,
    )
    return SINGLE_PAGE_APP_FUNCTION.replace("__EXCLUDED__", json.dumps(prefixes)).replace(
        "__APPS__", json.dumps(apps)
    )


#: The common rule set's body-size rule blocks bodies over 8 KB; the origin enforces its own limit.
BODY_SIZE_RULE = ("AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY")
WAF_RULE_ACTIONS = ("allow", "block", "count", "captcha", "challenge")
_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)


# --------------------------------------------------------------------------------------- origins

#: Origin options that only one factory takes, and which one.
_FACTORY_OF_OPTION = {
    "single_page_app": "CdnOrigin.bucket",
    "iam_signed_for_origin_host": "CdnOrigin.rest_api",
}


def _refuse_unsupported(factory: str, unsupported: Mapping[str, Any]) -> None:
    if not unsupported:
        return
    raise ConstructsLibValidationError(
        factory,
        [
            Problem(
                name,
                value,
                f"{factory} does not take it"
                + (f"; only {_FACTORY_OF_OPTION[name]} does" if name in _FACTORY_OF_OPTION else "")
                + "; it takes cache_policy, origin_request_policy and allowed_methods",
            )
            for name, value in unsupported.items()
        ],
    )


class CdnOrigin(abc.ABC):
    """One origin and how CloudFront treats it. Build one with ``CdnOrigin.rest_api``,
    ``CdnOrigin.function_url`` or ``CdnOrigin.bucket``; each returns the origin type's own class.

    ``cache_policy``, ``origin_request_policy`` and ``allowed_methods`` override the origin type's
    defaults (API and function-URL origins: CachingDisabled, AllViewerExceptHostHeader, all methods;
    bucket origins: CachingOptimized, no origin request policy, GET/HEAD/OPTIONS).
    """

    def __init__(
        self,
        *,
        cache_policy: cloudfront.ICachePolicy | None = None,
        origin_request_policy: cloudfront.IOriginRequestPolicy | None = None,
        allowed_methods: cloudfront.AllowedMethods | None = None,
    ) -> None:
        self.cache_policy = cache_policy
        self.origin_request_policy = origin_request_policy
        self.allowed_methods = allowed_methods

    @staticmethod
    def rest_api(
        api: apigateway.RestApi,
        *,
        cache_policy: cloudfront.ICachePolicy | None = None,
        origin_request_policy: cloudfront.IOriginRequestPolicy | None = None,
        allowed_methods: cloudfront.AllowedMethods | None = None,
        iam_signed_for_origin_host: bool | None = None,
        **unsupported: Any,
    ) -> RestApiCdnOrigin:
        """A REST API (for example ``QueueBufferedIngest.api``), reachable only through the distribution.

        CloudFront forwards the viewer's path unchanged below the stage, so an ``/ingest/*`` behavior
        reaches API resources under ``/ingest``.

        An API with IAM-authorized methods is refused: a SigV4 signature covers the Host header and the
        path, and CloudFront replaces the Host with the API's host and prefixes the stage, so every
        request signed for the distribution answers 403. Authorize through CloudFront with a Cognito user
        pool, JWT or Lambda authorizer (``Authorization`` is forwarded). ``iam_signed_for_origin_host=True``
        accepts IAM methods for clients that really sign for the API's own host and stage path.
        Default: False.
        """
        _refuse_unsupported("CdnOrigin.rest_api", unsupported)
        return RestApiCdnOrigin(
            api,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            allowed_methods=allowed_methods,
            iam_signed_for_origin_host=bool(iam_signed_for_origin_host),
        )

    @staticmethod
    def function_url(
        function: lambda_.IFunction,
        *,
        cache_policy: cloudfront.ICachePolicy | None = None,
        origin_request_policy: cloudfront.IOriginRequestPolicy | None = None,
        allowed_methods: cloudfront.AllowedMethods | None = None,
        **unsupported: Any,
    ) -> FunctionUrlCdnOrigin:
        """A function (or its alias) behind a function URL that only CloudFront may invoke."""
        _refuse_unsupported("CdnOrigin.function_url", unsupported)
        return FunctionUrlCdnOrigin(
            function,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            allowed_methods=allowed_methods,
        )

    @staticmethod
    def bucket(
        bucket: s3.IBucket,
        *,
        cache_policy: cloudfront.ICachePolicy | None = None,
        origin_request_policy: cloudfront.IOriginRequestPolicy | None = None,
        allowed_methods: cloudfront.AllowedMethods | None = None,
        single_page_app: bool | None = None,
    ) -> BucketCdnOrigin:
        """A private S3 bucket (not a website endpoint) read through Origin Access Control.

        CloudFront may read and list it, so a missing object answers 404 (with read access alone, S3
        answers 403). ``single_page_app=True`` serves ``/index.html`` with 200 for paths without a file
        extension (client-side routes), through a CloudFront Function on this bucket's behaviors only,
        so the 403/404 answers of API behaviors on the same distribution stay as they are; a missing
        ``/app.js`` still answers 404. Default: False.
        """
        return BucketCdnOrigin(
            bucket,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            allowed_methods=allowed_methods,
            single_page_app=bool(single_page_app),
        )

    @property
    def accepts_bodies(self) -> bool:
        """Whether viewers can send request bodies (POST, PUT, PATCH) through this origin's behavior."""
        methods = self.allowed_methods or cloudfront.AllowedMethods.ALLOW_ALL
        return "POST" in methods.methods

    @abc.abstractmethod
    def check(self, problems: Problems, prop: str, scope: Construct) -> None:
        """Record what makes this origin unusable behind a distribution in ``scope``, as prop ``prop``."""

    @abc.abstractmethod
    def bind(self, cdn: CdnFrontedOrigin, name: str) -> cloudfront.IOrigin:
        """Create what the origin needs in ``cdn`` and return CloudFront's origin."""

    def behavior(self, cdn: CdnFrontedOrigin, name: str) -> cloudfront.BehaviorOptions:
        """The behavior options for this origin: its type's defaults, overridden by this origin's."""
        return cloudfront.BehaviorOptions(
            origin=self.bind(cdn, name),
            cache_policy=self.cache_policy or cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=(
                self.origin_request_policy or cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
            ),
            allowed_methods=self.allowed_methods or cloudfront.AllowedMethods.ALLOW_ALL,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            response_headers_policy=cdn.response_headers_policy,
            compress=True,
        )


class RestApiCdnOrigin(CdnOrigin):
    """A REST API that only answers requests carrying the API key CloudFront sends."""

    def __init__(
        self, api: apigateway.RestApi, *, iam_signed_for_origin_host: bool = False, **policies: Any
    ) -> None:
        super().__init__(**policies)
        self.api = api
        self.iam_signed_for_origin_host = iam_signed_for_origin_host

    def check(self, problems: Problems, prop: str, scope: Construct) -> None:
        if not isinstance(self.api, apigateway.RestApi):
            problems.add(
                prop,
                f"a {type(self.api).__name__}",
                "CdnOrigin.rest_api takes an apigateway.RestApi (for example QueueBufferedIngest.api)",
            )
            return
        if self.api.latest_deployment is None:
            problems.add(
                prop,
                f"{self.api.node.path} (deploy=False)",
                "the API has no deployment stage for CloudFront to reach; create it with deploy=True (the "
                "default), or deploy a stage and pass an API that has it",
            )
            return
        iam_methods = self.iam_methods()
        if iam_methods:
            problems.add(prop, iam_methods, IAM_BEHIND_CLOUDFRONT_FIX)
        if self.iam_signed_for_origin_host and self.api.methods and not self._signed_methods():
            problems.warn(
                "iamOptInUnused",
                f"{prop}: iam_signed_for_origin_host=True, but no method of '{self.api.node.path}' is "
                "IAM-authorized, so it has no effect; remove it unless IAM methods are added later",
            )

    def iam_methods(self) -> list[str]:
        """The API's IAM-authorized methods (``"POST /ingest/orders"``), unless the user opted in."""
        return [] if self.iam_signed_for_origin_host else self._signed_methods()

    def _signed_methods(self) -> list[str]:
        found = []
        for method in self.api.methods:
            cfn = method.node.default_child
            if isinstance(cfn, apigateway.CfnMethod) and cfn.authorization_type == "AWS_IAM":
                found.append(f"{method.http_method} {method.resource.path}")
        return sorted(found)

    def bind(self, cdn: CdnFrontedOrigin, name: str) -> cloudfront.IOrigin:
        if self.iam_signed_for_origin_host:
            # The user's documented opt-in: the pack's rule against IAM behind CloudFront honours it.
            acknowledge(
                self.api,
                "ServerlessPatterns::ServerlessPatterns-CdnNoIamAuthorizedApi",
                "CdnOrigin.rest_api(iam_signed_for_origin_host=True): the clients sign for the API's own "
                "host and stage path, so their signatures verify behind CloudFront",
            )
        return cdn._rest_api_origin(self.api)


class FunctionUrlCdnOrigin(CdnOrigin):
    """A function (or alias) behind an ``AWS_IAM`` function URL that CloudFront signs with OAC."""

    def __init__(self, function: lambda_.IFunction, **policies: Any) -> None:
        super().__init__(**policies)
        self.function = function

    def check(self, problems: Problems, prop: str, scope: Construct) -> None:
        if not _is_function(self.function):
            problems.add(
                prop,
                self.function,
                "CdnOrigin.function_url takes a Lambda function or its alias (lambda_.IFunction); for a "
                "bucket use CdnOrigin.bucket, for a REST API CdnOrigin.rest_api",
            )
            return
        fix = unqualified_snapstart_fix(self.function)
        if fix:
            problems.add(prop, self.function.node.path, fix)
        if isinstance(self.function, lambda_.Version):
            problems.add(
                prop,
                self.function.node.path,
                "function URLs can target an alias or the unqualified function, not a version; pass an alias",
            )

    def bind(self, cdn: CdnFrontedOrigin, name: str) -> cloudfront.IOrigin:
        url = lambda_.FunctionUrl(
            cdn, f"{name}FunctionUrl", function=self.function, auth_type=lambda_.FunctionUrlAuthType.AWS_IAM
        )
        cdn.function_urls.append(url)
        return origins.FunctionUrlOrigin.with_origin_access_control(url)


class BucketCdnOrigin(CdnOrigin):
    """A private bucket read through Origin Access Control (read and list, so that a missing object
    answers 404 rather than S3's 403); cached by default."""

    def __init__(self, bucket: s3.IBucket, *, single_page_app: bool = False, **policies: Any) -> None:
        super().__init__(**policies)
        self.origin_bucket = bucket
        self.single_page_app = single_page_app

    @property
    def accepts_bodies(self) -> bool:
        return False

    def check(self, problems: Problems, prop: str, scope: Construct) -> None:
        if not _is_bucket(self.origin_bucket):
            problems.add(
                prop,
                self.origin_bucket,
                "CdnOrigin.bucket takes an S3 bucket (s3.IBucket); for a function use "
                "CdnOrigin.function_url, for a REST API CdnOrigin.rest_api",
            )
            return
        bucket_region, here = self.origin_bucket.env.region, resolved_region(scope)
        if here is not None and not Token.is_unresolved(bucket_region) and bucket_region != here:
            problems.add(
                prop,
                f"{self.origin_bucket.node.path} in {bucket_region}",
                f"the bucket is in {bucket_region} and this distribution's stack in {here}; CDK cannot wire "
                "Origin Access Control across regions (the bucket policy and the distribution reference each "
                f"other); put the distribution in a stack in {bucket_region}, or the bucket in {here}",
            )
        elif isinstance(self.origin_bucket, s3.Bucket) and Stack.of(self.origin_bucket) is not Stack.of(
            scope
        ):
            problems.add(
                prop,
                self.origin_bucket.node.path,
                f"the bucket is in stack '{Stack.of(self.origin_bucket).stack_name}' and the distribution in "
                f"'{Stack.of(scope).stack_name}': Origin Access Control writes a bucket policy that names "
                "the distribution while the distribution names the bucket, so each stack would depend on the "
                "other (a DependencyCycle at synth); keep the bucket in the distribution's stack (retain it "
                "with removal_policy=RETAIN)",
            )
        if self.origin_bucket.is_website:
            problems.add(
                prop,
                self.origin_bucket.node.path,
                "a website-endpoint bucket only serves plain HTTP and cannot use Origin Access Control; "
                "remove website_index_document/website_error_document and let CloudFront serve it",
            )

    def bind(self, cdn: CdnFrontedOrigin, name: str) -> cloudfront.IOrigin:
        return origins.S3BucketOrigin.with_origin_access_control(
            self.origin_bucket,
            origin_access_levels=[cloudfront.AccessLevel.READ, cloudfront.AccessLevel.LIST],
        )

    def behavior(self, cdn: CdnFrontedOrigin, name: str) -> cloudfront.BehaviorOptions:
        rewrite = (
            [
                cloudfront.FunctionAssociation(
                    function=cdn._single_page_app_function(),
                    event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                )
            ]
            if self.single_page_app
            else None
        )
        return cloudfront.BehaviorOptions(
            function_associations=rewrite,
            origin=self.bind(cdn, name),
            cache_policy=self.cache_policy or cloudfront.CachePolicy.CACHING_OPTIMIZED,
            origin_request_policy=self.origin_request_policy,
            allowed_methods=self.allowed_methods or cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            response_headers_policy=cdn.response_headers_policy,
            compress=True,
        )


@jsii.implements(IValidation)
class _NoIamMethodsBehindCloudFront:
    """At synth, refuses IAM-authorized methods added to a fronted REST API after the construct."""

    def __init__(self, plan: _Plan) -> None:
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
                _check_allowed_methods(problems, prop, origin)
                errors += [f"{p.prop}: got {p.value!r}; {p.fix}" for p in problems.problems]
        return errors


@jsii.implements(IAspect)
class _RequireApiKey:
    """Makes every method of the REST API it is added to require the API key that only CloudFront sends."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, apigateway.CfnMethod):
            node.api_key_required = True


# --------------------------------------------------------------------------------------- construct


@dataclass(frozen=True, kw_only=True)
class _Plan:
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
        plan = _plan(scope, child_path(scope, id), given_props(locals()))
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self._origin_secret_generation = plan.origin_secret_generation
        self.response_headers_policy = self._build_response_headers_policy(plan.content_security_policy)
        self._rest_api_origins: dict[str, cloudfront.IOrigin] = {}
        self.origin_verify_secrets: list[secretsmanager.Secret] = []
        self.function_urls: list[lambda_.FunctionUrl] = []
        self._single_page_app_rewrite: cloudfront.Function | None = None
        self._api_patterns = [p for p, o in plan.behaviors.items() if not isinstance(o, BucketCdnOrigin)]
        self._app_patterns = [
            p for p, o in plan.behaviors.items() if isinstance(o, BucketCdnOrigin) and o.single_page_app
        ]
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

    def _build_distribution(self, plan: _Plan) -> None:
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
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            default_behavior=plan.default_origin.behavior(self, "Default"),
            additional_behaviors={
                pattern: origin.behavior(self, f"Behavior{i}")
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

    def _rest_api_origin(self, api: apigateway.RestApi) -> cloudfront.IOrigin:
        """One origin per API, sending an API key that only CloudFront knows.

        The key of generation ``origin_secret_generation`` is sent; the previous generation's key stays
        valid too, so that a rotation never refuses viewers while CloudFront propagates the new header.
        """
        key = api.node.path
        if key in self._rest_api_origins:
            return self._rest_api_origins[key]
        index = len(self._rest_api_origins) + 1
        plan = apigateway.UsagePlan(
            self,
            f"OriginVerifyUsagePlan{index}",
            description="Admits requests that came through the CloudFront distribution",
            api_stages=[apigateway.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
        )
        secret_value = ""
        for generation in (self._origin_secret_generation - 1, self._origin_secret_generation):
            if generation >= 1:
                secret_value = self._build_origin_key(plan, api, index, generation)
        Aspects.of(api).add(_RequireApiKey())
        if api.latest_deployment is not None:
            # Redeploy the stage when the key requirement is added, so existing stages enforce it too.
            api.latest_deployment.add_to_logical_id({"constructsLibOriginVerify": ORIGIN_VERIFY_HEADER})
        origin = origins.RestApiOrigin(api, custom_headers={ORIGIN_VERIFY_HEADER: secret_value})
        self._rest_api_origins[key] = origin
        return origin

    def _single_page_app_function(self) -> cloudfront.Function:
        """The viewer-request rewrite of single-page-app bucket behaviors (one per distribution)."""
        if self._single_page_app_rewrite is None:
            self._single_page_app_rewrite = cloudfront.Function(
                self,
                "SinglePageAppRewrite",
                code=cloudfront.FunctionCode.from_inline(
                    single_page_app_function_code(self._api_patterns, self._app_patterns)
                ),
                runtime=cloudfront.FunctionRuntime.JS_2_0,
                comment="Serves /index.html for client-side routes (GET/HEAD of paths without a file "
                "extension, outside the API prefixes)",
            )
        return self._single_page_app_rewrite

    def _build_origin_key(
        self, plan: apigateway.UsagePlan, api: apigateway.RestApi, index: int, generation: int
    ) -> str:
        """A generated secret and the API key made from it; returns the key's value (a dynamic reference)."""
        secret = secretsmanager.Secret(
            self,
            f"OriginVerifySecret{index}Gen{generation}",
            description=f"API key (generation {generation}) that CloudFront sends to {api.node.path}; "
            "requests without a current key are refused",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=40, exclude_punctuation=True
            ),
        )
        acknowledge(
            secret,
            "AwsSolutions::AwsSolutions-SMG4",
            "An API Gateway API key that CloudFront sends as an origin header; both read it at deploy "
            "time, so it rotates by raising origin_secret_generation (see the README), not by a rotator",
        )
        acknowledge(
            secret,
            "checkov::CKV_AWS_149",
            "Holds only the origin-verify API key, read at deploy time by this stack's API key and "
            "distribution; Secrets Manager's AWS managed key encrypts it, and no other principal reads it",
        )
        self.origin_verify_secrets.append(secret)
        # A dynamic reference: the template holds {{resolve:secretsmanager:...}}, never the value.
        value = secret.secret_value.unsafe_unwrap()
        plan.add_api_key(
            apigateway.ApiKey(
                self,
                f"OriginVerifyApiKey{index}Gen{generation}",
                value=value,
                description="Only CloudFront knows this key: requests that bypass it get 403",
            )
        )
        return value

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
            for priority, group in enumerate(_MANAGED_RULE_GROUPS)
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

    def _acknowledge_findings(self, plan: _Plan) -> None:
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

    def _build_alarms(self, plan: _Plan) -> list[cloudwatch.Alarm]:
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


# --------------------------------------------------------------------------------------- plan


def _plan(scope: Construct, where: str, given: Mapping[str, Any]) -> _Plan:
    """Check every prop, resolve defaults and merge the escape hatch; raise once with every problem."""
    problems = Problems(f"CdnFrontedOrigin '{where}'")
    if not check_types(problems, CdnFrontedOrigin.__init__, given):
        problems.raise_if_any()  # the checks below assume the right types
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
    plan = _Plan(
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


# --------------------------------------------------------------------------------------- checks


def _is_function(target: Any) -> bool:
    return all(hasattr(target, name) for name in ("function_arn", "grant_invoke", "node"))


def _is_bucket(target: Any) -> bool:
    return all(hasattr(target, name) for name in ("bucket_arn", "bucket_regional_domain_name", "node"))


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
        _check_allowed_methods(problems, "default_origin", default_origin)
    for pattern, origin in behaviors.items():
        if not isinstance(origin, CdnOrigin):
            problems.add(
                f"additional_behaviors[{pattern!r}]", origin, "must be a CdnOrigin: CdnOrigin.bucket/..."
            )
            continue
        origin.check(problems, f"additional_behaviors[{pattern!r}]", scope)
        if isinstance(origin, RestApiCdnOrigin) and isinstance(origin.api, apigateway.RestApi):
            _check_pattern_reaches_the_api(problems, pattern, origin.api)
            _check_allowed_methods(problems, f"additional_behaviors[{pattern!r}]", origin)
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
        if group not in _MANAGED_RULE_GROUPS:
            problems.add(
                f"web_acl_rule_actions[{group!r}]",
                rules,
                f"not a group of the web ACL; use one of {_MANAGED_RULE_GROUPS}",
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


def _check_allowed_methods(problems: Problems, prop: str, origin: RestApiCdnOrigin) -> None:
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
