"""Sample stack: one CloudFront distribution in front of a bucket, a function URL and an ingest API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from apps.common import (
    FUNCTION_URL_DLQ_REASON,
    URL_CONCURRENCY_REASON,
    encrypted_alarm_topic,
    python_function,
)
from apps.ingest.stack import ORDER_SCHEMA, order_consumer_function
from constructs_lib import ApiAuthorization, CdnFrontedOrigin, CdnOrigin, QueueBufferedIngest, acknowledge

SITE = Path(__file__).resolve().parent / "site"


class EdgeStack(Stack):
    """``/`` from S3, ``/api/*`` from a function URL, ``/ingest/*`` into a queue; all through CloudFront.

    Deploy it in us-east-1: the web ACL it creates and CloudFront's metrics live there.
    """

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        alarm_topic = encrypted_alarm_topic(self, "Edge sample alarms")

        site_bucket = private_site_bucket(self, "SiteBucket")

        hello = python_function(
            self,
            "HelloApi",
            handler_dir="hello_api",
            description="JSON API served through CloudFront and a function URL",
            environment={"POWERTOOLS_SERVICE_NAME": "hello-api"},
            dlq_reason=FUNCTION_URL_DLQ_REASON,
            concurrency_reason=URL_CONCURRENCY_REASON,
        )
        hello_live = lambda_.Alias(self, "HelloApiLive", alias_name="live", version=hello.current_version)

        # Through CloudFront, clients authenticate with a Cognito token: CloudFront forwards Authorization,
        # while a SigV4 signature made for the distribution's host could never verify at the API.
        customers = customer_user_pool(self)
        ingest = QueueBufferedIngest(
            self,
            "OrderIngest",
            consumer=order_consumer_function(self, "OrderConsumer"),
            path="ingest/orders",
            message_schema=ORDER_SCHEMA,
            authorization=ApiAuthorization.authorizer_of(
                apigateway.CognitoUserPoolsAuthorizer(
                    self, "CustomerAuthorizer", cognito_user_pools=[customers]
                )
            ),
            alarm_topic=alarm_topic,
        )

        cdn = CdnFrontedOrigin(
            self,
            "Cdn",
            default_origin=CdnOrigin.bucket(site_bucket),
            additional_behaviors={
                "/api/*": CdnOrigin.function_url(hello_live),
                "/ingest/*": CdnOrigin.rest_api(ingest.api),
            },
            create_web_acl=True,
            alarm_topic=alarm_topic,
        )

        deploy_site(self, SITE, site_bucket, cdn.distribution)

        CfnOutput(self, "SiteUrl", value=cdn.url)
        CfnOutput(self, "HelloUrl", value=f"{cdn.url}/api/hello?name=edge")
        CfnOutput(self, "OrdersUrl", value=f"{cdn.url}/ingest/orders")
        sign_in_outputs(self, customers)


def private_site_bucket(scope: Construct, id: str) -> s3.Bucket:
    """A bucket for a static site that viewers reach only through CloudFront; kept when removed."""
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for rule in ("AwsSolutions::AwsSolutions-S1", "checkov::CKV_AWS_18"):
        acknowledge(
            bucket,
            rule,
            "Viewers only reach this bucket through CloudFront, whose access logs record every request; "
            "S3 server access logs would duplicate them",
        )
    return bucket


#: How long a sign-in may wait between challenges (Cognito allows 3 to 15 minutes): long enough to
#: install an authenticator app and scan its secret when Cognito asks for MFA_SETUP.
SIGN_IN_SESSION = Duration.minutes(10)


def customer_user_pool(scope: Construct) -> cognito.UserPool:
    """Customers who may order: invited by the shop (no self sign-up), email sign-in, strong passwords,
    adaptive authentication, and a public app client (``web_client``) that a browser signs in with.

    Sign-up is closed, so nobody can create the billed users of this PLUS pool (per monthly active user,
    no free tier): an operator invites a customer (``apps.storefront.invite``, Cognito's AdminCreateUser),
    Cognito emails a temporary password, and the customer chooses their own at the first sign-in
    (``NEW_PASSWORD_REQUIRED``).

    MFA is offered (TOTP), not required: a shopper is not made to set up an authenticator app before a
    first order. What the PLUS plan is paid for is set out here: adaptive authentication asks for a
    second factor on a medium-risk sign-in (and has the customer set one up when they have none) and
    requires one on a high-risk sign-in; sign-ins and password changes with credentials known to be
    leaked are blocked.
    """
    pool = cognito.UserPool(
        scope,
        "Customers",
        self_sign_up_enabled=False,
        user_invitation=cognito.UserInvitationConfig(
            email_subject="Your storefront account",
            email_body="You are invited to the storefront. Sign in with {username} and the temporary "
            "password {####}; you will choose your own password then.",
        ),
        sign_in_aliases=cognito.SignInAliases(email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        mfa=cognito.Mfa.OPTIONAL,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_digits=True,
            require_lowercase=True,
            require_uppercase=True,
            require_symbols=True,
            temp_password_validity=Duration.days(7),
        ),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        # A changed email takes effect once the customer confirms the code sent to it; until then the
        # verified one stays (and sign-in and the email claim keep it).
        keep_original=cognito.KeepOriginalAttrs(email=True),
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        pool,
        "AwsSolutions::AwsSolutions-COG2",
        "Shoppers are offered TOTP MFA rather than made to enrol before a first order; adaptive "
        "authentication (PLUS plan, full-function threat protection) demands a second factor on risky "
        "sign-ins",
    )
    _adaptive_authentication(scope, pool)
    _add_web_client(pool)
    return pool


def _adaptive_authentication(scope: Construct, pool: cognito.UserPool) -> None:
    """The PLUS plan's threat protection, with the actions it takes: without them it only records risk."""
    risk = cognito.CfnUserPoolRiskConfigurationAttachment
    action = risk.AccountTakeoverActionTypeProperty
    cognito.CfnUserPoolRiskConfigurationAttachment(
        scope,
        "CustomersRiskConfiguration",
        user_pool_id=pool.user_pool_id,
        client_id="ALL",
        account_takeover_risk_configuration=risk.AccountTakeoverRiskConfigurationTypeProperty(
            actions=risk.AccountTakeoverActionsTypeProperty(
                low_action=action(event_action="NO_ACTION", notify=False),
                medium_action=action(event_action="MFA_IF_CONFIGURED", notify=False),
                high_action=action(event_action="MFA_REQUIRED", notify=False),
            )
        ),
        compromised_credentials_risk_configuration=risk.CompromisedCredentialsRiskConfigurationTypeProperty(
            actions=risk.CompromisedCredentialsActionsTypeProperty(event_action="BLOCK"),
            event_filter=["SIGN_IN", "PASSWORD_CHANGE"],
        ),
    )


def _add_web_client(pool: cognito.UserPool) -> None:
    """The public client a browser signs in with: only the flows the page uses, and no OAuth.

    A browser cannot keep a secret, so the client is public. The page signs in with USER_PASSWORD_AUTH
    over TLS (and answers Cognito's challenges); refresh tokens come with it. The pool has no domain and
    no hosted UI, so OAuth flows, scopes and callback URLs would only wait to be wrong the day one is
    added: they are off.

    A customer's access token may write only ``name``: the page writes no attribute, and without a list
    (an empty one included) Cognito lets a client write every standard attribute, ``email`` among them.
    """
    pool.add_client(
        "WebClient",
        generate_secret=False,
        auth_flows=cognito.AuthFlow(user_password=True),
        disable_o_auth=True,
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        prevent_user_existence_errors=True,
        write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        enable_token_revocation=True,
        auth_session_validity=SIGN_IN_SESSION,
        id_token_validity=Duration.hours(1),
        access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.days(30),
    )


def web_client(pool: cognito.UserPool) -> cognito.UserPoolClient:
    """The public app client that ``customer_user_pool`` added to ``pool``."""
    client = pool.node.find_child("WebClient")
    assert isinstance(client, cognito.UserPoolClient)
    return client


def sign_in_outputs(stack: Stack, pool: cognito.UserPool) -> None:
    """What a front end needs to sign customers in: the pool id, its web client id and the region."""
    CfnOutput(stack, "UserPoolId", value=pool.user_pool_id, description="Cognito user pool of customers")
    CfnOutput(
        stack,
        "UserPoolClientId",
        value=web_client(pool).user_pool_client_id,
        description="Public app client (no secret) for the browser's sign-in",
    )
    CfnOutput(stack, "Region", value=stack.region, description="Region of the user pool")


def deploy_site(
    stack: Stack,
    source: Path,
    bucket: s3.Bucket,
    distribution: cloudfront.IDistribution,
    *,
    config: dict[str, str] | None = None,
) -> None:
    """Upload the site from ``source`` to ``bucket`` at deploy time, then invalidate what changes.

    ``config`` is written as ``/config.json`` from the stacks' own values (resolved at deploy time), so a
    page reads its settings, such as the user pool's client id, without anything pasted by hand.
    """
    sources = [s3_deployment.Source.asset(str(source))]
    if config is not None:
        sources.append(s3_deployment.Source.json_data("config.json", config))
    s3_deployment.BucketDeployment(
        stack,
        "SiteContent",
        sources=sources,
        destination_bucket=bucket,
        distribution=distribution,
        distribution_paths=["/index.html", "/config.json", "/app.js", "/style.css"]
        if config is not None
        else ["/index.html"],
        memory_limit=256,
    )
    acknowledge_bucket_deployment(stack, bucket)


def acknowledge_bucket_deployment(stack: Stack, site_bucket: s3.Bucket) -> None:
    """Findings on the singleton function behind aws-cdk-lib's BucketDeployment, with their reasons.

    The function runs only while CloudFormation deploys the site content; its code, runtime and grants
    are aws-cdk-lib's.
    """
    handler = next(
        child for child in stack.node.children if child.node.id.startswith("Custom::CDKBucketDeployment")
    )
    sync = "BucketDeployment syncs the site bucket from the CDK asset bucket"
    pinned_runtime = (
        "aws-cdk-lib pins the runtime of its BucketDeployment handler; it runs only during deployments and "
        "is updated with aws-cdk-lib"
    )
    no_event_to_keep = (
        "CloudFormation invokes this custom-resource handler and waits for its answer; a failure fails the "
        "deployment, so there is no event to keep"
    )
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    reasons = {
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]": "aws-cdk-lib's deployment handler role; the AWS managed policy only "
        "lets it write its own CloudWatch logs",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]": f"{sync}: it reads the asset object and "
        "its metadata (GetObject, GetObjectVersion, tags)",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetBucket*]": f"{sync}: it reads the buckets' location "
        "and versioning before copying",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]": f"{sync}: it lists both buckets to compute the "
        "difference",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:DeleteObject*]": f"{sync}: prune removes objects that "
        "are no longer in the asset",
        "AwsSolutions::AwsSolutions-IAM5[Action::s3:Abort*]": f"{sync}: it aborts multipart uploads that "
        "fail halfway",
        f"AwsSolutions::AwsSolutions-IAM5[Resource::<{stack.get_logical_id(site_bucket.node.default_child)}"
        ".Arn>/*]": f"{sync}: it writes every object of the site, and only in the site bucket",
        f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-{account}-{region}"
        "/*]": f"{sync}: asset object keys are content hashes only known at deploy time, in the bootstrap "
        "asset bucket",
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "CloudFront CreateInvalidation/GetInvalidation do "
        "not support resource-level permissions; the handler invalidates /index.html after each upload",
        "AwsSolutions::AwsSolutions-L1": pinned_runtime,
        "Serverless::Serverless-LambdaLatestVersion": pinned_runtime,
        "Serverless::Serverless-LambdaDLQ": no_event_to_keep,
        "Serverless::Serverless-LambdaTracing": "A deployment-time custom resource with no request path to "
        "trace; its CloudWatch logs record each run",
        "checkov::CKV_AWS_111": f"{sync}: its writes (put, delete, abort) are limited to the site bucket's "
        "objects; only CloudFront invalidation, which has no resource-level permission, uses Resource '*'",
        "checkov::CKV_AWS_115": "Runs once per deployment, when CloudFormation calls it; there is no traffic "
        "for a reserved limit to bound",
        "checkov::CKV_AWS_116": no_event_to_keep,
        "checkov::CKV_AWS_117": "aws-cdk-lib's deployment handler copies between S3 buckets and calls "
        "CloudFront; it reaches no private resource that a VPC would protect",
        "checkov::CKV_AWS_173": "aws-cdk-lib sets only the CA bundle path in its environment; there is no "
        "secret to encrypt",
        "checkov::CKV_AWS_158": "aws-cdk-lib's handler log group; CloudWatch Logs encrypts it at rest by "
        "default and it holds deployment output only",
    }
    for rule, reason in reasons.items():
        acknowledge(handler, rule, reason)
