"""Sample stack: a Java product catalog with SnapStart, a canary rollout and a function URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from apps.common import encrypted_alarm_topic
from constructs_lib import SnapStartFunction, java_code

CATALOG_PROJECT = Path(__file__).resolve().parent.parent / "java" / "catalog"


class CatalogStack(Stack):
    """``catalog.CatalogHandler`` on Java 25 with SnapStart, reached only through its ``live`` alias."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        alarm_topic = encrypted_alarm_topic(self, "Catalog alarms")
        catalog = catalog_function(self, "Catalog", alarm_topic=alarm_topic)
        url = catalog.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
        CfnOutput(self, "CatalogUrl", value=url.url, description="SigV4-signed GET <url>products/<id>")
        CfnOutput(self, "CatalogAlias", value=catalog.alias.function_arn)


def catalog_function(scope: Construct, id: str, *, alarm_topic: sns.ITopic) -> SnapStartFunction:
    """``catalog.CatalogHandler`` on Java 25 with SnapStart and a canary rollout on its alarms."""
    return SnapStartFunction(
        scope,
        id,
        code=java_code(CATALOG_PROJECT),
        handler="catalog.CatalogHandler::handleRequest",
        description="Product catalog (Java, SnapStart); primed in static initialisation",
        deployment=codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
        alarm_topic=alarm_topic,
    )
