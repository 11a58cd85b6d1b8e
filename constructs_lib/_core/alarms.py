"""Alarm creation and wiring shared by every construct."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD


def threshold_alarm(
    scope: Construct,
    id: str,
    metric: cloudwatch.IMetric,
    *,
    threshold: float,
    description: str,
    comparison: cloudwatch.ComparisonOperator = AT_LEAST,
    evaluation_periods: int = 1,
    datapoints_to_alarm: int | None = None,
) -> cloudwatch.Alarm:
    """An alarm on ``metric`` crossing ``threshold``; missing data (no traffic) is not breaching."""
    return cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        threshold=threshold,
        alarm_description=description,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def wire_alarms(alarms: Iterable[cloudwatch.Alarm], topic: sns.ITopic | None) -> None:
    """Send each alarm's ALARM and OK transitions to ``topic`` (no-op without a topic)."""
    if topic is None:
        return
    action = cw_actions.SnsAction(topic)
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
