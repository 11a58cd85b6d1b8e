"""The profile's keys that name resources, checked against the app: each names something that exists.

``[resources."<construct path>"]`` sets the month's volumes of one resource (messages, reads, writes,
invocations, executions, GB...), ``monthly_active_users`` may be a table by user pool, and
``requests_by_path``, ``duration_ms_by_path`` and ``behavior_share`` key their values by path. A key that
matches nothing, a key that names several resources where it must name one, a volume a resource's type or
mode does not take, and ``viewer_requests`` for an app with several CloudFront distributions (each takes
its own ``requests``) are refused, all at once, with the paths that exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .._core.errors import ConstructsLibValidationError, Problem
from ..checks._cdn import behaviors
from ..checks._lambda import FUNCTION
from ..checks._model import Resource, Templates
from ._usage import Usage

USER_POOL = "AWS::Cognito::UserPool"
DISTRIBUTION = "AWS::CloudFront::Distribution"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")
_TABLE_VOLUMES = {
    "reads": "read request units a month",
    "writes": "write request units a month",
    "read_capacity": "average read capacity units, indexes included",
    "write_capacity": "average write capacity units, indexes included",
    "gb": "GB stored",
}
_FIRINGS = "a month: those its pattern matches, or its firings (replacing the count from its schedule)"
#: What ``[resources."<path>"]`` takes for each type: volume -> what it means. A volume its mode does not
#: use (a provisioned table's request units, an Express workflow's transitions) is refused too.
VOLUMES: dict[str, dict[str, str]] = {
    "AWS::SQS::Queue": {"messages": "messages sent a month"},
    "AWS::SNS::Topic": {"messages": "messages published a month"},
    "AWS::DynamoDB::Table": _TABLE_VOLUMES,
    "AWS::DynamoDB::GlobalTable": _TABLE_VOLUMES,
    FUNCTION: {"invocations": "invocations a month"},
    STATE_MACHINE: {
        "executions": "executions a month",
        "transitions": "state transitions per execution",
        "duration_ms": "duration of an execution",
        "memory_mb": "memory an execution uses, billed in 64 MB steps",
    },
    "AWS::Kinesis::Stream": {"records": "records written a month", "record_kb": "size of a record, in KB"},
    "AWS::EC2::NatGateway": {"gb": "GB processed a month"},
    "AWS::S3::Bucket": {
        "gb": "GB stored",
        "reads": "GET requests a month",
        "writes": "PUT requests a month (each object created also notifies the bucket's targets)",
    },
    "AWS::ApiGateway::RestApi": {"requests": "requests a month"},
    "AWS::ApiGatewayV2::Api": {"requests": "requests a month"},
    DISTRIBUTION: {"requests": "viewer requests a month, orders aside (replaces viewer_requests)"},
    "AWS::Events::Rule": {"events": f"events {_FIRINGS}"},
    "AWS::Scheduler::Schedule": {"events": f"invocations {_FIRINGS}"},
}
_LISTED = 25


@dataclass(frozen=True)
class Resolved:
    """The profile's path keys, resolved to the app's resources."""

    volumes: Mapping[Resource, Mapping[str, float]] = field(default_factory=dict)
    users: Mapping[Resource, float] = field(default_factory=dict)

    def volume(self, resource: Resource, name: str) -> float | None:
        """The profile's ``name`` volume for ``resource``, or None when it does not set one."""
        return self.volumes.get(resource, {}).get(name)


def construct_path(resource: Resource) -> str:
    """The resource's construct path (from the assembly, else ``aws:cdk:path``), else ``<stack>/<id>``."""
    known = resource.stack.construct_paths.get(resource.logical_id)
    if known:
        return known.strip("/")
    metadata = resource.stack.resources[resource.logical_id].get("Metadata") or {}
    path = metadata.get("aws:cdk:path") if isinstance(metadata, Mapping) else None
    return str(path) if path else f"{resource.stack.name}/{resource.logical_id}"


def matches(key: str, path: str) -> bool:
    """A profile key names a path when it is a part of it (``"Orders"`` in ``"Stack/Orders/Resource"``)."""
    return key.strip("/") in path


def aligned(key: str, path: str) -> bool:
    """``key`` is whole path segments of ``path`` (``"Orders"`` in ``Stack/Orders/Resource``, not in
    ``Stack/OrdersDeadLetterQueue/Resource``)."""
    return f"/{key.strip('/')}/" in f"/{path}/"


def resolve(templates: Templates, usage: Usage) -> Resolved:
    """The profile's path keys against ``templates``; every problem is raised at once."""
    problems: list[Problem] = []
    volumes = _volumes(templates, usage, problems)
    users = _users(templates, usage, problems)
    functions = list(templates.of_type(FUNCTION))
    _known(problems, "requests_by_path", usage.requests_by_path, [*templates.of_type(*API_TYPES), *functions])
    _known(problems, "duration_ms_by_path", usage.duration_ms_by_path, functions)
    patterns = sorted(
        {str(b.config["PathPattern"]) for b in behaviors(templates) if "PathPattern" in b.config}
    )
    for pattern in usage.behavior_share:
        if pattern not in patterns:
            problems.append(
                Problem(
                    f"behavior_share.{pattern}", usage.behavior_share[pattern], _exist("behavior", patterns)
                )
            )
    _distributions(templates, usage, volumes, problems)
    if problems:
        raise ConstructsLibValidationError("usage profile", problems)
    return Resolved(volumes, users)


