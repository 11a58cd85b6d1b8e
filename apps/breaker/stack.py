"""Sample stack: a Python function that calls a flaky downstream through a shared circuit breaker."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from apps.common import (
    FUNCTION_URL_DLQ_REASON,
    URL_CONCURRENCY_REASON,
    encrypted_alarm_topic,
    python_function,
)
from constructs_lib import CircuitBreaker


class BreakerStack(Stack):
    """``inventory-client`` guards its inventory-service calls with the ``inventory-service`` circuit."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        alarm_topic = encrypted_alarm_topic(self, "Circuit breaker alarms")
        breaker = CircuitBreaker(
            self, "Breaker", removal_policy=RemovalPolicy.DESTROY, alarm_topic=alarm_topic
        )
        client = python_function(
            self,
            "InventoryClient",
            handler_dir="inventory_client",
            description="Checks stock through the inventory-service circuit breaker",
            environment={"DOWNSTREAM_FAILURE_RATE": "0.2"},
            dlq_reason=FUNCTION_URL_DLQ_REASON,
            concurrency_reason=URL_CONCURRENCY_REASON,
        )
        breaker.attach(
            client,
            circuit_id="inventory-service",
            failure_threshold=5,
            window=Duration.minutes(1),
            open_duration=Duration.seconds(30),
            max_open_duration=Duration.minutes(5),
        )
        url = client.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
        CfnOutput(self, "InventoryClientUrl", value=url.url, description="SigV4-signed GET ?sku=...")
        CfnOutput(self, "StateTable", value=breaker.table.table_name)
