"""CDK app entry point for the storefront (the default app in cdk.json): two stacks, stateful first."""

import aws_cdk as cdk

from apps.common import checked_app
from apps.storefront.stateful import StorefrontStateful
from apps.storefront.stateless import StorefrontStateless

#: CloudFront's web ACL and metrics live in us-east-1, and both stacks share it (cross-stack references).
REGION = "us-east-1"


def build_app(app: cdk.App | None = None, *, env: cdk.Environment | None = None) -> cdk.App:
    """The storefront in ``app`` (or a new one), with cdk-nag's packs run at synth."""
    app = checked_app(app)
    compose(app, env=env)
    return app


def compose(
    app: cdk.App, *, env: cdk.Environment | None = None
) -> tuple[StorefrontStateful, StorefrontStateless]:
    """The two storefront stacks in ``app``, tagged, the stateless one depending on the stateful one."""
    env = env or cdk.Environment(region=REGION)
    stateful = StorefrontStateful(
        app,
        "StorefrontStateful",
        description="constructs_lib storefront: customers, order queues, circuit state, idempotency "
        "(retained)",
        env=env,
        termination_protection=True,
    )
    stateless = StorefrontStateless(
        app,
        "Storefront",
        stateful=stateful,
        description="constructs_lib storefront: CloudFront, the orders API and consumer, the Java catalog",
        env=env,
    )
    stateless.add_stack_dependency(
        stateful, "the stateless stack reads the stateful stack's queues and tables"
    )
    for stack, role in ((stateful, "stateful"), (stateless, "stateless")):
        cdk.Tags.of(stack).add("app", "storefront")
        cdk.Tags.of(stack).add("stack-role", role)
        cdk.Tags.of(stack).add("managed-by", "constructs_lib")
    return stateful, stateless


if __name__ == "__main__":
    build_app().synth()
