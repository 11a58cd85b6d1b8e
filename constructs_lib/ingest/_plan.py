"""``QueueBufferedIngest``'s props: each checked, its default resolved, the escape hatches merged.

``plan_props`` runs every check and returns the :class:`Plan` the builders need; the checks live with
their concern: ``_plan_queue`` (the queues), ``_plan_consumer`` (the consumer and its mapping),
``_plan_api`` (the API and its stage), ``authorization`` and ``identity``. The defaults are importable
from here as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import Problems, check_types, check_whole_seconds, or_default
from ._plan_api import (
    DEFAULT_ACCESS_LOG_RETENTION,
    DEFAULT_MESSAGE_GROUP_ID_HEADER,
    DEFAULT_MESSAGE_SCHEMA,
    DEFAULT_PATH,
    DEFAULT_STAGE_NAME,
    DEFAULT_THROTTLING_BURST_LIMIT,
    DEFAULT_THROTTLING_RATE_LIMIT,
    _check_group_header,
    _check_path,
    _check_schema,
    _check_stage_and_web_acl,
    _check_throttling,
    _first_api_in,
    _merge_api_props,
)
from ._plan_consumer import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    _check_consumer_and_batching,
    _merge_event_source_mapping_props,
)
from ._plan_queue import (
    DEFAULT_MAX_MESSAGE_AGE,
    DEFAULT_MAX_RECEIVE_COUNT,
    _check_queue_numbers,
    _from_existing_queue,
    _queue_kwargs,
)
from .authorization import ApiAuthorization, check_authorization
from .identity import PlannedIdentity, plan_caller_identity

__all__ = [
    "DEFAULT_ACCESS_LOG_RETENTION",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_MESSAGE_AGE",
    "DEFAULT_MAX_RECEIVE_COUNT",
    "DEFAULT_MESSAGE_GROUP_ID_HEADER",
    "DEFAULT_MESSAGE_SCHEMA",
    "DEFAULT_PATH",
    "DEFAULT_STAGE_NAME",
    "DEFAULT_THROTTLING_BURST_LIMIT",
    "DEFAULT_THROTTLING_RATE_LIMIT",
    "Plan",
    "check_types",
    "plan_props",
]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Every prop checked and resolved, and every escape hatch merged: what the builders need."""

    problems: Problems
    consumer: lambda_.IFunction
    existing_queue: sqs.Queue | None
    path_parts: tuple[str, ...]
    schema: dict[str, Any]
    authorization: ApiAuthorization
    caller_identity: PlannedIdentity | None
    stage_name: str
    throttling_rate_limit: float
    throttling_burst_limit: int
    access_log_retention: logs.RetentionDays
    web_acl_arn: str | None
    fifo: bool
    message_group_id_header: str
    content_based_deduplication: bool
    max_receive_count: int
    visibility_timeout: Duration | None
    batch_size: int
    max_batching_window: Duration | None
    max_concurrency: int
    max_message_age: Duration
    alarm_topic: sns.ITopic | None
    queue_kwargs: dict[str, Any]
    dead_letter_queue_kwargs: dict[str, Any]
    api_kwargs: dict[str, Any]
    event_source_mapping_kwargs: dict[str, Any]


def plan_props(
    scope: Construct, where: str, given: Mapping[str, Any], signature: Callable[..., None]
) -> Plan:
    """Check every prop against ``signature`` (the constructor's), resolve defaults and merge the escape
    hatches; raise once with every problem."""
    problems = Problems(f"QueueBufferedIngest '{where}'")
    if not check_types(problems, signature, given):
        problems.raise_if_any()  # the checks below assume the right types
    check_whole_seconds(problems, given, "visibility_timeout", "max_batching_window", "max_message_age")
    if given["existing_queue"] is not None:
        given = _from_existing_queue(problems, scope, given)
    fifo = bool(given["fifo"])
    consumer: lambda_.IFunction = given["consumer"]
    group_header = given["message_group_id_header"]
    batch_size = or_default(given["batch_size"], DEFAULT_BATCH_SIZE)
    max_concurrency = or_default(given["max_concurrency"], DEFAULT_MAX_CONCURRENCY)
    visibility_timeout = _check_consumer_and_batching(
        problems,
        consumer=consumer,
        fifo=fifo,
        batch_size=batch_size,
        max_batching_window=given["max_batching_window"],
        max_concurrency=max_concurrency,
        visibility_timeout=given["visibility_timeout"],
    )
    numbers = {**_check_queue_numbers(problems, given), **_check_throttling(problems, given)}
    _check_group_header(problems, fifo, group_header)
    content_based = bool(given["content_based_deduplication"])
    authorization = check_authorization(problems, or_default(given["authorization"], ApiAuthorization.iam()))
    _check_stage_and_web_acl(problems, given["stage_name"], given["web_acl_arn"])
    queue_kwargs, dlq_kwargs = _queue_kwargs(problems, given, fifo, content_based)
    plan = Plan(
        problems=problems,
        consumer=consumer,
        existing_queue=given["existing_queue"],
        path_parts=_check_path(problems, or_default(given["path"], DEFAULT_PATH)),
        schema=_check_schema(problems, given["message_schema"]),
        authorization=authorization,
        caller_identity=plan_caller_identity(problems, given, authorization, queue_kwargs),
        stage_name=or_default(given["stage_name"], DEFAULT_STAGE_NAME),
        access_log_retention=or_default(given["access_log_retention"], DEFAULT_ACCESS_LOG_RETENTION),
        web_acl_arn=given["web_acl_arn"],
        fifo=fifo,
        message_group_id_header=or_default(group_header, DEFAULT_MESSAGE_GROUP_ID_HEADER),
        content_based_deduplication=content_based,
        visibility_timeout=visibility_timeout,
        batch_size=batch_size,
        max_batching_window=given["max_batching_window"],
        max_concurrency=max_concurrency,
        alarm_topic=given["alarm_topic"],
        queue_kwargs=queue_kwargs,
        dead_letter_queue_kwargs=dlq_kwargs,
        api_kwargs=_merge_api_props(problems, given["api_props"], first_api_in_stack=_first_api_in(scope)),
        event_source_mapping_kwargs=_merge_event_source_mapping_props(
            problems, given["event_source_mapping_props"]
        ),
        **numbers,
    )
    problems.raise_if_any()
    return plan
