"""SnapStart function: a Lambda function with SnapStart that callers can only reach through its alias.

SnapStart applies to published versions only; invoking the unqualified function runs ``$LATEST`` without a
snapshot. The construct publishes a version whenever code or configuration change, points an alias at it,
hands only the alias to other code, and can roll it out with CodeDeploy. ``java_code`` (in its own
module) builds a Java project into a jar at synth time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import (
    Annotations,
    Duration,
    RemovalPolicy,
    Size,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._core import (
    Problems,
    acknowledge,
    acknowledge_checkov_function_defaults,
    acknowledge_xray_wildcard,
    cdk_warning,
    check_types,
    check_whole_seconds,
    child_path,
    given_props,
    is_unresolved,
    merge_props,
    or_default,
    threshold_alarm,
    visible_signature,
    wire_alarms,
)
from .java import JAVA_RELEASE_ATTRIBUTE

__all__ = ["SnapStartFunction"]

#: Stops the JIT at its first tier: less compilation work during init and restore, faster start-up.
DEFAULT_JAVA_TOOL_OPTIONS = "-XX:+TieredCompilation -XX:TieredStopAtLevel=1"
#: SnapStart cannot be combined with more ephemeral storage than this.
MAX_SNAPSTART_EPHEMERAL_STORAGE_MIB = 512
DEFAULT_DURATION_ALARM_RATIO = 0.8
DEFAULT_RUNTIME = lambda_.Runtime.JAVA_25
DEFAULT_ARCHITECTURE = lambda_.Architecture.ARM_64
DEFAULT_MEMORY_SIZE = 1024
DEFAULT_TIMEOUT = Duration.seconds(30)
DEFAULT_ALIAS_NAME = "live"
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


@visible_signature
class SnapStartFunction(Construct):
    """A function with SnapStart on published versions, an alias every caller uses, and safe rollout.

    Args:
        code: The function's code, for example ``java_code("path/to/project")``.
        handler: The handler, for example ``"catalog.CatalogHandler::handleRequest"``.
        runtime: A runtime with SnapStart support (Java 11+, Python 3.12+, .NET 8+). Default: Java 25.
        memory_size: Memory in MiB. Default: 1024.
        timeout: Default: 30 seconds.
        environment: Environment variables. Default: none (plus ``JAVA_TOOL_OPTIONS`` on Java).
        architecture: ``ARM_64`` or ``X86_64``. Default: ``ARM_64``.
        alias_name: The alias every caller uses. Default: ``"live"``.
        description: Default: none.
        log_retention: Retention of the function's log group. Default: one month.
        java_tool_options: ``JAVA_TOOL_OPTIONS`` for Java runtimes; ``""`` leaves it unset. Set it here
            or in ``environment``, not in both with different values (refused). Default: tiered
            compilation stopped at level 1, unless ``environment`` sets the variable.
        deployment: A CodeDeploy config, for example ``LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES``,
            to shift the alias to each new version gradually and roll back on the alarms. Default: the
            alias moves at once.
        retain_old_versions: Keep superseded versions. Default: kept for Java (no snapshot charge, and a
            previous version to roll back to), removed for Python and .NET, whose cached snapshots are
            billed per version.
        duration_alarm_ratio: The p99-duration alarm fires at this fraction of the timeout. Default: 0.8.
        alarm_topic: SNS topic for every alarm's ALARM and OK actions. Default: no actions.
        function_props: Extra function settings: a ``lambda_.FunctionOptions`` or a dict of its keyword
            arguments. Default: none.
        alias_props: Extra alias settings: a ``lambda_.AliasOptions`` or a dict. Default: none.

    ``None`` for any optional prop means its default.

    Raises:
        ConstructsLibValidationError: listing every invalid prop at once; nothing is created then.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime | None = None,
        memory_size: int | None = None,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        architecture: lambda_.Architecture | None = None,
        alias_name: str | None = None,
        description: str | None = None,
        log_retention: logs.RetentionDays | None = None,
        java_tool_options: str | None = None,
        deployment: codedeploy.ILambdaDeploymentConfig | None = None,
        retain_old_versions: bool | None = None,
        duration_alarm_ratio: float | None = None,
        alarm_topic: sns.ITopic | None = None,
        function_props: lambda_.FunctionOptions | Mapping[str, Any] | None = None,
        alias_props: lambda_.AliasOptions | Mapping[str, Any] | None = None,
    ) -> None:
        plan = _plan(child_path(scope, id), given_props(locals()))
        super().__init__(scope, id)
        plan.problems.emit_warnings(self)
        self.log_group = logs.LogGroup(self, "Logs", retention=plan.log_retention)
        self._build_function(plan)
        self.version: lambda_.Version = self.function.current_version
        self.alias = lambda_.Alias(
            self, "Alias", alias_name=plan.alias_name, version=self.version, **plan.alias_kwargs
        )
        self.alarms: list[cloudwatch.Alarm] = self._build_alarms(plan)
        wire_alarms(self.alarms, plan.alarm_topic)
        self.deployment_group: codedeploy.LambdaDeploymentGroup | None = None
        if plan.deployment is not None:
            self.deployment_group = self._build_deployment_group(plan.deployment)

    # ----------------------------------------------------------------------------------- public API

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the alias (never the unqualified function)."""
        return self.alias.grant_invoke(grantee)

    def add_function_url(
        self,
        *,
        auth_type: lambda_.FunctionUrlAuthType = lambda_.FunctionUrlAuthType.AWS_IAM,
        cors: lambda_.FunctionUrlCorsOptions | None = None,
        invoke_mode: lambda_.InvokeMode | None = None,
    ) -> lambda_.FunctionUrl:
        """A function URL on the alias. Default: ``AWS_IAM`` authorization.

        To put CloudFront in front of the function, use ``CdnOrigin.function_url(this.alias)`` instead,
        which creates the URL itself and signs requests with Origin Access Control.
        """
        return self.alias.add_function_url(auth_type=auth_type, cors=cors, invoke_mode=invoke_mode)

    def metric_errors(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Errors of the alias. Default: sum over 5 minutes."""
        return self.alias.metric_errors(period=period or Duration.minutes(5), statistic="Sum")

    def metric_throttles(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Throttled invocations of the alias. Default: sum over 5 minutes."""
        return self.alias.metric_throttles(period=period or Duration.minutes(5), statistic="Sum")

    def metric_invocations(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Invocations of the alias. Default: sum over 5 minutes."""
        return self.alias.metric_invocations(period=period or Duration.minutes(5), statistic="Sum")

    def metric_duration(self, *, period: Duration | None = None, statistic: str = "p99") -> cloudwatch.Metric:
        """Duration of the alias's invocations in milliseconds. Default: p99 over 5 minutes."""
        return self.alias.metric_duration(period=period or Duration.minutes(5), statistic=statistic)

    # ----------------------------------------------------------------------------------- internals

    def _build_function(self, plan: _Plan) -> None:
        function_kwargs = dict(plan.function_kwargs)
        given_role = function_kwargs.pop("role", None)
        role = given_role or self._build_default_role()
        self.function = lambda_.Function(
            self,
            "Function",
            code=plan.code,
            handler=plan.handler,
            runtime=plan.runtime,
            memory_size=plan.memory_size,
            timeout=plan.timeout,
            environment=plan.environment or None,
            architecture=plan.architecture,
            description=plan.description,
            log_group=self.log_group,
            role=role,
            current_version_options=lambda_.VersionOptions(
                removal_policy=RemovalPolicy.RETAIN if plan.retain_old_versions else RemovalPolicy.DESTROY
            ),
            **function_kwargs,
        )
        # Whatever role the function runs with writes to the construct's log group.
        if given_role is not None and self.log_group.grant_write(given_role).principal_statement is None:
            cdk_warning(
                self,
                "roleCannotWriteLogs",
                f"function_props['role'] ({given_role.node.path}) cannot be changed (an immutable "
                "import), so logs:CreateLogStream and logs:PutLogEvents on "
                f"'{self.log_group.node.path}' went into the log group's resource policy only, and the "
                "function's logs could be lost; grant them in the role where it is defined",
            )
        # aws-cdk-lib warns that SnapStart needs published versions; this construct always publishes one.
        Annotations.of(self.function).acknowledge_warning(
            "@aws-cdk/aws-lambda:snapStartRequirePublish",
            "SnapStartFunction publishes a version on every change and routes callers through its alias",
        )
        if not any(key.startswith("dead_letter") for key in function_kwargs):
            for rule in ("Serverless::Serverless-LambdaDLQ", "checkov::CKV_AWS_116"):
                acknowledge(
                    self.function,
                    rule,
                    "No dead-letter target was requested: callers invoke the alias synchronously and receive "
                    "any error; pass function_props={'dead_letter_queue': ...} for asynchronous callers",
                )
        if "reserved_concurrent_executions" not in function_kwargs:
            acknowledge(
                self.function,
                "checkov::CKV_AWS_115",
                "Callers invoke the alias synchronously; a reserved limit would take capacity from the "
                "account's unreserved pool and turn bursts into throttles. Pass function_props="
                "{'reserved_concurrent_executions': n} to cap it",
            )
        acknowledge_checkov_function_defaults(self.function, self.log_group)

    def _build_default_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="SnapStart function: writes its own logs and traces; grant more with grant_* calls",
        )
        self.log_group.grant_write(role)
        acknowledge_xray_wildcard(role)
        return role

    def _build_alarms(self, plan: _Plan) -> list[cloudwatch.Alarm]:
        ratio = plan.duration_alarm_ratio
        return [
            threshold_alarm(
                self,
                "ErrorsAlarm",
                self.metric_errors(),
                threshold=1,
                description="The function's alias answered errors",
            ),
            threshold_alarm(
                self,
                "ThrottlesAlarm",
                self.metric_throttles(),
                threshold=1,
                description="Invocations of the alias were throttled",
            ),
            threshold_alarm(
                self,
                "DurationAlarm",
                self.metric_duration(),
                threshold=plan.timeout.to_milliseconds() * ratio,
                description=f"p99 duration reached {int(ratio * 100)}% of the timeout",
            ),
        ]

    def _build_deployment_group(
        self, config: codedeploy.ILambdaDeploymentConfig
    ) -> codedeploy.LambdaDeploymentGroup:
        group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            alias=self.alias,
            deployment_config=config,
            alarms=list(self.alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=bool(self.alarms)
            ),
        )
        role = group.node.try_find_child("ServiceRole")
        if role is not None:
            acknowledge(
                role,
                "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSCodeDeployRoleForLambdaLimited]",
                "CodeDeploy's role for Lambda deployments; the AWS managed policy only lets it shift alias "
                "weights, read the alarms and invoke hooks",
            )
        return group


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """Every prop checked and resolved, and both escape hatches merged: what the builders need."""

    problems: Problems
    code: lambda_.Code
    handler: str
    runtime: lambda_.Runtime
    memory_size: int
    timeout: Duration
    environment: dict[str, str]
    architecture: lambda_.Architecture
    alias_name: str
    description: str | None
    log_retention: logs.RetentionDays
    deployment: codedeploy.ILambdaDeploymentConfig | None
    retain_old_versions: bool
    duration_alarm_ratio: float
    alarm_topic: sns.ITopic | None
    function_kwargs: dict[str, Any]
    alias_kwargs: dict[str, Any]


