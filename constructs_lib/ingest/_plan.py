"""``QueueBufferedIngest``'s props: each checked, its default resolved, the escape hatches merged."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import (
    Problems,
    check_types,
    is_unresolved,
    merge_props,
    or_default,
    reserved_concurrency,
    seconds,
    timeout_seconds,
    unqualified_snapstart_fix,
)
from .._core.json_schema import schema_problems
from .._core.limits import (
    MAPPING_CONCURRENCY_MAX,
    MAPPING_CONCURRENCY_MIN,
    SQS_DEFAULT_BATCH_SIZE,
    SQS_MAX_BATCH_SIZE,
    SQS_MAX_BATCH_SIZE_WITH_WINDOW,
    SQS_MAX_BATCHING_WINDOW_SECONDS,
    SQS_MAX_RETENTION_SECONDS,
    SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
    VISIBILITY_TIMEOUT_FACTOR,
)
from .._core.regions import environment_mismatch
from .authorization import ApiAuthorization, check_authorization
from .identity import PlannedIdentity, plan_caller_identity

DEFAULT_PATH = "messages"
DEFAULT_STAGE_NAME = "prod"
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_BATCH_SIZE = SQS_DEFAULT_BATCH_SIZE
DEFAULT_MAX_CONCURRENCY = 5
DEFAULT_THROTTLING_RATE_LIMIT = 100.0
DEFAULT_THROTTLING_BURST_LIMIT = 200
DEFAULT_ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_MAX_MESSAGE_AGE = Duration.minutes(5)
DEFAULT_MESSAGE_GROUP_ID_HEADER = "X-Message-Group-Id"
DEFAULT_MESSAGE_SCHEMA: Mapping[str, Any] = {"type": "object"}

_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
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
_QUEUE_SECURITY_DEFAULTS = ("encryption", "encryption_master_key", "enforce_ssl", "data_key_reuse")
#: Props that only a queue the construct creates takes: refused with existing_queue.
_OWNED_BY_AN_EXISTING_QUEUE = (
    "queue_props",
    "dead_letter_queue_props",
    "encryption_key",
    "max_receive_count",
    "visibility_timeout",
    "fifo",
    "content_based_deduplication",
)
#: SQS keeps a message 4 days when no retention period is set.
_DEFAULT_RETENTION_SECONDS = 4 * 24 * 60 * 60


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
    numbers = _check_queue_numbers(problems, given)
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


def _from_existing_queue(problems: Problems, scope: Construct, given: Mapping[str, Any]) -> dict[str, Any]:
    """The props as they follow from ``existing_queue``: its settings are read, never overridden."""
    queue: sqs.Queue = given["existing_queue"]
    mismatch = environment_mismatch(queue, scope)
    if mismatch:
        problems.add("existing_queue", queue.node.path, mismatch)
    for prop in _OWNED_BY_AN_EXISTING_QUEUE:
        if given[prop] is not None:
            problems.add(
                prop, given[prop], "existing_queue has its own; set it on that queue and remove it here"
            )
    if queue.dead_letter_queue is None:
        problems.add(
            "existing_queue",
            queue.node.path,
            "needs a dead-letter queue: create it with sqs.Queue(..., "
            "dead_letter_queue=sqs.DeadLetterQueue(...))",
        )
    cfn = queue.node.default_child
    assert isinstance(cfn, sqs.CfnQueue)
    _check_existing_queue_security(problems, queue, cfn)
    visibility = cfn.visibility_timeout
    derived = dict(given)
    derived["fifo"] = bool(queue.fifo)
    derived["content_based_deduplication"] = bool(cfn.content_based_deduplication)
    derived["visibility_timeout"] = (
        Duration.seconds(visibility) if visibility is not None and not is_unresolved(visibility) else None
    )
    if derived["visibility_timeout"] is None:
        problems.add(
            "existing_queue",
            queue.node.path,
            "set its visibility_timeout explicitly, to at least 6 x the consumer's timeout plus the batching "
            "window (SQS's default of 30 seconds is too short for most consumers)",
        )
    return derived


def _check_existing_queue_security(problems: Problems, queue: sqs.Queue, cfn: sqs.CfnQueue) -> None:
    """The defaults the construct gives its own queues, checked on the user's: retention, encryption, TLS."""
    dlq = queue.dead_letter_queue.queue if queue.dead_letter_queue is not None else None
    dlq_cfn = dlq.node.default_child if dlq is not None else None
    if isinstance(dlq_cfn, sqs.CfnQueue):
        kept, dlq_kept = (
            c.message_retention_period
            if c.message_retention_period is not None
            else _DEFAULT_RETENTION_SECONDS
            for c in (cfn, dlq_cfn)
        )
        if not is_unresolved(kept) and not is_unresolved(dlq_kept) and dlq_kept < kept:
            problems.add(
                "existing_queue",
                f"{queue.node.path} (retention {kept}s, its DLQ {dlq_kept}s)",
                "its dead-letter queue must keep messages at least as long as the queue: a moved message "
                "keeps its original enqueue time and would expire early; raise the DLQ's retention_period",
            )
    if cfn.kms_master_key_id is None and cfn.sqs_managed_sse_enabled is False:
        problems.warn(
            "existingQueueUnencrypted",
            f"existing_queue '{queue.node.path}' is not encrypted at rest, unlike the queues this construct "
            "creates; give it encryption=sqs.QueueEncryption.SQS_MANAGED (or a KMS key)",
        )
    if not _denies_insecure_transport(queue):
        problems.warn(
            "existingQueueNotTlsOnly",
            f"existing_queue '{queue.node.path}' accepts requests without TLS, unlike the queues this "
            "construct creates; create it with enforce_ssl=True",
        )


