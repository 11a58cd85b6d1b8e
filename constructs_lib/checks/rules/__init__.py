"""The rules of the ServerlessPatterns pack, one per module."""

from __future__ import annotations

from .._rule import Rule
from . import (
    cdn_api_cache_key_authorization,
    cdn_api_host_header,
    cdn_function_url_auth,
    cdn_no_iam_authorized_api,
    delivery_undecided,
    fifo_api_deduplication,
    snapstart_invoked_qualified,
    sqs_consumer_can_run,
    sqs_consumer_concurrency,
    sqs_reports_batch_item_failures,
    sqs_visibility_timeout,
)

ALL_RULES: tuple[Rule, ...] = (
    snapstart_invoked_qualified.RULE,
    sqs_reports_batch_item_failures.RULE,
    sqs_visibility_timeout.RULE,
    sqs_consumer_concurrency.RULE,
    sqs_consumer_can_run.RULE,
    cdn_api_cache_key_authorization.RULE,
    cdn_api_host_header.RULE,
    cdn_function_url_auth.RULE,
    cdn_no_iam_authorized_api.RULE,
    fifo_api_deduplication.RULE,
    *(module.RULE for module in delivery_undecided.FAMILY_MODULES),
    delivery_undecided.RULE,
)
