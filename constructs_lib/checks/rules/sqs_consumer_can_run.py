"""An SQS consumer can run: its function does not reserve zero concurrent executions."""

from __future__ import annotations

from collections.abc import Iterator

from .._lambda import sqs_mappings
from .._model import Templates, number
from .._rule import Finding, Rule


def _find(templates: Templates) -> Iterator[Finding]:
    for found in sqs_mappings(templates):
        if found.function is None or found.mapping.props.get("Enabled") is False:
            continue  # a disabled mapping polls nothing: pausing a consumer that way is deliberate
        reserved = found.function.props.get("ReservedConcurrentExecutions")
        if reserved is None or number(reserved, 1) != 0:
            continue
        yield Finding(
            found.mapping,
            f"its function {found.function.logical_id} reserves 0 concurrent executions, so Lambda "
            "throttles every batch: messages are received, returned and, after maxReceiveCount, moved to "
            "the dead-letter queue unprocessed",
            "Properties.FunctionName",
        )


RULE = Rule(
    name="SqsConsumerCanRun",
    summary="An SQS event source mapping is enabled, but its function reserves zero concurrency and can "
    "never run",
    fix="Give the function reserved_concurrent_executions of at least the mapping's maximum concurrency "
    "(or none, bounding it with max_concurrency on the SqsEventSource); to pause the consumer, disable the "
    "mapping (enabled=False), which keeps messages in the queue with their receive counts",
    find=_find,
)
