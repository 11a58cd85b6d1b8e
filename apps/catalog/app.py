"""CDK app entry point for the SnapStart catalog sample."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from apps.catalog.stack import CatalogStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    CatalogStack(
        app, "Catalog", description="constructs_lib sample: Java SnapStart function with canary rollout"
    )
    return app


if __name__ == "__main__":
    build_app().synth()
