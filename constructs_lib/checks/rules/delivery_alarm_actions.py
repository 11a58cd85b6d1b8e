"""CloudWatch alarm actions reach their SNS topic: the topic policy and the topic's key admit CloudWatch."""

from __future__ import annotations

from collections.abc import Iterator

from .._edges import TOPIC, Edge, deliver, edge, source_context, values_at
from .._iam import Principal, render
from .._model import Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryAlarmActions"
CLOUDWATCH = Principal(service="cloudwatch.amazonaws.com")
FIX = (
    "Allow cloudwatch.amazonaws.com to sns:Publish in the topic policy (conditioned on aws:SourceAccount "
    "and aws:SourceArn), and encrypt the topic with a customer managed key whose policy grants CloudWatch "
    "kms:Decrypt and kms:GenerateDataKey*"
)


def edges(templates: Templates) -> Iterator[Edge]:
    for alarm in templates.of_type("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for prop in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for index, action in enumerate(values_at(alarm.props.get(prop))):
                rendered = render(templates, alarm.stack, action)
                if rendered is not None and ":sns:" not in rendered:
                    continue  # an Auto Scaling, EC2 or Systems Manager action
                target, decision = deliver(
                    templates, CLOUDWATCH, alarm.stack, action, context=source_context(alarm), kinds=(TOPIC,)
                )
                yield edge(FAMILY, alarm, f"Properties.{prop}.{index}", target, decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="An alarm action cannot reach its SNS topic: the alarm fires, and nobody is told",
    fix=FIX,
    find=edge_findings(edges),
)
