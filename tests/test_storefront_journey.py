"""A customer's journey, offline: invited by the shop, signed in with the storefront's own app client
(through every challenge Cognito sends), then an order through the CDN behavior, down to one charge at the
catalog's price.

moto's Cognito holds the user pool and client created from the synthesized stateful template; the API's
Cognito authorizer is applied as the template configures it (signature against the pool's keys, issuer,
``token_use``, client, expiry), after CloudFront's origin request policy and the origin's API key. The
order then runs through the real request validator and templates (which add the customer's ``sub`` from
the verified token as a message attribute), moto's SQS and the real consumer. TOTP codes are computed per
RFC 6238 (``tests.localcloud.totp``), and moto checks them against the secret it handed out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt

from apps.storefront.orders import CATALOG_SKUS, PRODUCTS, consumer_catalog
from tests.localcloud import (
    REGION,
    SignedInStorefront,
    assumed_client,
    behavior_for,
    fresh_storefront,
    resources_of,
    signed_in_storefront,
    storefront_templates,
    totp,
)

PASSWORD = "Correct-Horse-Battery-9!"
ORDER_PATH = "/api/orders"


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    return storefront_templates()


@pytest.fixture(scope="module")
def shared_storefront(templates) -> Iterator[SignedInStorefront]:
    """One local cloud for the module: its queues, tables, mapping and consumer are created once."""
    with pytest.MonkeyPatch.context() as patch, signed_in_storefront(templates, patch) as shop:
        yield shop


@pytest.fixture
def storefront(request, shared_storefront, templates) -> dict[str, Any]:
    """The shared cloud with what a test sees made new (``fresh_storefront``): empty queues, no
    idempotency records, a new user pool (``indirect`` parametrization passes its ``mfa``), payments and
    poller."""
    shop = fresh_storefront(shared_storefront, templates, mfa=getattr(request, "param", None))
    return {
        "cloud": shop.cloud,
        "pool": shop.pool,
        "edge": shop.orders,
        "clock": shop.clock,
        "payments": shop.payments,
        "poller": shop.poller,
        "consumer": shop.consumer,
    }


def order(order_id: str = "o-1", sku: str = CATALOG_SKUS[0], quantity: int = 1, **item: Any) -> str:
    return json.dumps({"orderId": order_id, "items": [{"sku": sku, "quantity": quantity, **item}]})


def browser_headers(token: str | None = None) -> dict[str, str]:
    headers = {"Host": "d111111abcdef8.cloudfront.net", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    return headers


def test_the_public_client_has_only_the_flows_the_page_uses_and_no_oauth(templates):
    stateful, _ = templates
    [client] = resources_of(stateful, "AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert properties["GenerateSecret"] is False, "a browser cannot keep a secret"
    assert properties["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    # No hosted UI and no domain: no OAuth flow, scope or callback waits to be wrong the day one is added.
    assert properties["AllowedOAuthFlowsUserPoolClient"] is False
    for key in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs"):
        assert key not in properties
    # Token validity, refresh and revocation as they were.
    assert (properties["IdTokenValidity"], properties["AccessTokenValidity"]) == (60, 60)
    assert properties["RefreshTokenValidity"] == 30 * 24 * 60
    assert properties["EnableTokenRevocation"] is True
    assert {"UserPoolId", "UserPoolClientId", "Region"} <= set(stateful["Outputs"])


def test_the_pool_is_invitation_only_and_pays_for_the_adaptive_authentication_it_uses(templates):
    stateful, _ = templates
    [(pool_id, pool)] = resources_of(stateful, "AWS::Cognito::UserPool").items()
    properties = pool["Properties"]
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert "{####}" in properties["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]
    assert properties["MfaConfiguration"] == "OPTIONAL"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    # The PLUS plan bills every monthly active user; what it buys is threat protection that acts.
    assert properties["UserPoolTier"] == "PLUS"
    assert properties["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    [risk] = resources_of(stateful, "AWS::Cognito::UserPoolRiskConfigurationAttachment").values()
    assert risk["Properties"]["UserPoolId"] == {"Ref": pool_id}
    actions = risk["Properties"]["AccountTakeoverRiskConfiguration"]["Actions"]
    assert {level: a["EventAction"] for level, a in actions.items()} == {
        "LowAction": "NO_ACTION",
        "MediumAction": "MFA_IF_CONFIGURED",
        "HighAction": "MFA_REQUIRED",
    }
    leaked = risk["Properties"]["CompromisedCredentialsRiskConfiguration"]
    assert leaked["Actions"]["EventAction"] == "BLOCK"


def test_customers_cannot_rewrite_their_email_and_a_new_one_counts_once_verified(templates):
    """caller.email is only as trustworthy as email_verified: the public client may write only ``name``
    (without a list Cognito lets it write every standard attribute), and a changed email takes effect once
    its code is confirmed."""
    stateful, _ = templates
    [client] = resources_of(stateful, "AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["WriteAttributes"] == ["name"]
    [pool] = resources_of(stateful, "AWS::Cognito::UserPool").values()
    settings = pool["Properties"]["UserAttributeUpdateSettings"]
    assert settings == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert pool["Properties"]["AutoVerifiedAttributes"] == ["email"]


def test_a_scripts_sign_up_is_refused_and_an_invited_customer_chooses_a_password(storefront):
    pool = storefront["pool"]
    with pytest.raises(ClientError, match="SignUp is not permitted"):
        pool.sign_up("bot@example.com", PASSWORD)
    pool.invite("ada@example.com", "Temporary-Pass-2026!")
    challenge = pool.initiate("ada@example.com", "Temporary-Pass-2026!")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(ClientError, match="InvalidPassword"):
        pool.respond(challenge, "ada@example.com", NEW_PASSWORD="short")
    tokens = pool.respond(challenge, "ada@example.com", NEW_PASSWORD=PASSWORD)["AuthenticationResult"]
    assert pool.sign_in("ada@example.com", PASSWORD)["IdToken"]
    response = storefront["edge"].post(ORDER_PATH, order("o-1"), browser_headers(tokens["IdToken"]))
    assert response.status == 202, response.body


def test_a_customer_signs_in_and_orders_through_the_cdn_and_is_charged_once(storefront):
    tokens = storefront["pool"].invite_and_sign_in("ada@example.com", PASSWORD)
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
    tokens = storefront["pool"].invite_and_sign_in("grace@example.com", PASSWORD)
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
    tokens = storefront["pool"].invite_and_sign_in("alan@example.com", PASSWORD)
    unauthorized(storefront, tokens["AccessToken"])  # no scopes on the method: ID tokens only
    header, payload, signature = tokens["IdToken"].split(".")
    unauthorized(storefront, f"{header}.{payload}.{signature[::-1]}")


def test_a_request_that_goes_around_the_cdn_answers_403_even_with_a_valid_token(storefront):
    tokens = storefront["pool"].invite_and_sign_in("linus@example.com", PASSWORD)
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


# ------------------------------------------------------------------------------ the price and the customer

GREEN_TEA = next(p for p in PRODUCTS if p["id"] == "green-tea")
OUT_OF_STOCK = next(p["id"] for p in PRODUCTS if not p["inStock"])


def queued_messages(storefront: dict[str, Any]) -> list[dict[str, Any]]:
    """What the queue holds, attributes included, left in the queue for the consumer."""
    sqs, url = storefront["cloud"].sqs, storefront["cloud"].queue_url
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])
    return list(messages)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order("o-price", sku="green-tea", quantity=2, unitPrice=0.01), "unitPrice"),
        (json.dumps({**json.loads(order("o-who", sku="green-tea")), "customerId": "c-1"}), "customerId"),
    ],
)  # fmt: skip
def test_an_order_that_brings_its_own_price_or_customer_answers_400_with_the_reason(storefront, body, field):
    tokens = storefront["pool"].invite_and_sign_in("mallory@example.com", PASSWORD)
    response = storefront["edge"].post(ORDER_PATH, body, browser_headers(tokens["IdToken"]))
    assert response.status == 400
    assert response.body["message"] == "Invalid request body"
    assert field in response.body["hint"], "the 400 says why: the price and the customer are not the client's"
    assert storefront["cloud"].queue_depth() == 0
    storefront["poller"].tick()
    assert storefront["payments"].calls == []


def test_an_order_is_charged_at_the_catalogs_price_with_the_customers_sub_on_the_message(storefront):
    tokens = storefront["pool"].invite_and_sign_in("ada@example.com", PASSWORD)
    sub = jwt.decode(tokens["IdToken"], storefront["edge"].authorizer.keys).claims["sub"]
    response = storefront["edge"].post(
        ORDER_PATH, order("o-tea", sku="green-tea", quantity=2), browser_headers(tokens["IdToken"])
    )
    assert response.status == 202, response.body
    [message] = queued_messages(storefront)
    assert message["MessageAttributes"]["caller.sub"]["StringValue"] == sub
    assert "customerId" not in message["Body"]
    storefront["poller"].tick()
    assert storefront["payments"].calls == [(sub, "o-tea", Decimal(GREEN_TEA["priceCents"] * 2) / 100)]
    assert str(storefront["payments"].calls[0][2]) == "19.80", "an amount in cents, as payments take it"


def test_two_customers_with_the_same_order_id_are_both_charged_and_a_retry_is_not(storefront):
    edge, pool = storefront["edge"], storefront["pool"]
    ada = pool.invite_and_sign_in("ada@example.com", PASSWORD)["IdToken"]
    grace = pool.invite_and_sign_in("grace@example.com", PASSWORD)["IdToken"]
    for token in (ada, grace, ada):  # Ada's second request is a retry of her order
        assert edge.post(ORDER_PATH, order("order-1"), browser_headers(token)).status == 202
    storefront["poller"].tick()
    assert storefront["payments"].charges == Counter({"order-1": 2})
    assert len({customer for customer, _, _ in storefront["payments"].calls}) == 2
    assert storefront["cloud"].queue_depth() == 0


@pytest.mark.parametrize("sku", ["discontinued-kettle", OUT_OF_STOCK])
def test_an_unknown_product_or_one_out_of_stock_answers_400_with_the_reason(storefront, sku):
    """Stock is written at synth, so the order model takes only products in stock: the page's customer
    hears at once, instead of a 202 "Thank you!" for an order that is never charged."""
    tokens = storefront["pool"].invite_and_sign_in("ada@example.com", PASSWORD)
    response = storefront["edge"].post(ORDER_PATH, order("o-x", sku=sku), browser_headers(tokens["IdToken"]))
    assert response.status == 400
    assert "catalog product in stock" in response.body["hint"]
    assert storefront["cloud"].queue_depth() == 0


def counted(consumer: Any, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The consumer's metrics, data point by data point."""
    points: Counter[str] = Counter()
    add_metric = consumer.metrics.add_metric

    def count(*, name: str, **kwargs: Any) -> None:
        points[name] += kwargs.get("value", 1)
        add_metric(name=name, **kwargs)

    monkeypatch.setattr(consumer.metrics, "add_metric", count)
    return points


