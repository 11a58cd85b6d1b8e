"""An SQS consumer's concurrency is bounded: by the mapping's maximum concurrency or reserved concurrency.

An unbounded consumer works; it is a risk (a backlog scales it to the account's limit), so the rule warns.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..._core.limits import MAPPING_CONCURRENCY_RANGE
from .._lambda import sqs_mappings
from .._model import Templates, is_literal
from .._rule import Finding, Rule


def _find(templates: Templates) -> Iterator[Finding]:
    for found in sqs_mappings(templates):
        if found.function is None:
            continue
        scaling = found.mapping.props.get("ScalingConfig")
        if scaling is not None and not is_literal(scaling):
            continue  # a condition or parameter: only deploy time knows it
        if isinstance(scaling, dict) and scaling.get("MaximumConcurrency") is not None:
            continue
        if found.function.props.get("ReservedConcurrentExecutions") is not None:
            continue
        yield Finding(
            found.mapping,
            f"no ScalingConfig.MaximumConcurrency, and {found.function.logical_id} reserves no concurrency",
            "Properties.ScalingConfig",
        )


RULE = Rule(
    name="SqsConsumerConcurrency",
    summary="An SQS event source mapping has no maximum concurrency and its function no reserved "
    "concurrency: a backlog scales the consumer to the account's limit, throttling other functions and "
    "flooding the downstream the queue was meant to protect",
    fix=f"Set max_concurrency on the SqsEventSource ({MAPPING_CONCURRENCY_RANGE}; "
    "ScalingConfig.MaximumConcurrency), or give the function reserved_concurrent_executions",
    find=_find,
    severity="warning",
)