def _denies_insecure_transport(queue: sqs.Queue) -> bool:
    policy = queue.node.try_find_child("Policy")
    if not isinstance(policy, sqs.QueuePolicy):
        return False
    document = queue.stack.resolve(policy.document.to_json())
    return any(
        statement.get("Effect") == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for statement in document.get("Statement", [])
    )


def _merge_queue_props(
    problems: Problems, given: Mapping[str, Any], fifo: bool, content_based_deduplication: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The main queue's and the DLQ's kwargs (they differ in defaults and in the keys they own)."""
    key = given["encryption_key"]
    encryption = {
        "encryption": sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.KMS_MANAGED,
        "encryption_master_key": key,
        "enforce_ssl": True,
    }
    required = {"fifo": True} if fifo else {}
    dlq_kwargs = merge_props(
        problems,
        prop_name="dead_letter_queue_props",
        l2_class=sqs.Queue,
        struct_class=sqs.QueueProps,
        defaults={**encryption, "retention_period": Duration.days(14)},
        user=given["dead_letter_queue_props"],
        required=required,
        owned={"fifo": "fifo", "dead_letter_queue": "nothing (a DLQ has no DLQ of its own)"},
        security_defaults=(*_QUEUE_SECURITY_DEFAULTS, "retention_period"),
    )
    queue_kwargs = merge_props(
        problems,
        prop_name="queue_props",
        l2_class=sqs.Queue,
        struct_class=sqs.QueueProps,
        defaults={
            **encryption,
            "retention_period": Duration.days(4),
            **({"content_based_deduplication": True} if content_based_deduplication else {}),
        },
        user=given["queue_props"],
        required=required,
        owned={
            "fifo": "fifo",
            "visibility_timeout": "visibility_timeout",
            "dead_letter_queue": "max_receive_count / dead_letter_queue_props",
            "content_based_deduplication": "content_based_deduplication",
        },
        security_defaults=_QUEUE_SECURITY_DEFAULTS,
    )
    _check_retention(problems, queue_kwargs.get("retention_period"), dlq_kwargs.get("retention_period"))
    _check_message_age(problems, given["max_message_age"], queue_kwargs.get("retention_period"))
    return queue_kwargs, dlq_kwargs


def _retention_of(queue: sqs.Queue) -> Duration:
    """An existing queue's retention period (SQS's default of 4 days when it sets none)."""
    cfn = queue.node.default_child
    value = cfn.message_retention_period if isinstance(cfn, sqs.CfnQueue) else None
    return Duration.seconds(value) if value is not None and not is_unresolved(value) else Duration.days(4)


def _check_message_age(problems: Problems, max_message_age: Duration | None, retention: Any) -> None:
    """An age alarm at or above the retention period can never fire: messages expire first."""
    age, kept = seconds(or_default(max_message_age, DEFAULT_MAX_MESSAGE_AGE)), seconds(retention)
    if age is not None and kept is not None and kept <= age <= SQS_MAX_RETENTION_SECONDS:
        problems.add(
            "max_message_age",
            max_message_age,
            f"must be below the queue's retention period ({int(kept)}s), or the message-age alarm can never "
            "fire: messages expire first; lower it or raise the queue's retention period",
        )


def _first_api_in(scope: Construct) -> bool:
    """True unless the stack already sets API Gateway's account-level CloudWatch role."""
    stack = Stack.of(scope)
    return not any(isinstance(node, apigateway.CfnAccount) for node in stack.node.find_all())


