"""Lambda functions: requests, compute, SnapStart, X-Ray traces, logs and idempotency records."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import Any

from .._core.limits import LAMBDA_DEFAULT_MEMORY_MB, snap_start_applies
from ..checks._lambda import FUNCTION, function_target
from ..checks._model import Resource, Templates
from ._arrivals import XRAY_RATE, XRAY_RESERVOIR, traced
from ._breakers import containers
from ._catalog import CUSTOM_RESOURCE
from ._ledger import Collaborator
from ._usage import MONTH_SECONDS
from ._volumes import construct_path

#: Ephemeral storage every function has at no charge, in MB.
FREE_EPHEMERAL_MB = 512


class Functions(Collaborator):
    """Prices each function (or lists it as a deploy-time handler) and its aliases and versions."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::Alias": self._qualifier,
            "AWS::Lambda::Version": self._qualifier,
        }

    def _function(self, function: Resource) -> None:
        if self._custom_resource_handler(function):
            self.ledger.free((function, "handles custom resources: runs at deploy time only"))
            return
        props, usage = function.props, self.usage
        invocations = self.traffic.invocations.get(function, 0.0)
        memory_gb = float(props.get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB)) / 1024
        arch = (props.get("Architectures") or ["x86_64"])[0]
        path = construct_path(function)
        duration = usage.duration_of(path) / 1000
        self.ledger.charge(
            function, "lambda.requests", invocations, self.traffic.noted(function, "invocations")
        )
        self.ledger.charge(
            function,
            f"lambda.gb_seconds.{arch}",
            invocations * duration * memory_gb,
            f"compute: {props.get('MemorySize', 128)} MB {arch}, {usage.duration_of(path):g} ms each",
        )
        self._ephemeral_storage(function, invocations * duration)
        self._snap_start(function, memory_gb)
        if (props.get("TracingConfig") or {}).get("Mode") == "Active":
            self._traces(function, invocations)
        environment = (props.get("Environment") or {}).get("Variables") or {}
        if "POWERTOOLS_SERVICE_NAME" in environment:
            self.ledger.charge(
                function,
                "cloudwatch.custom_metrics",
                usage.powertools_metrics_per_function,
                "Powertools metrics",
            )
        self.ledger.send_logs(function, props.get("LoggingConfig"), invocations * usage.log_kb_per_invocation)
        self._idempotency(function, environment)

    def _ephemeral_storage(self, function: Resource, seconds: float) -> None:
        """Ephemeral storage (``/tmp``) above the 512 MB every function has, per GB-second it runs."""
        size = (function.props.get("EphemeralStorage") or {}).get("Size")
        if isinstance(size, int | float) and size > FREE_EPHEMERAL_MB:
            extra_gb = (float(size) - FREE_EPHEMERAL_MB) / 1024
            self.ledger.charge(
                function,
                "lambda.ephemeral_storage",
                extra_gb * seconds,
                f"ephemeral storage: {size:g} MB, {extra_gb * 1024:g} MB above the 512 MB included",
            )

    def _traces(self, function: Resource, invocations: float) -> None:
        """Lambda's default sampling (the first request each second, then 5%), or the template's own
        sampling rule for the function, applied to invocations arriving at random."""
        rule = _sampling_rule(self.templates, function)
        reservoir, rate, name = rule or (XRAY_RESERVOIR, XRAY_RATE, "Lambda's default rule")
        self.ledger.charge(
            function,
            "xray.traces_recorded",
            traced(invocations, reservoir, rate),
            f"traces ({name}: {reservoir:g} a second, then {rate:.0%})",
        )

    def _qualifier(self, qualifier: Resource) -> None:
        """An alias or version: free, unless it keeps provisioned concurrency warm (billed by the hour)."""
        if "ProvisionedConcurrencyConfig" in qualifier.props:
            self.ledger.not_priced(
                (qualifier, "provisioned concurrency (billed per GB-second kept warm) is not modelled")
            )
        else:
            self.ledger.free((qualifier, "invocations are priced on the function"))

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
            self.ledger.free((function, "SnapStart for Java has no charge"))
            return
        versions = sum(
            1
            for v in self.templates.of_type("AWS::Lambda::Version")
            if (t := function_target(self.templates, v.stack, v.props.get("FunctionName")))
            and t.function == function
        )
        cached = max(1, versions) * memory_gb * MONTH_SECONDS
        self.ledger.charge(
            function, "lambda.snapstart_cache", cached, "SnapStart snapshot cache, per published version"
        )
        restores = containers(self.templates, function, self.usage) * 30
        self.ledger.charge(
            function,
            "lambda.snapstart_restore",
            restores * memory_gb,
            "SnapStart restores (one per container a day)",
        )

    def _idempotency(self, function: Resource, environment: Any) -> None:
        for name, value in environment.items():
            if "IDEMPOTENCY" not in name:
                continue
            for table in self.templates.references(function.stack, value, "AWS::DynamoDB::Table"):
                records = self.traffic.messages.get(function) or self.traffic.invocations.get(function, 0.0)
                self.ledger.idempotency_records[table] += records
                self.ledger.charge(
                    table,
                    "dynamodb.write_request_units",
                    records * 2,
                    "idempotency records (put, then complete)",
                )


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
