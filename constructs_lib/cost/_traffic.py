"""Monthly volumes derived from the templates' wiring and the usage profile.

Viewer requests reach behaviors, miss the cache, and become origin requests; ingest APIs send to queues;
schedules, bucket notifications, topics and alarms invoke, send and publish; event source mappings turn
messages into batches and invocations; guarded calls become breaker reads.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core.limits import SQS_DEFAULT_BATCH_SIZE
from ..checks._cdn import Behavior, behaviors
from ..checks._lambda import FUNCTION, function_target, sqs_mappings
from ..checks._model import Resource, Templates
from ..runtime.governor import GOVERNED_ENV
from ._arrivals import ACCOUNT_CONCURRENCY, SQS_MAPPING_CONCURRENCY, batch_fill
from ._breakers import Circuit, circuits, env
from ._breakers import breaker_reads as breaker_reads  # re-exported: the traffic's functions, in one place
from ._breakers import breaker_writes as breaker_writes
from ._notifications import deliveries
from ._schedules import Ticks, schedule_ticks
from ._usage import Usage
from ._volumes import Resolved, construct_path, resolve

#: CloudFront's managed CachingDisabled policy: every request on it goes to the origin.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: Lambda's pollers of one standard-queue mapping at rest, each long-polling for up to 20 s.
DEFAULT_POLLERS = 5
LONG_POLL_SECONDS = 20
#: Size of the 202 an ingest API answers with (a request id), in KB.
INGEST_RESPONSE_KB = 0.5
KB_PER_GB = 1024.0 * 1024.0
#: SQS returns (and deletes) at most 10 messages a request.
SQS_MESSAGES_PER_REQUEST = 10
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
INTEGRATION = "AWS::ApiGatewayV2::Integration"
#: Shards of an on-demand stream at its default write capacity (4 MB/s).
ON_DEMAND_SHARDS = 4
API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")
TOPIC = "AWS::SNS::Topic"
QUEUE = "AWS::SQS::Queue"
SCHEDULED = ("AWS::Events::Rule", "AWS::Scheduler::Schedule")


@dataclass
class BehaviorTraffic:
    behavior: Behavior
    pattern: str
    viewer_requests: float
    origin_requests: float
    response_kb: float
    targets: list[Resource]
    #: An ingest API's behavior: its viewers send order bodies to the origin.
    ingest: bool = False


@dataclass(frozen=True)
class Batches:
    """What an SQS event source mapping does with its share of a queue's messages in a month."""

    mapping: Resource
    queue: Resource
    function: Resource | None
    messages: float
    #: Messages in an average batch (see ``batch_fill``).
    size: float
    #: The batches it may have in flight at once, and where that number comes from.
    concurrency: float = ACCOUNT_CONCURRENCY
    concurrency_source: str = ""

    @property
    def batches(self) -> float:
        return self.messages / self.size

    @property
    def requests_per_batch(self) -> int:
        """ReceiveMessage (and DeleteMessageBatch) calls a batch takes: SQS hands out 10 at most."""
        return max(1, math.ceil(self.size / SQS_MESSAGES_PER_REQUEST))


@dataclass
class Traffic:
    """Every derived monthly volume, keyed by the resource it lands on."""

    behaviors: list[BehaviorTraffic] = field(default_factory=list)
    api_requests: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    api_direct: dict[Resource, bool] = field(default_factory=dict)
    queue_sends: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    invocations: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    messages: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    bucket_gets: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    circuits: list[Circuit] = field(default_factory=list)
    governed: dict[Resource, list[str]] = field(default_factory=dict)  # governor function -> mapping ids
    paused_mappings: set[str] = field(default_factory=set)  # logical ids of governed mappings
    batches: list[Batches] = field(default_factory=list)
    publishes: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    executions: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    #: Each rule's and schedule's firings (or the profile's ``events``), and how they were counted.
    ticks: dict[Resource, Ticks] = field(default_factory=dict)
    #: Where a derived volume comes from, for its line (schedules, bucket notifications).
    notes: dict[Resource, list[str]] = field(default_factory=lambda: defaultdict(list))
    resolved: Resolved = field(default_factory=Resolved)

    def note(self, resource: Resource, text: str) -> None:
        if text and text not in self.notes[resource]:
            self.notes[resource].append(text)

    def noted(self, resource: Resource, item: str) -> str:
        """``item``, with where its derived volume comes from."""
        notes = self.notes.get(resource)
        return f"{item} ({'; '.join(notes)})" if notes else item


