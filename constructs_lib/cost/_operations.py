"""What runs the app: alarms, dashboards, metrics and logs, keys, secrets, user pools, X-Ray groups."""

from __future__ import annotations

from collections.abc import Callable

from ..checks._model import Resource
from ._ledger import UNEXPIRED_MONTHS, Collaborator
from ._traffic import KB_PER_GB
from ._usage import MONTH_SECONDS

#: The largest value a standard SSM parameter holds.
STANDARD_PARAMETER_BYTES = 4096


class Operations(Collaborator):
    """Prices CloudWatch, KMS, Secrets Manager and Cognito resources."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::CompositeAlarm": self._composite_alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
            "AWS::Logs::MetricFilter": self._metric_filter,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::KMS::Key": self._key,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::XRay::Group": self._xray_group,
            "AWS::SSM::Parameter": self._parameter,
        }

    def _alarm(self, alarm: Resource) -> None:
        metrics = alarm.props.get("Metrics")
        count = (
            sum(1 for m in metrics if isinstance(m, dict) and "MetricStat" in m)
            if isinstance(metrics, list)
            else 1
        )
        period = float(alarm.props.get("Period", 60) or 60)
        meter = "cloudwatch.high_resolution_alarm_metrics" if period < 60 else "cloudwatch.alarm_metrics"
        self.ledger.charge(alarm, meter, max(1, count), "alarm (per metric it watches)")

    def _composite_alarm(self, alarm: Resource) -> None:
        self.ledger.charge(alarm, "cloudwatch.composite_alarms", 1, "composite alarm")

    def _dashboard(self, dashboard: Resource) -> None:
        self.ledger.charge(dashboard, "cloudwatch.dashboards", 1, "dashboard")

    def _metric_filter(self, metric_filter: Resource) -> None:
        metrics = metric_filter.props.get("MetricTransformations") or []
        count = len(metrics) if isinstance(metrics, list) else 1
        self.ledger.charge(metric_filter, "cloudwatch.custom_metrics", count, "metrics the filter publishes")

    def _xray_group(self, group: Resource) -> None:
        if (group.props.get("InsightsConfiguration") or {}).get("InsightsEnabled"):
            self.ledger.not_priced((group, "X-Ray Insights (per trace processed) is not modelled"))
        else:
            self.ledger.free((group, "an X-Ray group has no charge"))

    def _log_group(self, group: Resource) -> None:
        gb = self.ledger.log_kb.get(group, 0.0) / KB_PER_GB
        days = group.props.get("RetentionInDays")
        months = float(days) / 30 if isinstance(days, int | float) else UNEXPIRED_MONTHS
        self.ledger.charge(group, "cloudwatch.logs_ingested", gb, "log data ingested")
        self.ledger.charge(
            group, "cloudwatch.logs_stored", gb * months, f"log data stored ({days or 'never expires'} days)"
        )
        if "KmsKeyId" in group.props and gb:
            self.ledger.charge(group, "kms.requests", MONTH_SECONDS / 300, "log encryption data keys")

    def _key(self, key: Resource) -> None:
        self.ledger.charge(key, "kms.keys", 1, "customer managed key")

    def _secret(self, secret: Resource) -> None:
        self.ledger.charge(secret, "secretsmanager.secrets", 1, "secret (read by CloudFormation at deploy)")

    def _parameter(self, parameter: Resource) -> None:
        """Standard parameters are free; an advanced one is billed by the month. Intelligent-Tiering makes
        a parameter advanced only where it needs to be: a value over 4 KB, or policies."""
        tier = parameter.props.get("Tier", "Standard")
        value = parameter.props.get("Value")
        needs = bool(parameter.props.get("Policies")) or (
            isinstance(value, str) and len(value.encode()) > STANDARD_PARAMETER_BYTES
        )
        if tier == "Advanced" or (tier == "Intelligent-Tiering" and needs):
            self.ledger.charge(parameter, "ssm.advanced_parameters", 1, f"advanced parameter ({tier} tier)")
        elif tier == "Intelligent-Tiering":
            why = "Intelligent-Tiering keeps it standard (no policies, a value within 4 KB): no charge"
            self.ledger.free((parameter, why))
        else:
            self.ledger.free((parameter, "standard parameters have no charge"))

    def _user_pool(self, pool: Resource) -> None:
        tier = str(pool.props.get("UserPoolTier", "ESSENTIALS")).lower()
        self.ledger.charge(
            pool,
            f"cognito.{tier}_mau",
            self.traffic.resolved.users.get(pool, 0.0),
            f"monthly active users ({tier} plan)",
        )