def _merge_api_props(problems: Problems, user: Any, *, first_api_in_stack: bool) -> dict[str, Any]:
    return merge_props(
        problems,
        prop_name="api_props",
        l2_class=apigateway.RestApi,
        struct_class=apigateway.RestApiProps,
        defaults={
            "endpoint_types": [apigateway.EndpointType.REGIONAL],
            # AWS::ApiGateway::Account is one setting per account and region: set it once per stack.
            "cloud_watch_role": first_api_in_stack,
            "description": "Queue-buffered ingest: POST bodies are enqueued to SQS",
        },
        user=user,
        owned={
            "deploy_options": "stage_name, throttling_rate_limit, throttling_burst_limit, "
            "access_log_retention",
            "deploy": "nothing (the construct always deploys a stage)",
            "default_method_options": "authorization",
        },
    )


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


def _check_schema(problems: Problems, schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return dict(DEFAULT_MESSAGE_SCHEMA)
    for prop, value, fix in schema_problems(schema, "message_schema"):
        problems.add(prop, value, fix)
    return dict(schema) if isinstance(schema, Mapping) else dict(DEFAULT_MESSAGE_SCHEMA)


def _check_group_header(problems: Problems, fifo: bool, header: str | None) -> None:
    if header is None:
        return
    if not fifo:
        problems.add(
            "message_group_id_header", header, "only used with fifo=True; set fifo=True or remove it"
        )
    elif not _HEADER_NAME.match(header):
        problems.add(
            "message_group_id_header", header, "must be a valid HTTP header name such as 'X-Message-Group-Id'"
        )


def _check_path(problems: Problems, path: str) -> tuple[str, ...]:
    parts = [p for p in path.strip("/").split("/")]
    if not path.strip("/") or not all(_PATH_SEGMENT.match(p) for p in parts):
        problems.add(
            "path",
            path,
            "must be one or more '/'-separated segments of letters, digits, '.', '_', '~' or '-', "
            "for example 'messages' or 'v1/orders'",
        )
        return (DEFAULT_PATH,)
    return tuple(parts)


def _check_stage_and_web_acl(problems: Problems, stage_name: str | None, web_acl_arn: str | None) -> None:
    if stage_name is not None and not is_unresolved(stage_name):
        problems.check(
            bool(re.fullmatch(r"[A-Za-z0-9_-]{1,128}", stage_name)),
            "stage_name",
            stage_name,
            "must be 1-128 letters, digits, '-' or '_' (API Gateway's stage names), for example 'prod'",
        )
    if web_acl_arn is not None and not is_unresolved(web_acl_arn):
        problems.check(
            ":regional/webacl/" in web_acl_arn,
            "web_acl_arn",
            web_acl_arn,
            "must be the ARN of a REGIONAL WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/"
            "<name>/<id>); a CLOUDFRONT-scope ACL belongs on the distribution (CdnFrontedOrigin.web_acl_id)",
        )


def _check_key_is_used(
    problems: Problems, key: kms.IKey | None, queue_kwargs: Mapping[str, Any], dlq_kwargs: Mapping[str, Any]
) -> None:
    """encryption_key is ignored by a queue whose props choose another encryption."""
    if key is None:
        return
    for prop, kwargs in (("queue_props", queue_kwargs), ("dead_letter_queue_props", dlq_kwargs)):
        if kwargs.get("encryption") not in (sqs.QueueEncryption.KMS, None):
            problems.add(
                f"{prop}['encryption']",
                kwargs["encryption"],
                "encryption_key is given, but this encryption would ignore it; remove one of the two",
            )


def _queue_kwargs(
    problems: Problems, given: Mapping[str, Any], fifo: bool, content_based: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The queue's and the DLQ's kwargs (none for an existing queue, whose message age is checked)."""
    problems.check(
        fifo or not content_based,
        "content_based_deduplication",
        given["content_based_deduplication"],
        "only FIFO queues deduplicate; set fifo=True or remove it",
    )
    if given["existing_queue"] is not None:
        _check_message_age(problems, given["max_message_age"], _retention_of(given["existing_queue"]))
        return {}, {}
    queue_kwargs, dlq_kwargs = _merge_queue_props(problems, given, fifo, content_based)
    _check_key_is_used(problems, given["encryption_key"], queue_kwargs, dlq_kwargs)
    return queue_kwargs, dlq_kwargs


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


def _check_queue_numbers(problems: Problems, given: Mapping[str, Any]) -> dict[str, Any]:
    """The receive count, message age and stage throttling, checked and with defaults applied."""
    max_receive_count = or_default(given["max_receive_count"], DEFAULT_MAX_RECEIVE_COUNT)
    max_message_age = or_default(given["max_message_age"], DEFAULT_MAX_MESSAGE_AGE)
    rate = or_default(given["throttling_rate_limit"], DEFAULT_THROTTLING_RATE_LIMIT)
    burst = or_default(given["throttling_burst_limit"], DEFAULT_THROTTLING_BURST_LIMIT)
    if not is_unresolved(max_receive_count) and not 1 <= max_receive_count <= 1000:
        problems.add(
            "max_receive_count", max_receive_count, "must be between 1 and 1000 (5 or more recommended)"
        )
    age = seconds(max_message_age)
    if age is not None and not 0 < age <= SQS_MAX_RETENTION_SECONDS:
        problems.add("max_message_age", max_message_age, "must be more than 0 and at most 14 days")
    if not is_unresolved(rate) and rate <= 0:
        problems.add("throttling_rate_limit", rate, "must be a positive number of requests/s")
    if not is_unresolved(burst) and burst < 1:
        problems.add("throttling_burst_limit", burst, "must be a positive number of requests")
    elif not is_unresolved(burst) and not is_unresolved(rate) and rate > 0 and burst < rate:
        problems.add(
            "throttling_burst_limit",
            burst,
            f"must be at least throttling_rate_limit ({rate:g}/s): the bucket holds at most {burst} "
            "requests, "
            "so the steady rate could never be reached; raise it (twice the rate is the default's ratio)",
        )
    return {
        "max_receive_count": max_receive_count,
        "max_message_age": max_message_age,
        "throttling_rate_limit": rate,
        "throttling_burst_limit": burst,
    }


def _check_retention(problems: Problems, queue_retention: Any, dlq_retention: Any) -> None:
    """A DLQ that keeps messages for less time than the queue loses them (enqueue time is kept)."""
    q, d = seconds(queue_retention), seconds(dlq_retention)
    if q is not None and d is not None and d < q:
        problems.add(
            "dead_letter_queue_props['retention_period']",
            dlq_retention,
            f"must be at least the queue's retention period ({int(q)}s): a moved message keeps its original "
            "enqueue time and would expire early",
        )
