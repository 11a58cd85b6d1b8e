"""S3 event notifications: what a bucket's writes invoke, send and publish.

aws-cdk-lib writes a bucket's notifications as a ``Custom::S3BucketNotifications`` resource
(``LambdaFunctionConfigurations``, ``QueueConfigurations``, ``TopicConfigurations``, each with ``Events``);
CloudFormation's own form is the bucket's ``NotificationConfiguration`` (``LambdaConfigurations``... each
with one ``Event``). Objects created are the bucket's ``writes`` volume (one event per write); other
events (objects removed, restored...) have no volume here, and the target's line says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..checks._lambda import function_target
from ..checks._model import Resource, Stack, Templates
from ._volumes import Resolved, construct_path

BUCKET = "AWS::S3::Bucket"
CUSTOM = "Custom::S3BucketNotifications"
CREATED = "s3:ObjectCreated:"
#: (the custom resource's list, CloudFormation's list, the target's key in each).
_KINDS = (
    ("LambdaFunctionConfigurations", "LambdaConfigurations", "LambdaFunctionArn", "Function"),
    ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
    ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
)


@dataclass(frozen=True)
class Notification:
    """One notification configuration of a bucket: its events and what it delivers to."""

    bucket: Resource
    stack: Stack
    events: tuple[str, ...]
    target: Any
    filtered: bool


@dataclass(frozen=True)
class Delivery:
    """What one notification delivers in a month, to which resource, and the note its line carries."""

    function: Resource | None
    queue: Resource | None
    topic: Resource | None
    count: float
    note: str


def deliveries(templates: Templates, resolved: Resolved) -> Iterator[Delivery]:
    """Each notification's month: one delivery per object created (the bucket's ``writes``)."""
    for notification in _notifications(templates):
        invoked = function_target(templates, notification.stack, notification.target)
        queues = templates.references(notification.stack, notification.target, "AWS::SQS::Queue")
        topics = templates.references(notification.stack, notification.target, "AWS::SNS::Topic")
        reached = [invoked.function] if invoked else [*queues, *topics]
        target = reached[0] if reached else None
        volume = "invocations" if invoked else "messages"
        count, note = _month(notification, resolved, f'set its {volume} under [resources."{_path(target)}"]')
        yield Delivery(
            invoked.function if invoked else None,
            queues[0] if queues else None,
            topics[0] if topics else None,
            count,
            note,
        )


def _path(resource: Resource | None) -> str:
    return construct_path(resource).removesuffix("/Resource") if resource is not None else "<path>"


def _month(notification: Notification, resolved: Resolved, fix: str) -> tuple[float, str]:
    bucket = _path(notification.bucket)
    created = [e for e in notification.events if e.startswith(CREATED)]
    others = sorted({e for e in notification.events if not e.startswith(CREATED)})
    writes = resolved.volume(notification.bucket, "writes")
    notes = []
    if created and writes is None:
        notes.append(f'{bucket} notifies on objects created: set its writes under [resources."{bucket}"]')
    elif created:
        kinds = "" if f"{CREATED}*" in created else f" (every write taken as {', '.join(created)})"
        matched = ", all taken to match its filter" if notification.filtered else ""
        notes.append(f"{writes:,.0f} from {bucket}: one per object created, from its writes{kinds}{matched}")
    if others:
        notes.append(f"{bucket}'s {', '.join(others)} notifications are not counted: {fix}")
    return (writes or 0.0) if created else 0.0, "; ".join(notes)


def _notifications(templates: Templates) -> Iterator[Notification]:
    for custom in templates.of_type(CUSTOM):
        buckets = templates.references(custom.stack, custom.props.get("BucketName"), BUCKET)
        config = custom.props.get("NotificationConfiguration")
        if buckets and isinstance(config, Mapping):
            for listed, _, key, _ in _KINDS:
                yield from _entries(buckets[0], custom.stack, config.get(listed), key, "Events")
    for bucket in templates.of_type(BUCKET):
        config = bucket.props.get("NotificationConfiguration")
        if isinstance(config, Mapping):
            for _, listed, _, key in _KINDS:
                yield from _entries(bucket, bucket.stack, config.get(listed), key, "Event")


def _entries(bucket: Resource, stack: Stack, entries: Any, key: str, events: str) -> Iterator[Notification]:
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        given = entry.get(events)
        names = tuple(str(e) for e in (given if isinstance(given, list) else [given]) if e)
        yield Notification(bucket, stack, names, entry.get(key), bool(entry.get("Filter")))
