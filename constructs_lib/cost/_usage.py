"""The usage profile: a month of traffic in the user's terms, read from TOML and checked strictly."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem
from ._files import read_toml

#: Seconds in the month the model prices (30 days, as the pricing pages' examples use).
MONTH_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Usage:
    """One month of traffic. Every volume is per month; everything else is derived from the templates.

    Attributes:
        viewer_requests: CloudFront viewer requests other than orders (pages, assets, catalog reads), for
            an app with one distribution; with several, each takes its own ``requests`` under
            ``resources``. Default 0.
        cache_hit_ratio: Share of requests on cacheable behaviors that the edge answers. Default 0.9.
        response_kb: Average response size a viewer downloads, in KB. Default 30.
        behavior_share: Share of ``viewer_requests`` per behavior path pattern (``"/api/catalog*"``); the
            default behavior gets the rest. Default: none.
        orders: Requests to each queue-buffered ingest API (SQS sends), through the CDN where one fronts
            the API. Default 0.
        order_kb: Request body size of an order, and of each SQS message, in KB (SQS bills each 64 KB as
            one request). Default 1.
        requests_by_path: Requests that reach an API, or invocations of a function, directly (not through
            a CDN or a queue), keyed by a part of its construct path; a key must name an API or a
            function of the app. Default: none.
        api_response_kb: Response size of an API called directly, in KB. Default 0.5 (an ingest 202).
        duration_ms: Average duration of a function invocation. Default 100.
        duration_ms_by_path: Durations for functions whose construct path contains the key. Default: none.
        log_kb_per_invocation: Log bytes a function writes per invocation, in KB. Default 1.
        downstream_calls_per_message: Guarded calls a consumer makes per message. Default 1.
        downstream_failure_ratio: Share of guarded calls that fail while the circuit is closed. Default 0.001.
        circuit_open_hours: Hours a month each circuit is open (a downstream outage). Default 2.
        circuit_openings: Times a month each circuit opens. Default 2.
        warm_containers: Containers of a function whose concurrency the template does not cap. Default 10.
        monthly_active_users: Cognito users who sign in during the month: a number for an app with one
            user pool, or a table by part of each pool's construct path. Default 0.
        site_gb: Size of each bucket that serves a site, in GB. Default 0.1.
        alarm_notifications: Alarm state changes published to SNS per month. Default 20.
        powertools_metrics_per_function: Custom metrics each Powertools function emits. Default 1.
        resources: The month's volumes of single resources, by part of the resource's construct path:
            ``[resources."Stack/Orders"] messages = 2e6``. Each volume replaces what the model would
            derive for it; which volumes a resource takes depends on its type (see docs/cost.md). Default:
            none.
    """

    viewer_requests: float = 0.0
    cache_hit_ratio: float = 0.9
    response_kb: float = 30.0
    behavior_share: Mapping[str, float] = field(default_factory=dict)
    orders: float = 0.0
    order_kb: float = 1.0
    requests_by_path: Mapping[str, float] = field(default_factory=dict)
    api_response_kb: float = 0.5
    duration_ms: float = 100.0
    duration_ms_by_path: Mapping[str, float] = field(default_factory=dict)
    log_kb_per_invocation: float = 1.0
    downstream_calls_per_message: float = 1.0
    downstream_failure_ratio: float = 0.001
    circuit_open_hours: float = 2.0
    circuit_openings: float = 2.0
    warm_containers: float = 10.0
    monthly_active_users: float | Mapping[str, float] = 0.0
    site_gb: float = 0.1
    alarm_notifications: float = 20.0
    powertools_metrics_per_function: float = 1.0
    resources: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def duration_of(self, path: str) -> float:
        """The duration, in ms, of the function at construct ``path``."""
        return _by_path(self.duration_ms_by_path, path, self.duration_ms)

    def direct_requests(self, path: str) -> float:
        """Requests (or invocations) that reach the resource at construct ``path`` directly."""
        return _by_path(self.requests_by_path, path, 0.0)


def _by_path(table: Mapping[str, float], path: str, default: float) -> float:
    """The entry whose key is the longest part of ``path``, else ``default``."""
    matches = [key for key in table if key in path]
    return table[max(matches, key=len)] if matches else default


_RATIOS = ("cache_hit_ratio", "downstream_failure_ratio")
_TABLES = ("behavior_share", "duration_ms_by_path", "requests_by_path")
#: Keys that take a number or a table (by path).
_NUMBER_OR_TABLE = ("monthly_active_users",)
_KEYS = {f.name for f in fields(Usage)}


def usage_from(values: Mapping[str, Any]) -> Usage:
    """A checked profile: unknown keys, non-numbers, negative volumes and ratios outside 0..1 are refused."""
    problems = []
    for key, value in values.items():
        if key not in _KEYS:
            problems.append(
                Problem(key, value, f"is not a usage key; use one of: {', '.join(sorted(_KEYS))}")
            )
        elif key in _TABLES or (key in _NUMBER_OR_TABLE and isinstance(value, Mapping)):
            problems.extend(_table_problems(key, value))
        elif key == "resources":
            problems.extend(_resources_problems(value))
        else:
            problems.extend(_number_problems(key, value))
    if not problems and sum(values.get("behavior_share", {}).values()) > 1:
        share = values["behavior_share"]
        problems.append(Problem("behavior_share", share, "shares add up to more than 1; lower them"))
    if problems:
        raise ConstructsLibValidationError("usage profile", problems)
    return Usage(**{key: _converted(value) for key, value in values.items()})


def _converted(value: Any) -> Any:
    """Numbers as floats, tables (of tables) as dicts of floats."""
    if isinstance(value, Mapping):
        return {name: _converted(item) for name, item in value.items()}
    return float(value)


def _number_problems(key: str, value: Any) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [Problem(key, value, "use a number")]
    if value < 0:
        return [Problem(key, value, "use a number of at least 0")]
    if key in _RATIOS and value > 1:
        return [Problem(key, value, "is a ratio; use a number from 0 to 1")]
    return []


def _table_problems(key: str, value: Any) -> list[Problem]:
    if not isinstance(value, Mapping):
        return [Problem(key, value, "use a table, e.g. [" + key + '] "/api/*" = 0.1')]
    return [
        problem
        for name, item in value.items()
        for problem in _number_problems(f"{key}.{name}", item)
        + (
            [Problem(f"{key}.{name}", item, "is a share; use 0 to 1")]
            if key == "behavior_share" and isinstance(item, int | float) and item > 1
            else []
        )
    ]


def _resources_problems(value: Any) -> list[Problem]:
    example = '[resources."Stack/Orders"] messages = 2e6'
    if not isinstance(value, Mapping):
        return [Problem("resources", value, f"use a table of tables, e.g. {example}")]
    problems = []
    for path, volumes in value.items():
        if not isinstance(volumes, Mapping):
            problems.append(Problem(f"resources.{path}", volumes, f"use a table of volumes, e.g. {example}"))
            continue
        problems.extend(
            p for name, item in volumes.items() for p in _number_problems(f"resources.{path}.{name}", item)
        )
    return problems


def load_usage(path: str | Path | None = None, settings: Sequence[str] = ()) -> Usage:
    """The profile in the TOML file at ``path`` (defaults when None), with ``KEY=VALUE`` settings over it.

    A setting's value is read as TOML (``orders=2e6``, ``cache_hit_ratio=0.5``); a key of a table is
    written with a dot: ``behavior_share./api/catalog*=0.2``, ``resources.Stack/Orders.messages=2e6``.
    """
    values: dict[str, Any] = read_toml(path, "--usage") if path else {}
    for setting in settings:
        key, sep, text = setting.partition("=")
        if not sep or not key:
            raise ConstructsLibValidationError("--set", [Problem("--set", setting, "write KEY=VALUE")])
        value = _toml_value(key, text)
        table, dot, name = key.partition(".")
        if table == "resources" and "." not in name:
            fix = "write resources.<construct path>.<volume>=VALUE, e.g. resources.Stack/Orders.messages=2e6"
            raise ConstructsLibValidationError("--set", [Problem("--set", setting, fix)])
        if dot and table == "resources":
            path, _, volume = name.rpartition(".")
            resources = dict(values.get("resources", {}))
            resources[path] = {**resources.get(path, {}), volume: value}
            values["resources"] = resources
        elif dot and (table in _TABLES or table in _NUMBER_OR_TABLE):
            current = values.get(table, {})
            values[table] = {**(current if isinstance(current, Mapping) else {}), name: value}
        else:
            values[key] = value
    return usage_from(values)


def _toml_value(key: str, text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text.replace('_', '')}")["value"]
    except tomllib.TOMLDecodeError:
        raise ConstructsLibValidationError(
            "--set", [Problem(key, text, "use a number, e.g. orders=2000000")]
        ) from None
