"""Every resource of an app either charged by meter, known to be free, or listed as not priced."""

from __future__ import annotations

import fnmatch
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core.limits import LAMBDA_DEFAULT_MEMORY_MB, snap_start_applies
from ..checks._lambda import FUNCTION, function_target
from ..checks._model import Resource, Templates
from ._arrivals import XRAY_RATE, XRAY_RESERVOIR, traced
from ._prices import MONTH_HOURS
from ._traffic import (
    KB_PER_GB,
    LONG_POLL_SECONDS,
    Batches,
    Traffic,
    authorizer_ttl,
    breaker_reads,
    breaker_writes,
    chunks,
    containers,
    pollers,
    queue_meter,
    schedule_ticks,
)
from ._usage import MONTH_SECONDS, Usage
from ._volumes import construct_path

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
#: A new on-demand table's warm throughput (read and write units a second): raising it is charged once.
ON_DEMAND_WARM_READS = 12_000
ON_DEMAND_WARM_WRITES = 4_000
#: Express workflows bill memory in 64 MB steps, duration in 100 ms steps.
EXPRESS_MEMORY_STEP_MB = 64
EXPRESS_DURATION_STEP_MS = 100
NESTED_STACK = "AWS::CloudFormation::Stack"
CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
_VPC_FREE = "VPC networking has no charge; traffic is billed where it leaves (NAT gateway, data transfer)"

