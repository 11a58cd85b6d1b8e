"""A customer's journey, offline: sign up and in with the storefront's own app client, then order through
the CDN behavior, down to one charge.

moto's Cognito holds the user pool and client created from the synthesized stateful template; the API's
Cognito authorizer is applied as the template configures it (signature against the pool's keys, issuer,
``token_use``, client, expiry), after CloudFront's origin request policy and the origin's API key. The
order then runs through the real request validator and templates, moto's SQS and the real consumer.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from apps.storefront.stateless import CATALOG_SKUS
from tests.localcloud import (
    behavior_for,
    resources_of,
    signed_in_storefront,
    storefront_templates,
)

PASSWORD = "Correct-Horse-Battery-9!"
ORDER_PATH = "/api/orders"


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    return storefront_templates()


@pytest.fixture
def storefront(templates, monkeypatch) -> Iterator[dict[str, Any]]:
    with signed_in_storefront(templates, monkeypatch) as shop:
        yield {
            "cloud": shop.cloud,
            "pool": shop.pool,
            "edge": shop.orders,
            "clock": shop.clock,
            "payments": shop.payments,
            "poller": shop.poller,
        }


def order(order_id: str = "o-1") -> str:
    items = [{"sku": CATALOG_SKUS[0], "quantity": 1, "unitPrice": 12.5}]
    return json.dumps({"orderId": order_id, "customerId": "c-1", "items": items})


def browser_headers(token: str | None = None) -> dict[str, str]:
    headers = {"Host": "d111111abcdef8.cloudfront.net", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    return headers


def test_the_storefront_has_a_public_app_client_with_the_browser_flows(templates):
    stateful, _ = templates
    [client] = resources_of(stateful, "AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert properties["GenerateSecret"] is False, "a browser cannot keep a secret"
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(
        properties["ExplicitAuthFlows"]
    )
    assert {"UserPoolId", "UserPoolClientId", "Region"} <= set(stateful["Outputs"])
    [pool] = resources_of(stateful, "AWS::Cognito::UserPool").values()
    # moto issues tokens without an MFA challenge; the pool must not require one either.
    assert pool["Properties"]["MfaConfiguration"] == "OPTIONAL"


def test_a_customer_signs_up_signs_in_and_orders_through_the_cdn_and_is_charged_once(storefront):
    tokens = storefront["pool"].sign_up_and_in("ada@example.com", PASSWORD)
    behavior = behavior_for(storefront["edge"].stateless, ORDER_PATH)
    assert behavior.path_pattern == "/api/orders*", "the order behavior, not the site's"
    response = storefront["edge"].post(ORDER_PATH, order("o-1"), browser_headers(tokens["IdToken"]))
    assert response.status == 202, response.body
    assert response.body["messageId"]
    storefront["poller"].tick()
    assert storefront["payments"].charges == Counter({"o-1": 1})
    assert storefront["cloud"].queue_depth() == 0
    # The browser's Host never reaches API Gateway, Authorization does, and the origin key is added.
    forwarded = behavior.origin_headers(browser_headers(tokens["IdToken"]))
    assert forwarded["Authorization"] == tokens["IdToken"]
    assert "d111111abcdef8.cloudfront.net" not in forwarded["Host"]
    assert "x-api-key" in forwarded


def unauthorized(storefront: dict[str, Any], token: str | None) -> None:
    response = storefront["edge"].post(ORDER_PATH, order("o-x"), browser_headers(token))
    assert response.status == 401
    assert storefront["cloud"].queue_depth() == 0, "nothing is queued for a request the authorizer refused"


def test_a_missing_token_answers_401_and_queues_nothing(storefront):
    unauthorized(storefront, None)


def test_an_expired_token_answers_401_and_queues_nothing(storefront):
    tokens = storefront["pool"].sign_up_and_in("grace@example.com", PASSWORD)
    storefront["clock"].advance(3601)  # ID tokens live an hour
    unauthorized(storefront, tokens["IdToken"])


def test_a_token_of_another_pool_or_client_answers_401(storefront):
    idp = storefront["pool"].idp
    other = idp.create_user_pool(PoolName="someone-elses", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=other, ClientName="theirs", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client, Username="eve@example.com", Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=other, Username="eve@example.com")
    tokens = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "eve@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    unauthorized(storefront, tokens["IdToken"])


def test_an_access_token_or_a_tampered_token_answers_401(storefront):
    tokens = storefront["pool"].sign_up_and_in("alan@example.com", PASSWORD)
    unauthorized(storefront, tokens["AccessToken"])  # no scopes on the method: ID tokens only
    header, payload, signature = tokens["IdToken"].split(".")
    unauthorized(storefront, f"{header}.{payload}.{signature[::-1]}")


def test_a_request_that_goes_around_the_cdn_answers_403_even_with_a_valid_token(storefront):
    tokens = storefront["pool"].sign_up_and_in("linus@example.com", PASSWORD)
    for key in (None, "guessed"):
        headers = browser_headers(tokens["IdToken"])
        if key is not None:
            headers["x-api-key"] = key
        response = storefront["edge"].post_to_api(order("o-direct"), headers)
        assert response.status == 403
    assert storefront["cloud"].queue_depth() == 0


def test_the_page_reads_its_sign_in_settings_from_the_deployment_and_may_reach_cognito(templates):
    """config.json is written at deploy time from the stateful stack's pool and client; the CSP that the
    distribution sends lets the page connect to Cognito's endpoint, and nothing else beyond itself."""
    stateful, stateless = templates
    [deployment] = resources_of(stateless, "Custom::CDKBucketDeployment").values()
    markers = json.dumps(deployment["Properties"]["SourceMarkers"])
    [pool_id] = resources_of(stateful, "AWS::Cognito::UserPool")
    [client_id] = resources_of(stateful, "AWS::Cognito::UserPoolClient")
    assert f"PublishOutputRef{pool_id}" in markers
    assert f"PublishOutputRef{client_id}" in markers
    [policy] = resources_of(stateless, "AWS::CloudFront::ResponseHeadersPolicy").values()
    csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"
    ]
    assert csp["ContentSecurityPolicy"].endswith(
        "connect-src 'self' https://cognito-idp.us-east-1.amazonaws.com/"
    )
    assert "script-src" not in csp["ContentSecurityPolicy"], "default-src 'self': no inline script allowed"
