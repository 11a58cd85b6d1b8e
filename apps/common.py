"""Building blocks shared by the sample apps."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct

from constructs_lib import acknowledge
from constructs_lib.checks import ServerlessPatternsChecks

HANDLERS = Path(__file__).resolve().parent / "handlers"
#: The newest Python runtime that both aws-cdk-lib and Powertools for AWS Lambda support.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/latest"
XRAY_WILDCARD_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level "
    "permissions, so AWS requires Resource '*' for them"
)


def checked_app(app: cdk.App | None = None) -> cdk.App:
    """An App (``app`` or a new one) on which cdk-nag's AwsSolutions and Serverless packs, and this
    library's ServerlessPatterns pack, run at synth."""
    app = app or cdk.App()
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), ServerlessChecks(app), ServerlessPatternsChecks()
    )
    return app


def python_function(
    scope: Construct,
    id: str,
    *,
    handler_dir: str,
    description: str,
    environment: dict[str, str] | None = None,
    memory_size: int = 256,
    timeout: Duration | None = None,
    dlq_reason: str,
) -> lambda_.Function:
    """A Python 3.14 arm64 function from ``apps/handlers/<handler_dir>``, with Powertools from AWS's public
    layer, JSON logs kept a month, active tracing and a role that may only write its own logs.

    ``dlq_reason`` says why the function needs no dead-letter queue of its own.
    """
    log_group = logs.LogGroup(scope, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH)
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"{id}: writes its own logs; other grants are added by the constructs that use it",
    )
    log_group.grant_write(role)
    # Resolved by CloudFormation at deploy time: synth needs no AWS call.
    powertools_arn = ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER)
    function = lambda_.Function(
        scope,
        id,
        runtime=PYTHON_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        handler="index.handler",
        code=lambda_.Code.from_asset(str(HANDLERS / handler_dir), exclude=["__pycache__", "*.pyc"]),
        layers=[lambda_.LayerVersion.from_layer_version_arn(scope, f"{id}Powertools", powertools_arn)],
        memory_size=memory_size,
        timeout=timeout or Duration.seconds(10),
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE,
        environment=environment,
        description=description,
    )
    acknowledge(role, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", XRAY_WILDCARD_REASON)
    acknowledge(function, "Serverless::Serverless-LambdaDLQ", dlq_reason)
    return function