def _volumes(templates: Templates, usage: Usage, problems: list[Problem]) -> dict[Resource, dict[str, float]]:
    takers = list(templates.of_type(*VOLUMES))
    found: dict[Resource, dict[str, float]] = {}
    for key, given in usage.resources.items():
        resource = _one(problems, f"resources.{key}", key, takers, given)
        if resource is None:
            continue
        mode, accepted = taken(resource)
        for name, value in given.items():
            if name in accepted:
                found.setdefault(resource, {})[name] = value
            else:
                kinds = "; ".join(f"{k} ({v})" for k, v in accepted.items())
                problems.append(
                    Problem(f"resources.{key}.{name}", value, f"{mode} {resource.type} takes: {kinds}")
                )
    return found


def taken(resource: Resource) -> tuple[str, dict[str, str]]:
    """``(its mode, as an article and adjective; volume -> meaning)``: the volumes ``resource`` takes in
    the mode its template sets (a provisioned table takes capacity, an on-demand one request units; a
    Standard workflow takes transitions, an Express one duration and memory)."""
    accepted = VOLUMES[resource.type]
    if resource.type in TABLES:
        on_demand = resource.props.get("BillingMode") == "PAY_PER_REQUEST"
        unused: tuple[str, ...] = ("read_capacity", "write_capacity") if on_demand else ("reads", "writes")
        mode = "an on-demand" if on_demand else "a provisioned"
    elif resource.type == STATE_MACHINE:
        express = resource.props.get("StateMachineType") == "EXPRESS"
        unused = ("transitions",) if express else ("duration_ms", "memory_mb")
        mode = "an Express" if express else "a Standard"
    else:
        return "a", accepted
    return mode, {name: meaning for name, meaning in accepted.items() if name not in unused}


def _distributions(
    templates: Templates,
    usage: Usage,
    volumes: Mapping[Resource, Mapping[str, float]],
    problems: list[Problem],
) -> None:
    """``viewer_requests`` names no distribution: with several, each takes its own ``requests``."""
    distributions = list(templates.of_type(DISTRIBUTION))
    given = [d for d in distributions if "requests" in volumes.get(d, {})]
    paths = _listing(construct_path(d) for d in distributions)
    if len(distributions) > 1 and usage.viewer_requests:
        fix = (
            f"this app has {len(distributions)} CloudFront distributions ({paths}); give each its viewer "
            'requests ([resources."<path>"] requests = ...) and leave viewer_requests out'
        )
        problems.append(Problem("viewer_requests", usage.viewer_requests, fix))
    elif len(distributions) > 1 and given and len(given) < len(distributions):
        missing = _listing(construct_path(d) for d in distributions if d not in given)
        fix = f"give every distribution its viewer requests; {missing} has none"
        problems.append(Problem("resources", {construct_path(d): "requests" for d in given}, fix))
    elif given and usage.viewer_requests:
        fix = f"viewer_requests already gives {paths} its viewer requests; give them once"
        problems.append(Problem("viewer_requests", usage.viewer_requests, fix))


def _users(templates: Templates, usage: Usage, problems: list[Problem]) -> dict[Resource, float]:
    pools = list(templates.of_type(USER_POOL))
    users = usage.monthly_active_users
    if not isinstance(users, Mapping):
        if users and len(pools) > 1:
            names = ", ".join(sorted(construct_path(p) for p in pools))
            fix = f"this app has {len(pools)} user pools ({names}); give a table by pool path"
            problems.append(Problem("monthly_active_users", users, fix))
            return {}
        return {pool: float(users) for pool in pools}
    found: dict[Resource, float] = {}
    for key, value in users.items():
        pool = _one(problems, f"monthly_active_users.{key}", key, pools, value)
        if pool is not None:
            found[pool] = value
    return found


def _one(
    problems: list[Problem], prop: str, key: str, candidates: list[Resource], value: object
) -> Resource | None:
    """The one resource of ``candidates`` that ``key`` names (whole segments first), or a problem."""
    named = [r for r in candidates if matches(key, construct_path(r))]
    whole = [r for r in named if aligned(key, construct_path(r))]
    named = whole or named
    if len(named) == 1:
        return named[0]
    if named:
        listed = _listing(construct_path(r) for r in named)
        problems.append(
            Problem(prop, value, f"names {len(named)} resources ({listed}); give more of the path")
        )
    else:
        problems.append(
            Problem(prop, value, _exist("resource that takes it", [construct_path(r) for r in candidates]))
        )
    return None


def _known(
    problems: list[Problem], table: str, keys: Mapping[str, float], candidates: list[Resource]
) -> None:
    paths = [construct_path(r) for r in candidates]
    for key, value in keys.items():
        if not any(matches(key, path) for path in paths):
            problems.append(Problem(f"{table}.{key}", value, _exist("resource it applies to", paths)))


def _exist(what: str, names: list[str]) -> str:
    if not names:
        return f"matches no {what}: the app has none"
    return f"matches no {what}; the app has: {_listing(names)}"


def _listing(names: Iterable[str]) -> str:
    ordered = sorted(set(names))
    shown = ", ".join(ordered[:_LISTED])
    return shown + (f" and {len(ordered) - _LISTED} more" if len(ordered) > _LISTED else "")
