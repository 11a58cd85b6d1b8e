"""A FIFO queue fed by API Gateway does not deduplicate by content: distinct requests can share a body."""

from __future__ import annotations

from collections.abc import Iterator

from .._lambda import SQS_QUEUE
from .._model import Resource, Templates
from .._rule import Finding, Rule


def _api_feeders(templates: Templates) -> dict[Resource, Resource]:
    """Queues that an API Gateway integration sends to -> the method or integration that does."""
    feeders: dict[Resource, Resource] = {}
    for method in templates.of_type("AWS::ApiGateway::Method"):
        integration = method.props.get("Integration", {})
        if ":sqs:" not in templates.literal_text(method.stack, integration.get("Uri")):
            continue
        for queue in templates.references(method.stack, integration, SQS_QUEUE):
            feeders.setdefault(queue, method)
    for integration in templates.of_type("AWS::ApiGatewayV2::Integration"):
        if str(integration.props.get("IntegrationSubtype", "")).startswith("SQS-"):
            for queue in templates.references(integration.stack, integration.props, SQS_QUEUE):
                feeders.setdefault(queue, integration)
    return feeders


def _find(templates: Templates) -> Iterator[Finding]:
    for queue, feeder in _api_feeders(templates).items():
        props = queue.props
        if props.get("FifoQueue") is True and props.get("ContentBasedDeduplication") is True:
            yield Finding(
                queue,
                f"ContentBasedDeduplication is on, and {feeder.logical_id} ({feeder.type}) sends requests "
                "to it: two different requests with the same body within 5 minutes become one message",
                "Properties.ContentBasedDeduplication",
            )


RULE = Rule(
    name="FifoApiDeduplication",
    summary="A FIFO queue fed by API Gateway deduplicates by content, so distinct requests with the same "
    "body (two identical orders) within five minutes are silently merged into one",
    fix="Turn content_based_deduplication off and set MessageDeduplicationId in the integration from the "
    "client's idempotency key or $context.requestId (QueueBufferedIngest does this by default)",
    find=_find,
)
