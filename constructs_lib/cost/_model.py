"""Every resource of an app either charged by meter, known to be free, or listed as not priced."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .._core.limits import LAMBDA_DEFAULT_MEMORY_MB, SQS_DEFAULT_BATCH_SIZE, snap_start_applies
from ..checks._lambda import FUNCTION, function_target, sqs_mappings
from ..checks._model import Resource, Templates
from ._traffic import (
    KB_PER_GB,
    LONG_POLL_SECONDS,
    Traffic,
    breaker_reads,
    breaker_writes,
    chunks,
    construct_path,
    containers,
    pollers,
    queue_meter,
    schedule_ticks,
)
from ._usage import MONTH_SECONDS, Usage

#: Custom metrics the breaker runtime can emit per circuit, and the governor per governed mapping.
BREAKER_METRICS = (
    "CallsRejected",
    "CircuitOpened",
    "CircuitHalfOpened",
    "CircuitClosed",
    "StateStoreErrors",
    "StateStoreMisconfigurations",
)
GOVERNOR_METRICS = (
    "ConsumerPaused",
    "MappingsPaused",
    "MappingsResumed",
    "MappingsHeld",
    "MappingsBusy",
    "GovernorReadErrors",
)
#: Metrics CloudFront adds per distribution with additional metrics on, and API Gateway per method with
#: detailed metrics on; both are billed as custom metrics.
CLOUDFRONT_ADDITIONAL_METRICS = 8
API_DETAILED_METRICS = 7
#: A CloudFront standard log line, in KB.
CLOUDFRONT_LOG_LINE_KB = 0.5
#: Months of logs kept where nothing expires them (the model's horizon).
UNEXPIRED_MONTHS = 12.0
#: Share of invocations X-Ray's default sampling records.
XRAY_SAMPLED = 0.05

#: Types that cost nothing by themselves, and why (their traffic is priced on the resource it lands on).
FREE: dict[str, str] = {
    "AWS::IAM::Role": "IAM has no charge",
    "AWS::IAM::Policy": "IAM has no charge",
    "AWS::IAM::ManagedPolicy": "IAM has no charge",
    "AWS::Lambda::Permission": "a resource policy statement; no charge",
    "AWS::Lambda::Url": "invocations are priced on the function",
    "AWS::Lambda::LayerVersion": "layer storage counts toward Lambda's free 75 GB of code storage",
    "AWS::Lambda::EventInvokeConfig": "no charge",
    "AWS::Lambda::EventSourceMapping": "its queue and function requests are priced on them",
    "AWS::ApiGateway::Account": "no charge",
    "AWS::ApiGateway::ApiKey": "no charge",
    "AWS::ApiGateway::Authorizer": "Cognito authorizers have no charge beyond the API call",
    "AWS::ApiGateway::Deployment": "no charge",
    "AWS::ApiGateway::GatewayResponse": "no charge",
    "AWS::ApiGateway::Method": "requests are priced on the API",
    "AWS::ApiGateway::Model": "no charge",
    "AWS::ApiGateway::RequestValidator": "no charge",
    "AWS::ApiGateway::Resource": "no charge",
    "AWS::ApiGateway::UsagePlan": "no charge",
    "AWS::ApiGateway::UsagePlanKey": "no charge",
    "AWS::CloudFront::Function": "invocations are priced on the distribution's behaviors",
    "AWS::CloudFront::MonitoringSubscription": "its metrics are priced on the distribution",
    "AWS::CloudFront::OriginAccessControl": "no charge",
    "AWS::CloudFront::ResponseHeadersPolicy": "no charge",
    "AWS::CloudFront::CachePolicy": "no charge",
    "AWS::CloudFront::OriginRequestPolicy": "no charge",
    "AWS::CodeDeploy::Application": "CodeDeploy has no charge for Lambda deployments",
    "AWS::CodeDeploy::DeploymentGroup": "CodeDeploy has no charge for Lambda deployments",
    "AWS::Cognito::UserPoolClient": "users are priced on the pool",
    "AWS::Cognito::UserPoolRiskConfigurationAttachment": "threat protection is priced on the pool's plan",
    "AWS::Events::Rule": "EventBridge has no charge for scheduled rules and AWS service events",
    "AWS::S3::BucketPolicy": "no charge",
    "AWS::SNS::TopicPolicy": "no charge",
    "AWS::SNS::Subscription": "deliveries are priced on the topic",
    "AWS::SQS::QueuePolicy": "no charge",
    "AWS::SSM::Parameter": "standard parameters have no charge",
    "AWS::CDK::Metadata": "CDK's version record; no charge",
    "Custom::CDKBucketDeployment": "runs at deploy time only",
    "Custom::S3AutoDeleteObjects": "runs at deploy time only",
    "Custom::LogRetention": "runs at deploy time only",
    "Custom::CrossRegionExportWriter": "runs at deploy time only",
}


@dataclass(frozen=True)
class Charge:
    """A monthly quantity of one meter, caused by one resource."""

    resource: Resource
    meter: str
    quantity: float
    item: str


@dataclass
class Priced:
    charges: list[Charge] = field(default_factory=list)
    free: list[tuple[Resource, str]] = field(default_factory=list)
    not_priced: list[tuple[Resource, str]] = field(default_factory=list)


class Model:
    """Walks every resource once; a handler per type adds its charges (or says why it costs nothing)."""

    def __init__(self, templates: Templates, usage: Usage, traffic: Traffic) -> None:
        self.templates, self.usage, self.traffic = templates, usage, traffic
        self.result = Priced()
        self.log_kb: dict[Resource, float] = defaultdict(float)
        self.idempotency_records: dict[Resource, float] = defaultdict(float)
        self._handlers: dict[str, Callable[[Resource], None]] = {
            "AWS::Lambda::Function": self._function,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGatewayV2::Api": self._http_api,
            "AWS::SQS::Queue": self._queue,
            "AWS::DynamoDB::Table": self._table,
            "AWS::CloudFront::Distribution": self._distribution,
            "AWS::WAFv2::WebACL": self._web_acl,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::CompositeAlarm": self._composite_alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
            "AWS::KMS::Key": self._key,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SNS::Topic": self._topic,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::Lambda::Alias": self._qualifier,
            "AWS::Lambda::Version": self._qualifier,
            "AWS::ApiGateway::Stage": self._api_stage,
        }

    def run(self) -> Priced:
        # Functions and APIs first: they decide the records and log bytes that tables and log groups
        # are priced on; log groups last.
        for resource in sorted(self._resources(), key=_pricing_order):
            self._price(resource)
        return self.result

    def _resources(self) -> Iterator[Resource]:
        for stack in self.templates.stacks.values():
            for logical_id in stack.resources:
                yield Resource(stack, logical_id)

    def _price(self, resource: Resource) -> None:
        kind = resource.type
        if kind == "AWS::Logs::LogGroup":
            self._log_group(resource)
        elif kind in self._handlers:
            self._handlers[kind](resource)
        elif kind in FREE:
            self.result.free.append((resource, FREE[kind]))
        elif kind.startswith("Custom::") and self._deploy_time(resource):
            self.result.free.append((resource, "a custom resource: runs at deploy time only"))
        else:
            self.result.not_priced.append((resource, f"the cost model has no price for {kind}"))

    def charge(self, resource: Resource, meter: str, quantity: float, item: str) -> None:
        self.result.charges.append(Charge(resource, meter, quantity, item))

    def _deploy_time(self, resource: Resource) -> bool:
        """A custom resource with a service token: its handler runs when CloudFormation deploys it."""
        return "ServiceToken" in resource.props

    # --- Lambda -------------------------------------------------------------------------------------

    def _function(self, function: Resource) -> None:
        if self._custom_resource_handler(function):
            self.result.free.append((function, "handles custom resources: runs at deploy time only"))
            return
        props, usage = function.props, self.usage
        invocations = self.traffic.invocations.get(function, 0.0)
        memory_gb = float(props.get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB)) / 1024
        arch = (props.get("Architectures") or ["x86_64"])[0]
        path = construct_path(function)
        duration = usage.duration_of(path) / 1000
        self.charge(function, "lambda.requests", invocations, "invocations")
        self.charge(
            function,
            f"lambda.gb_seconds.{arch}",
            invocations * duration * memory_gb,
            f"compute: {props.get('MemorySize', 128)} MB {arch}, {usage.duration_of(path):g} ms each",
        )
        self._snap_start(function, memory_gb)
        if (props.get("TracingConfig") or {}).get("Mode") == "Active":
            self.charge(function, "xray.traces_recorded", invocations * XRAY_SAMPLED, "traces (5% sampled)")
        environment = (props.get("Environment") or {}).get("Variables") or {}
        if "POWERTOOLS_SERVICE_NAME" in environment:
            self.charge(
                function,
                "cloudwatch.custom_metrics",
                usage.powertools_metrics_per_function,
                "Powertools metrics",
            )
        self._send_logs(function, props.get("LoggingConfig"), invocations * usage.log_kb_per_invocation)
        self._idempotency(function, environment)

    def _qualifier(self, qualifier: Resource) -> None:
        """An alias or version: free, unless it keeps provisioned concurrency warm (billed by the hour)."""
        if "ProvisionedConcurrencyConfig" in qualifier.props:
            self.result.not_priced.append(
                (qualifier, "provisioned concurrency (billed per GB-second kept warm) is not modelled")
            )
        else:
            self.result.free.append((qualifier, "invocations are priced on the function"))

    def _custom_resource_handler(self, function: Resource) -> bool:
        """True when only custom resources (deploy time) invoke ``function``."""
        if self.traffic.invocations.get(function):
            return False
        return any(
            resource.type.startswith("Custom::") or resource.type == "AWS::CloudFormation::CustomResource"
            for stack in self.templates.stacks.values()
            for logical_id in stack.resources
            if (resource := Resource(stack, logical_id)).type != FUNCTION
            and function in self.templates.references(stack, resource.props.get("ServiceToken"), FUNCTION)
        ) or "Custom::" in construct_path(function)

    def _snap_start(self, function: Resource, memory_gb: float) -> None:
        if not snap_start_applies(function.props.get("SnapStart")):
            return
        runtime = str(function.props.get("Runtime", ""))
        if runtime.startswith("java"):
            self.result.free.append((function, "SnapStart for Java has no charge"))
            return
        versions = sum(
            1
            for v in self.templates.of_type("AWS::Lambda::Version")
            if (t := function_target(self.templates, v.stack, v.props.get("FunctionName")))
            and t.function == function
        )
        cached = max(1, versions) * memory_gb * MONTH_SECONDS
        self.charge(
            function, "lambda.snapstart_cache", cached, "SnapStart snapshot cache, per published version"
        )
        restores = containers(self.templates, function, self.usage) * 30
        self.charge(
            function,
            "lambda.snapstart_restore",
            restores * memory_gb,
            "SnapStart restores (one per container a day)",
        )

    def _send_logs(self, source: Resource, logging_config: Any, kb: float) -> None:
        groups = self.templates.references(source.stack, logging_config, "AWS::Logs::LogGroup")
        if groups:
            self.log_kb[groups[0]] += kb
        elif kb:
            self.charge(source, "cloudwatch.logs_ingested", kb / KB_PER_GB, "logs (default log group)")

    def _idempotency(self, function: Resource, environment: Any) -> None:
        for name, value in environment.items():
            if "IDEMPOTENCY" not in name:
                continue
            for table in self.templates.references(function.stack, value, "AWS::DynamoDB::Table"):
                records = self.traffic.messages.get(function) or self.traffic.invocations.get(function, 0.0)
                self.idempotency_records[table] += records
                self.charge(
                    table,
                    "dynamodb.write_request_units",
                    records * 2,
                    "idempotency records (put, then complete)",
                )

    # --- APIs and queues -------------------------------------------------------------------------------

    def _rest_api(self, api: Resource) -> None:
        requests = self.traffic.api_requests.get(api, 0.0)
        self.charge(api, "apigateway.rest_requests", requests, "REST API requests")
        if self.traffic.api_direct.get(api):
            self.charge(
                api,
                "datatransfer.internet_out",
                requests * self.usage.api_response_kb / KB_PER_GB,
                "responses to callers",
            )
        for stage in self.templates.of_type("AWS::ApiGateway::Stage"):
            if api in self.templates.references(stage.stack, stage.props.get("RestApiId")):
                self._stage(api, stage, requests)

    def _stage(self, api: Resource, stage: Resource, requests: float) -> None:
        access = stage.props.get("AccessLogSetting") or {}
        if access:
            line_kb = (len(str(access.get("Format", ""))) + 100) / 1024
            self._send_logs(api, access.get("DestinationArn"), requests * line_kb)
        settings = stage.props.get("MethodSettings") or []
        if any(isinstance(s, dict) and s.get("MetricsEnabled") for s in settings):
            methods = sum(
                1
                for m in self.templates.of_type("AWS::ApiGateway::Method")
                if api in self.templates.references(m.stack, m.props.get("RestApiId"))
                and m.props.get("HttpMethod") != "OPTIONS"
            )
            self.charge(
                api,
                "cloudwatch.custom_metrics",
                methods * API_DETAILED_METRICS,
                "API Gateway detailed metrics (per method)",
            )

    def _api_stage(self, stage: Resource) -> None:
        """Free (requests are priced on the API), unless it runs a cache cluster (billed by the hour)."""
        if stage.props.get("CacheClusterEnabled") is True:
            self.result.not_priced.append(
                (stage, "an API cache cluster (billed per hour by size) is not modelled")
            )
        else:
            self.result.free.append((stage, "requests are priced on the API"))

    def _http_api(self, api: Resource) -> None:
        if api.props.get("ProtocolType") == "WEBSOCKET":
            self.result.not_priced.append(
                (api, "WebSocket APIs (messages, connection minutes) are not modeled")
            )
            return
        self.charge(
            api, "apigateway.http_requests", self.traffic.api_requests.get(api, 0.0), "HTTP API requests"
        )

    def _queue(self, queue: Resource) -> None:
        meter = queue_meter(queue)
        sends = self.traffic.queue_sends.get(queue, 0.0) * chunks(self.usage.order_kb)
        self.charge(queue, meter, sends, "sends (each 64 KB is a request)")
        consumers = [m for m in sqs_mappings(self.templates) if m.queue == queue]
        for mapping in consumers:
            self._polling(queue, meter, mapping.mapping, sends / max(1, len(consumers)))
        self._queue_key(queue, sends, len(consumers))

    def _polling(self, queue: Resource, meter: str, mapping: Resource, messages: float) -> None:
        batch = float(mapping.props.get("BatchSize", SQS_DEFAULT_BATCH_SIZE))
        productive = messages / batch
        at_rest = pollers(mapping)
        floor = at_rest * MONTH_SECONDS / LONG_POLL_SECONDS
        if mapping.logical_id in self.traffic.paused_mappings:
            floor *= 1 - min(1.0, self.usage.circuit_open_hours * 3600 / MONTH_SECONDS)
        self.charge(queue, meter, productive, "receives with messages (by the consumer's pollers)")
        self.charge(
            queue, meter, max(0.0, floor - productive), f"empty long-poll receives ({at_rest:g} pollers)"
        )
        self.charge(queue, meter, productive, "batch deletes")

    def _queue_key(self, queue: Resource, sends: float, consumers: int) -> None:
        if "KmsMasterKeyId" not in queue.props or not sends:
            return
        reuse = float(queue.props.get("KmsDataKeyReusePeriodSeconds", 300))
        requests = MONTH_SECONDS / reuse * (2 * 1 + consumers)
        self.charge(
            queue,
            "kms.requests",
            requests,
            f"data keys (reused {reuse:g} s; 1 producer, {consumers} consumer(s))",
        )

    # --- Data ---------------------------------------------------------------------------------------

    def _table(self, table: Resource) -> None:
        if table.props.get("BillingMode") != "PAY_PER_REQUEST":  # CloudFormation's default is PROVISIONED
            why = "provisioned capacity (billed per capacity unit-hour) is not modelled, only on-demand"
            self.result.not_priced.append((table, why))
            return
        circuits = [c for c in self.traffic.circuits if c.table == table]
        governed = sum(len(ids) for ids in self.traffic.governed.values()) if circuits else 0
        reads = sum(breaker_reads(c) for c in circuits)
        writes = sum(breaker_writes(c, self.usage) for c in circuits)
        ticks = sum(self._ticks(f) for f in self.traffic.governed)
        if circuits:
            self.charge(
                table, "dynamodb.read_request_units", reads, "breaker state reads (strongly consistent)"
            )
            self.charge(table, "dynamodb.write_request_units", writes, "breaker failures and transitions")
            self.charge(table, "dynamodb.read_request_units", governed * ticks, "governor state reads")
            self.charge(
                table,
                "dynamodb.write_request_units",
                governed * self.usage.circuit_openings * 2,
                "governor pause markers",
            )
        else:
            self.charge(table, "dynamodb.read_request_units", 0.0, "reads (none derived)")
        self._circuit_metrics(table, circuits)
        gb = self._table_gb(table, len(circuits))
        self.charge(table, "dynamodb.storage", gb, "storage")
        if (table.props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            self.charge(table, "dynamodb.pitr", gb, "point-in-time recovery")
        if "StreamSpecification" in table.props:
            self.result.free.append(
                (table, "its stream is read by Lambda, and Lambda's stream reads are free")
            )

    def _circuit_metrics(self, table: Resource, circuits: list[Any]) -> None:
        """The runtime's EMF metrics: by circuit and table, so each circuit counts once per table.

        An upper bound: CloudWatch bills a metric only for the hours it is emitted, and most of these are
        emitted only when something happens (an opening, a store error)."""
        ids = {c.circuit_id for c in circuits}
        governed = {c.circuit_id for c in circuits if c.paused}
        if ids:
            self.charge(
                table, "cloudwatch.custom_metrics", len(ids) * len(BREAKER_METRICS), "breaker metrics"
            )
        if governed:
            self.charge(
                table, "cloudwatch.custom_metrics", len(governed) * len(GOVERNOR_METRICS), "governor metrics"
            )

    def _ticks(self, governor: Resource) -> float:
        return sum(
            schedule_ticks(rule)
            for rule in self.templates.of_type("AWS::Events::Rule", "AWS::Scheduler::Schedule")
            if any(
                (t := function_target(self.templates, rule.stack, target.get("Arn")))
                and t.function == governor
                for target in rule.props.get("Targets") or [rule.props.get("Target") or {}]
            )
        )

    def _table_gb(self, table: Resource, circuits: int) -> float:
        # Idempotency records live an hour (Powertools' default expiry): an hour's records at 1 KB each.
        hourly = self.idempotency_records.get(table, 0.0) / (MONTH_SECONDS / 3600)
        return (circuits * 1.0 + hourly) / KB_PER_GB

    # --- Edge -----------------------------------------------------------------------------------------

    def _distribution(self, distribution: Resource) -> None:
        mine = [b for b in self.traffic.behaviors if b.behavior.distribution == distribution]
        viewers = sum(b.viewer_requests for b in mine)
        self.charge(distribution, "cloudfront.https_requests", viewers, "HTTPS requests")
        gb = sum(b.viewer_requests * b.response_kb for b in mine) / KB_PER_GB
        self.charge(distribution, "cloudfront.data_transfer_out", gb, "data transfer to viewers")
        uploads = sum(b.viewer_requests for b in mine if b.ingest)
        self.charge(
            distribution,
            "cloudfront.data_transfer_to_origin",
            uploads * self.usage.order_kb / KB_PER_GB,
            "request bodies to the origin",
        )
        functions = sum(
            b.viewer_requests * len(b.behavior.config.get("FunctionAssociations") or []) for b in mine
        )
        self.charge(
            distribution, "cloudfront.function_invocations", functions, "CloudFront Functions invocations"
        )
        if any(
            distribution in self.templates.references(s.stack, s.props.get("DistributionId"))
            for s in self.templates.of_type("AWS::CloudFront::MonitoringSubscription")
        ):
            self.charge(
                distribution,
                "cloudwatch.custom_metrics",
                CLOUDFRONT_ADDITIONAL_METRICS,
                "CloudFront additional metrics",
            )

    def _web_acl(self, acl: Resource) -> None:
        rules = acl.props.get("Rules") or []
        paid = [r.get("Name") for r in rules if _premium_rule_group(r)]
        if paid:
            self.result.not_priced.append((acl, f"premium managed rule groups are not modeled: {paid}"))
        requests = self._viewers_through(acl, "WebACLId")
        self.charge(acl, "waf.web_acls", 1, "web ACL")
        self.charge(acl, "waf.rules", len(rules), "rules (a managed rule group counts as one)")
        self.charge(acl, "waf.requests", requests, "requests inspected")

    def _viewers_through(self, resource: Resource, setting: str) -> float:
        """Viewer requests of the distributions whose ``setting`` (``WebACLId``, ``Logging``) names it."""
        return sum(
            b.viewer_requests
            for b in self.traffic.behaviors
            if resource
            in self.templates.references(
                b.behavior.distribution.stack,
                b.behavior.distribution.props.get("DistributionConfig", {}).get(setting),
            )
        )

    def _bucket(self, bucket: Resource) -> None:
        gets = self.traffic.bucket_gets.get(bucket, 0.0)
        log_gb = self._cloudfront_log_gb(bucket)
        site = gets or any(
            bucket in self.templates.references(d.stack, d.props.get("DestinationBucketName"))
            for d in self.templates.of_type("Custom::CDKBucketDeployment")
        )
        stored = (self.usage.site_gb if site else 0.0) + log_gb
        self.charge(
            bucket, "s3.standard_storage", stored, "objects stored" if not log_gb else "access logs stored"
        )
        self.charge(bucket, "s3.get_requests", gets, "GETs from CloudFront on cache misses")

    def _cloudfront_log_gb(self, bucket: Resource) -> float:
        lines = self._viewers_through(bucket, "Logging")
        rules = (bucket.props.get("LifecycleConfiguration") or {}).get("Rules") or []
        days = [r["ExpirationInDays"] for r in rules if isinstance(r.get("ExpirationInDays"), int | float)]
        months = min(days) / 30 if days else UNEXPIRED_MONTHS
        return lines * CLOUDFRONT_LOG_LINE_KB / KB_PER_GB * months

    # --- Operations -------------------------------------------------------------------------------------

    def _alarm(self, alarm: Resource) -> None:
        metrics = alarm.props.get("Metrics")
        count = (
            sum(1 for m in metrics if isinstance(m, dict) and "MetricStat" in m)
            if isinstance(metrics, list)
            else 1
        )
        period = float(alarm.props.get("Period", 60) or 60)
        meter = "cloudwatch.high_resolution_alarm_metrics" if period < 60 else "cloudwatch.alarm_metrics"
        self.charge(alarm, meter, max(1, count), "alarm (per metric it watches)")

    def _composite_alarm(self, alarm: Resource) -> None:
        self.charge(alarm, "cloudwatch.composite_alarms", 1, "composite alarm")

    def _dashboard(self, dashboard: Resource) -> None:
        self.charge(dashboard, "cloudwatch.dashboards", 1, "dashboard")

    def _log_group(self, group: Resource) -> None:
        gb = self.log_kb.get(group, 0.0) / KB_PER_GB
        days = group.props.get("RetentionInDays")
        months = float(days) / 30 if isinstance(days, int | float) else UNEXPIRED_MONTHS
        self.charge(group, "cloudwatch.logs_ingested", gb, "log data ingested")
        self.charge(
            group, "cloudwatch.logs_stored", gb * months, f"log data stored ({days or 'never expires'} days)"
        )
        if "KmsKeyId" in group.props and gb:
            self.charge(group, "kms.requests", MONTH_SECONDS / 300, "log encryption data keys")

    def _key(self, key: Resource) -> None:
        self.charge(key, "kms.keys", 1, "customer managed key")

    def _secret(self, secret: Resource) -> None:
        self.charge(secret, "secretsmanager.secrets", 1, "secret (read by CloudFormation at deploy)")

    def _user_pool(self, pool: Resource) -> None:
        tier = str(pool.props.get("UserPoolTier", "ESSENTIALS")).lower()
        self.charge(
            pool,
            f"cognito.{tier}_mau",
            self.usage.monthly_active_users,
            f"monthly active users ({tier} plan)",
        )

    def _topic(self, topic: Resource) -> None:
        alarms = [
            a
            for a in self.templates.of_type("AWS::CloudWatch::Alarm")
            if topic in self.templates.references(a.stack, a.props.get("AlarmActions"))
        ]
        publishes = self.usage.alarm_notifications if alarms else 0.0
        self.charge(topic, "sns.publishes", publishes, "alarm notifications published")
        emails = sum(
            1
            for s in self.templates.of_type("AWS::SNS::Subscription")
            if s.props.get("Protocol") == "email"
            and topic in self.templates.references(s.stack, s.props.get("TopicArn"))
        )
        if emails:
            self.charge(topic, "sns.email_deliveries", publishes * emails, "email deliveries")
        if "KmsMasterKeyId" in topic.props and publishes:
            self.charge(topic, "kms.requests", publishes * 2, "encrypting and reading each notification")

    def _schedule(self, schedule: Resource) -> None:
        self.charge(schedule, "scheduler.invocations", schedule_ticks(schedule), "scheduled invocations")


def _pricing_order(resource: Resource) -> int:
    if resource.type in (FUNCTION, "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
        return 0
    return 2 if resource.type == "AWS::Logs::LogGroup" else 1


def _premium_rule_group(rule: Any) -> bool:
    name = str(((rule.get("Statement") or {}).get("ManagedRuleGroupStatement") or {}).get("Name", ""))
    return any(paid in name for paid in ("BotControl", "ATP", "ACFP", "AntiDDoS"))
