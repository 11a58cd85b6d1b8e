"""EventBridge rules reach their targets and dead-letter queues; Scheduler schedules through their role."""

from __future__ import annotations

from collections.abc import Iterator

from .._edges import QUEUE, ROLE, TOPIC, Edge, combine, deliver, edge, source_context, trusts
from .._iam import Decision, Principal, resolve
from .._lambda import FUNCTION
from .._model import Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryEventTargets"
EVENTS = Principal(service="events.amazonaws.com")
FIX = (
    "Give the target a resource policy that allows events.amazonaws.com (a Lambda permission, or a queue "
    "or topic policy statement conditioned on aws:SourceArn = the rule), and a key it may use: SSE-SQS or a "
    "customer managed key whose policy grants the service (AWS managed keys never do). A schedule's role "
    "must trust scheduler.amazonaws.com and be allowed the target's action"
)


def edges(templates: Templates) -> Iterator[Edge]:
    for rule in templates.of_type("AWS::Events::Rule"):
        for index, target in enumerate(rule.props.get("Targets") or []):
            where = f"Properties.Targets.{index}"
            if "RoleArn" not in target:
                name, decision = deliver(
                    templates, EVENTS, rule.stack, target.get("Arn"), context=source_context(rule)
                )
                yield edge(FAMILY, rule, f"{where}.Arn", name, decision, FIX)
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            if dead_letter is not None:
                name, decision = deliver(
                    templates, EVENTS, rule.stack, dead_letter, context=source_context(rule), kinds=(QUEUE,)
                )
                yield edge(
                    FAMILY, rule, f"{where}.DeadLetterConfig.Arn", f"dead-letter {name}", decision, FIX
                )
    yield from _schedules(templates)


def _schedules(templates: Templates) -> Iterator[Edge]:
    for schedule in templates.of_type("AWS::Scheduler::Schedule"):
        target = schedule.props.get("Target") or {}
        role = resolve(templates, schedule.stack, target.get("RoleArn"), ROLE)
        for location, value, kinds in (
            ("Properties.Target.Arn", target.get("Arn"), (QUEUE, TOPIC, FUNCTION)),
            (
                "Properties.Target.DeadLetterConfig.Arn",
                (target.get("DeadLetterConfig") or {}).get("Arn"),
                (QUEUE,),
            ),
        ):
            if value is None:
                continue
            if role is None:
                decision = Decision(
                    None, "its role is not defined in this app, so its policies cannot be read"
                )
                yield edge(FAMILY, schedule, location, "its target", decision, FIX)
                continue
            name, decision = deliver(templates, Principal(role=role), schedule.stack, value, kinds=kinds)
            decision = combine(trusts(templates, role, "scheduler.amazonaws.com"), decision)
            yield edge(FAMILY, schedule, location, name, decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="An EventBridge rule or schedule cannot deliver to its target or dead-letter queue: events "
    "are dropped",
    fix=FIX,
    find=edge_findings(edges),
)
