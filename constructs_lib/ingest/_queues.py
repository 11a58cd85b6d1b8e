"""``QueueBufferedIngest``'s queues: the queue and its dead-letter queue, created from the plan or adopted."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import acknowledge
from ._plan import Plan


class IngestQueues:
    """The queue the API sends to, its dead-letter queue and their key, as children of ``scope``.

    With ``existing_queue``, that queue and its DLQ are used as they are; otherwise both are created
    (``DeadLetterQueue``, ``Queue``) with the plan's settings.
    """

    def __init__(self, scope: Construct, plan: Plan) -> None:
        self.queue: sqs.IQueue
        self.dead_letter_queue: sqs.IQueue
        self.encryption_key: kms.IKey | None
        if plan.existing_queue is not None:
            assert plan.existing_queue.dead_letter_queue is not None
            self.queue = plan.existing_queue
            self.dead_letter_queue = plan.existing_queue.dead_letter_queue.queue
            self.encryption_key = self.queue.encryption_master_key
            return
        self.dead_letter_queue = sqs.Queue(scope, "DeadLetterQueue", **plan.dead_letter_queue_kwargs)
        acknowledge(
            self.dead_letter_queue,
            "Serverless::Serverless-SQSRedrivePolicy",
            "This is the terminal dead-letter queue of the ingest queue; a DLQ of a DLQ would only move "
            "the problem, and an alarm fires on its first visible message instead",
        )
        self.queue = sqs.Queue(
            scope,
            "Queue",
            visibility_timeout=plan.visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=plan.max_receive_count, queue=self.dead_letter_queue
            ),
            **plan.queue_kwargs,
        )
        self.encryption_key = self.queue.encryption_master_key
        if plan.content_based_deduplication:
            # The user's documented opt-in (the trade-off is in the docstring): the pack's rule honours it.
            acknowledge(
                self.queue,
                "ServerlessPatterns::ServerlessPatterns-FifoApiDeduplication",
                "content_based_deduplication=True was chosen: requests with byte-identical bodies within 5 "
                "minutes are meant to become one message",
            )