def test_a_refused_order_is_acknowledged_and_counted_once_never_charged_nor_dead_lettered(
    storefront, monkeypatch
):
    """The consumer's check is the second line: an order queued before a deployment took its product out
    of stock. It is declined once (not retried into the DLQ, one OrdersRefused however often it is
    delivered), and an orderId reused for other items is refused, not answered with the first charge."""
    cloud, edge, poller, consumer = (storefront[k] for k in ("cloud", "edge", "poller", "consumer"))
    points = counted(consumer, monkeypatch)
    token = storefront["pool"].invite_and_sign_in("ada@example.com", PASSWORD)["IdToken"]
    assert edge.post(ORDER_PATH, order("o-tea", sku="green-tea"), browser_headers(token)).status == 202
    monkeypatch.setitem(consumer.CATALOG, "green-tea", {**consumer.CATALOG["green-tea"], "inStock": False})
    for _ in range(2):  # the same order delivered again (SQS delivers at least once)
        poller.tick()
        assert cloud.queue_depth() == 0, "acknowledged at once, not retried"
        assert edge.post(ORDER_PATH, order("o-tea", sku="green-tea"), browser_headers(token)).status == 202
    poller.tick()
    assert storefront["payments"].calls == []
    assert points["OrdersRefused"] == 1
    assert sum(poller.receives.values()) == 3, "each delivery received once"
    # The same orderId with other items: refused, and the first charge stands alone.
    for sku in ("espresso-beans", "filter-beans"):
        assert edge.post(ORDER_PATH, order("o-2", sku=sku), browser_headers(token)).status == 202
        poller.tick()
    assert [(order_id, amount) for _, order_id, amount in storefront["payments"].calls] == [
        ("o-2", Decimal("24.50"))
    ]
    assert points == Counter({"OrdersRefused": 2, "OrdersCharged": 1})
    storefront["clock"].advance(cloud.visibility_timeout)
    poller.tick()
    assert cloud.queue_depth() == 0
    assert cloud.dead_letters() == []


