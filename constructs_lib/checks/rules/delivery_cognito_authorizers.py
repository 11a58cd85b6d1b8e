"""A Cognito authorizer's user pool has an app client, or no caller can ever get a token."""

from __future__ import annotations

from collections.abc import Iterator

from .._edges import Edge, edge, guarded, label, values_at
from .._iam import Decision
from .._model import Resource, Templates
from .._rule import Rule, edge_findings

FAMILY = "DeliveryCognitoAuthorizers"
POOL = "AWS::Cognito::UserPool"
FIX = (
    "Add an app client to the user pool (user_pool.add_client, a public client without a secret for a "
    "browser): Cognito issues no token without one"
)


def edges(templates: Templates) -> Iterator[Edge]:
    authorizers = ("AWS::ApiGateway::Authorizer",)
    yield from guarded(FAMILY, FIX, templates, authorizers, lambda a: _authorizer(templates, a))


def _with_clients(templates: Templates) -> set[Resource]:
    def build() -> set[Resource]:
        return {
            pool
            for client in templates.of_type("AWS::Cognito::UserPoolClient")
            for pool in templates.references(client.stack, client.props.get("UserPoolId"), POOL)
        }

    found: set[Resource] = templates.memo("pools with clients", build)
    return found


def _authorizer(templates: Templates, authorizer: Resource) -> Iterator[Edge]:
    if authorizer.props.get("Type") != "COGNITO_USER_POOLS":
        return
    for index, arn in enumerate(values_at(authorizer.props.get("ProviderARNs"))):
        where = f"Properties.ProviderARNs.{index}"
        pools = templates.references(authorizer.stack, arn, POOL)
        if not pools:
            decision = Decision(None, "its user pool is not in this app, so its clients cannot be read")
            yield edge(FAMILY, authorizer, where, "its user pool", decision, FIX)
            continue
        pool = pools[0]
        decision = (
            Decision(True, "the pool has an app client")
            if pool in _with_clients(templates)
            else Decision(False, f"user pool {pool.path} has no app client, so it issues no token")
        )
        yield edge(FAMILY, authorizer, where, label(pool), decision, FIX)


RULE = Rule(
    name=FAMILY,
    summary="A Cognito authorizer trusts a user pool without an app client: no caller can sign in, and "
    "every request answers 401",
    fix=FIX,
    find=edge_findings(edges),
)