def derive(templates: Templates, usage: Usage, resolved: Resolved | None = None) -> Traffic:
    """Every monthly volume the wiring and the profile imply. A volume the profile sets for a resource
    (``[resources."<path>"]``) replaces the derived one."""
    traffic = Traffic(resolved=resolved or resolve(templates, usage))
    ingest_apis = _ingest_apis(templates)
    _edge(templates, usage, traffic, ingest_apis)
    for api in ingest_apis:
        if api not in traffic.api_direct:
            traffic.api_direct[api] = True
            traffic.api_requests[api] += usage.orders
    _direct(templates, usage, traffic)
    _set(traffic, traffic.api_requests, "requests", direct=True, types=API_TYPES)
    for api, queues in ingest_apis.items():
        for queue in queues:
            traffic.queue_sends[queue] += traffic.api_requests[api] / len(queues)
    _api_functions(templates, traffic)
    _integrations(templates, traffic)
    _governors(templates, traffic)
    _schedules(templates, traffic)
    _bucket_notifications(templates, traffic)
    _topics(templates, usage, traffic)
    _alarm_functions(templates, usage, traffic)
    _state_machines(templates, traffic)
    _set(traffic, traffic.queue_sends, "messages", types=(QUEUE,))
    _consumers(templates, usage, traffic)
    _stream_readers(templates, traffic)
    _set(traffic, traffic.invocations, "invocations", types=(FUNCTION,))
    work = {
        f: traffic.messages.get(f) or traffic.invocations.get(f, 0.0) for f in templates.of_type(FUNCTION)
    }
    traffic.circuits = circuits(templates, usage, work)
    return traffic


def _set(
    traffic: Traffic,
    volumes: dict[Resource, float],
    name: str,
    *,
    types: tuple[str, ...],
    direct: bool = False,
) -> None:
    """The profile's ``name`` volumes over the derived ones (and their notes)."""
    for resource, given in traffic.resolved.volumes.items():
        if name in given and resource.type in types:
            volumes[resource] = given[name]
            traffic.notes.pop(resource, None)
            if direct:
                traffic.api_direct.setdefault(resource, True)


def _ingest_apis(templates: Templates) -> dict[Resource, list[Resource]]:
    """REST APIs with a method that sends to SQS -> the queues they send to."""
    found: dict[Resource, list[Resource]] = {}
    for method in templates.of_type("AWS::ApiGateway::Method"):
        integration = method.props.get("Integration") or {}
        if ":sqs:" not in templates.literal_text(method.stack, integration.get("Uri")):
            continue
        for api in templates.references(
            method.stack, method.props.get("RestApiId"), "AWS::ApiGateway::RestApi"
        ):
            queues = templates.references(method.stack, integration, "AWS::SQS::Queue")
            found.setdefault(api, []).extend(q for q in queues if q not in found.get(api, []))
    return found


def _edge(templates: Templates, usage: Usage, traffic: Traffic, ingest: Mapping[Resource, Any]) -> None:
    """Viewer requests per behavior: orders on an ingest API's behavior; a distribution's viewer requests
    (its ``requests`` in the profile, else ``viewer_requests``) shared by its behaviors' patterns, the
    default behavior the rest; cache misses become origin requests."""
    found = list(behaviors(templates))
    for behavior in found:
        pattern = str(behavior.config.get("PathPattern", "*"))
        given = traffic.resolved.volume(behavior.distribution, "requests")
        requests = usage.viewer_requests if given is None else given
        targets = [t for origin in behavior.origins for t in origin.targets]
        ingests = any(t in ingest for t in targets)
        if ingests:
            viewers, response_kb = usage.orders, INGEST_RESPONSE_KB
        elif "PathPattern" in behavior.config:
            viewers, response_kb = requests * usage.behavior_share.get(pattern, 0.0), usage.response_kb
        else:
            patterns = {
                str(b.config["PathPattern"])
                for b in found
                if b.distribution == behavior.distribution and "PathPattern" in b.config
            }
            viewers = requests * (1 - sum(usage.behavior_share.get(p, 0.0) for p in patterns))
            response_kb = usage.response_kb
        cacheable = behavior.config.get("CachePolicyId") != CACHING_DISABLED and not ingests
        origin = viewers * (1 - usage.cache_hit_ratio) if cacheable else viewers
        traffic.behaviors.append(
            BehaviorTraffic(behavior, pattern, viewers, origin, response_kb, targets, ingest=ingests)
        )
        for target in targets:
            _land(templates, traffic, target, origin)