def _check_layer_architectures(problems: Problems, layers: Any, architecture: lambda_.Architecture) -> None:
    """A layer built for another architecture fails to load at the first invocation."""
    for layer in layers or []:
        cfn = layer.node.default_child if isinstance(layer, lambda_.LayerVersion) else None
        supported = getattr(cfn, "compatible_architectures", None)
        if isinstance(supported, list) and supported and architecture.name not in supported:
            problems.add(
                "function_props['layers']",
                f"{layer.node.path} ({', '.join(supported)} only)",
                f"the function runs on {architecture.name}, which this layer was not built for; use a "
                f"{architecture.name} build of the layer, or architecture="
                + ("Architecture.ARM_64" if "arm64" in supported else "Architecture.X86_64"),
            )


def _plan(where: str, given: Mapping[str, Any]) -> _Plan:
    """Check every prop, resolve defaults and merge the escape hatches; raise once with every problem."""
    problems = Problems(f"SnapStartFunction '{where}'")
    if not check_types(problems, SnapStartFunction.__init__, given):
        problems.raise_if_any()  # the checks below assume the right types
    check_whole_seconds(problems, given, "timeout")
    runtime: lambda_.Runtime = or_default(given["runtime"], DEFAULT_RUNTIME)
    architecture = or_default(given["architecture"], DEFAULT_ARCHITECTURE)
    ratio = or_default(given["duration_alarm_ratio"], DEFAULT_DURATION_ALARM_RATIO)
    alias_name = or_default(given["alias_name"], DEFAULT_ALIAS_NAME)
    _check_runtime_and_numbers(problems, runtime, architecture, ratio, alias_name)
    _check_code_fits_runtime(problems, given["code"], runtime)
    if given["java_tool_options"] and not _is_java(runtime):
        problems.add(
            "java_tool_options",
            given["java_tool_options"],
            f"only Java runtimes read JAVA_TOOL_OPTIONS, and this one is {runtime.name}; remove it",
        )
    _check_java_tool_options_given_once(problems, given["environment"], given["java_tool_options"])
    function_kwargs = _merge_function_props(problems, given["function_props"])
    _check_layer_architectures(problems, function_kwargs.get("layers"), architecture)
    plan = _Plan(
        problems=problems,
        code=given["code"],
        handler=given["handler"],
        runtime=runtime,
        memory_size=or_default(given["memory_size"], DEFAULT_MEMORY_SIZE),
        timeout=or_default(given["timeout"], DEFAULT_TIMEOUT),
        environment=_environment(runtime, given["environment"], given["java_tool_options"]),
        architecture=architecture,
        alias_name=alias_name,
        description=given["description"],
        log_retention=or_default(given["log_retention"], DEFAULT_LOG_RETENTION),
        deployment=given["deployment"],
        retain_old_versions=or_default(given["retain_old_versions"], _is_java(runtime)),
        duration_alarm_ratio=ratio,
        alarm_topic=given["alarm_topic"],
        function_kwargs=function_kwargs,
        alias_kwargs=_merge_alias_props(problems, given["alias_props"]),
    )
    _check_snapstart_limits(problems, function_kwargs)
    problems.raise_if_any()
    return plan


