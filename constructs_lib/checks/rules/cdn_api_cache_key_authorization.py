"""CloudFront caches API responses only when Authorization is part of the cache key."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._cdn import Behavior, behaviors, header_set, policy_config
from .._model import Templates, is_literal, number
from .._rule import Finding, Rule

#: Managed cache policies: id -> (name, caches responses, headers in the cache key).
MANAGED_CACHE_POLICIES: dict[str, tuple[str, bool, frozenset[str]]] = {
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": ("CachingDisabled", False, frozenset()),
    "658327ea-f89d-4fab-a63d-7e88639e58f6": ("CachingOptimized", True, frozenset()),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": ("CachingOptimizedForUncompressedObjects", True, frozenset()),
    "2e54312d-136d-493c-8eb9-b001f22f67d2": (
        "Amplify",
        True,
        frozenset({"authorization", "cloudfront-viewer-country", "host"}),
    ),
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": ("Elemental-MediaPackage", True, frozenset({"origin"})),
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": (
        "UseOriginCacheControlHeaders",
        True,
        frozenset({"host", "origin"}),
    ),
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": (
        "UseOriginCacheControlHeaders-QueryStrings",
        True,
        frozenset({"host", "origin"}),
    ),
}


def cache_key(templates: Templates, behavior: Behavior) -> tuple[str, bool, frozenset[str]] | None:
    """``(policy, caches responses, headers in the key)`` of a behavior, or None when synth cannot know."""
    policy_id = behavior.config.get("CachePolicyId")
    if policy_id is None:
        return _legacy_cache_key(behavior.config.get("ForwardedValues"), behavior.config)
    if isinstance(policy_id, str):
        return MANAGED_CACHE_POLICIES.get(policy_id)
    config = policy_config(templates, behavior.distribution, policy_id, "AWS::CloudFront::CachePolicy")
    if config is None:
        return None
    ttls = [number(config.get(key), 0) for key in ("MinTTL", "DefaultTTL", "MaxTTL")]
    headers = header_set(config.get("ParametersInCacheKeyAndForwardedToOrigin", {}).get("HeadersConfig"))
    if None in ttls or headers is None:
        return None
    caches = any(ttl for ttl in ttls if ttl is not None)
    return str(config.get("Name", "custom")), caches, headers[1] if headers[0] == "whitelist" else frozenset()


def _legacy_cache_key(forwarded: Any, config: Mapping[str, Any]) -> tuple[str, bool, frozenset[str]] | None:
    if not isinstance(forwarded, Mapping) or not is_literal(forwarded.get("Headers", [])):
        return None
    headers = frozenset(h.lower() for h in forwarded.get("Headers", []))
    ttls = [number(config.get("DefaultTTL"), 86400), number(config.get("MaxTTL"), 31536000)]
    if None in ttls:
        return None
    return "ForwardedValues", "*" not in headers and any(ttls), headers


def _find(templates: Templates) -> Iterator[Finding]:
    for behavior in behaviors(templates):
        if not behavior.dynamic_origins:
            continue
        key = cache_key(templates, behavior)
        if key is None:
            continue
        name, caches, headers = key
        if caches and "authorization" not in headers:
            origin = behavior.dynamic_origins[0]
            yield Finding(
                behavior.distribution,
                f"{behavior.location} sends requests to the {origin.kind} origin {origin.id} with cache "
                f"policy {name}, which caches responses without Authorization in the cache key",
                f"Properties.{behavior.location}.CachePolicyId",
            )


RULE = Rule(
    name="CdnApiCacheKeyAuthorization",
    summary="A CloudFront behavior in front of API Gateway or a function URL caches responses while "
    "Authorization is not in the cache key: one caller's response is served to others, and the header "
    "is not forwarded to the origin",
    fix="Use CachePolicy.CACHING_DISABLED for API behaviors (with OriginRequestPolicy."
    "ALL_VIEWER_EXCEPT_HOST_HEADER), or a cache policy whose header allow list includes Authorization",
    find=_find,
)
