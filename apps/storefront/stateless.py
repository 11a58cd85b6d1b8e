"""The storefront's stateless stack: functions, the API, the distribution, alarms and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from apps.catalog.stack import catalog_function
from apps.common import (
    SQS_CONSUMER_CONCURRENCY_REASON,
    SQS_CONSUMER_DLQ_REASON,
    encrypted_alarm_topic,
    python_function,
)
from apps.edge.stack import deploy_site, private_site_bucket, web_client
from apps.storefront.orders import CUSTOMER_ATTRIBUTE, ORDER_SCHEMA, PRODUCTS, consumer_catalog
from apps.storefront.stateful import CONSUMER_TIMEOUT, StorefrontStateful
from constructs_lib import (
    ApiAuthorization,
    CallerIdentity,
    CdnFrontedOrigin,
    CdnOrigin,
    CircuitBreaker,
    QueueBufferedIngest,
)
from constructs_lib.cdn import DEFAULT_CONTENT_SECURITY_POLICY

SITE = Path(__file__).resolve().parent / "site"
#: The payments service the consumer charges (a deploy-time setting; the tests replace the client).
PAYMENTS_URL = "https://payments.internal.example/charges"


def cognito_endpoint(region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/"


def storefront_content_security_policy(region: str) -> str:
    """The library's default policy, plus the one other origin the page talks to: Cognito's endpoint."""
    return f"{DEFAULT_CONTENT_SECURITY_POLICY}; connect-src 'self' {cognito_endpoint(region)}"


def site_config(stateful: StorefrontStateful, region: str) -> dict[str, str]:
    """What the page reads from /config.json: where and with which client customers sign in."""
    return {
        "region": region,
        "userPoolId": stateful.user_pool.user_pool_id,
        "userPoolClientId": web_client(stateful.user_pool).user_pool_client_id,
        "cognitoEndpoint": cognito_endpoint(region),
    }


class StorefrontStateless(Stack):
    """``/*`` the site, ``/api/orders`` the order queue, ``/api/catalog*`` the Java catalog; one CDN."""

    def __init__(self, scope: Construct, id: str, *, stateful: StorefrontStateful, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.alarm_topic = encrypted_alarm_topic(self, "Storefront alarms")
        self.consumer = python_function(
            self,
            "OrderConsumer",
            handler_dir="storefront_orders",
            description="Charges queued orders once each at the catalog's prices, through the payments "
            "circuit breaker",
            environment={
                "POWERTOOLS_SERVICE_NAME": "storefront-orders",
                "IDEMPOTENCY_TABLE": stateful.idempotency.table_name,
                "CATALOG": consumer_catalog(PRODUCTS),
                "CUSTOMER_ATTRIBUTE": CUSTOMER_ATTRIBUTE,
                "PAYMENTS_URL": PAYMENTS_URL,
            },
            timeout=CONSUMER_TIMEOUT,
            dlq_reason=SQS_CONSUMER_DLQ_REASON,
            concurrency_reason=SQS_CONSUMER_CONCURRENCY_REASON,
        )
        stateful.idempotency.grant_read_write_data(self.consumer)
        self.ingest = QueueBufferedIngest(
            self,
            "OrderIngest",
            consumer=self.consumer,
            path="api/orders",
            message_schema=ORDER_SCHEMA,
            authorization=ApiAuthorization.authorizer_of(
                apigateway.CognitoUserPoolsAuthorizer(
                    self, "CustomerAuthorizer", cognito_user_pools=[stateful.user_pool]
                )
            ),
            # The customer travels as the caller.sub attribute, from the verified token, never the body.
            caller_identity=CallerIdentity(),
            existing_queue=stateful.orders,
            batch_size=10,
            max_concurrency=5,
            alarm_topic=self.alarm_topic,
        )
        # caller.sub is trusted only on messages the API sent: SQS records the sender of each message
        # (SenderId, "<role unique id>:<session>" for the API's role), and the consumer compares.
        self.consumer.add_environment("ORDER_API_ROLE_ID", self.ingest.api_role.role_id)
        self.breaker = CircuitBreaker(
            self, "Breaker", existing_table=stateful.circuit_state, alarm_topic=self.alarm_topic
        )
        self.breaker.attach(
            self.consumer,
            circuit_id="payments",
            failure_threshold=5,
            window=Duration.minutes(1),
            open_duration=Duration.seconds(30),
            max_open_duration=Duration.minutes(5),
        )
        self.pause = self.breaker.pause_while_open(self.ingest.event_source_mapping, circuit_id="payments")
        self.catalog = catalog_function(self, "Catalog", alarm_topic=self.alarm_topic)
        self._site_config = site_config(stateful, self.region)
        self.cdn = self._distribution()
        self.dashboard = self._dashboard()
        CfnOutput(self, "StorefrontUrl", value=self.cdn.url, description="The storefront, through CloudFront")
        CfnOutput(self, "OrdersEndpoint", value=f"{self.cdn.url}/api/orders", description="POST orders here")
        CfnOutput(
            self, "AlarmTopicArn", value=self.alarm_topic.topic_arn, description="Every alarm goes here"
        )

    def _distribution(self) -> CdnFrontedOrigin:
        # The site bucket lives here, not in the stateful stack: its objects are build output, redeployed
        # on every deploy, and CloudFront's OAC bucket policy names the distribution, which would make the
        # two stacks depend on each other. It is retained all the same.
        site = private_site_bucket(self, "Site")
        cdn = CdnFrontedOrigin(
            self,
            "Cdn",
            default_origin=CdnOrigin.bucket(site, single_page_app=True),
            # The page signs customers in against Cognito's endpoint, so the CSP lets it connect there.
            content_security_policy=storefront_content_security_policy(self.region),
            additional_behaviors={
                "/api/orders*": CdnOrigin.rest_api(self.ingest.api),
                "/api/catalog*": CdnOrigin.function_url(
                    self.catalog.alias, allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD
                ),
            },
            create_web_acl=True,
            # Cache hit rate and origin latency are additional (billed) metrics; the dashboard shows both.
            enable_additional_metrics=True,
            alarm_topic=self.alarm_topic,
        )
        deploy_site(self, SITE, site, cdn.distribution, config=self._site_config)
        return cdn

    def _dashboard(self) -> cloudwatch.Dashboard:
        """The system at a glance, built from the constructs' own metric methods."""

        def graph(
            title: str, *metrics: cloudwatch.IMetric, right: list[cloudwatch.IMetric] | None = None
        ) -> Any:
            return cloudwatch.GraphWidget(
                title=title, left=list(metrics), right=right or [], width=8, height=6
            )

        ingest, breaker, cdn, catalog = self.ingest, self.breaker, self.cdn, self.catalog
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        dashboard.add_widgets(
            graph("Orders API: requests", ingest.metric_api_requests()),
            graph(
                "Orders API: 4xx and 5xx",
                ingest.metric_api_client_errors(),
                ingest.metric_api_server_errors(),
            ),
            graph(
                "Order queue: oldest message (s) and DLQ depth",
                ingest.metric_approximate_age_of_oldest_message(),
                right=[ingest.metric_dead_letter_queue_messages()],
            ),
        )
        dashboard.add_widgets(
            graph(
                "Consumer: errors and concurrency",
                ingest.metric_consumer_errors(),
                right=[ingest.metric_consumer_concurrency()],
            ),
            graph("Consumer: paused (1) while payments is open", breaker.metric_consumer_paused("payments")),
            graph(
                "Payments circuit: transitions and rejected calls",
                breaker.metric_circuit_opened("payments"),
                breaker.metric_circuit_half_opened("payments"),
                breaker.metric_circuit_closed("payments"),
                right=[breaker.metric_calls_rejected("payments")],
            ),
        )
        dashboard.add_widgets(
            graph("CDN: requests", cdn.metric_requests(), right=[cdn.metric_5xx_error_rate()]),
            graph("CDN: cache hit rate (%)", cdn.metric_cache_hit_rate()),
            graph(
                "Catalog: duration p50 / p99 (ms)",
                catalog.metric_duration(statistic="p50"),
                catalog.metric_duration(statistic="p99"),
            ),
        )
        return dashboard
