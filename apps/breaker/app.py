"""CDK app entry point for the circuit-breaker sample."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from apps.breaker.stack import BreakerStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    BreakerStack(app, "Breaker", description="constructs_lib sample: a shared circuit breaker in DynamoDB")
    return app


if __name__ == "__main__":
    build_app().synth()
