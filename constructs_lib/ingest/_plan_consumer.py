"""``QueueBufferedIngest``'s consumer props: the consumer, batching and concurrency checked, the visibility
timeout derived from the consumer's timeout, and the event source mapping's escape hatch merged."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from .._core import (
    Problems,
    is_unresolved,
    merge_props,
    reserved_concurrency,
    seconds,
    timeout_seconds,
    unqualified_snapstart_fix,
)
from .._core.limits import (
    MAPPING_CONCURRENCY_MAX,
    MAPPING_CONCURRENCY_MIN,
    SQS_DEFAULT_BATCH_SIZE,
    SQS_MAX_BATCH_SIZE,
    SQS_MAX_BATCH_SIZE_WITH_WINDOW,
    SQS_MAX_BATCHING_WINDOW_SECONDS,
    SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
    VISIBILITY_TIMEOUT_FACTOR,
)

DEFAULT_BATCH_SIZE = SQS_DEFAULT_BATCH_SIZE
DEFAULT_MAX_CONCURRENCY = 5
#: EventSourceMapping settings for streams and Kafka only; an SQS mapping with any of them fails at deploy.
_NOT_FOR_SQS_MAPPINGS = (
    "bisect_batch_on_error",
    "kafka_bootstrap_servers",
    "kafka_consumer_group_id",
    "kafka_topic",
    "max_record_age",
    "on_failure",
    "parallelization_factor",
    "retry_attempts",
    "schema_registry_config",
    "source_access_configurations",
    "starting_position",
    "starting_position_timestamp",
    "support_s3_on_failure_destination",
    "tumbling_window",
)


def _check_consumer_and_batching(
    problems: Problems,
    *,
    consumer: lambda_.IFunction,
    fifo: bool,
    batch_size: int,
    max_batching_window: Duration | None,
    max_concurrency: int,
    visibility_timeout: Duration | None,
) -> Duration | None:
    """Validate the consumer wiring and batching; return the visibility timeout to use."""
    snapstart_fix = unqualified_snapstart_fix(consumer)
    if snapstart_fix:
        problems.add("consumer", consumer.node.path, snapstart_fix)

    window = seconds(max_batching_window) if max_batching_window is not None else 0.0
    if fifo and max_batching_window is not None:
        problems.add(
            "max_batching_window",
            max_batching_window,
            "FIFO queues do not support a batching window; remove it or set fifo=False",
        )
    if window is not None and window > SQS_MAX_BATCHING_WINDOW_SECONDS:
        problems.add("max_batching_window", max_batching_window, "must be at most 5 minutes")

    if not is_unresolved(batch_size):
        limit = SQS_MAX_BATCH_SIZE if fifo or not window else SQS_MAX_BATCH_SIZE_WITH_WINDOW
        if not 1 <= batch_size <= limit:
            why = (
                "FIFO queues allow at most 10"
                if fifo
                else ("without max_batching_window at most 10" if not window else "at most 10000")
            )
            problems.add("batch_size", batch_size, f"must be between 1 and {limit} ({why})")
    if not is_unresolved(max_concurrency) and not (
        MAPPING_CONCURRENCY_MIN <= max_concurrency <= MAPPING_CONCURRENCY_MAX
    ):
        problems.add(
            "max_concurrency",
            max_concurrency,
            f"must be between {MAPPING_CONCURRENCY_MIN} and {MAPPING_CONCURRENCY_MAX} (the SQS event source "
            "mapping's maximum concurrency range)",
        )
    reserved = reserved_concurrency(consumer)
    if reserved is not None and not is_unresolved(max_concurrency) and reserved < max_concurrency:
        problems.add(
            "max_concurrency",
            max_concurrency,
            f"consumer '{consumer.node.path}' has a reserved concurrency of {reserved}: the mapping would be "
            "throttled, and every throttled batch burns a receive count on the way to the DLQ; lower "
            f"max_concurrency to {reserved} or less, or raise (or drop) the reserved concurrency",
        )
    return _visibility_timeout(problems, consumer, window, visibility_timeout)


def _visibility_timeout(
    problems: Problems, consumer: lambda_.IFunction, window: float | None, visibility_timeout: Duration | None
) -> Duration | None:
    """The given visibility timeout, checked against 6 x the consumer's timeout, or that floor derived."""
    consumer_timeout = timeout_seconds(consumer)
    floor = (
        VISIBILITY_TIMEOUT_FACTOR * consumer_timeout + (window or 0)
        if consumer_timeout is not None and window is not None
        else None
    )
    if visibility_timeout is None:
        if floor is None:
            problems.add(
                "visibility_timeout",
                None,
                f"the timeout of consumer '{consumer.node.path}' is unknown at synth time (imported or a "
                "token); pass visibility_timeout of at least 6 x its timeout plus the batching window",
            )
            return None
        return Duration.seconds(min(int(floor), SQS_MAX_VISIBILITY_TIMEOUT_SECONDS))
    explicit = seconds(visibility_timeout)
    if explicit is not None:
        if floor is not None and explicit < floor:
            problems.add(
                "visibility_timeout",
                visibility_timeout,
                f"must be at least {int(floor)} seconds: 6 x the consumer's {consumer_timeout}s timeout"
                + (f" + {int(window or 0)}s batching window" if window else "")
                + "; raise it or omit it to derive it",
            )
        if explicit > SQS_MAX_VISIBILITY_TIMEOUT_SECONDS:
            problems.add("visibility_timeout", visibility_timeout, "must be at most 12 hours")
    return visibility_timeout


def _merge_event_source_mapping_props(problems: Problems, user: Any) -> dict[str, Any]:
    return merge_props(
        problems,
        prop_name="event_source_mapping_props",
        l2_class=lambda_.EventSourceMapping,
        struct_class=lambda_.EventSourceMappingOptions,
        defaults={},
        user=user,
        required={"report_batch_item_failures": True},
        owned={
            "target": "consumer",
            "event_source_arn": "nothing (the queue is the source)",
            "batch_size": "batch_size",
            "max_batching_window": "max_batching_window",
            "max_concurrency": "max_concurrency",
        },
        refused=dict.fromkeys(
            _NOT_FOR_SQS_MAPPINGS,
            "SQS event source mappings do not support it (it is for streams or Kafka), and the deploy would "
            "fail; remove it",
        ),
    )
