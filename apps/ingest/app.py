"""CDK app entry point for the order-ingest sample (``cdk synth`` from the repository root)."""

import aws_cdk as cdk

from apps.common import checked_app
from apps.ingest.stack import OrderIngestStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = checked_app(app)
    OrderIngestStack(app, "OrderIngest", description="constructs_lib sample: queue-buffered order ingest")
    return app


if __name__ == "__main__":
    build_app().synth()
