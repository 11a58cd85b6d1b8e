"""CDK app entry point for the edge sample."""

import aws_cdk as cdk

from apps.common import checked_app
from apps.edge.stack import EdgeStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = checked_app(app)
    EdgeStack(
        app,
        "Edge",
        description="constructs_lib sample: CloudFront in front of S3, a function URL and an ingest API",
        # CloudFront web ACLs and metrics live in us-east-1; the account stays deploy-time.
        env=cdk.Environment(region="us-east-1"),
    )
    return app


if __name__ == "__main__":
    build_app().synth()
