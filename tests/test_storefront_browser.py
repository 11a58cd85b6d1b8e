"""The storefront as a customer uses it: headless Chromium through the local edge's behaviors.

The page loads from the site folder through the template's rewrite function, lists the catalog from the
real Java handler, signs in with moto's Cognito through the user pool's public client (answering the
challenges moto sends: NEW_PASSWORD_REQUIRED for an invited customer, SOFTWARE_TOKEN_MFA, MFA_SETUP),
enrols TOTP, and orders through the order behavior down to the real consumer and one charge at the
catalog's price. moto never sends SELECT_MFA_TYPE: that answer is stubbed in the browser, and the sign-in
it leads to is moto's again. The distribution's response headers, Content-Security-Policy included, are on
every answer, and the page must raise no CSP violation.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.harness import REPO_ROOT
from tests.localcloud import (
    SignedInStorefront,
    fresh_storefront,
    local_site_config,
    signed_in_storefront,
    storefront_templates,
    totp,
)
from tests.localedge import LocalEdge, cognito_endpoint, compile_catalog, java_handler

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NODE = shutil.which("node", path=str(REPO_ROOT / "node_modules" / ".bin"))
PASSWORD = "Correct-Horse-Battery-9!"
NEW_PASSWORD = "Staple-Battery-Horse-10?"
TEMPORARY = "Temporary-Pass-2026!"
SCREENSHOT = REPO_ROOT / "docs" / "storefront-order.png"

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright comes with make setup")


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    return storefront_templates()


@pytest.fixture(scope="module")
def catalog_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_catalog(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium, started once a session; each test opens a context of its own."""
    assert Path(CHROMIUM).exists(), "Chromium comes with make setup (Debian's chromium package)"
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shared_storefront(templates) -> Iterator[SignedInStorefront]:
    """One local cloud for the module: its queues, tables, mapping and consumer are created once."""
    with pytest.MonkeyPatch.context() as patch, signed_in_storefront(templates, patch) as shop:
        yield shop


@pytest.fixture
def storefront(request, templates, catalog_classes, browser, shared_storefront) -> Iterator[dict[str, Any]]:
    """The storefront in a fresh browser context, on the shared cloud with what a test sees made new
    (``fresh_storefront``); ``indirect`` parametrization passes the pool's ``mfa``."""
    assert NODE is not None, "node comes with make setup (package.json)"
    shop = fresh_storefront(shared_storefront, templates, mfa=getattr(request, "param", None))
    endpoint = cognito_endpoint(shop.pool.idp)
    edge = LocalEdge(
        templates[1],
        shop.orders,
        config=local_site_config(shop.pool),
        invoke_catalog=java_handler(catalog_classes),
        sign_in=endpoint,
        node=NODE,
    ).start()
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    try:
        yield {
            "page": page,
            "edge": edge,
            "pool": shop.pool,
            "clock": shop.clock,
            "payments": shop.payments,
            "drain": shop.poller.tick,
            "cognito": endpoint,
        }
    finally:
        context.close()
        edge.stop()


def ready(page: Any) -> None:
    page.wait_for_selector("main[data-ready=true]")


def status_after(page: Any, action: Any) -> str:
    """The status line once ``action`` has run and the page has settled (not busy)."""
    page.evaluate("document.querySelector('#status').removeAttribute('data-kind')")
    action()
    # Selectors, not a polled predicate: the page's CSP forbids the eval that polling would need.
    page.wait_for_selector("#status[data-kind]:not([data-kind=busy])")
    text: str = page.locator("#status").inner_text()
    return text


def type_sign_in(page: Any, email: str, password: str) -> None:
    """Email and password with the keyboard, as a customer does, then Enter."""
    page.get_by_label("Email").fill("")
    page.get_by_label("Password", exact=True).fill("")
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")  # labelled controls in keyboard order
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def sign_in_with_the_keyboard(page: Any, email: str, password: str = PASSWORD) -> None:
    type_sign_in(page, email, password)
    page.wait_for_selector(f"text=Signed in as {email}")


def enter_code(page: Any, code: str) -> str:
    """Type a code into the step's code field and submit it: the status line after."""
    page.get_by_label("Code from your authenticator app").fill(code)
    return status_after(page, lambda: page.keyboard.press("Enter"))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def order(page: Any, quantity: int) -> str:
    page.get_by_label("Quantity").fill(str(quantity))
    return status_after(page, lambda: page.get_by_role("button", name="Place order").click())


def choose_password(page: Any, password: str, repeat: str | None = None, *, settle: bool = True) -> str:
    """Fill both password fields of the step and save: the status line after (with ``settle``; a step
    that leads to another challenge leaves it busy)."""
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password, again").fill(password if repeat is None else repeat)
    save = page.get_by_role("button", name="Save password")
    if not settle:
        save.click()
        return ""
    return status_after(page, save.click)


