"""Patterns composed as users compose them: what a real account would do with the template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_s3 as s3

from constructs_lib import ApiAuthorization, CdnFrontedOrigin, CdnOrigin, QueueBufferedIngest
from tests.conftest import make_function, user_pool_authorization
from tests.harness import REPO_ROOT, assert_misconfigured, new_app, new_stack, only_resource, template_of


def ingest(stack: cdk.Stack, id: str = "Ingest", **props: Any) -> QueueBufferedIngest:
    return QueueBufferedIngest(
        stack, id, consumer=make_function(stack, f"{id}Consumer"), path="ingest/orders", **props
    )


# ------------------------------------------------------------------- IAM authorization behind CloudFront


class TestIamBehindCloudFront:
    def test_an_iam_authorized_api_is_refused_naming_its_methods_and_the_fix(self, stack):
        api = ingest(stack).api  # ApiAuthorization.iam() is the ingest default
        error = assert_misconfigured(
            lambda: CdnFrontedOrigin(
                stack,
                "Cdn",
                default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")),
                additional_behaviors={"/ingest/*": CdnOrigin.rest_api(api)},
            ),
            "additional_behaviors['/ingest/*']",
            "Cognito user pool, JWT or Lambda authorizer",
        )
        assert error.problems[0].value == ["POST /ingest/orders"]
        assert "iam_signed_for_origin_host=True" in error.problems[0].fix

    def test_an_iam_method_added_after_the_distribution_fails_synth(self, stack):
        api = ingest(stack, authorization=user_pool_authorization(stack)).api
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.rest_api(api))
        api.root.add_resource("admin").add_method(
            "DELETE", apigateway.MockIntegration(), authorization_type=apigateway.AuthorizationType.IAM
        )
        with pytest.raises(RuntimeError, match=r"default_origin: got \['DELETE /admin'\].*SigV4"):
            template_of(stack)

    def test_clients_that_sign_for_the_api_host_can_opt_in(self, stack):
        api = ingest(stack).api
        CdnFrontedOrigin(
            stack, "Cdn", default_origin=CdnOrigin.rest_api(api, iam_signed_for_origin_host=True)
        )
        only_resource(template_of(stack), "AWS::CloudFront::Distribution")

    @pytest.mark.parametrize("kind", ["cognito", "lambda"])
    def test_authorizers_that_survive_cloudfront_are_accepted(self, stack, kind):
        if kind == "cognito":
            authorization = user_pool_authorization(stack)
        else:
            authorizer = apigateway.TokenAuthorizer(stack, "Tokens", handler=make_function(stack, "Auth"))
            authorization = ApiAuthorization.authorizer_of(authorizer)
        api = ingest(stack, authorization=authorization).api
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.rest_api(api))
        methods = template_of(stack).find_resources("AWS::ApiGateway::Method")
        assert {m["Properties"]["AuthorizationType"] for m in methods.values()} <= {
            "COGNITO_USER_POOLS",
            "CUSTOM",
        }


# ------------------------------------------------------------------- the web ACL and request bodies


def managed_group(stack: cdk.Stack, name: str) -> dict[str, Any]:
    acl = only_resource(template_of(stack), "AWS::WAFv2::WebACL")["Properties"]
    [rule] = [r for r in acl["Rules"] if r["Name"] == name]
    return rule["Statement"]["ManagedRuleGroupStatement"]  # type: ignore[no-any-return]


def us_east_1() -> cdk.Stack:
    return cdk.Stack(new_app(), "Edge", env=cdk.Environment(region="us-east-1"))


class TestWebAclAndBodies:
    def test_the_body_size_rule_counts_when_an_api_takes_bodies(self):
        stack = us_east_1()
        api = ingest(stack, authorization=user_pool_authorization(stack)).api
        CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.rest_api(api), create_web_acl=True)
        common = managed_group(stack, "AWSManagedRulesCommonRuleSet")
        assert common["RuleActionOverrides"] == [
            {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
        ]
        assert "RuleActionOverrides" not in managed_group(stack, "AWSManagedRulesKnownBadInputsRuleSet")

    def test_a_function_url_that_takes_posts_counts_too_and_a_read_only_one_does_not(self):
        posting, reading = us_east_1(), us_east_1()
        for stack, methods in ((posting, None), (reading, cloudfront.AllowedMethods.ALLOW_GET_HEAD)):
            CdnFrontedOrigin(
                stack,
                "Cdn",
                default_origin=CdnOrigin.function_url(make_function(stack), allowed_methods=methods),
                create_web_acl=True,
            )
        assert "RuleActionOverrides" in managed_group(posting, "AWSManagedRulesCommonRuleSet")
        assert "RuleActionOverrides" not in managed_group(reading, "AWSManagedRulesCommonRuleSet")

    def test_a_static_site_keeps_every_managed_rule_blocking(self):
        stack = us_east_1()
        CdnFrontedOrigin(
            stack, "Cdn", default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")), create_web_acl=True
        )
        assert "RuleActionOverrides" not in managed_group(stack, "AWSManagedRulesCommonRuleSet")

    def test_users_override_managed_rule_actions(self):
        stack = us_east_1()
        CdnFrontedOrigin(
            stack,
            "Cdn",
            default_origin=CdnOrigin.function_url(make_function(stack)),
            create_web_acl=True,
            web_acl_rule_actions={
                "AWSManagedRulesCommonRuleSet": {
                    "SizeRestrictions_BODY": "block",
                    "NoUserAgent_HEADER": "count",
                },
                "AWSManagedRulesAmazonIpReputationList": {"AWSManagedIPDDoSList": "challenge"},
            },
        )
        assert managed_group(stack, "AWSManagedRulesCommonRuleSet")["RuleActionOverrides"] == [
            {"Name": "NoUserAgent_HEADER", "ActionToUse": {"Count": {}}},
            {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Block": {}}},
        ]
        assert managed_group(stack, "AWSManagedRulesAmazonIpReputationList")["RuleActionOverrides"] == [
            {"Name": "AWSManagedIPDDoSList", "ActionToUse": {"Challenge": {}}}
        ]

    @pytest.mark.parametrize(
        ("actions", "create", "prop", "fix"),
        [
            (
                {"AWSManagedRulesCommonRuleSet": {"X": "count"}},
                False,
                "web_acl_rule_actions",
                "create_web_acl=True",
            ),
            ({"NotAGroup": {"X": "count"}}, True, "web_acl_rule_actions['NotAGroup']", "not a group"),
            (
                {"AWSManagedRulesCommonRuleSet": {"X": "ignore"}},
                True,
                "web_acl_rule_actions['AWSManagedRulesCommonRuleSet']['X']",
                "must be one of",
            ),
        ],
    )
    def test_rule_action_mistakes_are_refused(self, actions, create, prop, fix):
        stack = us_east_1()
        assert_misconfigured(
            lambda: CdnFrontedOrigin(
                stack,
                "Cdn",
                default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")),
                create_web_acl=create,
                web_acl_rule_actions=actions,
            ),
            prop,
            fix,
        )


# ------------------------------------------------------------------- API names and their metrics


def alarm_dimensions(stack: cdk.Stack) -> dict[str, Any]:
    alarms = template_of(stack).find_resources("AWS::CloudWatch::Alarm")
    [alarm] = [a for a in alarms.values() if a["Properties"]["MetricName"] == "5XXError"]
    return {d["Name"]: d["Value"] for d in alarm["Properties"]["Dimensions"]}


def test_ingest_apis_in_two_stacks_have_distinct_names_and_alarm_dimensions():
    app = new_app()
    first, second = cdk.Stack(app, "Orders"), cdk.Stack(app, "Edge")
    apis = {stack: ingest(stack, id="Api").api for stack in (first, second)}
    names = []
    for stack, api in apis.items():
        names.append(only_resource(template_of(stack), "AWS::ApiGateway::RestApi")["Properties"]["Name"])
        dimensions = alarm_dimensions(stack)
        assert dimensions["ApiName"] == names[-1]
        assert dimensions["Stage"] == {"Ref": stack.get_logical_id(api.deployment_stage.node.default_child)}
    assert names[0] != names[1]
    assert all(len(name) <= 128 and name != "Api" for name in names)


def test_an_explicit_api_name_wins_and_is_what_the_alarm_watches(stack):
    ingest(stack, api_props={"rest_api_name": "orders-prod"})
    assert (
        only_resource(template_of(stack), "AWS::ApiGateway::RestApi")["Properties"]["Name"] == "orders-prod"
    )
    assert alarm_dimensions(stack)["ApiName"] == "orders-prod"


def test_one_account_level_logging_role_per_stack(stack):
    ingest(stack, id="First")
    ingest(stack, id="Second")
    template = template_of(stack)
    template.resource_count_is("AWS::ApiGateway::Account", 1)
    roles = template.find_resources("AWS::IAM::Role")
    assert len([r for r in roles if "CloudWatchRole" in r]) == 1


def test_the_logging_role_can_be_left_to_the_account(stack):
    ingest(stack, api_props={"cloud_watch_role": False})
    template_of(stack).resource_count_is("AWS::ApiGateway::Account", 0)


# ------------------------------------------------------------------- buckets: 404s and single-page apps


def test_single_page_app_rewrites_routes_on_the_bucket_behaviors_only(stack):
    api = ingest(stack, authorization=user_pool_authorization(stack)).api
    CdnFrontedOrigin(
        stack,
        "Cdn",
        default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site"), single_page_app=True),
        additional_behaviors={"/ingest/*": CdnOrigin.rest_api(api)},
    )
    template = template_of(stack)
    function = only_resource(template, "AWS::CloudFront::Function")["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    config = only_resource(template, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    [association] = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert "FunctionAssociations" not in config["CacheBehaviors"][0]
    assert "CustomErrorResponses" not in config, "API 403/404 answers must reach API clients unchanged"


NODE = shutil.which("node", path=f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}")


def run_viewer_request(code: str, requests: list[dict[str, str]]) -> list[str]:
    """Run a CloudFront Function's own code on node, with CloudFront's viewer-request event shape."""
    assert NODE is not None, "node comes with make setup (package.json)"
    script = code + (
        "const requests = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(requests.map(r => handler({request: {uri: r.uri, method: r.method,"
        " headers: {}}}).uri)));\n"
    )
    result = subprocess.run(
        [NODE, "-e", script, json.dumps(requests)], capture_output=True, text=True, check=True
    )
    return list(json.loads(result.stdout))


def test_the_single_page_app_function_serves_routes_and_keeps_missing_files_and_api_paths():
    stack = new_stack()
    api = ingest(stack, authorization=user_pool_authorization(stack)).api
    CdnFrontedOrigin(
        stack,
        "Cdn",
        default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site"), single_page_app=True),
        additional_behaviors={"/ingest/orders*": CdnOrigin.rest_api(api)},
    )
    code = only_resource(template_of(stack), "AWS::CloudFront::Function")["Properties"]["FunctionCode"]
    get = ["/", "/products/42", "/cart/", "/app.js", "/img/logo.svg", "/index.html"]
    not_routes = ["/api/unknown", "/api", "/ingest/orders/x", "/ingest/ordersx"]
    requests = [{"uri": u, "method": "GET"} for u in get + not_routes]
    requests += [{"uri": "/products/42", "method": "HEAD"}, {"uri": "/products/42", "method": "POST"}]
    assert run_viewer_request(code, requests) == [
        "/index.html",
        "/index.html",
        "/index.html",
        "/app.js",
        "/img/logo.svg",
        "/index.html",
        # an API path no API behavior matched answers the bucket's 404, never the app with 200
        "/api/unknown",
        "/api",
        "/ingest/orders/x",
        "/ingest/ordersx",
        "/index.html",
        "/products/42",
    ]


def test_missing_objects_answer_404_because_cloudfront_may_list_the_bucket():
    stack = new_stack()
    CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.bucket(s3.Bucket(stack, "Site")))
    policies = template_of(stack).find_resources("AWS::S3::BucketPolicy")
    [policy] = [p for logical_id, p in policies.items() if logical_id.startswith("SitePolicy")]
    actions = [
        s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert actions == [["s3:GetObject", "s3:ListBucket"]]
