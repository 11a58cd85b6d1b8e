"""The edge: CloudFront distributions, web ACLs, and the buckets they serve and log to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..checks._model import Resource
from ._ledger import UNEXPIRED_MONTHS, Collaborator
from ._traffic import KB_PER_GB

#: Metrics CloudFront adds per distribution with additional metrics on, and API Gateway per method with
#: detailed metrics on; both are billed as custom metrics.
CLOUDFRONT_ADDITIONAL_METRICS = 8
#: A CloudFront standard log line, in KB.
CLOUDFRONT_LOG_LINE_KB = 0.5


class Edge(Collaborator):
    """Prices distributions (requests, transfer, Functions, metrics), web ACLs and S3 buckets."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::CloudFront::Distribution": self._distribution,
            "AWS::WAFv2::WebACL": self._web_acl,
            "AWS::S3::Bucket": self._bucket,
        }

    def _distribution(self, distribution: Resource) -> None:
        mine = [b for b in self.traffic.behaviors if b.behavior.distribution == distribution]
        viewers = sum(b.viewer_requests for b in mine)
        self.ledger.charge(distribution, "cloudfront.https_requests", viewers, "HTTPS requests")
        gb = sum(b.viewer_requests * b.response_kb for b in mine) / KB_PER_GB
        self.ledger.charge(distribution, "cloudfront.data_transfer_out", gb, "data transfer to viewers")
        uploads = sum(b.viewer_requests for b in mine if b.ingest)
        self.ledger.charge(
            distribution,
            "cloudfront.data_transfer_to_origin",
            uploads * self.usage.order_kb / KB_PER_GB,
            "request bodies to the origin",
        )
        functions = sum(
            b.viewer_requests * len(b.behavior.config.get("FunctionAssociations") or []) for b in mine
        )
        self.ledger.charge(
            distribution, "cloudfront.function_invocations", functions, "CloudFront Functions invocations"
        )
        if any(
            distribution in self.templates.references(s.stack, s.props.get("DistributionId"))
            for s in self.templates.of_type("AWS::CloudFront::MonitoringSubscription")
        ):
            self.ledger.charge(
                distribution,
                "cloudwatch.custom_metrics",
                CLOUDFRONT_ADDITIONAL_METRICS,
                "CloudFront additional metrics",
            )

    def _web_acl(self, acl: Resource) -> None:
        rules = acl.props.get("Rules") or []
        paid = [r.get("Name") for r in rules if _premium_rule_group(r)]
        if paid:
            self.ledger.not_priced((acl, f"premium managed rule groups are not modeled: {paid}"))
        requests = self._viewers_through(acl, "WebACLId")
        self.ledger.charge(acl, "waf.web_acls", 1, "web ACL")
        self.ledger.charge(acl, "waf.rules", len(rules), "rules (a managed rule group counts as one)")
        self.ledger.charge(acl, "waf.requests", requests, "requests inspected")

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
        self.ledger.charge(
            bucket, "s3.standard_storage", stored, "objects stored" if not log_gb else "access logs stored"
        )
        fronted = any(bucket in b.targets for b in self.traffic.behaviors)
        if reads is not None:
            self.ledger.charge(bucket, "s3.get_requests", reads, "GETs (from the profile)")
        elif fronted:
            self.ledger.charge(bucket, "s3.get_requests", gets, "GETs from CloudFront on cache misses")
        else:
            self.ledger.charge(
                bucket, "s3.get_requests", 0.0, "GETs (none derived: set reads under [resources])"
            )
        if writes is not None:
            self.ledger.charge(bucket, "s3.put_requests", writes, "PUTs (from the profile)")

    def _cloudfront_log_gb(self, bucket: Resource) -> float:
        lines = self._viewers_through(bucket, "Logging")
        rules = (bucket.props.get("LifecycleConfiguration") or {}).get("Rules") or []
        days = [r["ExpirationInDays"] for r in rules if isinstance(r.get("ExpirationInDays"), int | float)]
        months = min(days) / 30 if days else UNEXPIRED_MONTHS
        return lines * CLOUDFRONT_LOG_LINE_KB / KB_PER_GB * months


def _premium_rule_group(rule: Any) -> bool:
    name = str(((rule.get("Statement") or {}).get("ManagedRuleGroupStatement") or {}).get("Name", ""))
    return any(paid in name for paid in ("BotControl", "ATP", "ACFP", "AntiDDoS"))
