"""Monthly volumes derived from the templates' wiring and the usage profile.

Viewer requests reach behaviors, miss the cache, and become origin requests; ingest APIs send to queues;
event source mappings turn messages into batches and invocations; guarded calls become breaker reads.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core.limits import SQS_DEFAULT_BATCH_SIZE
from ..checks._cdn import Behavior, behaviors
from ..checks._lambda import FUNCTION, function_target, sqs_mappings
from ..checks._model import Resource, Templates
from ..runtime._copies import CACHE_JITTER
from ..runtime.breaker import PAUSED_ENV, SETTINGS_ENV, TABLE_ENV
from ..runtime.governor import GOVERNED_ENV
from ..runtime.settings import BreakerSettings
from ._usage import MONTH_SECONDS, Usage

#: CloudFront's managed CachingDisabled policy: every request on it goes to the origin.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: Lambda's pollers of one standard-queue mapping at rest, each long-polling for up to 20 s.
DEFAULT_POLLERS = 5
LONG_POLL_SECONDS = 20
#: Size of the 202 an ingest API answers with (a request id), in KB.
INGEST_RESPONSE_KB = 0.5
KB_PER_GB = 1024.0 * 1024.0
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


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


@dataclass
class Circuit:
    """One circuit guarded in one function: its calls and the state reads and writes they cause."""

    function: Resource
    table: Resource | None
    circuit_id: str
    cache_ttl: float
    calls: float
    containers: float
    paused: bool = False
    #: The circuit's ``read_copies`` (fleet mode above 1).
    read_copies: int = 1


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


def derive(templates: Templates, usage: Usage) -> Traffic:
    traffic = Traffic()
    ingest_apis = _ingest_apis(templates)
    _edge(templates, usage, traffic, ingest_apis)
    for api in ingest_apis:
        if api not in traffic.api_direct:
            traffic.api_direct[api] = True
            traffic.api_requests[api] += usage.orders
    _direct(templates, usage, traffic)
    for api, queues in ingest_apis.items():
        for queue in queues:
            traffic.queue_sends[queue] += traffic.api_requests[api] / len(queues)
    _api_functions(templates, traffic)
    _governors(templates, traffic)
    _consumers(templates, traffic)
    _schedules(templates, traffic)
    _breakers(templates, usage, traffic)
    return traffic


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
    """Viewer requests per behavior: orders on an ingest API's behavior, each behavior's share of the
    other viewer requests, the default behavior the rest; cache misses become origin requests."""
    for behavior in behaviors(templates):
        pattern = str(behavior.config.get("PathPattern", "*"))
        targets = [t for origin in behavior.origins for t in origin.targets]
        ingests = any(t in ingest for t in targets)
        if ingests:
            viewers, response_kb = usage.orders, INGEST_RESPONSE_KB
        elif "PathPattern" in behavior.config:
            viewers = usage.viewer_requests * usage.behavior_share.get(pattern, 0.0)
            response_kb = usage.response_kb
        else:
            viewers = usage.viewer_requests * (1 - sum(usage.behavior_share.values()))
            response_kb = usage.response_kb
        cacheable = behavior.config.get("CachePolicyId") != CACHING_DISABLED and not ingests
        origin = viewers * (1 - usage.cache_hit_ratio) if cacheable else viewers
        traffic.behaviors.append(
            BehaviorTraffic(behavior, pattern, viewers, origin, response_kb, targets, ingest=ingests)
        )
        for target in targets:
            _land(templates, traffic, target, origin)


def construct_path(resource: Resource) -> str:
    """The resource's construct path (``aws:cdk:path``), else ``<stack>/<logical id>``."""
    metadata = resource.stack.resources[resource.logical_id].get("Metadata") or {}
    path = metadata.get("aws:cdk:path")
    return str(path) if path else f"{resource.stack.name}/{resource.logical_id}"


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


def _governors(templates: Templates, traffic: Traffic) -> None:
    for function in templates.of_type(FUNCTION):
        governed = _env(function).get(GOVERNED_ENV)
        if governed is None:
            continue
        pieces = templates.pieces(function.stack, governed)
        ids = [p.resource.logical_id for p in pieces if not isinstance(p, str)]
        traffic.governed[function] = ids
        traffic.paused_mappings.update(ids)


def _consumers(templates: Templates, traffic: Traffic) -> None:
    for mapping in sqs_mappings(templates):
        if mapping.queue is None or mapping.function is None:
            continue
        consumers = sum(1 for other in sqs_mappings(templates) if other.queue == mapping.queue)
        messages = traffic.queue_sends.get(mapping.queue, 0.0) / consumers
        batch = float(mapping.mapping.props.get("BatchSize", SQS_DEFAULT_BATCH_SIZE))
        traffic.messages[mapping.function] += messages
        traffic.invocations[mapping.function] += messages / batch


