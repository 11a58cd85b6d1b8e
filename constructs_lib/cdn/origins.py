"""The origins a ``CdnFrontedOrigin`` fronts: a REST API, a function URL or a private bucket.

Each origin binds itself: it creates what it needs in the distribution's construct (an API key and its
secret and usage plan; a function URL; the single-page-app rewrite) and returns what its behavior needs.
Nothing can reach an origin around the distribution: buckets and function URLs only accept requests that
CloudFront signs (Origin Access Control), and REST APIs require an API key that only CloudFront sends.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import Aspects, IAspect, Stack, Token
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from .._core import ConstructsLibValidationError, Problem, Problems, acknowledge, unqualified_snapstart_fix
from .._core.regions import resolved_region
from .._core.types import checked_arguments
from . import _function_urls

__all__ = ["BucketCdnOrigin", "CdnOrigin", "FunctionUrlCdnOrigin", "RestApiCdnOrigin"]

#: Sent by CloudFront to REST API origins; API Gateway checks it as the API key.
ORIGIN_VERIFY_HEADER = "x-api-key"
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


@dataclass
class OriginContext:
    """What every origin of one distribution shares while it binds."""

    #: The construct the origins create their resources in (the ``CdnFrontedOrigin``).
    scope: Construct
    response_headers_policy: cloudfront.IResponseHeadersPolicy
    #: Generation of the API key CloudFront sends to REST API origins.
    secret_generation: int
    #: Path patterns of the API and function-URL behaviors, and of the single-page-app bucket behaviors.
    api_patterns: list[str]
    app_patterns: list[str]
    #: Resources created once per distribution, by key (an API's origin and keys, the rewrite function).
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BoundOrigin:
    """What a bound origin gives its behavior, and what it created that the distribution exposes."""

    origin: cloudfront.IOrigin
    function_associations: tuple[cloudfront.FunctionAssociation, ...] = ()
    function_url: lambda_.FunctionUrl | None = None
    origin_verify_secrets: tuple[secretsmanager.Secret, ...] = ()


@dataclass(frozen=True)
class BehaviorDefaults:
    """An origin type's behavior settings where the origin sets none."""

    cache_policy: cloudfront.ICachePolicy
    origin_request_policy: cloudfront.IOriginRequestPolicy | None
    allowed_methods: cloudfront.AllowedMethods
    cached_methods: cloudfront.CachedMethods


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
    @checked_arguments("CdnOrigin.rest_api")
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
    @checked_arguments("CdnOrigin.function_url")
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
    @checked_arguments("CdnOrigin.bucket")
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
    def bind(self, context: OriginContext, name: str) -> BoundOrigin:
        """Create what this origin needs in ``context.scope`` (once per distribution) and return what its
        behavior needs, as aws-cdk-lib's ``IOrigin.bind`` does for an origin's configuration."""

    @classmethod
    def behavior_defaults(cls) -> BehaviorDefaults:
        """This origin type's behavior defaults: not cached, every viewer header but Host, all methods."""
        return BehaviorDefaults(
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
        )

    def behavior(self, bound: BoundOrigin, context: OriginContext) -> cloudfront.BehaviorOptions:
        """The behavior options for this origin: its type's defaults, overridden by this origin's."""
        defaults = self.behavior_defaults()
        return cloudfront.BehaviorOptions(
            function_associations=list(bound.function_associations) or None,
            origin=bound.origin,
            cache_policy=self.cache_policy or defaults.cache_policy,
            origin_request_policy=self.origin_request_policy or defaults.origin_request_policy,
            allowed_methods=self.allowed_methods or defaults.allowed_methods,
            cached_methods=defaults.cached_methods,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            response_headers_policy=context.response_headers_policy,
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

    def bind(self, context: OriginContext, name: str) -> BoundOrigin:
        if self.iam_signed_for_origin_host:
            # The user's documented opt-in: the pack's rule against IAM behind CloudFront honours it.
            acknowledge(
                self.api,
                "ServerlessPatterns::ServerlessPatterns-CdnNoIamAuthorizedApi",
                "CdnOrigin.rest_api(iam_signed_for_origin_host=True): the clients sign for the API's own "
                "host and stage path, so their signatures verify behind CloudFront",
            )
        key = f"rest-api:{self.api.node.path}"
        if key not in context.shared:
            context.shared[key] = self._bind_api(context)
        bound: BoundOrigin = context.shared[key]
        return bound

    def _bind_api(self, context: OriginContext) -> BoundOrigin:
        """One origin per API and distribution, sending an API key that only CloudFront knows.

        The key of generation ``context.secret_generation`` is sent; the previous generation's key stays
        valid too, so that a rotation never refuses viewers while CloudFront propagates the new header.
        """
        api, scope = self.api, context.scope
        index = sum(1 for key in context.shared if key.startswith("rest-api:")) + 1
        plan = apigateway.UsagePlan(
            scope,
            f"OriginVerifyUsagePlan{index}",
            description="Admits requests that came through the CloudFront distribution",
            api_stages=[apigateway.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
        )
        secrets, secret_value = [], ""
        for generation in (context.secret_generation - 1, context.secret_generation):
            if generation >= 1:
                secret, secret_value = _origin_key(scope, plan, api, index, generation)
                secrets.append(secret)
        Aspects.of(api).add(_RequireApiKey())
        if api.latest_deployment is not None:
            # Redeploy the stage when the key requirement is added, so existing stages enforce it too.
            api.latest_deployment.add_to_logical_id({"constructsLibOriginVerify": ORIGIN_VERIFY_HEADER})
        origin = origins.RestApiOrigin(api, custom_headers={ORIGIN_VERIFY_HEADER: secret_value})
        return BoundOrigin(origin, origin_verify_secrets=tuple(secrets))


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
            return
        existing = _function_urls.urls_of(self.function, scope.node.root)
        if existing:
            problems.add(prop, _function_urls.describe(existing), _function_urls.ONE_URL_FIX)

    def bind(self, context: OriginContext, name: str) -> BoundOrigin:
        url = lambda_.FunctionUrl(
            context.scope,
            f"{name}FunctionUrl",
            function=self.function,
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM,
        )
        url.node.add_validation(_function_urls.OnlyUrlOfItsFunction(url, self.function))
        return BoundOrigin(origins.FunctionUrlOrigin.with_origin_access_control(url), function_url=url)


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

    @classmethod
    def behavior_defaults(cls) -> BehaviorDefaults:
        """Cached (CachingOptimized), no origin request policy, GET/HEAD/OPTIONS."""
        return BehaviorDefaults(
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            origin_request_policy=None,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
        )

    def bind(self, context: OriginContext, name: str) -> BoundOrigin:
        rewrite = (
            (
                cloudfront.FunctionAssociation(
                    function=_single_page_app_rewrite(context),
                    event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                ),
            )
            if self.single_page_app
            else ()
        )
        origin = origins.S3BucketOrigin.with_origin_access_control(
            self.origin_bucket,
            origin_access_levels=[cloudfront.AccessLevel.READ, cloudfront.AccessLevel.LIST],
        )
        return BoundOrigin(origin, function_associations=rewrite)


def _single_page_app_rewrite(context: OriginContext) -> cloudfront.Function:
    """The viewer-request rewrite of single-page-app bucket behaviors (one per distribution)."""
    if "single-page-app" not in context.shared:
        context.shared["single-page-app"] = cloudfront.Function(
            context.scope,
            "SinglePageAppRewrite",
            code=cloudfront.FunctionCode.from_inline(
                single_page_app_function_code(context.api_patterns, context.app_patterns)
            ),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Serves /index.html for client-side routes (GET/HEAD of paths without a file "
            "extension, outside the API prefixes)",
        )
    rewrite: cloudfront.Function = context.shared["single-page-app"]
    return rewrite


def _origin_key(
    scope: Construct, plan: apigateway.UsagePlan, api: apigateway.RestApi, index: int, generation: int
) -> tuple[secretsmanager.Secret, str]:
    """A generated secret and the API key made from it; returns the secret and the key's value (a dynamic
    reference: the template holds ``{{resolve:secretsmanager:...}}``, never the value)."""
    secret = secretsmanager.Secret(
        scope,
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
        "time, so it rotates by raising origin_secret_generation (see docs/patterns/cdn.md), not by a "
        "rotator",
    )
    acknowledge(
        secret,
        "checkov::CKV_AWS_149",
        "Holds only the origin-verify API key, read at deploy time by this stack's API key and "
        "distribution; Secrets Manager's AWS managed key encrypts it, and no other principal reads it",
    )
    value = secret.secret_value.unsafe_unwrap()
    plan.add_api_key(
        apigateway.ApiKey(
            scope,
            f"OriginVerifyApiKey{index}Gen{generation}",
            value=value,
            description="Only CloudFront knows this key: requests that bypass it get 403",
        )
    )
    return secret, value


@jsii.implements(IAspect)
class _RequireApiKey:
    """Makes every method of the REST API it is added to require the API key that only CloudFront sends."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, apigateway.CfnMethod):
            node.api_key_required = True


def _is_function(target: Any) -> bool:
    return all(hasattr(target, name) for name in ("function_arn", "grant_invoke", "node"))


def _is_bucket(target: Any) -> bool:
    return all(hasattr(target, name) for name in ("bucket_arn", "bucket_regional_domain_name", "node"))
