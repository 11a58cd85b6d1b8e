"""CloudWatch Logs resource policies, which let a service (EventBridge) write to the account's log groups.

They are per account and region, not per log group: each ``AWS::Logs::ResourcePolicy`` (its document is
a JSON string) and each policy aws-cdk-lib puts with its ``Custom::CloudwatchLogResourcePolicy`` custom
resource (``targets.CloudWatchLogGroup`` writes one: a ``putResourcePolicy`` call whose document is a
JSON string inside the call's JSON) applies to every log group it names. A policy set outside the app
applies too, so where none of the app's allows a call, only deploy time can tell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._env import account_of, region_of, render, same_account
from ._iam import Statement, statements
from ._model import Reference, Resource, Templates

LOG_GROUP = "AWS::Logs::LogGroup"
_TOKEN = re.compile(r"«ref:(\d+)»")


def log_policies(templates: Templates, group: Resource) -> list[Statement]:
    """The statements of every CloudWatch Logs resource policy of the app in ``group``'s account and
    region (None where that cannot be told counts as in it)."""

    def build() -> list[tuple[Resource, list[Statement]]]:
        found = []
        for policy in templates.of_type("AWS::Logs::ResourcePolicy", "Custom::CloudwatchLogResourcePolicy"):
            found.append((policy, _statements(templates, policy)))
        return found

    every: list[tuple[Resource, list[Statement]]] = templates.memo("log resource policies", build)
    return [
        statement
        for policy, found in every
        if same_account(account_of(policy.stack), account_of(group.stack)) is not False
        and same_account(region_of(policy.stack), region_of(group.stack)) is not False
        for statement in found
    ]


def _statements(templates: Templates, policy: Resource) -> list[Statement]:
    where = f"CloudWatch Logs resource policy {policy.path}"
    tokens: list[Reference] = []
    if policy.type == "AWS::Logs::ResourcePolicy":
        document = _json(templates, policy, policy.props.get("PolicyDocument"), tokens)
    else:
        call = _json(templates, policy, policy.props.get("Create"), tokens)
        parameters = call.get("parameters") if isinstance(call, Mapping) else None
        inner = parameters.get("policyDocument") if isinstance(parameters, Mapping) else None
        document = _loads(inner) if isinstance(inner, str) else None
    if document is None:
        document = {"Fn::Unknown": "the policy document cannot be read at synth"}
    resolved = _resolve(templates, document, tokens)
    return statements(templates, policy.stack, resolved, where, resource_policy=True)


def _json(templates: Templates, policy: Resource, value: Any, tokens: list[Reference]) -> Any:
    """A JSON string written with intrinsics, parsed, each reference a ``«ref:N»`` token."""
    if isinstance(value, Mapping) and not any(str(k).startswith("Fn::") or k == "Ref" for k in value):
        return value  # already a document
    return _loads(templates.tokenized(policy.stack, value, tokens))


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _resolve(templates: Templates, value: Any, tokens: list[Reference]) -> Any:
    """The document with each token rendered as the value it stands for."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda match: _rendered(templates, tokens, int(match.group(1))), value)
    if isinstance(value, list):
        return [_resolve(templates, item, tokens) for item in value]
    if isinstance(value, Mapping):
        return {key: _resolve(templates, item, tokens) for key, item in value.items()}
    return value


def _rendered(templates: Templates, tokens: list[Reference], index: int) -> str:
    if index >= len(tokens):
        return "«unknown»"
    reference = tokens[index]
    resource = reference.resource
    value = (
        {"Fn::GetAtt": [resource.logical_id, reference.attribute]}
        if reference.attribute
        else {"Ref": resource.logical_id}
    )
    return render(templates, resource.stack, value) or "«unknown»"