def password_fields(page: Any) -> list[str]:
    """What the password fields on the page hold (the sign-in form's and a step's)."""
    return [page.locator(f"#{id}").input_value() for id in ("password", "new-password", "repeat-password")
            if page.locator(f"#{id}").count()]  # fmt: skip


def test_an_invited_customer_enrols_totp_signs_in_with_a_code_and_is_charged_the_catalogs_price(
    storefront, tmp_path
):
    page, edge, pool = storefront["page"], storefront["edge"], storefront["pool"]
    sub = pool.invite("ada@example.com", TEMPORARY)
    page.goto(edge.url + "/")
    ready(page)
    assert page.get_by_role("link", name="Sencha green tea, 100 g").is_visible()
    page.get_by_role("link", name="Sencha green tea, 100 g").click()
    ready(page)
    assert page.url == edge.url + "/products/green-tea"
    page.reload()  # the client route comes back through the rewrite
    ready(page)
    assert page.get_by_role("heading", name="Sencha green tea, 100 g").is_visible()
    shown_price = page.locator("main p").first.inner_text()
    # The first sign-in: the invitation's temporary password, then a password of the customer's own; two
    # that differ are both cleared. Signed in, no password is left in the page.
    type_sign_in(page, "ada@example.com", TEMPORARY)
    page.wait_for_selector("text=Choose your password")
    differ = choose_password(page, PASSWORD, repeat=PASSWORD + "!")
    assert differ == "Choose another password: the two passwords differ"
    assert password_fields(page) == ["", "", ""]
    assert choose_password(page, PASSWORD) == "Signed in."
    page.wait_for_selector("text=Signed in as ada@example.com")
    assert password_fields(page) == [""]
    # Two-step sign-in, from the account menu: the secret as text and as an otpauth:// link.
    page.get_by_role("button", name="Set up two-step sign-in").click()
    secret = page.locator("#totp-secret").inner_text()
    link = page.get_by_role("link", name="Add to an authenticator app").get_attribute("href")
    assert link == f"otpauth://totp/Storefront:ada%40example.com?secret={secret}&issuer=Storefront"
    assert enter_code(page, wrong(totp(secret))).startswith("That code is not right")
    assert enter_code(page, totp(secret)).startswith("Two-step sign-in is on")
    assert page.get_by_role("button", name="Set up two-step sign-in").is_hidden()
    # Signing out forgets the form and revokes the session: its refresh and access tokens stop working.
    session = page.evaluate("[sessionStorage.getItem('refreshToken'), sessionStorage.getItem('accessToken')]")
    assert status_after(page, lambda: page.get_by_role("button", name="Sign out").click()) == "Signed out."
    assert password_fields(page) == [""]
    assert page.evaluate("sessionStorage.length") == 0
    with pytest.raises(ClientError, match="NotAuthorized"):
        pool.idp.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": session[0]},
        )
    with pytest.raises(ClientError, match="NotAuthorized"):
        pool.idp.get_user(AccessToken=session[1])
    # Signed in again: now Cognito asks for the code.
    type_sign_in(page, "ada@example.com", PASSWORD)
    page.wait_for_selector("text=Enter your code")
    assert enter_code(page, totp(secret)) == "Signed in."
    status = order(page, 2)
    assert status.startswith("Order placed: 2 \u00d7 Sencha green tea, 100 g, $19.80 (request "), status
    storefront["drain"]()
    # Charged once, as the customer whose token it was, at the price the page showed from the catalog.
    [(customer, _, amount)] = storefront["payments"].calls
    assert (customer, amount) == (sub, Decimal(shown_price.removeprefix("$")) * 2)
    # The docs' screenshot: refreshed on purpose with UPDATE_SCREENSHOT=1, never as a side effect.
    shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert page.evaluate("window.__csp") == [], "the page keeps to the distribution's CSP"
    # Everything came through the behaviors: the site, the catalog, sign-in and the order.
    paths = {path for _, path, _ in edge.requests}
    assert {"/", "/products/green-tea", "/app.js", "/config.json", "/cognito/", "/api/orders"} <= paths
    assert ("POST", "/api/orders", 202) in edge.requests


