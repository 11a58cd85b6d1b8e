"""CloudFront behaviors and the origins they send requests to."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._model import Resource, Templates

API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")
FUNCTION_URL = "AWS::Lambda::Url"


@dataclass(frozen=True)
class Origin:
    """An origin of a distribution: what its domain name refers to, and what kind of origin it is."""

    id: str
    config: Mapping[str, Any]
    targets: list[Resource]
    kind: str  # "api", "function-url" or "other"


@dataclass(frozen=True)
class Behavior:
    distribution: Resource
    location: str
    config: Mapping[str, Any]
    origins: list[Origin]

    @property
    def dynamic_origins(self) -> list[Origin]:
        """The origins of this behavior that are API Gateway APIs or Lambda function URLs."""
        return [origin for origin in self.origins if origin.kind != "other"]


def origins_of(templates: Templates, distribution: Resource) -> dict[str, Origin]:
    config = distribution.props.get("DistributionConfig", {})
    origins: dict[str, Origin] = {}
    for origin in config.get("Origins", []) if isinstance(config.get("Origins"), list) else []:
        domain = origin.get("DomainName")
        targets = templates.references(distribution.stack, domain)
        text = templates.literal_text(distribution.stack, domain)
        if any(t.type in API_TYPES for t in targets) or ".execute-api." in text:
            kind = "api"
        elif any(t.type == FUNCTION_URL for t in targets) or ".lambda-url." in text:
            kind = "function-url"
        else:
            kind = "other"
        origins[str(origin.get("Id"))] = Origin(str(origin.get("Id")), origin, targets, kind)
    return origins


def behaviors(templates: Templates) -> Iterator[Behavior]:
    """Every behavior (default first) of every distribution, with its origins (origin groups expanded)."""
    for distribution in templates.of_type("AWS::CloudFront::Distribution"):
        config = distribution.props.get("DistributionConfig", {})
        origins = origins_of(templates, distribution)
        groups = {
            group.get("Id"): [m.get("OriginId") for m in group.get("Members", {}).get("Items", [])]
            for group in config.get("OriginGroups", {}).get("Items", [])
        }
        listed = [("DistributionConfig.DefaultCacheBehavior", config.get("DefaultCacheBehavior"))]
        listed += [
            (f"DistributionConfig.CacheBehaviors[{i}]", behavior)
            for i, behavior in enumerate(config.get("CacheBehaviors", []))
        ]
        for location, behavior in listed:
            if not isinstance(behavior, Mapping):
                continue
            target = behavior.get("TargetOriginId")
            ids = groups.get(target, [target])
            yield Behavior(distribution, location, behavior, [origins[i] for i in ids if i in origins])


def fronted_resources(templates: Templates, *types: str) -> dict[Resource, Resource]:
    """Resources of ``types`` that some distribution's origin points at -> that distribution."""
    fronted: dict[Resource, Resource] = {}
    for distribution in templates.of_type("AWS::CloudFront::Distribution"):
        for origin in origins_of(templates, distribution).values():
            for target in origin.targets:
                if target.type in types:
                    fronted.setdefault(target, distribution)
    return fronted


def header_set(headers_config: Any) -> tuple[str, frozenset[str]] | None:
    """``(behavior, lower-case headers)`` of a policy's HeadersConfig, or None when synth cannot know it."""
    if not isinstance(headers_config, Mapping):
        return ("none", frozenset()) if headers_config is None else None
    behavior = headers_config.get("HeaderBehavior", "none")
    headers = headers_config.get("Headers", [])
    if (
        not isinstance(behavior, str)
        or not isinstance(headers, list)
        or not all(isinstance(h, str) for h in headers)
    ):
        return None
    return behavior, frozenset(h.lower() for h in headers)


def policy_config(
    templates: Templates, distribution: Resource, value: Any, kind: str
) -> Mapping[str, Any] | None:
    """The config of a cache or origin request policy that ``value`` refers to (a resource of ``kind``)."""
    policies = templates.references(distribution.stack, value, kind)
    if not policies:
        return None
    config_key = "CachePolicyConfig" if kind.endswith("CachePolicy") else "OriginRequestPolicyConfig"
    config: Mapping[str, Any] = policies[0].props.get(config_key, {})
    return config
