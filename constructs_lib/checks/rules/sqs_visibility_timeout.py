"""An SQS queue's visibility timeout covers six times its consumer's timeout plus the batching window.

Below the function's timeout, Lambda refuses to create the mapping ("Queue visibility timeout: 30 seconds
is less than Function timeout: 60 seconds"): an error. Between that and AWS's guidance (6 x the timeout +
the batching window) the mapping works, but a message still being processed, or retried by Lambda after
a throttle, can become visible again and run twice: a warning.
"""

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
        if visibility < timeout:
            yield Finding(
                found.queue,
                f"VisibilityTimeout is {visibility:g} s, under the {timeout:g} s timeout of "
                f"{found.function.logical_id}: Lambda refuses to create the mapping "
                f"{found.mapping.logical_id} (AWS recommends 6 x {timeout:g} s + {window:g} s batching "
                f"window = {needed:g} s)",
                "Properties.VisibilityTimeout",
            )
        elif visibility < needed:
            yield Finding(
                found.queue,
                f"VisibilityTimeout is {visibility:g} s, under 6 x {timeout:g} s (timeout of "
                f"{found.function.logical_id}) + {window:g} s (batching window of "
                f"{found.mapping.logical_id}) = {needed:g} s",
                "Properties.VisibilityTimeout",
                severity="warning",
            )


RULE = Rule(
    name="SqsVisibilityTimeout",
    summary="An SQS queue's visibility timeout is under its consumer's timeout, so Lambda refuses to create "
    "the mapping (an error), or under 6 x that timeout + the batching window, so messages still being "
    "processed (or retried by Lambda) become visible again and run twice (a warning)",
    fix="Raise the queue's visibility_timeout to at least 6 x the function's timeout + "
    "max_batching_window (or shorten the function's timeout)",
    find=_find,
    severity_note="error (the pack's severity) under the function's timeout, where Lambda refuses the "
    "mapping; warning under 6 x it + the batching window",
)
