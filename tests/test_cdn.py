"""CdnFrontedOrigin: one test per default, per override and per error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match

from constructs_lib import CdnFrontedOrigin, CdnOrigin, ConstructsLibValidationError, QueueBufferedIngest
from tests.conftest import make_function, user_pool_authorization
from tests.harness import (
    acknowledged_rules,
    assert_misconfigured,
    new_app,
    only_resource,
    resources_of,
    template_of,
)

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
US_EAST_1_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


def bucket(stack: cdk.Stack, id: str = "Site", **kwargs: Any) -> s3.Bucket:
    return s3.Bucket(stack, id, enforce_ssl=True, **kwargs)


def alias(stack: cdk.Stack, snap_start: bool = False) -> lambda_.Alias:
    fn = make_function(stack, "Api", snap_start=snap_start)
    return lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)


def ingest_api(stack: cdk.Stack, **props: Any) -> apigateway.RestApi:
    """An ingest API authorized by a Cognito user pool (IAM authorization cannot work through CloudFront)."""
    props.setdefault("authorization", user_pool_authorization(stack))
    return QueueBufferedIngest(
        stack, "Ingest", consumer=make_function(stack, "Consumer"), path="ingest/orders", **props
    ).api


def full(stack: cdk.Stack, **props: Any) -> CdnFrontedOrigin:
    """A bucket as default origin, a function URL on /api/* and a REST API on /ingest/*."""
    return CdnFrontedOrigin(
        stack,
        "Cdn",
        default_origin=CdnOrigin.bucket(bucket(stack)),
        additional_behaviors={
            "/api/*": CdnOrigin.function_url(alias(stack)),
            "/ingest/*": CdnOrigin.rest_api(ingest_api(stack)),
        },
        **props,
    )


def distribution_config(stack: cdk.Stack) -> dict[str, Any]:
    config: dict[str, Any] = only_resource(template_of(stack), "AWS::CloudFront::Distribution")["Properties"][
        "DistributionConfig"
    ]
    return config


def behaviors(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    config = distribution_config(stack)
    found = {b["PathPattern"]: b for b in config.get("CacheBehaviors", [])}
    found["*"] = config["DefaultCacheBehavior"]
    return found


def origin_of(stack: cdk.Stack, pattern: str) -> dict[str, Any]:
    config = distribution_config(stack)
    target = behaviors(stack)[pattern]["TargetOriginId"]
    return next(o for o in config["Origins"] if o["Id"] == target)


# ---------------------------------------------------------------------------------------- viewers


class TestViewers:
    def test_https_redirect_and_http2_and_3(self, stack):
        full(stack)
        assert distribution_config(stack)["HttpVersion"] == "http2and3"
        for behavior in behaviors(stack).values():
            assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"

    def test_every_behavior_sends_the_security_headers(self, stack):
        full(stack)
        t = template_of(stack)
        policy_id = stack.get_logical_id(
            stack.node.find_child("Cdn").response_headers_policy.node.default_child
        )
        for behavior in behaviors(stack).values():
            assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}
        config = only_resource(t, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"][
            "ResponseHeadersPolicyConfig"
        ]
        headers = config["SecurityHeadersConfig"]
        assert headers["StrictTransportSecurity"] == {
            "AccessControlMaxAgeSec": 2 * 365 * 24 * 3600,
            "IncludeSubdomains": True,
            "Preload": True,
            "Override": True,
        }
        assert headers["ContentTypeOptions"] == {"Override": True}
        assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
        assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
        assert "default-src 'self'" in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        assert "frame-ancestors 'none'" in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]

    def test_content_security_policy_can_be_replaced_or_left_out(self, app):
        replaced = cdk.Stack(app, "Replaced")
        CdnFrontedOrigin(
            replaced,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(replaced)),
            content_security_policy="default-src https:",
        )
        omitted = cdk.Stack(app, "Omitted")
        CdnFrontedOrigin(
            omitted, "Cdn", default_origin=CdnOrigin.bucket(bucket(omitted)), content_security_policy=""
        )

        def headers(stack: cdk.Stack) -> dict[str, Any]:
            policy = only_resource(template_of(stack), "AWS::CloudFront::ResponseHeadersPolicy")
            result: dict[str, Any] = policy["Properties"]["ResponseHeadersPolicyConfig"][
                "SecurityHeadersConfig"
            ]
            return result

        assert headers(replaced)["ContentSecurityPolicy"]["ContentSecurityPolicy"] == "default-src https:"
        assert "ContentSecurityPolicy" not in headers(omitted)
        assert "StrictTransportSecurity" in headers(omitted)

    def test_url_and_domain_name(self, stack):
        cdn = full(stack)
        assert stack.resolve(cdn.url) == {
            "Fn::Join": [
                "",
                [
                    "https://",
                    {"Fn::GetAtt": [stack.get_logical_id(cdn.distribution.node.default_child), "DomainName"]},
                ],
            ]
        }
        assert stack.resolve(cdn.domain_name) == stack.resolve(cdn.distribution.distribution_domain_name)


# ---------------------------------------------------------------------------------------- origins


class TestOrigins:
    def test_api_and_function_url_behaviors_never_cache_and_forward_all_but_host(self, stack):
        full(stack)
        for pattern in ("/api/*", "/ingest/*"):
            behavior = behaviors(stack)[pattern]
            assert behavior["CachePolicyId"] == CACHING_DISABLED
            assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
            assert behavior["AllowedMethods"] == ALL_METHODS

    def test_bucket_behavior_caches_and_allows_reads_only(self, stack):
        full(stack)
        behavior = behaviors(stack)["*"]
        assert behavior["CachePolicyId"] == CACHING_OPTIMIZED
        assert "OriginRequestPolicyId" not in behavior
        assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
        assert distribution_config(stack)["DefaultRootObject"] == "index.html"

    def test_per_origin_policy_overrides(self, stack):
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.rest_api(
                ingest_api(stack),
                cache_policy=cloudfront.CachePolicy.USE_ORIGIN_CACHE_CONTROL_HEADERS,
                origin_request_policy=cloudfront.OriginRequestPolicy.CORS_CUSTOM_ORIGIN,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,  # the API takes POSTs
            ),
        )
        behavior = behaviors(stack)["*"]
        assert behavior["CachePolicyId"] == stack.resolve(
            cloudfront.CachePolicy.USE_ORIGIN_CACHE_CONTROL_HEADERS.cache_policy_id
        )
        assert "POST" in behavior["AllowedMethods"]
        assert behavior["OriginRequestPolicyId"] == stack.resolve(
            cloudfront.OriginRequestPolicy.CORS_CUSTOM_ORIGIN.origin_request_policy_id
        )
        assert "DefaultRootObject" not in distribution_config(stack)

    def test_bucket_is_read_through_origin_access_control_only(self, stack):
        full(stack)
        t = template_of(stack)
        origin = origin_of(stack, "*")
        assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
        assert "OriginAccessControlId" in origin
        t.resource_count_is("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0)
        t.has_resource_properties(
            "AWS::CloudFront::OriginAccessControl",
            {
                "OriginAccessControlConfig": Match.object_like(
                    {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always"}
                )
            },
        )
        statements = [
            s
            for p in resources_of(t, "AWS::S3::BucketPolicy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Allow"
        ]
        assert len(statements) == 1
        assert statements[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        # List access too: S3 answers a missing key with 404 only to a caller that may list the bucket.
        assert statements[0]["Action"] == ["s3:GetObject", "s3:ListBucket"]
        assert ":distribution/" in json.dumps(statements[0]["Condition"]["StringEquals"]["AWS:SourceArn"])

    def test_function_url_is_created_on_the_alias_with_iam_auth(self, stack):
        cdn = full(stack)
        url = only_resource(template_of(stack), "AWS::Lambda::Url")["Properties"]
        assert url["AuthType"] == "AWS_IAM"
        assert url["Qualifier"] == "live"
        assert len(cdn.function_urls) == 1
        origin = origin_of(stack, "/api/*")
        assert "OriginAccessControlId" in origin
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        template_of(stack).has_resource_properties(
            "AWS::CloudFront::OriginAccessControl",
            {"OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "lambda"})},
        )

    def test_cloudfront_gets_both_lambda_permissions_scoped_to_the_distribution(self, stack):
        cdn = full(stack)
        distribution_id = stack.get_logical_id(cdn.distribution.node.default_child)
        permissions = [
            p["Properties"]
            for p in resources_of(template_of(stack), "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "cloudfront.amazonaws.com"
        ]
        by_action = {p["Action"]: p for p in permissions}
        assert set(by_action) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
        assert by_action["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
        for permission in permissions:
            assert f'"Ref": "{distribution_id}"' in json.dumps(permission["SourceArn"])

    def test_a_function_that_already_has_a_url_is_refused_naming_it(self, stack):
        fn = make_function(stack, "Api")
        fn.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        with pytest.raises(ConstructsLibValidationError) as raised:
            CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.function_url(fn))
        [problem] = raised.value.problems
        assert problem.prop == "default_origin"
        assert "Api/FunctionUrl/Resource (AuthType NONE)" in str(problem.value)
        assert "one function URL per function and qualifier" in problem.fix

    def test_a_url_added_after_the_distribution_fails_synth(self, stack):
        fn = make_function(stack, "Api")
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.function_url(fn))
        fn.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        with pytest.raises(RuntimeError, match=r"Api/FunctionUrl/Resource \(AuthType NONE\)"):
            template_of(stack)

    def test_urls_on_other_aliases_or_functions_pass(self, stack):
        fn = make_function(stack, "Api")
        other = lambda_.Alias(stack, "Canary", alias_name="canary", version=fn.current_version)
        other.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
        make_function(stack, "Other").add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        live = lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.function_url(live))
        assert len(resources_of(template_of(stack), "AWS::Lambda::Url")) == 3

    def test_no_function_url_is_left_open(self, stack):
        full(stack)
        urls = resources_of(template_of(stack), "AWS::Lambda::Url")
        assert urls, "the full distribution has a function URL origin"
        for url in urls.values():
            assert url["Properties"]["AuthType"] == "AWS_IAM"


# ------------------------------------------------------------------------------ origin protection


class TestRestApiOriginProtection:
    def test_cloudfront_sends_a_deploy_time_secret_as_the_api_key(self, stack):
        cdn = full(stack)
        t = template_of(stack)
        secret = only_resource(t, "AWS::SecretsManager::Secret")["Properties"]
        assert "SecretString" not in secret
        assert secret["GenerateSecretString"]["PasswordLength"] >= 20
        secret_id = stack.get_logical_id(cdn.origin_verify_secrets[0].node.default_child)
        dynamic_reference = {
            "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"]]
        }
        headers = origin_of(stack, "/ingest/*")["OriginCustomHeaders"]
        assert headers == [{"HeaderName": "x-api-key", "HeaderValue": dynamic_reference}]
        assert only_resource(t, "AWS::ApiGateway::ApiKey")["Properties"]["Value"] == dynamic_reference

    def test_no_secret_value_in_the_template(self, stack):
        full(stack)
        text = json.dumps(template_of(stack).to_json())
        # The only places that carry the key hold a dynamic reference, resolved at deploy time.
        assert text.count("{{resolve:secretsmanager:") == 2

    def test_every_api_method_requires_the_key(self, stack):
        api = ingest_api(stack)
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.rest_api(api))
        api.root.add_resource("late").add_method("GET", apigateway.MockIntegration())  # added afterwards
        methods = resources_of(template_of(stack), "AWS::ApiGateway::Method").values()
        assert len(list(methods)) == 2
        for method in resources_of(template_of(stack), "AWS::ApiGateway::Method").values():
            assert method["Properties"]["ApiKeyRequired"] is True

    def test_rotation_sends_the_new_key_and_keeps_the_previous_one_valid(self, stack):
        cdn = full(stack, origin_secret_generation=3)
        t = template_of(stack)
        secrets = sorted(resources_of(t, "AWS::SecretsManager::Secret"))
        assert [s.split("Gen")[1][:1] for s in secrets] == ["2", "3"]
        assert len(resources_of(t, "AWS::ApiGateway::UsagePlanKey")) == 2
        newest = stack.get_logical_id(cdn.origin_verify_secrets[-1].node.default_child)
        assert "Gen3" in newest
        header = origin_of(stack, "/ingest/*")["OriginCustomHeaders"][0]["HeaderValue"]
        assert {"Ref": newest} in header["Fn::Join"][1]

    def test_usage_plan_admits_the_key_on_the_stage(self, stack):
        cdn = full(stack)
        t = template_of(stack)
        plan = only_resource(t, "AWS::ApiGateway::UsagePlan")["Properties"]
        assert plan["ApiStages"][0]["Stage"]["Ref"].startswith("IngestApiDeploymentStageprod")
        key = only_resource(t, "AWS::ApiGateway::UsagePlanKey")["Properties"]
        assert key["KeyType"] == "API_KEY"
        assert len(cdn.origin_verify_secrets) == 1

    def test_adding_protection_redeploys_the_stage(self, app):
        """The key requirement reaches existing stages only through a new deployment."""
        without = cdk.Stack(app, "Without")
        ingest_api(without)
        with_cdn = cdk.Stack(app, "With")
        CdnFrontedOrigin(with_cdn, "Cdn", default_origin=CdnOrigin.rest_api(ingest_api(with_cdn)))
        deployment_ids = [
            set(resources_of(template_of(s), "AWS::ApiGateway::Deployment")) for s in (without, with_cdn)
        ]
        assert deployment_ids[0].isdisjoint(deployment_ids[1])

    def test_api_origin_is_https_only_with_tls_1_2(self, stack):
        full(stack)
        config = origin_of(stack, "/ingest/*")["CustomOriginConfig"]
        assert config["OriginProtocolPolicy"] == "https-only"
        assert config["OriginSSLProtocols"] == ["TLSv1.2"]

    def test_two_behaviors_on_one_api_share_one_origin_and_key(self, stack):
        api = ingest_api(stack)
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(stack)),
            additional_behaviors={
                "/ingest/*": CdnOrigin.rest_api(api),
                "/ingest/orders*": CdnOrigin.rest_api(api),
            },
        )
        t = template_of(stack)
        t.resource_count_is("AWS::ApiGateway::ApiKey", 1)
        by_pattern = behaviors(stack)
        assert by_pattern["/ingest/*"]["TargetOriginId"] == by_pattern["/ingest/orders*"]["TargetOriginId"]


# --------------------------------------------------------------------------------- logs and TLS


class TestLoggingAndDomain:
    def test_access_logs_go_to_a_private_encrypted_tls_only_bucket_with_expiry(self, stack):
        cdn = full(stack)
        t = template_of(stack)
        log_bucket_id = stack.get_logical_id(cdn.log_bucket.node.default_child)
        logging = distribution_config(stack)["Logging"]
        assert logging["Bucket"] == {"Fn::GetAtt": [log_bucket_id, "RegionalDomainName"]}
        props = t.to_json()["Resources"][log_bucket_id]["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 90
        policy = next(
            p
            for p in resources_of(t, "AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": log_bucket_id}
        )
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )

    def test_log_retention_and_existing_log_bucket(self, app):
        short = cdk.Stack(app, "Short")
        CdnFrontedOrigin(
            short, "Cdn", default_origin=CdnOrigin.bucket(bucket(short)), log_retention=Duration.days(7)
        )
        rules = [
            b.get("Properties", {}).get("LifecycleConfiguration", {}).get("Rules")
            for b in resources_of(template_of(short), "AWS::S3::Bucket").values()
        ]
        assert [{"ExpirationInDays": 7, "Status": "Enabled"}] in rules

        own = cdk.Stack(new_app(), "Own")
        logs = s3.Bucket(own, "Logs", object_ownership=s3.ObjectOwnership.OBJECT_WRITER, enforce_ssl=True)
        cdn = CdnFrontedOrigin(own, "Cdn", default_origin=CdnOrigin.bucket(bucket(own)), log_bucket=logs)
        assert cdn.log_bucket is logs
        assert distribution_config(own)["Logging"]["Bucket"] == {
            "Fn::GetAtt": [own.get_logical_id(logs.node.default_child), "RegionalDomainName"]
        }

    def test_default_certificate_acknowledges_the_tls_finding_only_then(self, app):
        default = cdk.Stack(app, "Default")
        cdn = CdnFrontedOrigin(default, "Cdn", default_origin=CdnOrigin.bucket(bucket(default)))
        assert "AwsSolutions::AwsSolutions-CFR4" in acknowledged_rules(cdn.distribution)

        custom = cdk.Stack(app, "Custom")
        certificate = acm.Certificate.from_certificate_arn(custom, "Cert", US_EAST_1_CERT)
        cdn = CdnFrontedOrigin(
            custom,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(custom)),
            domain_names=["www.example.com"],
            certificate=certificate,
        )
        assert "AwsSolutions::AwsSolutions-CFR4" not in acknowledged_rules(cdn.distribution)

    def test_custom_domain_uses_tls_1_2_2021_and_sni(self, stack):
        certificate = acm.Certificate.from_certificate_arn(stack, "Cert", US_EAST_1_CERT)
        cdn = CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(stack)),
            domain_names=["www.example.com"],
            certificate=certificate,
        )
        config = distribution_config(stack)
        assert config["Aliases"] == ["www.example.com"]
        assert config["ViewerCertificate"] == {
            "AcmCertificateArn": US_EAST_1_CERT,
            "MinimumProtocolVersion": "TLSv1.2_2021",
            "SslSupportMethod": "sni-only",
        }
        assert cdn.url == "https://www.example.com"

    def test_hosted_zone_gets_ipv4_and_ipv6_alias_records(self, stack):
        certificate = acm.Certificate.from_certificate_arn(stack, "Cert", US_EAST_1_CERT)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            stack, "Zone", hosted_zone_id="Z123456789", zone_name="example.com"
        )
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(stack)),
            domain_names=["www.example.com", "example.com"],
            certificate=certificate,
            hosted_zone=zone,
        )
        records = [
            r["Properties"] for r in resources_of(template_of(stack), "AWS::Route53::RecordSet").values()
        ]
        assert sorted((r["Name"], r["Type"]) for r in records) == [
            ("example.com.", "A"),
            ("example.com.", "AAAA"),
            ("www.example.com.", "A"),
            ("www.example.com.", "AAAA"),
        ]
        for record in records:
            assert "AliasTarget" in record

    def test_price_class_and_geo_restriction(self, stack):
        cdn = CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(stack)),
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            geo_restriction=cloudfront.GeoRestriction.allowlist("DE", "FR"),
        )
        config = distribution_config(stack)
        assert config["PriceClass"] == "PriceClass_All"
        assert config["Restrictions"]["GeoRestriction"] == {
            "Locations": ["DE", "FR"],
            "RestrictionType": "whitelist",
        }
        assert "AwsSolutions::AwsSolutions-CFR1" not in acknowledged_rules(cdn.distribution)

    def test_default_price_class(self, stack):
        full(stack)
        assert distribution_config(stack)["PriceClass"] == "PriceClass_100"


# ------------------------------------------------------------------------------------------- WAF


class TestWaf:
    def test_existing_web_acl(self, stack):
        arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/abc"
        cdn = full(stack, web_acl_id=arn)
        assert distribution_config(stack)["WebACLId"] == arn
        assert "AwsSolutions::AwsSolutions-CFR2" not in acknowledged_rules(cdn.distribution)

    def test_created_web_acl_has_managed_groups_and_a_rate_rule_but_no_bot_control(self):
        stack = cdk.Stack(new_app(), "Edge", env=cdk.Environment(region="us-east-1"))
        cdn = full(stack, create_web_acl=True, web_acl_rate_limit=500)
        acl = only_resource(template_of(stack), "AWS::WAFv2::WebACL")["Properties"]
        assert acl["Scope"] == "CLOUDFRONT"
        assert acl["DefaultAction"] == {"Allow": {}}
        groups = {
            r["Statement"]["ManagedRuleGroupStatement"]["Name"]
            for r in acl["Rules"]
            if "ManagedRuleGroupStatement" in r["Statement"]
        }
        assert groups == {
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList",
        }
        assert "BotControl" not in json.dumps(acl)
        rate = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
        assert rate[0]["Statement"]["RateBasedStatement"] == {"AggregateKeyType": "IP", "Limit": 500}
        assert rate[0]["Action"] == {"Block": {}}
        assert distribution_config(stack)["WebACLId"] == {
            "Fn::GetAtt": [stack.get_logical_id(cdn.web_acl), "Arn"]
        }

    def test_web_acl_in_a_stack_without_region_warns(self, stack):
        full(stack, create_web_acl=True)
        Annotations.from_stack(stack).has_warning(
            "*", Match.string_like_regexp("create_web_acl needs this stack in us-east-1")
        )


# ---------------------------------------------------------------------------------------- alarms


class TestAlarms:
    def alarms(self, stack: cdk.Stack) -> dict[str, dict[str, Any]]:
        found = resources_of(template_of(stack), "AWS::CloudWatch::Alarm").values()
        return {
            a["Properties"]["MetricName"]: a["Properties"]
            for a in found
            if a["Properties"]["Namespace"] == "AWS/CloudFront"
        }

    def test_5xx_error_rate_alarm_uses_cloudfronts_dimensions(self, stack):
        cdn = full(stack)
        alarm = self.alarms(stack)["5xxErrorRate"]
        assert alarm["Threshold"] == 5
        assert alarm["Statistic"] == "Average"
        assert alarm["Period"] == 300
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        dist_id = stack.get_logical_id(cdn.distribution.node.default_child)
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "DistributionId", "Value": {"Ref": dist_id}},
            {"Name": "Region", "Value": "Global"},
        ]
        assert set(self.alarms(stack)) == {"5xxErrorRate"}
        assert (
            "DistributionConfig"
            in only_resource(template_of(stack), "AWS::CloudFront::Distribution")["Properties"]
        )

    def test_additional_metrics_add_an_origin_latency_alarm(self, stack):
        cdn = full(stack, enable_additional_metrics=True, origin_latency_threshold=Duration.seconds(2))
        template_of(stack).resource_count_is("AWS::CloudFront::MonitoringSubscription", 1)
        alarm = self.alarms(stack)["OriginLatency"]
        assert alarm["Threshold"] == 2000
        assert alarm["ExtendedStatistic"] == "p90"
        assert len(cdn.alarms) == 2

    def test_additional_metrics_are_off_by_default(self, stack):
        full(stack)
        template_of(stack).resource_count_is("AWS::CloudFront::MonitoringSubscription", 0)

    def test_threshold_and_topic(self, stack):
        topic = sns.Topic(stack, "Topic")
        full(stack, error_rate_threshold=1.5, alarm_topic=topic)
        alarm = self.alarms(stack)["5xxErrorRate"]
        assert alarm["Threshold"] == 1.5
        assert alarm["AlarmActions"] == [{"Ref": stack.get_logical_id(topic.node.default_child)}]
        assert alarm["OKActions"] == alarm["AlarmActions"]

    def test_alarms_outside_us_east_1_warn(self):
        stack = cdk.Stack(new_app(), "Eu", env=cdk.Environment(region="eu-west-1"))
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.bucket(bucket(stack)))
        Annotations.from_stack(stack).has_warning(
            "*", Match.string_like_regexp("CloudFront publishes its metrics in us-east-1")
        )

    def test_metric_delegates(self, stack):
        cdn = full(stack)
        assert cdn.metric_requests().metric_name == "Requests"
        assert cdn.metric_requests().statistic == "Sum"
        assert cdn.metric_cache_hit_rate().metric_name == "CacheHitRate"
        assert cdn.metric_origin_latency().metric_name == "OriginLatency"
        assert cdn.metric_5xx_error_rate().dimensions["Region"] == "Global"


# ----------------------------------------------------------------------------------------- errors


def _website_bucket(stack: cdk.Stack) -> CdnOrigin:
    return CdnOrigin.bucket(s3.Bucket(stack, "Web", website_index_document="index.html"))


def _eu_cert(stack: cdk.Stack) -> acm.ICertificate:
    return acm.Certificate.from_certificate_arn(
        stack, "EuCert", "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    )


ERROR_CASES: list[tuple[str, Callable[[cdk.Stack], dict[str, Any]], str, str]] = [
    (
        "certificate region",
        lambda s: {"domain_names": ["www.example.com"], "certificate": _eu_cert(s)},
        "certificate",
        "only uses ACM certificates from us-east-1",
    ),
    (
        "website bucket",
        lambda s: {"default_origin": _website_bucket(s)},
        "default_origin",
        "website-endpoint",
    ),
    (
        "unqualified snapstart",
        lambda s: {
            "additional_behaviors": {
                "/api/*": CdnOrigin.function_url(make_function(s, "Snap", snap_start=True))
            }
        },
        "additional_behaviors['/api/*']",
        "pass its alias",
    ),
    (
        "version",
        lambda s: {
            "additional_behaviors": {"/api/*": CdnOrigin.function_url(make_function(s, "V").current_version)}
        },
        "additional_behaviors['/api/*']",
        "not a version; pass an alias",
    ),
    (
        "both web acl options",
        lambda s: {
            "web_acl_id": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/b",
            "create_web_acl": True,
        },
        "create_web_acl",
        "pass one of the two",
    ),
    (
        "regional web acl",
        lambda s: {"web_acl_id": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b"},
        "web_acl_id",
        "CLOUDFRONT-scope",
    ),
    (
        "domain without certificate",
        lambda s: {"domain_names": ["a.example.com"]},
        "certificate",
        "need an ACM",
    ),
    (
        "certificate without domain",
        lambda s: {"certificate": acm.Certificate.from_certificate_arn(s, "C", US_EAST_1_CERT)},
        "domain_names",
        "only used with domain_names",
    ),
    (
        "unknown override",
        lambda s: {"distribution_props": {"http_versions": cloudfront.HttpVersion.HTTP2}},
        "distribution_props['http_versions']",
        "valid keys: ",
    ),
    (
        "owned override",
        lambda s: {"distribution_props": {"web_acl_id": "x"}},
        "distribution_props['web_acl_id']",
        "use web_acl_id or create_web_acl instead",
    ),
    (
        "catch-all pattern",
        lambda s: {"additional_behaviors": {"*": CdnOrigin.bucket(bucket(s, "Other"))}},
        "additional_behaviors['*']",
        "default behavior",
    ),
    ("error rate", lambda s: {"error_rate_threshold": 0}, "error_rate_threshold", "percentage above 0"),
    ("log retention", lambda s: {"log_retention": Duration.hours(2)}, "log_retention", "at least 1 day"),
    ("secret generation", lambda s: {"origin_secret_generation": 0}, "origin_secret_generation", "1 or more"),
]


@pytest.mark.parametrize(
    ("make_props", "prop", "fix"),
    [pytest.param(make, prop, fix, id=name) for name, make, prop, fix in ERROR_CASES],
)
def test_misconfiguration_raises_with_prop_value_and_fix(stack, make_props, prop, fix):
    props = make_props(stack)
    props.setdefault("default_origin", CdnOrigin.bucket(bucket(stack)))
    assert_misconfigured(lambda: CdnFrontedOrigin(stack, "Cdn", **props), prop, fix)


def test_web_acl_outside_us_east_1_is_an_error():
    stack = cdk.Stack(new_app(), "Eu", env=cdk.Environment(region="eu-west-1"))
    with pytest.raises(ConstructsLibValidationError, match="create_web_acl: got 'eu-west-1'"):
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.bucket(bucket(stack)), create_web_acl=True)


def test_certificate_defined_in_another_region_is_an_error():
    app = new_app()
    cert_stack = cdk.Stack(
        app, "Certs", env=cdk.Environment(region="eu-west-1"), cross_region_references=True
    )
    certificate = acm.Certificate(cert_stack, "Cert", domain_name="www.example.com")
    stack = cdk.Stack(app, "Edge", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ConstructsLibValidationError, match="certificate: got 'eu-west-1'"):
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.bucket(bucket(stack)),
            domain_names=["www.example.com"],
            certificate=certificate,
        )


def test_security_default_override_warns(stack):
    CdnFrontedOrigin(
        stack,
        "Cdn",
        default_origin=CdnOrigin.bucket(bucket(stack)),
        distribution_props={"enable_logging": False},
    )
    Annotations.from_stack(stack).has_warning(
        "*", Match.string_like_regexp(r"enable_logging'\] overrides a security default")
    )
    assert "Logging" not in distribution_config(stack)
