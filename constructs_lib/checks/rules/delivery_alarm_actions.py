"""CloudWatch alarm actions reach their target: an SNS topic (its policy and key admit CloudWatch) or a
Lambda function (its permission admits ``lambda.alarms.cloudwatch.amazonaws.com`` for this alarm)."""

from __future__ import annotations

from collections.abc import Iterator

from .._edges import FUNCTION, TOPIC, Edge, deliver, edge, guarded, source_call, values_at
from .._env import render
from .._iam import Principal
from .._lambda import invoked_function
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryAlarmActions"
CLOUDWATCH = Principal(service="cloudwatch.amazonaws.com")
#: The service principal that invokes a function an alarm action names (aws-cdk-lib's LambdaAction).
ALARM_LAMBDA = Principal(service="lambda.alarms.cloudwatch.amazonaws.com")
ALARMS = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
FIX = (
    "Allow cloudwatch.amazonaws.com to sns:Publish in the topic policy (conditioned on aws:SourceAccount "
    "and aws:SourceArn), and encrypt the topic with a customer managed key whose policy grants CloudWatch "
    "kms:Decrypt and kms:GenerateDataKey*; for a function, a Lambda permission for "
    "lambda.alarms.cloudwatch.amazonaws.com whose SourceArn is the alarm (cloudwatch_actions.LambdaAction)"
)


def edges(templates: Templates) -> Iterator[Edge]:
    yield from guarded(FAMILY, FIX, templates, ALARMS, lambda alarm: _actions(templates, alarm))


def _actions(templates: Templates, alarm: Resource) -> Iterator[Edge]:
    for prop in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for index, action in enumerate(values_at(alarm.props.get(prop))):
            rendered = render(templates, alarm.stack, action)
            if invoked_function(templates, alarm.stack, action) is not None or ":lambda:" in (rendered or ""):
                principal, kinds = ALARM_LAMBDA, (FUNCTION,)
            elif rendered is not None and ":sns:" not in rendered:
                continue  # an Auto Scaling, EC2 or Systems Manager action
            else:
                principal, kinds = CLOUDWATCH, (TOPIC,)
            service = principal.service or ""
            target, decision = deliver(
                templates,
                principal,
                alarm.stack,
                action,
                context=source_call(templates, service, alarm),
                kinds=kinds,
            )
            yield edge(FAMILY, alarm, f"Properties.{prop}.{index}", target, decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="An alarm action cannot reach its SNS topic or Lambda function: the alarm fires, and nobody "
    "is told",
    fix=FIX,
    find=edge_findings(edges),
)
