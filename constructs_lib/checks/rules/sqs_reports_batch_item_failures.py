"""An SQS event source mapping reports batch item failures, or one poison message fails its whole batch."""

from __future__ import annotations

from collections.abc import Iterator

from .._lambda import sqs_mappings
from .._model import Templates, is_literal
from .._rule import Finding, Rule


def _find(templates: Templates) -> Iterator[Finding]:
    for found in sqs_mappings(templates):
        types = found.mapping.props.get("FunctionResponseTypes", [])
        if is_literal(types) and "ReportBatchItemFailures" not in types:
            yield Finding(
                found.mapping,
                f"FunctionResponseTypes is {types!r}",
                "Properties.FunctionResponseTypes",
            )


RULE = Rule(
    name="SqsReportsBatchItemFailures",
    summary="An SQS event source mapping without ReportBatchItemFailures retries whole batches: one poison "
    "message sends the good messages of its batch back to the queue, and on to the DLQ",
    fix="Set report_batch_item_failures=True on the SqsEventSource (FunctionResponseTypes: "
    "[ReportBatchItemFailures]) and return batchItemFailures from the handler, e.g. with Powertools' "
    "BatchProcessor",
    find=_find,
)