def test_a_message_sent_around_the_api_naming_a_customer_is_never_charged(storefront):
    """Any principal with sqs:SendMessage on the queue can set caller.sub itself; the consumer trusts it
    only on a message whose SenderId is the API role's, and the forged one ends in the DLQ."""
    cloud, poller = storefront["cloud"], storefront["poller"]
    tokens = storefront["pool"].invite_and_sign_in("ada@example.com", PASSWORD)
    sub = jwt.decode(tokens["IdToken"], storefront["edge"].authorizer.keys).claims["sub"]
    producer = boto3.client("iam", region_name=REGION).create_role(
        RoleName="another-producer", AssumeRolePolicyDocument="{}"
    )["Role"]
    assumed_client("sqs", producer["Arn"], "forger").send_message(
        QueueUrl=cloud.queue_url,
        MessageBody=order("o-forged", sku="green-tea", quantity=3),
        MessageAttributes={"caller.sub": {"DataType": "String", "StringValue": sub}},
    )
    assert (
        storefront["edge"].post(ORDER_PATH, order("o-real"), browser_headers(tokens["IdToken"])).status == 202
    )
    for _ in range(cloud.max_receive_count):
        poller.tick()
        storefront["clock"].advance(cloud.visibility_timeout)
    poller.tick()
    assert [(customer, order_id) for customer, order_id, _ in storefront["payments"].calls] == [
        (sub, "o-real")
    ]
    assert [json.loads(body)["orderId"] for body in cloud.dead_letters()] == ["o-forged"]


