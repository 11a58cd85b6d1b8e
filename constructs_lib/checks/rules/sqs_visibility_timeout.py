"""An SQS queue's visibility timeout covers six times its consumer's timeout plus the batching window."""

from __future__ import annotations

from collections.abc import Iterator

from ..._core.limits import (
    LAMBDA_DEFAULT_TIMEOUT_SECONDS,
    SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
    VISIBILITY_TIMEOUT_FACTOR,
)
from .._lambda import sqs_mappings
from .._model import Templates, number
from .._rule import Finding, Rule


def _find(templates: Templates) -> Iterator[Finding]:
    for found in sqs_mappings(templates):
        if found.queue is None or found.function is None:
            continue
        visibility = number(
            found.queue.props.get("VisibilityTimeout"), SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS
        )
        timeout = number(found.function.props.get("Timeout"), LAMBDA_DEFAULT_TIMEOUT_SECONDS)
        window = number(found.mapping.props.get("MaximumBatchingWindowInSeconds"), 0)
        if visibility is None or timeout is None or window is None:
            continue  # only deploy time knows one of them
        needed = VISIBILITY_TIMEOUT_FACTOR * timeout + window
        if visibility < needed:
            yield Finding(
                found.queue,
                f"VisibilityTimeout is {visibility:g} s, under 6 x {timeout:g} s (timeout of "
                f"{found.function.logical_id}) + {window:g} s (batching window of "
                f"{found.mapping.logical_id}) = {needed:g} s",
                "Properties.VisibilityTimeout",
            )


RULE = Rule(
    name="SqsVisibilityTimeout",
    summary="An SQS queue's visibility timeout is under 6 x its consumer's timeout + the batching window, "
    "so messages still being processed (or retried by Lambda) become visible again and run twice",
    fix="Raise the queue's visibility_timeout to at least 6 x the function's timeout + "
    "max_batching_window (or shorten the function's timeout)",
    find=_find,
)
