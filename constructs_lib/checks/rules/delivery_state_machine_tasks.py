"""Step Functions tasks can call their targets (Lambda, SQS, SNS, EventBridge, Step Functions, DynamoDB,
AWS SDK integrations) through the state machine's role, which must trust ``states.amazonaws.com``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._actions import guessed_action, sdk_action
from .._edges import (
    EVENT_BUS,
    FUNCTION,
    GLOBAL_TABLE,
    QUEUE,
    ROLE,
    SEND,
    STATE_MACHINE,
    TABLE,
    TOPIC,
    Edge,
    any_resource,
    combine,
    edge,
    guarded,
    label,
    mapping,
    may,
    not_in_app,
    role_may,
    trusts,
)
from .._env import account_of, region_of, render_arn, resolve
from .._iam import Decision, Principal
from .._lambda import function_target, invoked_arn
from .._model import Reference, Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryStateMachineTasks"
STATES = "states.amazonaws.com"
FIX = (
    "Grant the state machine's role what each task calls (aws-cdk-lib's tasks do: function.grant_invoke, "
    "queue.grant_send_messages, topic.grant_publish, events:PutEvents on the bus), the target's key "
    "included, and let the role trust states.amazonaws.com"
)
_TASK = re.compile(r"^arn:[^:]*:states:::(?P<service>[a-z0-9-]+):(?P<api>[A-Za-z0-9]+)(?:\.[A-Za-z0-9:]+)?$")
_SDK = re.compile(
    r"^arn:[^:]*:states:::aws-sdk:(?P<service>[a-z0-9-]+):(?P<api>[A-Za-z0-9]+)(?:\.[A-Za-z0-9:]+)?$"
)
_TOKEN = re.compile(r"«ref:(\d+)»")
#: Optimised integrations: (service, API) → the IAM action, the parameter naming the target, its type.
_INTEGRATIONS = {
    ("lambda", "invoke"): ("lambda:InvokeFunction", "FunctionName", FUNCTION),
    ("sqs", "sendMessage"): ("sqs:SendMessage", "QueueUrl", QUEUE),
    ("sns", "publish"): ("sns:Publish", "TopicArn", TOPIC),
    ("states", "startExecution"): ("states:StartExecution", "StateMachineArn", STATE_MACHINE),
    ("events", "putEvents"): ("events:PutEvents", "Entries", EVENT_BUS),
}


def edges(templates: Templates) -> Iterator[Edge]:
    machines = (STATE_MACHINE,)
    yield from guarded(FAMILY, FIX, templates, machines, lambda machine: _tasks(templates, machine))


def _tasks(templates: Templates, machine: Resource) -> Iterator[Edge]:
    where = "Properties.DefinitionString" if "DefinitionString" in machine.props else "Properties.Definition"
    role = resolve(templates, machine.stack, machine.props.get("RoleArn"), ROLE)
    tokens: list[Reference] = []
    tree = _definition(templates, machine, tokens)
    if tree is None or role is None:
        why = (
            "its definition is not known at synth"
            if tree is None
            else not_in_app(machine.props.get("RoleArn"), "role")
        )
        yield edge(FAMILY, machine, where, "its tasks", Decision(None, why), FIX)
        return
    trust = trusts(
        templates,
        role,
        STATES,
        source_arn=render_arn(templates, machine),
        source_account=account_of(machine.stack),
    )
    for name, state in _states(tree):
        found = _task(templates, machine, role, state, tokens)
        if found is not None:
            target, decision = found
            yield edge(FAMILY, machine, where, f"{target} (state {name!r})", combine(trust, decision), FIX)


def _definition(templates: Templates, machine: Resource, tokens: list[Reference]) -> Any:
    """The definition as JSON, each reference replaced by a ``«ref:N»`` token (``tokens[N]``)."""
    props = machine.props
    value = props.get("DefinitionString")
    if value is None and "Definition" in props:
        value = {"Fn::Join": ["", [json.dumps(props["Definition"])]]} if _plain(props["Definition"]) else None
    text = _text(templates, machine, value, tokens)
    for name, substitute in mapping(props.get("DefinitionSubstitutions")).items():
        replacement = _text(templates, machine, substitute, tokens)
        if text is not None and replacement is not None:
            text = text.replace("${" + str(name) + "}", replacement)
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None


def _plain(value: Any) -> bool:
    """A ``Definition`` object with no intrinsic function in it."""
    if isinstance(value, Mapping):
        return not any(str(k).startswith("Fn::") or k == "Ref" for k in value) and all(
            map(_plain, value.values())
        )
    return all(map(_plain, value)) if isinstance(value, list) else True


def _text(templates: Templates, machine: Resource, value: Any, tokens: list[Reference]) -> str | None:
    return None if value is None else templates.tokenized(machine.stack, value, tokens)


def _states(tree: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every state, in branches and map iterators too."""
    for name, state in mapping(mapping(tree).get("States")).items():
        if not isinstance(state, Mapping):
            continue
        yield str(name), state
        for branch in state.get("Branches") or []:
            yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _states(state[key])


