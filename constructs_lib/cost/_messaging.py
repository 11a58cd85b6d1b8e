"""Queues, topics, schedules and streams: the requests that carry messages between resources."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..checks._model import Resource
from ._ledger import Collaborator
from ._prices import MONTH_HOURS
from ._traffic import KB_PER_GB, LONG_POLL_SECONDS, Batches, chunks, pollers, queue_meter
from ._usage import MONTH_SECONDS


class Messaging(Collaborator):
    """Prices SQS queues (sends, receives, deletes, empty polls, data keys), SNS topics, EventBridge
    schedules and Kinesis streams."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::Events::Rule": self._rule,
            "AWS::Kinesis::Stream": self._stream,
            "AWS::Lambda::EventSourceMapping": self._mapping,
        }

    def _queue(self, queue: Resource) -> None:
        meter = queue_meter(queue)
        per_message = chunks(self.usage.order_kb)
        sends = self.traffic.queue_sends.get(queue, 0.0)
        item = self.traffic.noted(queue, "sends (each 64 KB of a message is a request)")
        self.ledger.charge(queue, meter, sends * per_message, item)
        consumers = [b for b in self.traffic.batches if b.queue == queue]
        for batches in consumers:
            self._polling(queue, meter, batches)
        self._queue_key(queue, sends, len(consumers))

    def _polling(self, queue: Resource, meter: str, batches: Batches) -> None:
        """Receives with messages (each 64 KB of the messages returned is a request), one delete per batch
        request, and the empty long polls of the mapping's pollers the rest of the time."""
        receives = batches.batches * batches.requests_per_batch
        per_receive = batches.size / batches.requests_per_batch
        billed = receives * chunks(per_receive * self.usage.order_kb)
        at_rest = pollers(batches.mapping)
        floor = at_rest * MONTH_SECONDS / LONG_POLL_SECONDS
        if batches.mapping.logical_id in self.traffic.paused_mappings:
            floor *= 1 - min(1.0, self.usage.circuit_open_hours * 3600 / MONTH_SECONDS)
        self.ledger.charge(
            queue,
            meter,
            billed,
            f"receives with messages ({batches.size:.2f} a batch; each 64 KB returned is a request; at most "
            f"{batches.concurrency:,.0f} batches at once: {batches.concurrency_source})",
        )
        self.ledger.charge(
            queue, meter, max(0.0, floor - receives), f"empty long-poll receives ({at_rest:g} pollers)"
        )
        self.ledger.charge(queue, meter, receives, "batch deletes (one request per batch)")

    def _queue_key(self, queue: Resource, sends: float, consumers: int) -> None:
        if "KmsMasterKeyId" not in queue.props or not sends:
            return
        reuse = float(queue.props.get("KmsDataKeyReusePeriodSeconds", 300))
        requests = MONTH_SECONDS / reuse * (2 * 1 + consumers)
        self.ledger.charge(
            queue,
            "kms.requests",
            requests,
            f"data keys (reused {reuse:g} s; 1 producer, {consumers} consumer(s))",
        )

    def _topic(self, topic: Resource) -> None:
        publishes = self.traffic.publishes.get(topic, 0.0)
        self.ledger.charge(topic, "sns.publishes", publishes, self.traffic.noted(topic, "messages published"))
        emails = sum(
            1
            for s in self.templates.of_type("AWS::SNS::Subscription")
            if s.props.get("Protocol") == "email"
            and topic in self.templates.references(s.stack, s.props.get("TopicArn"))
        )
        if emails:
            self.ledger.charge(topic, "sns.email_deliveries", publishes * emails, "email deliveries")
        if "KmsMasterKeyId" in topic.props and publishes:
            self.ledger.charge(
                topic, "kms.requests", publishes * 2, "encrypting and reading each notification"
            )

    def _schedule(self, schedule: Resource) -> None:
        ticks = self.traffic.ticks[schedule]
        self.ledger.charge(
            schedule, "scheduler.invocations", ticks.count, f"scheduled invocations ({ticks.how})"
        )

    def _rule(self, rule: Resource) -> None:
        """EventBridge has no charge for scheduled rules or for AWS services' events on the default bus;
        what the rule's firings do is priced on its targets."""
        ticks = self.traffic.ticks[rule]
        when = f"; {ticks.how}" if "ScheduleExpression" in rule.props or ticks.count else ""
        self.ledger.free(
            (rule, f"EventBridge has no charge for scheduled rules and AWS service events{when}")
        )

    def _mapping(self, mapping: Resource) -> None:
        """An event source mapping is free in its default mode; in provisioned mode its event pollers are
        billed by the hour, at a rate this model could not check."""
        config = mapping.props.get("ProvisionedPollerConfig")
        if isinstance(config, dict):
            least = config.get("MinimumPollers", "its minimum")
            why = (
                f"provisioned mode: at least {least} event pollers, billed per event poller unit-hour; the "
                "rate is not on any stored copy of the Lambda pricing page, so it is not priced"
            )
            self.ledger.not_priced((mapping, why))
        else:
            self.ledger.free((mapping, "its queue, stream and function requests are priced on them"))

    def _stream(self, stream: Resource) -> None:
        """On-demand: the stream-hours and the GB written (records rounded up to 1 KB) and read by each
        consumer; provisioned: the shard-hours and the 25 KB PUT payload units."""
        resolved = self.traffic.resolved
        records = resolved.volume(stream, "records") or 0.0
        record_kb = resolved.volume(stream, "record_kb") or 1.0
        mode = (stream.props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        if mode == "ON_DEMAND":
            consumers = self._stream_consumers(stream)
            gb = records * math.ceil(record_kb) / KB_PER_GB
            self.ledger.charge(stream, "kinesis.on_demand_stream_hours", MONTH_HOURS, "on-demand stream")
            self.ledger.charge(
                stream, "kinesis.on_demand_gb_written", gb, "data written (records rounded up to 1 KB)"
            )
            self.ledger.charge(
                stream, "kinesis.on_demand_gb_read", gb * consumers, f"data read ({consumers} consumer(s))"
            )
        else:
            shards = float(stream.props.get("ShardCount", 1) or 1)
            self.ledger.charge(stream, "kinesis.shard_hours", shards * MONTH_HOURS, f"{shards:g} shard(s)")
            units = records * math.ceil(record_kb / 25)
            self.ledger.charge(stream, "kinesis.put_payload_units", units, "PUT payload units (25 KB each)")
        if float(stream.props.get("RetentionPeriodHours", 24) or 24) > 24:
            self.ledger.not_priced((stream, "retention beyond 24 hours is not modelled"))

    def _stream_consumers(self, stream: Resource) -> int:
        return sum(
            1
            for mapping in self.templates.of_type("AWS::Lambda::EventSourceMapping")
            if stream in self.templates.references(mapping.stack, mapping.props.get("EventSourceArn"))
        )
