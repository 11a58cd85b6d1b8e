"""CDK app entry point for the SnapStart catalog sample."""

import aws_cdk as cdk

from apps.catalog.stack import CatalogStack
from apps.common import checked_app


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = checked_app(app)
    CatalogStack(
        app, "Catalog", description="constructs_lib sample: Java SnapStart function with canary rollout"
    )
    return app


if __name__ == "__main__":
    build_app().synth()