def test_a_refused_order_shows_the_apis_reason_and_an_expired_session_asks_to_sign_in_again(storefront):
    page, edge = storefront["page"], storefront["edge"]
    storefront["pool"].invite_and_sign_in("grace@example.com", PASSWORD)
    page.goto(edge.url + "/products/espresso-beans")
    ready(page)
    sign_in_with_the_keyboard(page, "grace@example.com")
    refused = order(page, 101)
    assert refused.startswith("The order was refused: Invalid request body An order: "), refused
    assert "quantity of 1 to 100" in refused
    assert ("POST", "/api/orders", 400) in edge.requests
    storefront["clock"].advance(3601)  # the ID token expired
    assert order(page, 1) == "Your session has expired: please sign in again."
    assert page.get_by_role("heading", name="Sign in").is_visible()
    # She forgot her password: Cognito emails a code (here, to the local endpoint's outbox).
    page.get_by_role("button", name="Forgot your password?").click()
    page.locator("#reset-email").fill("grace@example.com")
    sent = status_after(page, lambda: page.get_by_role("button", name="Send the code").click())
    assert sent == "If that email has an account, a code is on its way."
    code = storefront["cognito"].outbox["grace@example.com"]
    page.get_by_label("Code from the email we sent").fill(wrong(code))
    assert choose_password(page, NEW_PASSWORD).startswith("That code is not right or has expired")
    page.get_by_label("Code from the email we sent").fill(code)
    assert choose_password(page, NEW_PASSWORD) == "Your password is changed: sign in with it."
    sign_in_with_the_keyboard(page, "grace@example.com", NEW_PASSWORD)
    assert order(page, 1).startswith("Order placed")
    storefront["drain"]()
    assert sum(storefront["payments"].charges.values()) == 1
    assert page.evaluate("window.__csp") == []


@pytest.mark.parametrize("storefront", ["ON"], indirect=True)
def test_a_customer_cognito_asks_to_set_up_a_second_factor_does_it_on_the_page(storefront):
    """MFA_SETUP, as adaptive authentication sends it on a risky sign-in (moto: where MFA is required)."""
    page, edge, pool = storefront["page"], storefront["edge"], storefront["pool"]
    pool.invite("new@example.com", TEMPORARY)
    page.goto(edge.url + "/")
    ready(page)
    type_sign_in(page, "new@example.com", TEMPORARY)
    page.wait_for_selector("text=Choose your password")
    choose_password(page, PASSWORD, settle=False)
    page.wait_for_selector("text=Set up two-step sign-in to continue")
    secret = page.locator("#totp-secret").inner_text()
    assert enter_code(page, wrong(totp(secret))).startswith("That code is not right")
    assert enter_code(page, totp(secret)) == "Signed in."
    assert page.get_by_text("Signed in as new@example.com").is_visible()
    assert pool.initiate("new@example.com", PASSWORD)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert page.evaluate("window.__csp") == []


def test_select_mfa_type_is_answered_and_an_out_of_stock_product_cannot_be_ordered(storefront):
    """moto never sends SELECT_MFA_TYPE (a customer with two factors and no preferred one): the first
    answer is stubbed, and the page's choice then continues a real sign-in at moto."""
    page, edge, pool = storefront["page"], storefront["edge"], storefront["pool"]
    tokens = pool.invite_and_sign_in("lin@example.com", PASSWORD)
    secret = pool.enrol_totp(tokens["AccessToken"])
    answered: list[str] = []
    blocked = ["Unable to login because of security reasons."]  # Cognito's reason for a blocked sign-in

    def cognito(route: Any, request: Any) -> None:
        target = request.headers.get("x-amz-target", "").rsplit(".", 1)[-1]
        payload = json.loads(request.post_data or "{}")
        if target == "InitiateAuth" and blocked:
            refusal = {"__type": "NotAuthorizedException", "message": blocked.pop()}
            route.fulfill(status=400, content_type="application/x-amz-json-1.1", body=json.dumps(refusal))
            return
        if target == "InitiateAuth":
            choose = {
                "MFAS_CAN_CHOOSE": '["SMS_MFA","SOFTWARE_TOKEN_MFA"]',
                "USER_ID_FOR_SRP": "lin@example.com",
            }
            answer = {"ChallengeName": "SELECT_MFA_TYPE", "Session": "stub", "ChallengeParameters": choose}
        elif payload.get("ChallengeName") == "SELECT_MFA_TYPE":
            answered.append(payload["ChallengeResponses"]["ANSWER"])
            answer = pool.initiate("lin@example.com", PASSWORD)  # the real challenge that choice leads to
            answer.pop("ResponseMetadata", None)
        else:
            route.continue_()
            return
        route.fulfill(status=200, content_type="application/x-amz-json-1.1", body=json.dumps(answer))

    page.route("**/cognito/", cognito)
    page.goto(edge.url + "/products/hand-grinder")
    ready(page)
    assert page.get_by_text("Out of stock: it cannot be ordered").is_visible()
    assert page.get_by_role("button", name="Place order").count() == 0
    # A sign-in Cognito blocks (leaked credentials, a risky sign-in without a second factor) says why.
    refused = status_after(page, lambda: type_sign_in(page, "lin@example.com", PASSWORD))
    assert refused == (
        "Sign-in failed: Unable to login because of security reasons. If this persists, please contact us."
    )
    type_sign_in(page, "lin@example.com", PASSWORD)
    page.wait_for_selector("text=How do you want to confirm it is you?")
    page.get_by_label("Second step").select_option(label="Authenticator app")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Enter your code")
    assert answered == ["SOFTWARE_TOKEN_MFA"]
    assert enter_code(page, totp(secret)) == "Signed in."
    assert page.evaluate("window.__csp") == []