def pollers(mapping: Resource) -> float:
    """Lambda's pollers of an SQS mapping at rest: its provisioned minimum, else five."""
    provisioned = mapping.props.get("ProvisionedPollerConfig") or {}
    return float(provisioned.get("MinimumPollers", DEFAULT_POLLERS))


def queue_meter(queue: Resource) -> str:
    return "sqs.fifo_requests" if queue.props.get("FifoQueue") is True else "sqs.standard_requests"


def _direct(templates: Templates, usage: Usage, traffic: Traffic) -> None:
    """The profile's ``requests_by_path``: calls to APIs and functions that no CDN or queue explains."""
    if not usage.requests_by_path:
        return
    for resource in templates.of_type("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", FUNCTION):
        requests = usage.direct_requests(construct_path(resource))
        if not requests:
            continue
        if resource.type == FUNCTION:
            traffic.invocations[resource] += requests
        else:
            traffic.api_requests[resource] += requests
            traffic.api_direct.setdefault(resource, True)


def _land(templates: Templates, traffic: Traffic, target: Resource, requests: float) -> None:
    """Origin requests arriving at ``target`` (an API, a function URL or a bucket)."""
    if target.type in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
        traffic.api_requests[target] += requests
        traffic.api_direct[target] = False
    elif target.type == "AWS::Lambda::Url":
        invoked = function_target(templates, target.stack, target.props.get("TargetFunctionArn"))
        if invoked:
            traffic.invocations[invoked.function] += requests
    elif target.type == "AWS::S3::Bucket":
        traffic.bucket_gets[target] += requests


def _api_functions(templates: Templates, traffic: Traffic) -> None:
    """Lambda proxy integrations: each API request to such a method invokes the function once."""
    methods: dict[Resource, list[Resource]] = defaultdict(list)
    for method in templates.of_type("AWS::ApiGateway::Method"):
        uri = (method.props.get("Integration") or {}).get("Uri")
        target = function_target(templates, method.stack, uri)
        if target and method.props.get("HttpMethod") != "OPTIONS":
            for api in templates.references(
                method.stack, method.props.get("RestApiId"), "AWS::ApiGateway::RestApi"
            ):
                methods[api].append(target.function)
    for api, functions in methods.items():
        for function in functions:
            traffic.invocations[function] += traffic.api_requests.get(api, 0.0) / len(functions)


def _integrations(templates: Templates, traffic: Traffic) -> None:
    """HTTP API routes to Lambda integrations, and Lambda authorizers whose results are not cached: each
    request invokes the function."""
    routes: dict[Resource, list[Resource]] = defaultdict(list)
    for route in templates.of_type("AWS::ApiGatewayV2::Route"):
        for integration in templates.references(route.stack, route.props.get("Target"), INTEGRATION):
            for api in templates.references(route.stack, route.props.get("ApiId"), "AWS::ApiGatewayV2::Api"):
                routes[api].append(integration)
    for api, integrations in routes.items():
        for integration in integrations:
            invoked = function_target(templates, integration.stack, integration.props.get("IntegrationUri"))
            if invoked:
                traffic.invocations[invoked.function] += traffic.api_requests.get(api, 0.0) / len(
                    integrations
                )
    for authorizer in templates.of_type("AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer"):
        invoked = function_target(templates, authorizer.stack, authorizer.props.get("AuthorizerUri"))
        if invoked and authorizer_ttl(authorizer) == 0:
            traffic.invocations[invoked.function] += _authorized_requests(templates, traffic, authorizer)


def authorizer_ttl(authorizer: Resource) -> float:
    """Seconds a Lambda authorizer's answer is cached: the template's, else API Gateway's default (300 s
    for a REST API, none for an HTTP API)."""
    default = 300 if authorizer.type == "AWS::ApiGateway::Authorizer" else 0
    ttl = authorizer.props.get("AuthorizerResultTtlInSeconds", default)
    return float(ttl) if isinstance(ttl, int | float) and not isinstance(ttl, bool) else float(default)