def _check_java_tool_options_given_once(
    problems: Problems, environment: Mapping[str, str] | None, java_tool_options: str | None
) -> None:
    in_environment = (environment or {}).get("JAVA_TOOL_OPTIONS")
    if java_tool_options is not None and in_environment is not None and in_environment != java_tool_options:
        problems.add(
            "java_tool_options",
            java_tool_options,
            f"environment['JAVA_TOOL_OPTIONS'] also sets the variable (to {in_environment!r}), and only one "
            "can apply; give it once, in java_tool_options (merged options included) or in environment",
        )


def _is_java(runtime: lambda_.Runtime) -> bool:
    return bool(runtime.family == lambda_.RuntimeFamily.JAVA)


def _environment(
    runtime: lambda_.Runtime, environment: Mapping[str, str] | None, java_tool_options: str | None
) -> dict[str, str]:
    """The function's variables: ``environment`` plus ``JAVA_TOOL_OPTIONS`` on Java ("" leaves it unset)."""
    env = dict(environment or {})
    options = or_default(java_tool_options, DEFAULT_JAVA_TOOL_OPTIONS)
    if _is_java(runtime) and options:
        env.setdefault("JAVA_TOOL_OPTIONS", options)
    return env


def _merge_function_props(problems: Problems, user: Any) -> dict[str, Any]:
    return merge_props(
        problems,
        prop_name="function_props",
        l2_class=lambda_.Function,
        struct_class=lambda_.FunctionOptions,
        defaults={"tracing": lambda_.Tracing.ACTIVE, "logging_format": lambda_.LoggingFormat.JSON},
        user=user,
        required={"snap_start": lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS},
        owned={
            "code": "code",
            "handler": "handler",
            "runtime": "runtime",
            "memory_size": "memory_size",
            "timeout": "timeout",
            "environment": "environment",
            "architecture": "architecture",
            "description": "description",
            "log_group": "log_retention",
            "log_retention": "log_retention",
            "current_version_options": "retain_old_versions (provisioned concurrency is not possible)",
        },
    )


