"""CDK app entry point for the order-ingest sample (``cdk synth`` from the repository root)."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from apps.ingest.stack import OrderIngestStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    OrderIngestStack(app, "OrderIngest", description="constructs_lib sample: queue-buffered order ingest")
    return app


if __name__ == "__main__":
    build_app().synth()
