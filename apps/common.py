"""Building blocks shared by the sample apps."""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib import acknowledge
from constructs_lib.checks import policy_packs

HANDLERS = Path(__file__).resolve().parent / "handlers"
#: The newest Python runtime that both aws-cdk-lib and Powertools for AWS Lambda support.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/latest"
XRAY_WILDCARD_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level "
    "permissions, so AWS requires Resource '*' for them"
)


URL_CONCURRENCY_REASON = (
    "Answers its function URL synchronously; a reserved limit would take from the account's unreserved "
    "pool and turn bursts into 429s, and the account's own limit already bounds it"
)
SQS_CONSUMER_CONCURRENCY_REASON = (
    "Consumes SQS through an event source mapping whose maximum concurrency bounds it; AWS recommends that "
    "over reserved concurrency, which would throttle polled batches back to the queue"
)
NO_VPC_REASON = (
    "Calls only AWS APIs and public HTTPS endpoints; a VPC would add ENIs and a NAT path without protecting "
    "any private resource"
)
ENVIRONMENT_REASON = (
    "The environment holds table names, URLs and settings, never secrets; Lambda encrypts it at rest with an "
    "AWS managed key"
)
LOG_GROUP_REASON = (
    "CloudWatch Logs encrypts log groups at rest by default; a customer managed key would add a KMS call "
    "per write and restrict no reader of these logs"
)
FUNCTION_URL_DLQ_REASON = (
    "Invoked synchronously through its function URL; the caller receives any error, so there is no "
    "asynchronous event to keep in a dead-letter queue"
)
SQS_CONSUMER_DLQ_REASON = (
    "Invoked synchronously by the SQS event source mapping only; failed messages go to the source queue's "
    "redrive dead-letter queue, so a function DLQ would never receive anything"
)


def builtin_validation() -> bool:
    """Whether the samples run aws-cdk-lib's built-in CloudFormation validation: only with
    ``CDK_VALIDATION=true`` in the environment (``cdk synth --no-validation`` and ``CDK_VALIDATION=false``
    turn it off for any app)."""
    return os.environ.get("CDK_VALIDATION", "").lower() == "true"


def checked_app(app: cdk.App | None = None) -> cdk.App:
    """An App (``app`` or a new one) on which cdk-nag's AwsSolutions and Serverless packs and the
    ServerlessPatterns pack (``constructs_lib.checks.policy_packs``) run at synth.

    A new App leaves aws-cdk-lib's built-in CloudFormation validation off unless ``CDK_VALIDATION=true``:
    ``make test`` runs cfn-lint over every sample template (and the built-in engine over the default app
    once), and the engine costs about 3 s of CPU per synth plus 17 ms per resource (see
    docs/performance.md). An App passed in keeps its own setting.
    """
    app = app or cdk.App(builtin_cloud_formation_validation=builtin_validation())
    cdk.Validations.of(app).add_plugins(*policy_packs(app))
    return app


def encrypted_alarm_topic(scope: Construct, display_name: str) -> sns.Topic:
    """The topic every alarm of a sample goes to: TLS-only, encrypted with a key CloudWatch may use, and a
    topic policy that lets this account's alarms publish.

    An AWS-managed SNS key would not do: its policy cannot let CloudWatch alarms publish.
    """
    key = kms.Key(
        scope,
        "AlarmTopicKey",
        enable_key_rotation=True,
        description=f"Encrypts the '{display_name}' topic; CloudWatch alarms may publish to it",
    )
    cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
    key.grant(cloudwatch_service, "kms:Decrypt", "kms:GenerateDataKey*")
    topic = sns.Topic(scope, "AlarmTopic", enforce_ssl=True, display_name=display_name, master_key=key)
    # enforce_ssl writes a topic policy, and a topic policy replaces SNS's default one (which let the
    # account's own alarms publish): without this Allow, every alarm action fails.
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAlarmsOfThisAccountToPublish",
            principals=[cloudwatch_service],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:cloudwatch:{cdk.Aws.REGION}:"
                    f"{cdk.Aws.ACCOUNT_ID}:alarm:*"
                },
            },
        )
    )
    return topic


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
    concurrency_reason: str,
) -> lambda_.Function:
    """A Python 3.14 arm64 function from ``apps/handlers/<handler_dir>``, with Powertools from AWS's public
    layer, JSON logs kept a month, active tracing and a role that may only write its own logs.

    ``dlq_reason`` says why the function needs no dead-letter queue of its own, ``concurrency_reason``
    why it reserves no concurrency. Generic checkov checks are acknowledged with their reasons here.
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
    acknowledge(function, "checkov::CKV_AWS_116", dlq_reason)
    acknowledge(function, "checkov::CKV_AWS_115", concurrency_reason)
    acknowledge(function, "checkov::CKV_AWS_117", NO_VPC_REASON)
    acknowledge(function, "checkov::CKV_AWS_173", ENVIRONMENT_REASON)
    acknowledge(log_group, "checkov::CKV_AWS_158", LOG_GROUP_REASON)
    return function
