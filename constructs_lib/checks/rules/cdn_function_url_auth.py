"""A function URL that CloudFront fronts is IAM-authorized, so only the distribution can call it."""

from __future__ import annotations

from collections.abc import Iterator

from .._cdn import FUNCTION_URL, fronted_resources
from .._model import Templates
from .._rule import Finding, Rule


def _find(templates: Templates) -> Iterator[Finding]:
    for url, distribution in fronted_resources(templates, FUNCTION_URL).items():
        if url.props.get("AuthType") == "NONE":
            yield Finding(
                url,
                f"AuthType is NONE, and distribution {distribution.logical_id} fronts it: anyone can call "
                "the URL directly and go around the distribution (its WAF, caching and logging)",
                "Properties.AuthType",
            )


RULE = Rule(
    name="CdnFunctionUrlAuth",
    summary="A function URL with AuthType NONE sits behind CloudFront: callers can go around the "
    "distribution to the function",
    fix="Create the URL with FunctionUrlAuthType.AWS_IAM and front it with "
    "FunctionUrlOrigin.with_origin_access_control (or CdnFrontedOrigin's function URL origin)",
    find=_find,
)