def _referenced(tokens: list[Reference], value: Any) -> list[Reference]:
    text = json.dumps(value, ensure_ascii=False)
    return [tokens[int(n)] for n in _TOKEN.findall(text) if int(n) < len(tokens)]


def _task(
    templates: Templates, machine: Resource, role: Resource, state: Mapping[str, Any], tokens: list[Reference]
) -> tuple[str, Decision] | None:
    if state.get("Type") != "Task":
        return None
    resource = str(state.get("Resource", ""))
    parameters = state.get("Parameters", state.get("Arguments"))
    principal = Principal(role=role)
    integration = _TASK.match(resource)
    sdk = _SDK.match(resource)
    if sdk is not None:
        return _sdk(templates, role, sdk.group("service"), sdk.group("api"), _referenced(tokens, parameters))
    if integration is None:
        direct = _referenced(tokens, resource)
        if direct and direct[0].resource.type in _FUNCTIONS:  # a function's ARN as the Resource
            return _send(templates, principal, "lambda:InvokeFunction", [direct[0]], FUNCTION)
        return None
    service, api = integration.group("service"), integration.group("api")
    if (service, api) not in _INTEGRATIONS:
        return _dynamodb(templates, principal, service, api, parameters, tokens)
    action, parameter, kind = _INTEGRATIONS[(service, api)]
    named = _referenced(tokens, mapping(parameters).get(parameter))
    if kind == EVENT_BUS and not named:
        bus = f"arn:aws:events:{region_of(machine.stack)}:{account_of(machine.stack)}:event-bus/default"
        return f"the default event bus {bus}", role_may(
            templates, role, action, bus, account=account_of(machine.stack)
        )
    return _send(templates, principal, action, named, kind)


#: What a task may name as a function: the function, or one of its aliases or versions.
_FUNCTIONS = (FUNCTION, "AWS::Lambda::Alias", "AWS::Lambda::Version")


def _sdk(
    templates: Templates, role: Resource, service: str, api: str, named: list[Reference]
) -> tuple[str, Decision]:
    """An ``aws-sdk:<service>:<api>`` task: the role's policy for the API's IAM action, on the resource of
    the app its parameters name, else on any resource. A guessed action never refuses."""
    found = sdk_action(service, api)
    action = found.action
    targets = [t for t in _targets(templates, named) if t[0].type in SEND]
    if len(targets) == 1:
        target, arn = targets[0]
        sends = SEND[target.type]
        key_actions = sends[1] if action in sends[0] else ()
        decision = may(templates, Principal(role=role), (action,), target, arn=arn, key_actions=key_actions)
        name = f"{action} on {label(target)}"
    else:
        decision, name = any_resource(templates, role, action), action
    return name, guessed_action(found, service, api, decision)


def _targets(templates: Templates, named: list[Reference]) -> list[tuple[Resource, str | None]]:
    """The resources ``named`` refers to, each once, with the ARN called where it is not the resource's
    own (a function's alias or version)."""
    found: dict[Resource, str | None] = {}
    for reference in named:
        if reference.resource.type in _FUNCTIONS:
            value = (
                {"Fn::GetAtt": [reference.resource.logical_id, reference.attribute]}
                if reference.attribute
                else {"Ref": reference.resource.logical_id}
            )
            target = function_target(templates, reference.resource.stack, value)
            if target is not None:
                found.setdefault(
                    target.function, invoked_arn(templates, target) if target.qualified else None
                )
        else:
            found.setdefault(reference.resource, None)
    return list(found.items())


def _dynamodb(
    templates: Templates,
    principal: Principal,
    service: str,
    api: str,
    parameters: Any,
    tokens: list[Reference],
) -> tuple[str, Decision] | None:
    if service != "dynamodb":
        return None  # an integration the pack does not model (ECS, Batch, Glue, HTTP...)
    action = f"dynamodb:{api[0].upper()}{api[1:]}"
    return _send(
        templates, principal, action, _referenced(tokens, mapping(parameters).get("TableName")), TABLE
    )


def _send(
    templates: Templates, principal: Principal, action: str, named: list[Reference], kind: str
) -> tuple[str, Decision]:
    kinds = (TABLE, GLOBAL_TABLE) if kind == TABLE else (kind,)
    targets = [t for t in _targets(templates, named) if t[0].type in kinds]
    if len(targets) != 1:
        return action, Decision(None, "its target is not one resource of this app")
    target, arn = targets[0]
    sends = SEND.get(kind, ((), ()))
    key_actions = sends[1] if action in sends[0] else ()
    name = label(target) if arn is None else f"{label(target)} (qualifier {arn.rsplit(':', 1)[-1]})"
    return name, may(
        templates, Principal(role=principal.role), (action,), target, arn=arn, key_actions=key_actions
    )


RULE = Rule(
    name=FAMILY,
    summary="A Step Functions task cannot call its target through the state machine's role: the "
    "execution fails at that state",
    fix=FIX,
    find=edge_findings(edges),
)