def _authorized_requests(templates: Templates, traffic: Traffic, authorizer: Resource) -> float:
    """Requests to the methods (or routes) that use ``authorizer``: their share of their API's requests."""
    kinds = ("AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Route")
    by_api: dict[Resource, tuple[int, int]] = {}
    for method in templates.of_type(*kinds):
        if method.props.get("HttpMethod") == "OPTIONS":
            continue
        api_id = method.props.get("RestApiId") or method.props.get("ApiId")
        for api in templates.references(method.stack, api_id, *API_TYPES):
            uses = authorizer in templates.references(method.stack, method.props.get("AuthorizerId"))
            total, using = by_api.get(api, (0, 0))
            by_api[api] = (total + 1, using + int(uses))
    return sum(traffic.api_requests.get(api, 0.0) * using / total for api, (total, using) in by_api.items())


def _topics(templates: Templates, usage: Usage, traffic: Traffic) -> None:
    """Each topic's publishes (the profile's ``messages``, else its alarms' notifications and what
    schedules and bucket notifications publish), delivered to its Lambda and SQS subscribers."""
    alarmed = {
        topic
        for alarm in templates.of_type("AWS::CloudWatch::Alarm")
        for topic in templates.references(alarm.stack, alarm_actions(alarm), TOPIC)
    }
    for topic in templates.of_type(TOPIC):
        if topic in alarmed:
            traffic.publishes[topic] += usage.alarm_notifications
    _set(traffic, traffic.publishes, "messages", types=(TOPIC,))
    for subscription in templates.of_type("AWS::SNS::Subscription"):
        for topic in templates.references(subscription.stack, subscription.props.get("TopicArn"), TOPIC):
            endpoint = subscription.props.get("Endpoint")
            invoked = function_target(templates, subscription.stack, endpoint)
            if invoked and subscription.props.get("Protocol") == "lambda":
                traffic.invocations[invoked.function] += traffic.publishes[topic]
            for queue in templates.references(subscription.stack, endpoint, QUEUE):
                traffic.queue_sends[queue] += traffic.publishes[topic]


def alarm_actions(alarm: Resource) -> list[Any]:
    return [alarm.props.get(key) for key in ("AlarmActions", "OKActions", "InsufficientDataActions")]