def test_the_consumer_prices_from_the_catalog_data_the_template_gives_it(templates):
    _, stateless = templates
    [consumer] = [
        r
        for k, r in resources_of(stateless, "AWS::Lambda::Function").items()
        if k.startswith("OrderConsumer")
    ]
    environment = consumer["Properties"]["Environment"]["Variables"]
    assert json.loads(environment["CATALOG"]) == json.loads(consumer_catalog(PRODUCTS))
    assert environment["CUSTOMER_ATTRIBUTE"] == "caller.sub"
    # The sender the consumer trusts is the role the API's integration sends with.
    [method] = [
        m
        for m in resources_of(stateless, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "POST"
    ]
    [role, _] = method["Properties"]["Integration"]["Credentials"]["Fn::GetAtt"]
    assert environment["ORDER_API_ROLE_ID"] == {"Fn::GetAtt": [role, "RoleId"]}


# ------------------------------------------------------------------------------------ second factors


def test_a_totp_enrolled_customer_signs_in_through_software_token_mfa_and_a_wrong_code_is_refused(storefront):
    pool = storefront["pool"]
    tokens = pool.invite_and_sign_in("ada@example.com", PASSWORD)
    secret = pool.enrol_totp(tokens["AccessToken"])
    challenge = pool.initiate("ada@example.com", PASSWORD)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    wrong = f"{(int(totp(secret)) + 1) % 10**6:06d}"
    with pytest.raises(ClientError, match="CodeMismatchException"):
        pool.respond(challenge, "ada@example.com", SOFTWARE_TOKEN_MFA_CODE=wrong)
    answer = pool.respond(challenge, "ada@example.com", SOFTWARE_TOKEN_MFA_CODE=totp(secret))
    token = answer["AuthenticationResult"]["IdToken"]
    assert storefront["edge"].post(ORDER_PATH, order("o-2fa"), browser_headers(token)).status == 202
    storefront["poller"].tick()
    assert storefront["payments"].charges == Counter({"o-2fa": 1})


def test_a_wrong_code_is_refused_while_enrolling_and_totp_stays_off(storefront):
    pool = storefront["pool"]
    tokens = pool.invite_and_sign_in("ada@example.com", PASSWORD)
    secret = pool.idp.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    with pytest.raises(ClientError, match="CodeMismatchException"):
        pool.idp.verify_software_token(
            AccessToken=tokens["AccessToken"], UserCode=f"{(int(totp(secret)) + 1) % 10**6:06d}"
        )
    assert "AuthenticationResult" in pool.initiate("ada@example.com", PASSWORD), "no second factor yet"


@pytest.mark.parametrize("storefront", ["ON"], indirect=True)
def test_a_new_customer_is_taken_through_mfa_setup(storefront):
    """Adaptive authentication sends MFA_SETUP to a customer without a factor when a sign-in looks risky;
    moto sends it where MFA is required, so this pool requires it (see LocalUserPool)."""
    pool = storefront["pool"]
    pool.invite("new@example.com", "Temporary-Pass-2026!")
    first = pool.initiate("new@example.com", "Temporary-Pass-2026!")
    setup = pool.respond(first, "new@example.com", NEW_PASSWORD=PASSWORD)
    assert setup["ChallengeName"] == "MFA_SETUP"
    assert "SOFTWARE_TOKEN_MFA" in str(setup["ChallengeParameters"]["MFAS_CAN_SETUP"])
    associated = pool.idp.associate_software_token(Session=setup["Session"])
    wrong = f"{(int(totp(associated['SecretCode'])) + 1) % 10**6:06d}"
    with pytest.raises(ClientError, match="CodeMismatchException"):
        pool.idp.verify_software_token(Session=associated["Session"], UserCode=wrong)
    verified = pool.idp.verify_software_token(
        Session=associated["Session"], UserCode=totp(associated["SecretCode"]), FriendlyDeviceName="phone"
    )
    assert verified["Status"] == "SUCCESS"
    done = pool.respond({"ChallengeName": "MFA_SETUP", "Session": verified["Session"]}, "new@example.com")
    token = done["AuthenticationResult"]["IdToken"]
    assert storefront["edge"].post(ORDER_PATH, order("o-new"), browser_headers(token)).status == 202
    # From now on, the customer signs in with a code.
    assert pool.initiate("new@example.com", PASSWORD)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    storefront["poller"].tick()
    assert storefront["payments"].charges == Counter({"o-new": 1})
