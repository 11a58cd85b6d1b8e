"""The storefront's stateful stack: what holds data or identities, retained when the stack goes away."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from apps.edge.stack import customer_user_pool, sign_in_outputs
from constructs_lib import acknowledge
from constructs_lib.runtime._store import TTL_ATTRIBUTE

#: The order consumer's timeout; the queue's visibility timeout is 6 x this (AWS's guidance).
CONSUMER_TIMEOUT = Duration.seconds(30)
#: Receives before an order moves to the DLQ: room for what a 30-minute payments outage may cost a
#: paused consumer's messages (constructs_lib warns below that), plus one.
MAX_RECEIVE_COUNT = 10


class StorefrontStateful(Stack):
    """Customers (Cognito), the order queues, the circuit-breaker state and the idempotency records."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.user_pool: cognito.UserPool = customer_user_pool(self)
        sign_in_outputs(self, self.user_pool)
        self.orders_dead_letter_queue = sqs.Queue(
            self,
            "OrdersDeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.orders_dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "The terminal dead-letter queue of the order queue; an alarm fires on its first visible message",
        )
        self.orders = sqs.Queue(
            self,
            "Orders",
            visibility_timeout=Duration.seconds(6 * CONSUMER_TIMEOUT.to_seconds()),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVE_COUNT, queue=self.orders_dead_letter_queue
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.circuit_state = dynamodb.Table(
            self,
            "CircuitState",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=TTL_ATTRIBUTE,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            **_table_defaults(),
        )
        self.idempotency = dynamodb.Table(
            self,
            "Idempotency",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            **_table_defaults(),
        )
        for table, holds in (
            (self.circuit_state, "circuit state"),
            (self.idempotency, "idempotency records"),
        ):
            acknowledge(
                table,
                "checkov::CKV_AWS_119",
                f"Encrypted at rest with DynamoDB's AWS managed key; it holds {holds} (ids, hashes, "
                "timestamps), no payment data, and only this app's roles are granted access",
            )


def _table_defaults() -> dict[str, Any]:
    return {
        "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
        "encryption": dynamodb.TableEncryption.AWS_MANAGED,
        "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        "removal_policy": RemovalPolicy.RETAIN,
    }