#: Types the model knows are billed, but not how much: each is listed with the reason.
NOT_MODELLED: dict[str, str] = {
    "AWS::Kinesis::StreamConsumer": "enhanced fan-out (per consumer-shard-hour and GB) is not modelled",
    "AWS::Events::EventBus": "custom events published to a bus ($1.00 per million) are not modelled",
    "AWS::Events::Archive": "archived events (per GB) are not modelled",
    "AWS::Pipes::Pipe": "EventBridge Pipes requests are not modelled",
    "AWS::EC2::Instance": "EC2 instances are not modelled",
    "AWS::RDS::DBInstance": "RDS instances are not modelled",
    "AWS::RDS::DBCluster": "RDS clusters are not modelled",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancers (hours and LCUs) are not modelled",
    "AWS::ECS::Service": "ECS services (Fargate vCPU and memory) are not modelled",
    "AWS::Route53::HostedZone": "hosted zones ($0.50 a month) and queries are not modelled",
}

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
    "AWS::EC2::VPC": _VPC_FREE,
    "AWS::EC2::Subnet": _VPC_FREE,
    "AWS::EC2::RouteTable": _VPC_FREE,
    "AWS::EC2::Route": _VPC_FREE,
    "AWS::EC2::SubnetRouteTableAssociation": _VPC_FREE,
    "AWS::EC2::SecurityGroup": _VPC_FREE,
    "AWS::EC2::SecurityGroupIngress": _VPC_FREE,
    "AWS::EC2::SecurityGroupEgress": _VPC_FREE,
    "AWS::EC2::InternetGateway": _VPC_FREE,
    "AWS::EC2::VPCGatewayAttachment": _VPC_FREE,
    "AWS::EC2::EgressOnlyInternetGateway": _VPC_FREE,
    "AWS::EC2::NetworkAcl": _VPC_FREE,
    "AWS::EC2::NetworkAclEntry": _VPC_FREE,
    "AWS::EC2::SubnetNetworkAclAssociation": _VPC_FREE,
    "AWS::EC2::VPCCidrBlock": _VPC_FREE,
    "AWS::EC2::DHCPOptions": _VPC_FREE,
    "AWS::EC2::VPCDHCPOptionsAssociation": _VPC_FREE,
    "AWS::EC2::PrefixList": _VPC_FREE,
    "AWS::ApplicationAutoScaling::ScalableTarget": "Application Auto Scaling has no charge",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "Application Auto Scaling has no charge",
    "AWS::XRay::SamplingRule": "no charge; the traces it keeps are priced on the function",
    "AWS::ApiGatewayV2::Route": "requests are priced on the API",
    "AWS::ApiGatewayV2::Integration": "requests are priced on the API, invocations on the function",
    "AWS::ApiGatewayV2::Stage": "requests are priced on the API",
    "AWS::ApiGatewayV2::Deployment": "no charge",
    "AWS::StepFunctions::Activity": "its state transitions are priced on the state machine",
    "AWS::SQS::QueueInlinePolicy": "no charge",
    "AWS::SNS::TopicInlinePolicy": "no charge",
    "AWS::IAM::InstanceProfile": "IAM has no charge",
    "AWS::IAM::User": "IAM has no charge",
    "AWS::IAM::Group": "IAM has no charge",
    "AWS::IAM::AccessKey": "IAM has no charge",
    "AWS::KMS::Alias": "an alias has no charge; the key is priced",
    "AWS::Logs::SubscriptionFilter": "no charge; what it delivers is billed by the destination",
    "AWS::Logs::ResourcePolicy": "no charge",
    "AWS::Events::Connection": "no charge",
    "AWS::Scheduler::ScheduleGroup": "no charge",
    "AWS::Lambda::LayerVersionPermission": "no charge",
    "AWS::CloudFront::KeyGroup": "no charge",
    "AWS::CloudFront::PublicKey": "no charge",
    "AWS::CloudFront::CloudFrontOriginAccessIdentity": "no charge",
    "AWS::S3::BucketNotification": "no charge",
    "AWS::Cognito::UserPoolDomain": "no charge",
    "AWS::Cognito::UserPoolGroup": "no charge",
    "AWS::Cognito::UserPoolResourceServer": "no charge",
    "AWS::Cognito::UserPoolUser": "users are priced on the pool",
    "AWS::Cognito::UserPoolUICustomizationAttachment": "no charge",
    "AWS::SSM::Document": "no charge",
    "AWS::CertificateManager::Certificate": "public certificates have no charge",
    "AWS::CloudFormation::WaitConditionHandle": "no charge",
    "AWS::CloudFormation::WaitCondition": "no charge",
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
            "AWS::ApiGateway::Authorizer": self._authorizer,
            "AWS::ApiGatewayV2::Authorizer": self._authorizer,
            "AWS::SQS::Queue": self._queue,
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._global_table,
            "AWS::CloudFront::Distribution": self._distribution,
            "AWS::WAFv2::WebACL": self._web_acl,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::CompositeAlarm": self._composite_alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
            "AWS::Logs::MetricFilter": self._metric_filter,
            "AWS::KMS::Key": self._key,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SNS::Topic": self._topic,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::Lambda::Alias": self._qualifier,
            "AWS::Lambda::Version": self._qualifier,
            "AWS::ApiGateway::Stage": self._api_stage,
            "AWS::EC2::NatGateway": self._nat_gateway,
            "AWS::EC2::EIP": self._elastic_ip,
            "AWS::EC2::VPCEndpoint": self._vpc_endpoint,
            "AWS::Kinesis::Stream": self._stream,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::XRay::Group": self._xray_group,
            NESTED_STACK: self._nested_stack,
            CUSTOM_RESOURCE: self._custom_resource,
        }

    def run(self) -> Priced:
        # Functions and APIs first: they decide the records and log bytes that tables and log groups
        # are priced on; log groups last.
        for resource in sorted(self._resources(), key=_pricing_order):
            self._price(resource)
        return self.result

    def _resources(self) -> Iterator[Resource]:
        """Every resource of every stack, nested stacks' included."""
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
        elif kind in NOT_MODELLED:
            self.result.not_priced.append((resource, NOT_MODELLED[kind]))
        elif kind.startswith("Custom::"):
            self._custom_resource(resource)
        else:
            self.result.not_priced.append((resource, f"the cost model has no price for {kind}"))

    def charge(self, resource: Resource, meter: str, quantity: float, item: str) -> None:
        self.result.charges.append(Charge(resource, meter, quantity, item))

    def _custom_resource(self, resource: Resource) -> None:
        """A custom resource (``Custom::*`` or ``AWS::CloudFormation::CustomResource``): its handler runs
        when CloudFormation deploys it, and is priced (as free) where it is defined."""
        if "ServiceToken" in resource.props:
            self.result.free.append((resource, "a custom resource: runs at deploy time only"))
        else:
            self.result.not_priced.append((resource, "a custom resource without a ServiceToken"))

    def _nested_stack(self, resource: Resource) -> None:
        if self.templates.nested(resource.stack, resource.logical_id) is not None:
            self.result.free.append(
                (resource, "a nested stack: its resources are priced from its own template")
            )
        else:
            why = "a nested stack whose template is not in the assembly: its resources cannot be priced"
            self.result.not_priced.append((resource, why))

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
            self._traces(function, invocations)
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

    def _traces(self, function: Resource, invocations: float) -> None:
        """Lambda's default sampling (the first request each second, then 5%), or the template's own
        sampling rule for the function, applied to invocations arriving at random."""
        rule = _sampling_rule(self.templates, function)
        reservoir, rate, name = rule or (XRAY_RESERVOIR, XRAY_RATE, "Lambda's default rule")
        self.charge(
            function,
            "xray.traces_recorded",
            traced(invocations, reservoir, rate),
            f"traces ({name}: {reservoir:g} a second, then {rate:.0%})",
        )

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
            resource.type.startswith("Custom::") or resource.type == CUSTOM_RESOURCE
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
        self._responses(api, requests)
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

    def _authorizer(self, authorizer: Resource) -> None:
        kind = str(authorizer.props.get("Type") or authorizer.props.get("AuthorizerType") or "")
        if kind in ("COGNITO_USER_POOLS", "JWT"):
            name = "Cognito" if kind.startswith("COGNITO") else "JWT"
            why = f"a {name} authorizer has no charge beyond the API call"
        else:
            ttl = authorizer_ttl(authorizer)
            cached = (
                f"its answers are cached {ttl:g} s, so its invocations come from the profile"
                if ttl
                else ("uncached, so every request to its methods invokes it")
            )
            why = f"a Lambda ({kind or 'REQUEST'}) authorizer: priced as its function's invocations; {cached}"
        self.result.free.append((authorizer, why))

    def _http_api(self, api: Resource) -> None:
        if api.props.get("ProtocolType") == "WEBSOCKET":
            self.result.not_priced.append(
                (api, "WebSocket APIs (messages, connection minutes) are not modeled")
            )
            return
        requests = self.traffic.api_requests.get(api, 0.0)
        self.charge(api, "apigateway.http_requests", requests, "HTTP API requests")
        self._responses(api, requests)

    def _responses(self, api: Resource, requests: float) -> None:
        """An API called directly (no CDN in front) sends its responses out of the region."""
        if self.traffic.api_direct.get(api):
            self.charge(
                api,
                "datatransfer.internet_out",
                requests * self.usage.api_response_kb / KB_PER_GB,
                "responses to callers",
            )

    def _queue(self, queue: Resource) -> None:
        meter = queue_meter(queue)
        per_message = chunks(self.usage.order_kb)
        sends = self.traffic.queue_sends.get(queue, 0.0)
        self.charge(queue, meter, sends * per_message, "sends (each 64 KB of a message is a request)")
        consumers = [b for b in self.traffic.batches if b.queue == queue]
        for batches in consumers:
            self._polling(queue, meter, batches)
        self._queue_key(queue, sends, len(consumers))

    def _polling(self, queue: Resource, meter: str, batches: Batches) -> None:
        """Receives with messages (each 64 KB of the messages returned is a request), one delete per batch
        request, and the empty long polls of the mapping's pollers the rest of the time."""
        receives = batches.batches * batches.requests_per_batch
        per_receive = batches.size / batches.requests_per_batch
        billed = receives * chunks(per_receive * self.usage.order_kb)
        at_rest = pollers(batches.mapping)
        floor = at_rest * MONTH_SECONDS / LONG_POLL_SECONDS
        if batches.mapping.logical_id in self.traffic.paused_mappings:
            floor *= 1 - min(1.0, self.usage.circuit_open_hours * 3600 / MONTH_SECONDS)
        self.charge(
            queue,
            meter,
            billed,
            f"receives with messages ({batches.size:.2f} a batch; each 64 KB returned is a request)",
        )
        self.charge(
            queue, meter, max(0.0, floor - receives), f"empty long-poll receives ({at_rest:g} pollers)"
        )
        self.charge(queue, meter, receives, "batch deletes (one request per batch)")

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
        if table.props.get("BillingMode") == "PAY_PER_REQUEST":
            self._on_demand(table)
        else:  # CloudFormation's default is PROVISIONED
            throughput = table.props.get("ProvisionedThroughput") or {}
            indexes = [
                i.get("ProvisionedThroughput") or {}
                for i in table.props.get("GlobalSecondaryIndexes") or []
                if isinstance(i, dict)
            ]
            self._provisioned(table, [throughput, *indexes])
        self._table_storage(table)
        self._warm_throughput(table, table.props.get("WarmThroughput"))
        if "StreamSpecification" in table.props:
            self.result.free.append(
                (table, "its stream is read by Lambda, and Lambda's stream reads are free")
            )

    def _global_table(self, table: Resource) -> None:
        """A ``TableV2``: priced as a table in its own region; replicas elsewhere are listed."""
        replicas = table.props.get("Replicas") or []
        if len(replicas) > 1:
            why = f"{len(replicas)} replicas: replicated writes in the other regions are not modelled"
            self.result.not_priced.append((table, why))
        if table.props.get("BillingMode") == "PAY_PER_REQUEST":
            self._on_demand(table)
        else:
            writes = table.props.get("WriteProvisionedThroughputSettings") or {}
            reads = (replicas[0] if replicas else {}).get("ReadProvisionedThroughputSettings") or {}
            self._provisioned(table, [_global_capacity(reads, "Read"), _global_capacity(writes, "Write")])
        self._table_storage(table)
        self._warm_throughput(table, table.props.get("WarmThroughput"))

    def _on_demand(self, table: Resource) -> None:
        resolved = self.traffic.resolved
        circuits = [c for c in self.traffic.circuits if c.table == table]
        reads, writes = resolved.volume(table, "reads"), resolved.volume(table, "writes")
        if reads is not None or writes is not None:
            self.charge(table, "dynamodb.read_request_units", reads or 0.0, "reads (from the profile)")
            self.charge(table, "dynamodb.write_request_units", writes or 0.0, "writes (from the profile)")
        elif circuits:
            self._breaker_requests(table, circuits)
        else:
            self.charge(
                table, "dynamodb.read_request_units", 0.0, "reads (none derived; set them in the profile)"
            )
        self._circuit_metrics(table, circuits)

    def _breaker_requests(self, table: Resource, circuits: list[Any]) -> None:
        governed = sum(len(ids) for ids in self.traffic.governed.values())
        ticks = sum(self._ticks(f) for f in self.traffic.governed)
        self.charge(
            table,
            "dynamodb.read_request_units",
            sum(breaker_reads(c) for c in circuits),
            "breaker state reads (strongly consistent)",
        )
        self.charge(
            table,
            "dynamodb.write_request_units",
            sum(breaker_writes(c, self.usage) for c in circuits),
            "breaker failures and transitions",
        )
        self.charge(table, "dynamodb.read_request_units", governed * ticks, "governor state reads")
        self.charge(
            table,
            "dynamodb.write_request_units",
            governed * self.usage.circuit_openings * 2,
            "governor pause markers",
        )

    def _provisioned(self, table: Resource, throughputs: list[Any]) -> None:
        """Provisioned capacity by the hour: the template's units, autoscaling at its minimum, unless the
        profile gives the average (``read_capacity``/``write_capacity``)."""
        scaled = self._autoscaling_minimums(table)
        for kind, meter, volume in (
            ("Read", "dynamodb.read_capacity_unit_hours", "read_capacity"),
            ("Write", "dynamodb.write_capacity_unit_hours", "write_capacity"),
        ):
            given = self.traffic.resolved.volume(table, volume)
            units = sum(
                float(t.get(f"{kind}CapacityUnits", 0) or 0) for t in throughputs if isinstance(t, dict)
            )
            source = "provisioned"
            if given is not None:
                units, source = given, "average, from the profile"
            elif kind in scaled:
                units, source = scaled[kind], "autoscaling at its minimum"
            self.charge(
                table, meter, units * MONTH_HOURS, f"{kind.lower()} capacity: {units:g} units ({source})"
            )

    def _autoscaling_minimums(self, table: Resource) -> dict[str, float]:
        """``{"Read": units, "Write": units}``: the minimum of the table's (and its indexes') scalable
        targets, where Application Auto Scaling manages its capacity."""
        found: dict[str, float] = {}
        for target in self.templates.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
            dimension = str(target.props.get("ScalableDimension", ""))
            if not dimension.startswith("dynamodb:") or table not in self.templates.references(
                target.stack, target.props.get("ResourceId")
            ):
                continue
            kind = "Read" if dimension.endswith("ReadCapacityUnits") else "Write"
            minimum = target.props.get("MinCapacity")
            if isinstance(minimum, int | float):
                found[kind] = found.get(kind, 0.0) + float(minimum)
        return found

    def _warm_throughput(self, table: Resource, warm: Any) -> None:
        """Warm throughput above what the table has anyway (a new on-demand table: 12,000 reads and 4,000
        writes a second; a provisioned one: its capacity) is charged once, per unit raised."""
        if not isinstance(warm, dict):
            return
        on_demand = table.props.get("BillingMode") == "PAY_PER_REQUEST"
        throughput = table.props.get("ProvisionedThroughput") or {}
        for kind, key, meter, default in (
            ("read", "ReadUnitsPerSecond", "dynamodb.warm_read_units", ON_DEMAND_WARM_READS),
            ("write", "WriteUnitsPerSecond", "dynamodb.warm_write_units", ON_DEMAND_WARM_WRITES),
        ):
            wanted = warm.get(key)
            if not isinstance(wanted, int | float):
                continue
            baseline = default if on_demand else float(throughput.get(f"{kind.title()}CapacityUnits", 0) or 0)
            raised = max(0.0, float(wanted) - baseline)
            self.charge(
                table,
                meter,
                raised,
                f"warm throughput: {wanted:g} {kind} units a second ({raised:g} above its {baseline:g})",
            )

    def _table_storage(self, table: Resource) -> None:
        circuits = [c for c in self.traffic.circuits if c.table == table]
        given = self.traffic.resolved.volume(table, "gb")
        gb = given if given is not None else self._table_gb(table, len(circuits))
        self.charge(table, "dynamodb.storage", gb, "storage")
        if (table.props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            self.charge(table, "dynamodb.pitr", gb, "point-in-time recovery")

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

    def _stream(self, stream: Resource) -> None:
        """On-demand: the stream-hours and the GB written (records rounded up to 1 KB) and read by each
        consumer; provisioned: the shard-hours and the 25 KB PUT payload units."""
        resolved = self.traffic.resolved
        records = resolved.volume(stream, "records") or 0.0
        record_kb = resolved.volume(stream, "record_kb") or 1.0
        mode = (stream.props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        if mode == "ON_DEMAND":
            consumers = self._stream_consumers(stream)
            gb = records * math.ceil(record_kb) / KB_PER_GB
            self.charge(stream, "kinesis.on_demand_stream_hours", MONTH_HOURS, "on-demand stream")
            self.charge(
                stream, "kinesis.on_demand_gb_written", gb, "data written (records rounded up to 1 KB)"
            )
            self.charge(
                stream, "kinesis.on_demand_gb_read", gb * consumers, f"data read ({consumers} consumer(s))"
            )
        else:
            shards = float(stream.props.get("ShardCount", 1) or 1)
            self.charge(stream, "kinesis.shard_hours", shards * MONTH_HOURS, f"{shards:g} shard(s)")
            units = records * math.ceil(record_kb / 25)
            self.charge(stream, "kinesis.put_payload_units", units, "PUT payload units (25 KB each)")
        if float(stream.props.get("RetentionPeriodHours", 24) or 24) > 24:
            self.result.not_priced.append((stream, "retention beyond 24 hours is not modelled"))

    def _stream_consumers(self, stream: Resource) -> int:
        return sum(
            1
            for mapping in self.templates.of_type("AWS::Lambda::EventSourceMapping")
            if stream in self.templates.references(mapping.stack, mapping.props.get("EventSourceArn"))
        )

    def _state_machine(self, machine: Resource) -> None:
        """Standard: state transitions (the profile's per execution, else one per state of the
        definition); Express: requests and GB-seconds (100 ms and 64 MB steps)."""
        resolved = self.traffic.resolved
        executions = self.traffic.executions.get(machine, 0.0)
        if machine.props.get("StateMachineType") == "EXPRESS":
            duration = resolved.volume(machine, "duration_ms") or self.usage.duration_ms
            memory = resolved.volume(machine, "memory_mb") or EXPRESS_MEMORY_STEP_MB
            billed_ms = math.ceil(duration / EXPRESS_DURATION_STEP_MS) * EXPRESS_DURATION_STEP_MS
            billed_gb = math.ceil(memory / EXPRESS_MEMORY_STEP_MB) * EXPRESS_MEMORY_STEP_MB / 1024
            self.charge(machine, "states.express_requests", executions, "Express executions")
            self.charge(
                machine,
                "states.express_gb_seconds",
                executions * billed_ms / 1000 * billed_gb,
                f"Express duration ({billed_ms:g} ms at {billed_gb * 1024:g} MB each)",
            )
            return
        transitions = resolved.volume(machine, "transitions") or float(_states(self.templates, machine))
        self.charge(
            machine,
            "states.state_transitions",
            executions * transitions,
            f"state transitions ({transitions:g} per execution)",
        )

    # --- Network ------------------------------------------------------------------------------------

    def _nat_gateway(self, nat: Resource) -> None:
        gb = self.traffic.resolved.volume(nat, "gb")
        self.charge(nat, "vpc.nat_gateway_hours", MONTH_HOURS, "NAT gateway hours")
        item = "data processed" if gb is not None else "data processed (none given: set gb under [resources])"
        self.charge(nat, "vpc.nat_gateway_gb", gb or 0.0, item)

    def _elastic_ip(self, address: Resource) -> None:
        self.charge(address, "vpc.public_ipv4_hours", MONTH_HOURS, "public IPv4 address")

    def _vpc_endpoint(self, endpoint: Resource) -> None:
        if endpoint.props.get("VpcEndpointType", "Gateway") == "Gateway":
            self.result.free.append((endpoint, "gateway endpoints (S3, DynamoDB) have no charge"))
        else:
            why = "interface endpoints (per AZ-hour and GB) are not modelled"
            self.result.not_priced.append((endpoint, why))

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
        resolved = self.traffic.resolved
        given_gb, reads, writes = (resolved.volume(bucket, v) for v in ("gb", "reads", "writes"))
        stored = given_gb if given_gb is not None else (self.usage.site_gb if site else 0.0) + log_gb
        self.charge(
            bucket, "s3.standard_storage", stored, "objects stored" if not log_gb else "access logs stored"
        )
        if reads is not None:
            self.charge(bucket, "s3.get_requests", reads, "GETs (from the profile)")
        else:
            self.charge(bucket, "s3.get_requests", gets, "GETs from CloudFront on cache misses")
        if writes is not None:
            self.charge(bucket, "s3.put_requests", writes, "PUTs (from the profile)")

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

    def _metric_filter(self, metric_filter: Resource) -> None:
        metrics = metric_filter.props.get("MetricTransformations") or []
        count = len(metrics) if isinstance(metrics, list) else 1
        self.charge(metric_filter, "cloudwatch.custom_metrics", count, "metrics the filter publishes")

    def _xray_group(self, group: Resource) -> None:
        if (group.props.get("InsightsConfiguration") or {}).get("InsightsEnabled"):
            self.result.not_priced.append((group, "X-Ray Insights (per trace processed) is not modelled"))
        else:
            self.result.free.append((group, "an X-Ray group has no charge"))

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
            self.traffic.resolved.users.get(pool, 0.0),
            f"monthly active users ({tier} plan)",
        )

    def _topic(self, topic: Resource) -> None:
        publishes = self.traffic.publishes.get(topic, 0.0)
        self.charge(topic, "sns.publishes", publishes, "messages published")
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


def _sampling_rule(templates: Templates, function: Resource) -> tuple[float, float, str] | None:
    """``(reservoir, rate, name)`` of the template's highest-priority X-Ray sampling rule that matches a
    Lambda function's invocations (service type and name, any host, method, path and resource)."""
    name = function.props.get("FunctionName")
    found: list[tuple[float, float, float, str]] = []
    for resource in templates.of_type("AWS::XRay::SamplingRule"):
        rule = (
            resource.props.get("SamplingRule")
            or resource.props.get("SamplingRuleRecord", {}).get("SamplingRule")
            or {}
        )
        if not isinstance(rule, dict) or not _rule_matches(rule, name):
            continue
        numbers = [rule.get(k) for k in ("Priority", "ReservoirSize", "FixedRate")]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            priority, reservoir, rate = (float(v) for v in numbers if isinstance(v, int | float))
            found.append((priority, reservoir, rate, str(rule.get("RuleName", "a rule"))))
    if not found:
        return None
    _, reservoir, rate, rule_name = min(found)
    return reservoir, rate, f"sampling rule {rule_name}"


def _rule_matches(rule: Mapping[str, Any], function_name: Any) -> bool:
    service_type = rule.get("ServiceType", "*")
    service = rule.get("ServiceName", "*")
    if service_type not in ("*", "AWS::Lambda::Function", "AWS::Lambda"):
        return False
    if service != "*" and not (
        isinstance(function_name, str) and fnmatch.fnmatchcase(function_name, service)
    ):
        return False
    return all(rule.get(key, "*") == "*" for key in ("Host", "HTTPMethod", "URLPath", "ResourceARN"))


def _global_capacity(settings: Mapping[str, Any], kind: str) -> dict[str, float]:
    """A ``TableV2`` replica's read or write capacity as ``{"<kind>CapacityUnits": units}``: its fixed
    units, or its autoscaling minimum."""
    fixed = settings.get(f"{kind}CapacityUnits")
    scaling = settings.get(f"{kind}CapacityAutoScalingSettings") or {}
    units = fixed if isinstance(fixed, int | float) else scaling.get("MinCapacity", 0)
    return {f"{kind}CapacityUnits": float(units) if isinstance(units, int | float) else 0.0}


def _states(templates: Templates, machine: Resource) -> int:
    """States in a state machine's definition (each execution passes each once, as an estimate)."""
    definition = machine.props.get("Definition")
    if not isinstance(definition, Mapping):
        text = templates.literal_text(machine.stack, machine.props.get("DefinitionString"))
        try:
            definition = json.loads(text) if text else {}
        except json.JSONDecodeError:
            return text.count('"Type"') or 1
    return max(1, _count_states(definition))


def _count_states(definition: Any) -> int:
    if not isinstance(definition, Mapping):
        return 0
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return 0
    nested = sum(
        _count_states(branch)
        for state in states.values()
        if isinstance(state, Mapping)
        for branch in [*(state.get("Branches") or []), state.get("Iterator"), state.get("ItemProcessor")]
    )
    return len(states) + nested


def _pricing_order(resource: Resource) -> int:
    if resource.type in (FUNCTION, "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
        return 0
    return 2 if resource.type == "AWS::Logs::LogGroup" else 1


def _premium_rule_group(rule: Any) -> bool:
    name = str(((rule.get("Statement") or {}).get("ManagedRuleGroupStatement") or {}).get("Name", ""))
    return any(paid in name for paid in ("BotControl", "ATP", "ACFP", "AntiDDoS"))
