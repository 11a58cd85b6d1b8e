"""``QueueBufferedIngest``'s consumer side: the event source mapping from the queue to the consumer."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import acknowledge, cdk_warning, underlying_function
from ._plan import Plan


def consumer_mapping(scope: Construct, plan: Plan, queue: sqs.IQueue) -> lambda_.EventSourceMapping:
    """The mapping (``EventSourceMapping``, a child of ``scope``) with the plan's batching and concurrency,
    created after the consumer may read the queue."""
    consumer = plan.consumer
    mapping = lambda_.EventSourceMapping(
        scope,
        "EventSourceMapping",
        target=consumer,
        event_source_arn=queue.queue_arn,
        batch_size=plan.batch_size,
        max_batching_window=plan.max_batching_window,
        max_concurrency=plan.max_concurrency,
        **plan.event_source_mapping_kwargs,
    )
    if underlying_function(consumer).role is not None:
        grant = queue.grant_consume_messages(consumer)
        # The mapping is only valid once the consumer may read the queue.
        grant.apply_before(mapping)
    else:
        cdk_warning(
            scope,
            "consumerRoleUnknown",
            f"consumer '{consumer.node.path}' was imported without its role, so the construct cannot "
            "grant it sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility/GetQueueAttributes on "
            "the queue; grant them to its execution role, or import it with "
            "Function.from_function_attributes(role=...)",
        )
    acknowledge(
        mapping,
        "Serverless::Serverless-LambdaEventSourceMappingDestination",
        "SQS event source mappings do not support on-failure destinations; failed messages move to "
        "the queue's redrive dead-letter queue after max_receive_count receives",
    )
    return mapping