def _merge_alias_props(problems: Problems, user: Any) -> dict[str, Any]:
    alias_kwargs = merge_props(
        problems,
        prop_name="alias_props",
        l2_class=lambda_.Alias,
        struct_class=lambda_.AliasOptions,
        defaults={},
        user=user,
        owned={"alias_name": "alias_name", "version": "nothing (the alias follows the current version)"},
    )
    if alias_kwargs.get("provisioned_concurrent_executions"):
        problems.add(
            "alias_props['provisioned_concurrent_executions']",
            alias_kwargs["provisioned_concurrent_executions"],
            "SnapStart cannot run on a version with provisioned concurrency; remove it and let SnapStart "
            "cut cold starts, or use a plain lambda_.Function with provisioned concurrency instead",
        )
    return alias_kwargs


def _check_runtime_and_numbers(
    problems: Problems,
    runtime: lambda_.Runtime,
    architecture: lambda_.Architecture,
    ratio: float,
    alias_name: str,
) -> None:
    if not runtime.supports_snap_start:
        problems.add(
            "runtime",
            runtime.name,
            "this runtime has no SnapStart support (aws-cdk-lib's Runtime.supports_snap_start); "
            "use Java 11, 17, 21 or 25, Python 3.12 or newer, or .NET 8 or newer",
        )
    problems.check(
        architecture.name in ("arm64", "x86_64"),
        "architecture",
        architecture.name,
        "use Architecture.ARM_64 or Architecture.X86_64",
    )
    problems.check(
        is_unresolved(ratio) or 0 < ratio <= 1,
        "duration_alarm_ratio",
        ratio,
        "must be above 0 and at most 1 (a fraction of the timeout)",
    )
    problems.check(bool(alias_name.strip()), "alias_name", alias_name, "must not be empty")


