"""CloudFront does not forward the viewer's Host header to API Gateway or a function URL."""

from __future__ import annotations

from collections.abc import Iterator

from .._cdn import Behavior, behaviors, header_set, policy_config
from .._model import Templates
from .._rule import Finding, Rule
from .cdn_api_cache_key_authorization import cache_key

#: Managed origin request policies: id -> (name, forwards the viewer's Host header).
MANAGED_ORIGIN_REQUEST_POLICIES: dict[str, tuple[str, bool]] = {
    "216adef6-5c7f-47e4-b989-5492eafa07d3": ("AllViewer", True),
    "33f36d7e-f396-46d9-90e0-52428a34d9dc": ("AllViewerAndCloudFrontHeaders-2022-06", True),
    "b689b0a8-53d0-40ab-baf2-68738e2966ac": ("AllViewerExceptHostHeader", False),
    "59781a5b-3903-41f3-afcb-af62929ccde1": ("CORS-CustomOrigin", False),
    "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": ("CORS-S3Origin", False),
    "acba4595-bd28-49b8-b9fe-13317c0390fa": ("UserAgentRefererHeaders", False),
}
_FORWARDS_ALL = ("allViewer", "allViewerAndWhitelistCloudFront")


def host_forwarded_by(templates: Templates, behavior: Behavior) -> str | None:
    """The policy that forwards Host to the origin, "" when none does, None when synth cannot know."""
    key = cache_key(templates, behavior)
    if key is not None and key[2] & {"host", "*"}:
        return f"cache policy {key[0]}"
    policy_id = behavior.config.get("OriginRequestPolicyId")
    if policy_id is None:
        return ""
    if isinstance(policy_id, str):
        managed = MANAGED_ORIGIN_REQUEST_POLICIES.get(policy_id)
        if managed is None:
            return None
        return f"origin request policy {managed[0]}" if managed[1] else ""
    config = policy_config(
        templates, behavior.distribution, policy_id, "AWS::CloudFront::OriginRequestPolicy"
    )
    headers = header_set(config.get("HeadersConfig")) if config is not None else None
    if config is None or headers is None:
        return None
    mode, names = headers
    forwards = (
        mode in _FORWARDS_ALL
        or (mode == "whitelist" and "host" in names)
        or (mode == "allExcept" and "host" not in names)
    )
    return f"origin request policy {config.get('Name', 'custom')}" if forwards else ""


def _find(templates: Templates) -> Iterator[Finding]:
    for behavior in behaviors(templates):
        if not behavior.dynamic_origins:
            continue
        forwarded_by = host_forwarded_by(templates, behavior)
        if forwarded_by:
            origin = behavior.dynamic_origins[0]
            yield Finding(
                behavior.distribution,
                f"{behavior.location} forwards the viewer's Host header to the {origin.kind} origin "
                f"{origin.id} ({forwarded_by})",
                f"Properties.{behavior.location}",
            )


RULE = Rule(
    name="CdnApiHostHeader",
    summary="A CloudFront behavior forwards the viewer's Host header to API Gateway or a function URL, "
    "which route by Host and answer 403 to the distribution's host name",
    fix="Use OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER (or a policy that leaves Host out) and keep "
    "Host out of the cache policy's headers",
    find=_find,
)
