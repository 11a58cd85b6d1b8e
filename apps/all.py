"""Every sample stack in one CDK app: the default app of cdk.json, so ``make synth`` builds them all.

Deploy one with ``cdk deploy <stack>`` (OrderIngest, Edge, Catalog or Breaker), or ``--all``.
"""

import aws_cdk as cdk

from apps.breaker.stack import BreakerStack
from apps.catalog.stack import CatalogStack
from apps.common import checked_app
from apps.edge.stack import EdgeStack
from apps.ingest.stack import OrderIngestStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = checked_app(app)
    OrderIngestStack(app, "OrderIngest", description="constructs_lib sample: queue-buffered order ingest")
    EdgeStack(
        app,
        "Edge",
        description="constructs_lib sample: CloudFront in front of S3, a function URL and an ingest API",
        env=cdk.Environment(region="us-east-1"),
    )
    CatalogStack(
        app, "Catalog", description="constructs_lib sample: Java SnapStart function with canary rollout"
    )
    BreakerStack(app, "Breaker", description="constructs_lib sample: a shared circuit breaker in DynamoDB")
    return app


if __name__ == "__main__":
    build_app().synth()
