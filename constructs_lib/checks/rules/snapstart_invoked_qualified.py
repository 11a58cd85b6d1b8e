"""A function with SnapStart is invoked through a version or alias: its unqualified ARN runs without it."""

from __future__ import annotations

from collections.abc import Iterator

from ..._core.limits import snap_start_applies
from .._cdn import FUNCTION_URL, fronted_resources
from .._lambda import function_target
from .._model import Templates
from .._rule import Finding, Rule

#: Where each kind of invoker names the function it invokes.
_INVOKERS = {
    "AWS::Lambda::EventSourceMapping": "FunctionName",
    "AWS::Lambda::Permission": "FunctionName",
    "AWS::ApiGateway::Method": "Integration.Uri",
    "AWS::ApiGatewayV2::Integration": "IntegrationUri",
    "AWS::Lambda::Url": "TargetFunctionArn",
}


def _find(templates: Templates) -> Iterator[Finding]:
    unqualified_urls = set()
    for kind, prop in _INVOKERS.items():
        for invoker in templates.of_type(kind):
            value = invoker.props
            for key in prop.split("."):
                value = value.get(key, {}) if isinstance(value, dict) else {}
            if kind == "AWS::Lambda::Url" and "Qualifier" in invoker.props:
                continue
            target = function_target(templates, invoker.stack, value)
            if (
                target is None
                or target.qualified
                or not snap_start_applies(target.function.props.get("SnapStart"))
            ):
                continue
            if kind == "AWS::Lambda::Url":
                unqualified_urls.add(invoker)
            yield Finding(
                invoker,
                f"{kind} invokes the unqualified function {target.function.logical_id}, which has SnapStart",
                f"Properties.{prop}",
            )
    for url, distribution in fronted_resources(templates, FUNCTION_URL).items():
        if url in unqualified_urls:
            yield Finding(
                distribution,
                f"its origin is the function URL {url.logical_id}, unqualified, of a SnapStart function",
                "Properties.DistributionConfig.Origins",
            )


RULE = Rule(
    name="SnapStartInvokedQualified",
    summary="A function with SnapStart is invoked unqualified, so every such call runs without SnapStart",
    fix="Invoke a published version or an alias instead: pass the alias (function.current_version / "
    "lambda.Alias) to the event source, permission, integration, function URL or origin",
    find=_find,
)
