"""EventBridge rules reach their targets and dead-letter queues (through a target's resource policy, or
the target's role); Scheduler schedules reach theirs through their role, universal targets included."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._actions import guessed_action, sdk_action
from .._context import secure
from .._edges import (
    API_DESTINATION,
    EVENT_BUS,
    FIREHOSE,
    FUNCTION,
    KINESIS,
    QUEUE,
    ROLE,
    SEND,
    STATE_MACHINE,
    TOPIC,
    Edge,
    any_resource,
    combine,
    deliver,
    edge,
    guarded,
    label,
    mapping,
    may,
    not_in_app,
    source_call,
    target_of,
    trusts,
    values_at,
)
from .._env import account_of, region_of, render, render_arn, resolve
from .._iam import Decision, Policies, Principal, Request, decide
from .._logs import LOG_GROUP, log_policies
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryEventTargets"
EVENTS = "events.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"
#: Targets EventBridge calls through their resource policy, and those it calls with the target's role.
POLICY_TARGETS = (QUEUE, TOPIC, FUNCTION)
ROLE_TARGETS = (EVENT_BUS, STATE_MACHINE, KINESIS, FIREHOSE, API_DESTINATION)
FIX = (
    "Give the target a resource policy that allows events.amazonaws.com (a Lambda permission, or a queue "
    "or topic policy statement conditioned on aws:SourceArn = the rule), and a key it may use: SSE-SQS or a "
    "customer managed key whose policy grants the service (AWS managed keys never do). A target called "
    "with a role (an event bus, a state machine, a stream) and a schedule need a role that trusts the "
    "service and is allowed the target's action (events:PutEvents, states:StartExecution, "
    "events:InvokeApiDestination...); a log group target needs a CloudWatch Logs resource policy that lets "
    "events.amazonaws.com create streams and put events (targets.CloudWatchLogGroup writes one); grant an "
    "alias's or version's ARN when the target invokes one"
)
_UNIVERSAL = re.compile(r"^arn:[^:]*:scheduler:::aws-sdk:(?P<service>[a-z0-9-]+):(?P<api>[A-Za-z0-9]+)$")


def edges(templates: Templates) -> Iterator[Edge]:
    yield from guarded(FAMILY, FIX, templates, ("AWS::Events::Rule",), lambda rule: _rule(templates, rule))
    yield from guarded(
        FAMILY, FIX, templates, ("AWS::Scheduler::Schedule",), lambda schedule: _schedule(templates, schedule)
    )


def _rule(templates: Templates, rule: Resource) -> Iterator[Edge]:
    context = source_call(templates, EVENTS, rule)
    for index, target in enumerate(values_at(rule.props.get("Targets"))):
        where, target = f"Properties.Targets.{index}", mapping(target)
        found = target_of(
            templates, rule.stack, target.get("Arn"), POLICY_TARGETS + ROLE_TARGETS + (LOG_GROUP,)
        )
        if isinstance(found, Resource) and found.type == LOG_GROUP:
            yield edge(FAMILY, rule, f"{where}.Arn", label(found), _to_logs(templates, rule, found), FIX)
        elif isinstance(found, Resource) and found.type in ROLE_TARGETS and "RoleArn" not in target:
            # EventBridge calls these targets only with a role (a bus of another account could once be
            # called through its resource policy alone).
            kind = label(found).split(" /")[0]
            article = "an" if kind[0] in "aeiouAEIOU" else "a"
            why = f"EventBridge calls {article} {kind} target with a role, and this target has none"
            decision = Decision(None if found.type == EVENT_BUS else False, why)
            yield edge(FAMILY, rule, f"{where}.Arn", label(found), decision, FIX)
        elif "RoleArn" in target and not (isinstance(found, Resource) and found.type in POLICY_TARGETS):
            yield _with_role(templates, rule, target, where)
        else:
            principal = Principal(service=EVENTS)
            name, decision = deliver(templates, principal, rule.stack, target.get("Arn"), context=context)
            yield edge(FAMILY, rule, f"{where}.Arn", name, decision, FIX)
        dead_letter = mapping(target.get("DeadLetterConfig")).get("Arn")
        if dead_letter is not None:
            name, decision = deliver(
                templates, Principal(service=EVENTS), rule.stack, dead_letter, context=context, kinds=(QUEUE,)
            )
            yield edge(FAMILY, rule, f"{where}.DeadLetterConfig.Arn", f"dead-letter {name}", decision, FIX)


#: What EventBridge calls on a log group it writes to (its "CloudWatch Logs targets" permissions).
_LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def _to_logs(templates: Templates, rule: Resource, group: Resource) -> Decision:
    """A log group target: the app's CloudWatch Logs resource policies must let EventBridge write to it.
    They are per account and region, so where none of the app's allows it, one set outside the app may."""
    statements = log_policies(templates, group)
    stream = render_arn(templates, group).removesuffix(":*") + ":log-stream:«stream»"
    context = {**secure(), **source_call(templates, EVENTS, rule)}
    policies = Policies(resource=statements, resource_name="the app's CloudWatch Logs resource policies")
    decisions = [
        decide(Request(Principal(service=EVENTS), a, stream, context), policies) for a in _LOG_ACTIONS
    ]
    decision = combine(*decisions)
    if decision.allowed is False and " denies " not in decision.why:
        return Decision(
            None,
            f"{decision.why}; CloudWatch Logs resource policies are per account and region, and one set "
            "outside the app may allow it",
        )
    return decision


