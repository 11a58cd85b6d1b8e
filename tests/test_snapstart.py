"""SnapStartFunction: template defaults, overrides, errors and the seams with the other patterns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns

from apps.catalog.stack import CATALOG_PROJECT
from constructs_lib import (
    CdnFrontedOrigin,
    CdnOrigin,
    ConstructsLibValidationError,
    QueueBufferedIngest,
    SnapStartFunction,
)
from tests.harness import assert_misconfigured, only_resource, resources_of, template_of

HANDLER = "catalog.CatalogHandler::handleRequest"


def code() -> lambda_.Code:
    """The catalog sources as a plain asset: these tests look at templates, not at the jar."""
    return lambda_.Code.from_asset(str(CATALOG_PROJECT))


def build(stack: cdk.Stack, **props: Any) -> SnapStartFunction:
    props.setdefault("code", code())
    props.setdefault("handler", HANDLER)
    return SnapStartFunction(stack, "Catalog", **props)


def function_props(stack: cdk.Stack) -> dict[str, Any]:
    found = [
        f["Properties"]
        for f in resources_of(template_of(stack), "AWS::Lambda::Function").values()
        if "SnapStart" in f["Properties"]
    ]
    assert len(found) == 1
    return found[0]


def logical_id(stack: cdk.Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


class TestDefaults:
    def test_snapstart_on_published_versions_with_java_25_on_arm64(self, stack):
        build(stack)
        props = function_props(stack)
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert props["Runtime"] == "java25"
        assert props["Architectures"] == ["arm64"]
        assert props["MemorySize"] == 1024
        assert props["Timeout"] == 30
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"

    def test_a_version_and_an_alias_on_it(self, stack):
        fn = build(stack)
        t = template_of(stack)
        version_id = next(iter(resources_of(t, "AWS::Lambda::Version")))
        alias = only_resource(t, "AWS::Lambda::Alias")["Properties"]
        assert alias["Name"] == "live"
        assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
        assert alias["FunctionName"] == {"Ref": logical_id(stack, fn.function)}
        assert fn.version.node.path == fn.function.current_version.node.path

    def test_a_code_change_publishes_a_new_version(self, app):
        one, two = cdk.Stack(app, "One"), cdk.Stack(app, "Two")
        build(one)
        build(two, code=lambda_.Code.from_asset(str(CATALOG_PROJECT / "src")))
        versions = [set(resources_of(template_of(s), "AWS::Lambda::Version")) for s in (one, two)]
        assert versions[0].isdisjoint(versions[1])

    def test_a_configuration_change_publishes_a_new_version(self, app):
        one, two = cdk.Stack(app, "One"), cdk.Stack(app, "Two")
        build(one)
        build(two, memory_size=2048)
        versions = [set(resources_of(template_of(s), "AWS::Lambda::Version")) for s in (one, two)]
        assert versions[0].isdisjoint(versions[1])

    def test_an_unchanged_function_keeps_its_version(self, app):
        one, two = cdk.Stack(app, "One"), cdk.Stack(app, "Two")
        build(one)
        build(two)
        versions = [set(resources_of(template_of(s), "AWS::Lambda::Version")) for s in (one, two)]
        assert versions[0] == versions[1]

    def test_java_tool_options_stop_tiered_compilation_at_level_1(self, stack):
        build(stack)
        env = function_props(stack)["Environment"]["Variables"]
        assert env["JAVA_TOOL_OPTIONS"] == "-XX:+TieredCompilation -XX:TieredStopAtLevel=1"

    def test_log_group_keeps_a_month(self, stack):
        fn = build(stack)
        group = template_of(stack).to_json()["Resources"][logical_id(stack, fn.log_group)]
        assert group["Properties"]["RetentionInDays"] == 30
        assert function_props(stack)["LoggingConfig"]["LogGroup"] == {"Ref": logical_id(stack, fn.log_group)}

    def test_alarms_on_errors_throttles_and_p99_duration_near_the_timeout(self, stack):
        fn = build(stack)
        alarms = {
            a["Properties"]["MetricName"]: a["Properties"]
            for a in resources_of(template_of(stack), "AWS::CloudWatch::Alarm").values()
        }
        assert set(alarms) == {"Errors", "Throttles", "Duration"}
        assert alarms["Duration"]["ExtendedStatistic"] == "p99"
        assert alarms["Duration"]["Threshold"] == 0.8 * 30_000
        for alarm in alarms.values():
            names = {d["Name"] for d in alarm["Dimensions"]}
            assert names == {"FunctionName", "Resource"}, "alarms watch the alias"
        assert len(fn.alarms) == 3

    def test_java_keeps_old_versions_for_rollback(self, stack):
        build(stack)
        version = next(iter(resources_of(template_of(stack), "AWS::Lambda::Version").values()))
        assert version["DeletionPolicy"] == "Retain"

    def test_no_deployment_group_without_a_deployment(self, stack):
        fn = build(stack)
        assert fn.deployment_group is None
        template_of(stack).resource_count_is("AWS::CodeDeploy::DeploymentGroup", 0)


class TestOverrides:
    def test_python_runtime_removes_old_versions_and_sets_no_java_options(self, stack):
        build(
            stack,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("x"),
        )
        props = function_props(stack)
        assert "Environment" not in props
        version = next(iter(resources_of(template_of(stack), "AWS::Lambda::Version").values()))
        assert version["DeletionPolicy"] == "Delete"

    def test_dotnet_removes_old_versions(self, stack):
        build(stack, runtime=lambda_.Runtime.DOTNET_8, handler="Catalog::Catalog.Handler::Handle")
        version = next(iter(resources_of(template_of(stack), "AWS::Lambda::Version").values()))
        assert version["DeletionPolicy"] == "Delete"

    def test_retain_old_versions_override(self, stack):
        build(stack, retain_old_versions=False)
        version = next(iter(resources_of(template_of(stack), "AWS::Lambda::Version").values()))
        assert version["DeletionPolicy"] == "Delete"

    def test_java_tool_options_can_be_replaced_or_turned_off(self, app):
        replaced, off, env = cdk.Stack(app, "Replaced"), cdk.Stack(app, "Off"), cdk.Stack(app, "Env")
        build(replaced, java_tool_options="-XX:+UseSerialGC")
        build(off, java_tool_options="")
        build(env, environment={"JAVA_TOOL_OPTIONS": "-Xshare:auto", "STAGE": "prod"})
        assert function_props(replaced)["Environment"]["Variables"] == {
            "JAVA_TOOL_OPTIONS": "-XX:+UseSerialGC"
        }
        assert "Environment" not in function_props(off)
        assert function_props(env)["Environment"]["Variables"] == {
            "JAVA_TOOL_OPTIONS": "-Xshare:auto",
            "STAGE": "prod",
        }

    def test_java_tool_options_given_in_both_places_are_refused_naming_both(self, stack):
        with pytest.raises(ConstructsLibValidationError) as raised:
            build(
                stack,
                java_tool_options="-XX:+UseSerialGC",
                environment={"JAVA_TOOL_OPTIONS": "-Xshare:auto"},
            )
        [problem] = raised.value.problems
        assert (problem.prop, problem.value) == ("java_tool_options", "-XX:+UseSerialGC")
        assert "'-Xshare:auto'" in problem.fix

    def test_java_tool_options_given_twice_alike_pass(self, stack):
        build(stack, java_tool_options="-Xshare:auto", environment={"JAVA_TOOL_OPTIONS": "-Xshare:auto"})
        assert function_props(stack)["Environment"]["Variables"] == {"JAVA_TOOL_OPTIONS": "-Xshare:auto"}

    def test_props(self, stack):
        build(
            stack,
            runtime=lambda_.Runtime.JAVA_21,
            architecture=lambda_.Architecture.X86_64,
            memory_size=2048,
            timeout=Duration.seconds(10),
            alias_name="prod",
            description="catalog",
        )
        props = function_props(stack)
        assert (props["Runtime"], props["Architectures"], props["MemorySize"], props["Timeout"]) == (
            "java21",
            ["x86_64"],
            2048,
            10,
        )
        assert props["Description"] == "catalog"
        assert only_resource(template_of(stack), "AWS::Lambda::Alias")["Properties"]["Name"] == "prod"

    def test_canary_deployment_rolls_back_on_the_alarms(self, stack):
        fn = build(stack, deployment=codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES)
        t = template_of(stack)
        group = only_resource(t, "AWS::CodeDeploy::DeploymentGroup")["Properties"]
        assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        alarm_refs = {a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]}
        assert alarm_refs == {stack.get_logical_id(a.node.default_child) for a in fn.alarms}
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        alias = only_resource(t, "AWS::Lambda::Alias")
        assert "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]
        assert fn.deployment_group is not None

    @pytest.mark.parametrize(
        ("config", "name"),
        [
            (
                codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
                "LambdaLinear10PercentEvery1Minute",
            ),
            (codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, "LambdaAllAtOnce"),
        ],
    )
    def test_linear_and_all_at_once_deployments(self, stack, config, name):
        build(stack, deployment=config)
        group = only_resource(template_of(stack), "AWS::CodeDeploy::DeploymentGroup")["Properties"]
        assert group["DeploymentConfigName"] == f"CodeDeployDefault.{name}"

    def test_function_url_is_on_the_alias_with_iam_auth(self, stack):
        fn = build(stack)
        fn.add_function_url()
        url = only_resource(template_of(stack), "AWS::Lambda::Url")["Properties"]
        assert url["AuthType"] == "AWS_IAM"
        assert url["Qualifier"] == "live"

    def test_grant_invoke_is_on_the_alias(self, stack):
        fn = build(stack)
        role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        fn.grant_invoke(role)
        statements = [
            s
            for p in resources_of(template_of(stack), "AWS::IAM::Policy").values()
            if logical_id(stack, role) in json.dumps(p["Properties"]["Roles"])
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        resources = json.dumps([s["Resource"] for s in statements])
        assert logical_id(stack, fn.alias) in resources
        assert f'"Fn::GetAtt": ["{logical_id(stack, fn.function)}", "Arn"]' not in resources

    def test_alarm_topic_and_ratio(self, stack):
        topic = sns.Topic(stack, "Topic")
        build(stack, alarm_topic=topic, duration_alarm_ratio=0.5, timeout=Duration.seconds(10))
        alarms = [
            a["Properties"] for a in resources_of(template_of(stack), "AWS::CloudWatch::Alarm").values()
        ]
        assert next(a for a in alarms if a["MetricName"] == "Duration")["Threshold"] == 5000
        for alarm in alarms:
            assert alarm["AlarmActions"] == [{"Ref": logical_id(stack, topic)}]
            assert alarm["OKActions"] == alarm["AlarmActions"]

    def test_metric_delegates_use_the_alias(self, stack):
        fn = build(stack)
        for metric in (
            fn.metric_errors(),
            fn.metric_throttles(),
            fn.metric_invocations(),
            fn.metric_duration(),
        ):
            assert "Resource" in metric.dimensions

    def test_function_props_pass_through(self, stack):
        build(stack, function_props={"reserved_concurrent_executions": 10, "function_name": "catalog"})
        props = function_props(stack)
        assert props["ReservedConcurrentExecutions"] == 10
        assert props["FunctionName"] == "catalog"


# ----------------------------------------------------------------------------------------- errors


def _efs(stack: cdk.Stack) -> lambda_.FileSystem:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    access_point = efs.FileSystem(stack, "Fs", vpc=vpc).add_access_point("Ap")
    return lambda_.FileSystem.from_efs_access_point(access_point, "/mnt/data")


ERROR_CASES: list[tuple[str, Callable[[cdk.Stack], dict[str, Any]], str, str]] = [
    ("python 3.11", lambda s: {"runtime": lambda_.Runtime.PYTHON_3_11}, "runtime", "no SnapStart support"),
    (
        "java 8",
        lambda s: {"runtime": lambda_.Runtime.JAVA_8_CORRETTO},
        "runtime",
        "use Java 11, 17, 21 or 25",
    ),
    (
        "provisioned concurrency",
        lambda s: {"alias_props": {"provisioned_concurrent_executions": 2}},
        "alias_props['provisioned_concurrent_executions']",
        "SnapStart cannot run on a version with provisioned concurrency",
    ),
    (
        "efs",
        lambda s: {"function_props": {"filesystem": _efs(s)}},
        "function_props['filesystem']",
        "does not support EFS",
    ),
    (
        "ephemeral storage",
        lambda s: {"function_props": {"ephemeral_storage_size": Size.mebibytes(1024)}},
        "function_props['ephemeral_storage_size']",
        "at most 512 MiB",
    ),
    ("ratio", lambda s: {"duration_alarm_ratio": 1.5}, "duration_alarm_ratio", "at most 1"),
    ("alias name", lambda s: {"alias_name": " "}, "alias_name", "must not be empty"),
    (
        "unknown function prop",
        lambda s: {"function_props": {"memory": 512}},
        "function_props['memory']",
        "valid keys: ",
    ),
    (
        "owned function prop",
        lambda s: {"function_props": {"timeout": Duration.seconds(3)}},
        "function_props['timeout']",
        "use timeout instead",
    ),
    (
        "snapstart turned off",
        lambda s: {"function_props": {"snap_start": None}},
        "function_props['snap_start']",
        "the construct must set this itself",
    ),
    (
        "version options",
        lambda s: {
            "function_props": {
                "current_version_options": lambda_.VersionOptions(provisioned_concurrent_executions=1)
            }
        },
        "function_props['current_version_options']",
        "provisioned concurrency is not possible",
    ),
]


@pytest.mark.parametrize(
    ("make_props", "prop", "fix"),
    [pytest.param(make, prop, fix, id=name) for name, make, prop, fix in ERROR_CASES],
)
def test_misconfiguration_raises_with_prop_value_and_fix(stack, make_props, prop, fix):
    assert_misconfigured(lambda: build(stack, **make_props(stack)), prop, fix)


# ---------------------------------------------------------------------------------- seams


class TestSeams:
    def test_ingest_consumes_through_the_alias(self, stack):
        fn = build(stack)
        QueueBufferedIngest(stack, "Ingest", consumer=fn.alias)
        esm = only_resource(template_of(stack), "AWS::Lambda::EventSourceMapping")["Properties"]
        assert logical_id(stack, fn.alias) in json.dumps(esm["FunctionName"])

    def test_ingest_refuses_the_unqualified_function(self, stack):
        fn = build(stack)
        with pytest.raises(ConstructsLibValidationError, match=r"consumer: .*pass its alias"):
            QueueBufferedIngest(stack, "Ingest", consumer=fn.function)

    def test_cdn_function_url_targets_the_alias(self, stack):
        fn = build(stack)
        cdn = CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.function_url(fn.alias))
        t = template_of(stack)
        url = only_resource(t, "AWS::Lambda::Url")["Properties"]
        assert url["Qualifier"] == "live"
        assert url["TargetFunctionArn"] == {"Fn::GetAtt": [logical_id(stack, fn.function), "Arn"]}
        url_id = stack.get_logical_id(cdn.function_urls[0].node.default_child)
        permissions = [
            p["Properties"]
            for p in resources_of(t, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "cloudfront.amazonaws.com"
        ]
        assert len(permissions) == 2
        for permission in permissions:
            assert permission["FunctionName"] == {"Fn::GetAtt": [url_id, "FunctionArn"]}

    def test_cdn_refuses_the_unqualified_function(self, stack):
        fn = build(stack)
        with pytest.raises(ConstructsLibValidationError, match=r"default_origin: .*pass its alias"):
            CdnFrontedOrigin(stack, "Cdn", default_origin=CdnOrigin.function_url(fn.function))
