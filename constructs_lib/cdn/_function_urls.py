"""One function URL per function and qualifier: the one the distribution signs for.

CloudFormation allows one ``AWS::Lambda::Url`` per function and qualifier, and a second URL (often an
earlier ``add_function_url()`` with ``AuthType NONE``) is also a way around the distribution.
"""

from __future__ import annotations

import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct, IValidation


def _target(function: lambda_.IFunction) -> tuple[str, str | None]:
    """The function ARN a URL of ``function`` targets, and its qualifier (an alias's name)."""
    if isinstance(function, lambda_.Alias):
        return function.version.lambda_.function_arn, function.alias_name
    return function.function_arn, None


def urls_of(function: lambda_.IFunction, root: IConstruct) -> list[lambda_.CfnUrl]:
    """Every function URL in the app under ``root`` with the target and qualifier a URL of ``function``
    would have (the function's ARN token is one string wherever it is read)."""
    arn, qualifier = _target(function)
    return [
        url
        for url in root.node.find_all()
        if isinstance(url, lambda_.CfnUrl)
        and url.target_function_arn == arn
        and (url.qualifier or None) == qualifier
    ]


def describe(urls: list[lambda_.CfnUrl]) -> str:
    return ", ".join(f"{url.node.path} (AuthType {url.auth_type})" for url in urls)


ONE_URL_FIX = (
    "CloudFormation allows one function URL per function and qualifier, and another URL lets callers go "
    "around the distribution; remove the other URL (CdnOrigin.function_url creates the one CloudFront "
    "signs for), or front an alias of the function"
)


@jsii.implements(IValidation)
class OnlyUrlOfItsFunction:
    """Fails synth when another URL targets the same function and qualifier as ``url`` (one added after
    the distribution was defined)."""

    def __init__(self, url: lambda_.FunctionUrl, function: lambda_.IFunction) -> None:
        self._url = url
        self._function = function

    def validate(self) -> list[str]:
        mine = f"{self._url.node.path}/"
        others = [u for u in urls_of(self._function, self._url.node.root) if not u.node.path.startswith(mine)]
        if not others:
            return []
        return [
            f"{self._url.node.path}: {self._function.node.path} also has {describe(others)}; {ONE_URL_FIX}"
        ]
