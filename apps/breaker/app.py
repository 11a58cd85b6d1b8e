"""CDK app entry point for the circuit-breaker sample."""

import aws_cdk as cdk

from apps.breaker.stack import BreakerStack
from apps.common import checked_app


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = checked_app(app)
    BreakerStack(app, "Breaker", description="constructs_lib sample: a shared circuit breaker in DynamoDB")
    return app


if __name__ == "__main__":
    build_app().synth()
