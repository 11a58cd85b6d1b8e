"""``QueueBufferedIngest``'s queue props: an existing queue read (never overridden) and checked like the
construct's own, new queues' props merged with their secure defaults, retention and alarm thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._core import (
    Problems,
    is_unresolved,
    merge_props,
    or_default,
    seconds,
)
from .._core.limits import (
    SQS_MAX_RETENTION_SECONDS,
)
from .._core.regions import environment_mismatch

DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_MAX_MESSAGE_AGE = Duration.minutes(5)
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


def _check_queue_numbers(problems: Problems, given: Mapping[str, Any]) -> dict[str, Any]:
    """The receive count and the message-age alarm's threshold, checked and with defaults applied."""
    max_receive_count = or_default(given["max_receive_count"], DEFAULT_MAX_RECEIVE_COUNT)
    max_message_age = or_default(given["max_message_age"], DEFAULT_MAX_MESSAGE_AGE)
    if not is_unresolved(max_receive_count) and not 1 <= max_receive_count <= 1000:
        problems.add(
            "max_receive_count", max_receive_count, "must be between 1 and 1000 (5 or more recommended)"
        )
    age = seconds(max_message_age)
    if age is not None and not 0 < age <= SQS_MAX_RETENTION_SECONDS:
        problems.add("max_message_age", max_message_age, "must be more than 0 and at most 14 days")
    return {"max_receive_count": max_receive_count, "max_message_age": max_message_age}
