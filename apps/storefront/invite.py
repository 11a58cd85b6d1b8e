"""Invite a customer to the storefront. Sign-up is closed: a customer exists because the shop invited them.

    python -m apps.storefront.invite ada@example.com            # the pool from StorefrontStateful's outputs
    python -m apps.storefront.invite ada@example.com --user-pool-id us-east-1_AbCdEf123

Cognito (AdminCreateUser) emails the customer a temporary password; at the first sign-in the page asks them
to choose their own (Cognito's ``NEW_PASSWORD_REQUIRED`` challenge). The email address is marked verified:
the invitation goes there, and only its reader can use the temporary password. Needs AWS credentials
allowed ``cognito-idp:AdminCreateUser`` on the pool (and ``cloudformation:DescribeStacks`` to find it).
"""

from __future__ import annotations

import argparse
from typing import Any

#: The stack whose ``UserPoolId`` output names the customers' pool.
STATEFUL_STACK = "StorefrontStateful"


def invite_customer(idp: Any, user_pool_id: str, email: str, *, temporary_password: str | None = None) -> str:
    """Create the customer and have Cognito email the invitation; returns their ``sub``.

    ``temporary_password`` is Cognito's own parameter: without it, Cognito generates one that meets the
    pool's password policy (what an invitation should do); tests pass one because nothing reads mail there.
    """
    kwargs: dict[str, Any] = {
        "UserPoolId": user_pool_id,
        "Username": email,
        "UserAttributes": [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if temporary_password is not None:
        kwargs["TemporaryPassword"] = temporary_password
    user = idp.admin_create_user(**kwargs)["User"]
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    return str(attributes.get("sub", user["Username"]))


def user_pool_id_of(cloudformation: Any, stack: str = STATEFUL_STACK) -> str:
    """The customers' pool id, from the stateful stack's ``UserPoolId`` output."""
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return str(outputs["UserPoolId"])


def main(argv: list[str] | None = None) -> None:
    import boto3

    parser = argparse.ArgumentParser(description="Invite a customer to the storefront")
    parser.add_argument("email")
    parser.add_argument("--user-pool-id", help=f"default: the UserPoolId output of {STATEFUL_STACK}")
    args = parser.parse_args(argv)
    pool_id = args.user_pool_id or user_pool_id_of(boto3.client("cloudformation"))
    sub = invite_customer(boto3.client("cognito-idp"), pool_id, args.email)
    print(f"Invited {args.email} (sub {sub}); Cognito emails them a temporary password.")


if __name__ == "__main__":
    main()