def _alarm_functions(templates: Templates, usage: Usage, traffic: Traffic) -> None:
    """Alarms whose actions invoke a function directly: each state change is an invocation."""
    invoked: set[Resource] = set()
    for alarm in templates.of_type("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for actions in alarm_actions(alarm):
            for action in actions if isinstance(actions, list) else []:
                target = function_target(templates, alarm.stack, action)
                if target:
                    invoked.add(target.function)
    for function in invoked:
        traffic.invocations[function] += usage.alarm_notifications


def _state_machines(templates: Templates, traffic: Traffic) -> None:
    """Each state machine's executions (the profile's, else what starts it) invoke the functions its
    definition names, once each."""
    _set(traffic, traffic.executions, "executions", types=(STATE_MACHINE,))
    for machine in templates.of_type(STATE_MACHINE):
        definition = [
            machine.props.get(key) for key in ("DefinitionString", "Definition", "DefinitionSubstitutions")
        ]
        for function in templates.references(machine.stack, definition, FUNCTION):
            traffic.invocations[function] += traffic.executions.get(machine, 0.0)


def _bucket_notifications(templates: Templates, traffic: Traffic) -> None:
    """What buckets' event notifications invoke, send and publish: one per object created."""
    for delivery in deliveries(templates, traffic.resolved):
        for volumes, target in (
            (traffic.invocations, delivery.function),
            (traffic.queue_sends, delivery.queue),
            (traffic.publishes, delivery.topic),
        ):
            if target is not None:
                volumes[target] += delivery.count
                traffic.note(target, delivery.note)


def _governors(templates: Templates, traffic: Traffic) -> None:
    for function in templates.of_type(FUNCTION):
        governed = env(function).get(GOVERNED_ENV)
        if governed is None:
            continue
        pieces = templates.pieces(function.stack, governed)
        ids = [p.resource.logical_id for p in pieces if not isinstance(p, str)]
        traffic.governed[function] = ids
        traffic.paused_mappings.update(ids)


def _consumers(templates: Templates, usage: Usage, traffic: Traffic) -> None:
    """Each SQS mapping's share of its queue's messages, in batches filled as the arrival rate allows."""
    mappings = list(sqs_mappings(templates))
    for mapping in mappings:
        if mapping.queue is None:
            continue
        consumers = sum(1 for other in mappings if other.queue == mapping.queue)
        messages = traffic.queue_sends.get(mapping.queue, 0.0) / consumers
        props = mapping.mapping.props
        duration = usage.duration_of(construct_path(mapping.function)) / 1000 if mapping.function else 0.0
        concurrency, source = _concurrency(mapping.mapping, mapping.function)
        size = batch_fill(
            messages,
            float(props.get("BatchSize", SQS_DEFAULT_BATCH_SIZE)),
            float(props.get("MaximumBatchingWindowInSeconds", 0) or 0),
            duration,
            concurrency,
        )
        batches = Batches(
            mapping.mapping, mapping.queue, mapping.function, messages, size, concurrency, source
        )
        traffic.batches.append(batches)
        if mapping.function is not None:
            traffic.messages[mapping.function] += messages
            traffic.invocations[mapping.function] += batches.batches


def _stream_readers(templates: Templates, traffic: Traffic) -> None:
    """Kinesis mappings: Lambda reads each shard about once a second, so a batch holds a shard's records
    of a second (and of the batching window), up to the batch size."""
    for mapping in templates.of_type("AWS::Lambda::EventSourceMapping"):
        source = mapping.props.get("EventSourceArn")
        for stream in templates.references(mapping.stack, source, "AWS::Kinesis::Stream"):
            records = traffic.resolved.volume(stream, "records") or 0.0
            invoked = function_target(templates, mapping.stack, mapping.props.get("FunctionName"))
            if not records or invoked is None:
                continue
            shards = float(stream.props.get("ShardCount") or ON_DEMAND_SHARDS)
            window = float(mapping.props.get("MaximumBatchingWindowInSeconds", 0) or 0)
            size = batch_fill(
                records / shards,
                float(mapping.props.get("BatchSize", 100)),
                window + 1.0,
                0.0,
                ACCOUNT_CONCURRENCY,
            )
            traffic.invocations[invoked.function] += records / size


def _concurrency(mapping: Resource, function: Resource | None) -> tuple[float, str]:
    """How many batches a mapping can have in flight, and why: its maximum concurrency, the function's
    reserved concurrency, else what Lambda's pollers reach (from 5, up to 1,250 a mapping) within the
    account's default concurrency (1,000)."""
    cap = (mapping.props.get("ScalingConfig") or {}).get("MaximumConcurrency")
    reserved = function.props.get("ReservedConcurrentExecutions") if function else None
    for value, source in ((cap, "its MaximumConcurrency"), (reserved, "the function's reserved concurrency")):
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value), source
    default = min(SQS_MAPPING_CONCURRENCY, ACCOUNT_CONCURRENCY)
    return default, (
        f"Lambda's pollers scale from 5 toward {SQS_MAPPING_CONCURRENCY:,.0f} a mapping, within the "
        f"account's default {ACCOUNT_CONCURRENCY:,.0f} concurrent executions"
    )


def _schedules(templates: Templates, traffic: Traffic) -> None:
    """Rules and schedules fire on their schedule (or the profile's ``events``, which replace it): each
    firing invokes its target functions, starts its state machines, sends to its queues and publishes to
    its topics."""
    for rule in templates.of_type(*SCHEDULED):
        given = traffic.resolved.volume(rule, "events")
        ticks = (
            schedule_ticks(rule) if given is None else Ticks(given, f"{given:,.0f} events, from the profile")
        )
        traffic.ticks[rule] = ticks
        if not ticks.count:
            continue
        note = f"{construct_path(rule)}: {ticks.how}" if given is None else ""
        targets = rule.props.get("Targets") or [rule.props.get("Target") or {}]
        for target in targets if isinstance(targets, list) else []:
            arn = target.get("Arn") if isinstance(target, Mapping) else None
            invoked = function_target(templates, rule.stack, arn)
            reached = [invoked.function] if invoked else []
            for resource in [*reached, *templates.references(rule.stack, arn, STATE_MACHINE, QUEUE, TOPIC)]:
                volumes = {
                    FUNCTION: traffic.invocations,
                    STATE_MACHINE: traffic.executions,
                    QUEUE: traffic.queue_sends,
                    TOPIC: traffic.publishes,
                }[resource.type]
                volumes[resource] += ticks.count
                traffic.note(resource, note)


def chunks(kb: float) -> int:
    """SQS requests per message: each 64 KB of payload is billed as one request."""
    return max(1, math.ceil(kb / 64))