def _schedules(templates: Templates, traffic: Traffic) -> None:
    for rule in templates.of_type("AWS::Events::Rule", "AWS::Scheduler::Schedule"):
        ticks = schedule_ticks(rule)
        targets = rule.props.get("Targets") or [rule.props.get("Target") or {}]
        for target in targets if isinstance(targets, list) else []:
            invoked = function_target(templates, rule.stack, target.get("Arn"))
            if invoked and ticks:
                traffic.invocations[invoked.function] += ticks


def schedule_ticks(rule: Resource) -> float:
    """Invocations a month of a ``rate(...)`` schedule; a cron expression counts as hourly."""
    expression = str(rule.props.get("ScheduleExpression", ""))
    match = _RATE.match(expression)
    if match:
        return MONTH_SECONDS / (int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")])
    return MONTH_SECONDS / 3600 if expression.startswith("cron(") else 0.0


def _breakers(templates: Templates, usage: Usage, traffic: Traffic) -> None:
    """Each guarded circuit's calls, from the messages (or invocations) of the function that guards it."""
    for function in templates.of_type(FUNCTION):
        environment = _env(function)
        if TABLE_ENV not in environment:
            continue
        tables = templates.references(function.stack, environment[TABLE_ENV], "AWS::DynamoDB::Table")
        per_circuit = _json(environment.get(SETTINGS_ENV))
        work = traffic.messages.get(function) or traffic.invocations.get(function, 0.0)
        paused = _json_list(environment.get(PAUSED_ENV))
        for circuit_id, settings in per_circuit.items():
            ttl = float(settings.get("cache_ttl", BreakerSettings.cache_ttl))
            copies = int(settings.get("read_copies", BreakerSettings.read_copies))
            traffic.circuits.append(
                Circuit(
                    function,
                    tables[0] if tables else None,
                    circuit_id,
                    ttl,
                    work * usage.downstream_calls_per_message,
                    containers(templates, function, usage),
                    circuit_id in paused,
                    copies,
                )
            )


def containers(templates: Templates, function: Resource, usage: Usage) -> float:
    """Warm containers of ``function``: its mapping's maximum concurrency, its reserved concurrency, or the
    profile's ``warm_containers``."""
    caps = [
        float(m.mapping.props["ScalingConfig"]["MaximumConcurrency"])
        for m in sqs_mappings(templates)
        if m.function == function and "MaximumConcurrency" in (m.mapping.props.get("ScalingConfig") or {})
    ]
    reserved = function.props.get("ReservedConcurrentExecutions")
    if caps:
        return sum(caps)
    return float(reserved) if isinstance(reserved, int | float) and reserved else usage.warm_containers


def breaker_reads(circuit: Circuit) -> float:
    """State reads a month: each container reads once in every cache period in which it calls.

    With calls arriving at random (Poisson), a period holds a call with probability ``1 - e^-rate``, where
    ``rate`` is a container's calls per period: about one read per call when calls are sparse, and one
    read per period (per thousand calls at 1,000 calls a second and a 1 s cache) when they are dense.
    """
    return _per_period(circuit, circuit.calls)


def breaker_writes(circuit: Circuit, usage: Usage) -> float:
    """Failure records while closed, plus each opening's transitions (open, half-open, close).

    In fleet mode (``read_copies`` above 1) a container writes its failures once per cache period in
    which it had any, each transition is also written to every copy, and each opening's end takes up to
    one half-open claim per copy.
    """
    openings = usage.circuit_openings if circuit.calls > 0 else 0.0
    failures = circuit.calls * usage.downstream_failure_ratio
    if circuit.read_copies == 1:
        return failures + openings * 3
    return _per_period(circuit, failures) + openings * (3 * (1 + circuit.read_copies) + circuit.read_copies)


def _per_period(circuit: Circuit, events: float) -> float:
    """Periods a month in which a container has at least one of ``events`` (spread at random)."""
    if events <= 0:
        return 0.0
    period = circuit.cache_ttl * (1.0 if circuit.read_copies == 1 else 1.0 + CACHE_JITTER / 2)
    periods = MONTH_SECONDS / period
    rate = events / circuit.containers / periods
    return circuit.containers * periods * -math.expm1(-rate)


def _env(function: Resource) -> dict[str, Any]:
    variables = (function.props.get("Environment") or {}).get("Variables") or {}
    return dict(variables) if isinstance(variables, Mapping) else {}


def _json(value: Any) -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads(value) if isinstance(value, str) else {}
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _json_list(value: Any) -> list[Any]:
    try:
        loaded = json.loads(value) if isinstance(value, str) else []
    except json.JSONDecodeError:
        return []
    return loaded if isinstance(loaded, list) else []


def chunks(kb: float) -> int:
    """SQS requests per message: each 64 KB of payload is billed as one request."""
    return max(1, math.ceil(kb / 64))