def _check_code_fits_runtime(problems: Problems, code: lambda_.Code, runtime: lambda_.Runtime) -> None:
    """``java_code`` output only runs on a Java runtime at least as new as the release it targets."""
    release = getattr(code, JAVA_RELEASE_ATTRIBUTE, None)
    if release is None:
        return
    if not _is_java(runtime):
        problems.add(
            "code",
            f"java_code(release={release})",
            f"a Java jar cannot run on {runtime.name}; use a Java runtime (for example "
            f"Runtime.JAVA_{max(release, 21)}), or code built for this runtime",
        )
        return
    version = int(runtime.name.removeprefix("java")) if runtime.name.removeprefix("java").isdigit() else None
    if version is not None and version < release:
        problems.add(
            "runtime",
            runtime.name,
            f"the code is java_code(release={release}), whose classes {runtime.name} cannot load; use "
            f"Runtime.JAVA_{release} or newer, or build with java_code(..., release={version})",
        )


def _check_snapstart_limits(problems: Problems, function_kwargs: Mapping[str, Any]) -> None:
    """What SnapStart cannot be combined with, beyond the runtime."""
    if function_kwargs.get("filesystem") is not None:
        problems.add(
            "function_props['filesystem']",
            "<FileSystem>",
            "SnapStart does not support EFS; read shared data from S3 or DynamoDB, or drop SnapStart",
        )
    storage = function_kwargs.get("ephemeral_storage_size")
    if isinstance(storage, Size) and not storage.is_unresolved():
        mib = storage.to_mebibytes()
        if mib > MAX_SNAPSTART_EPHEMERAL_STORAGE_MIB:
            problems.add(
                "function_props['ephemeral_storage_size']",
                f"{mib:g} MiB",
                f"SnapStart allows at most {MAX_SNAPSTART_EPHEMERAL_STORAGE_MIB} MiB of ephemeral storage; "
                "lower it, or stream large files to S3",
            )