def _with_role(templates: Templates, rule: Resource, target: Mapping[str, Any], where: str) -> Edge:
    role = resolve(templates, rule.stack, target.get("RoleArn"), ROLE)
    if role is None:
        why = not_in_app(target.get("RoleArn"), "role")
        return edge(FAMILY, rule, f"{where}.RoleArn", "its target", Decision(None, why), FIX)
    name, decision = deliver(
        templates, Principal(role=role), rule.stack, target.get("Arn"), kinds=POLICY_TARGETS + ROLE_TARGETS
    )
    trust = trusts(
        templates, role, EVENTS, source_arn=render_arn(templates, rule), source_account=account_of(rule.stack)
    )
    return edge(FAMILY, rule, f"{where}.Arn", name, combine(trust, decision), FIX)


def _schedule(templates: Templates, schedule: Resource) -> Iterator[Edge]:
    target = mapping(schedule.props.get("Target"))
    role = resolve(templates, schedule.stack, target.get("RoleArn"), ROLE)
    dead_letter = mapping(target.get("DeadLetterConfig")).get("Arn")
    for location, value in (
        ("Properties.Target.Arn", target.get("Arn")),
        ("Properties.Target.DeadLetterConfig.Arn", dead_letter),
    ):
        if value is None:
            continue
        if role is None:
            decision = Decision(None, not_in_app(target.get("RoleArn"), "role"))
            yield edge(FAMILY, schedule, location, "its target", decision, FIX)
            continue
        rendered = render(templates, schedule.stack, value) or ""
        universal = _UNIVERSAL.match(rendered) if location.endswith("Target.Arn") else None
        if universal is not None:
            name, decision = _universal(templates, schedule, role, target, universal)
        else:
            kinds = POLICY_TARGETS + ROLE_TARGETS if location.endswith("Target.Arn") else (QUEUE,)
            name, decision = deliver(templates, Principal(role=role), schedule.stack, value, kinds=kinds)
        group = _group_arn(templates, schedule)
        trust = trusts(
            templates, role, SCHEDULER, source_arn=group, source_account=account_of(schedule.stack)
        )
        yield edge(FAMILY, schedule, location, name, combine(trust, decision), FIX)


def _group_arn(templates: Templates, schedule: Resource) -> str | None:
    """The schedule group's ARN, which Scheduler sends as ``aws:SourceArn`` when it assumes the role."""
    value = schedule.props.get("GroupName")
    group = resolve(templates, schedule.stack, value, "AWS::Scheduler::ScheduleGroup")
    if group is not None:
        return render_arn(templates, group)
    name = "default" if value is None else render(templates, schedule.stack, value)
    if name is None:
        return None
    return f"arn:aws:scheduler:{region_of(schedule.stack)}:{account_of(schedule.stack)}:schedule-group/{name}"


def _universal(
    templates: Templates, schedule: Resource, role: Resource, target: Mapping[str, Any], match: re.Match[str]
) -> tuple[str, Decision]:
    """A universal target (``aws-sdk:<service>:<api>``): the role's policy for that API's IAM action, on
    the resource of the app its input names, else on any resource. A guessed action never refuses."""
    service, api = match.group("service"), match.group("api")
    found = sdk_action(service, api)
    action = found.action
    named = [r for r in templates.references(schedule.stack, target.get("Input")) if r.type in SEND]
    if len(named) == 1:
        key_actions = SEND[named[0].type][1] if action in SEND[named[0].type][0] else ()
        decision = may(templates, Principal(role=role), (action,), named[0], key_actions=key_actions)
        name = f"{action} on {label(named[0])}"
    else:
        decision, name = any_resource(templates, role, action), action
    return name, guessed_action(found, service, api, decision)


RULE = Rule(
    name=FAMILY,
    summary="An EventBridge rule or schedule cannot deliver to its target or dead-letter queue: events "
    "are dropped",
    fix=FIX,
    find=edge_findings(edges),
)
