"""The storefront as a customer uses it: headless Chromium through the local edge's behaviors.

The page loads from the site folder through the template's rewrite function, lists the catalog from the
real Java handler, signs in with moto's Cognito through the user pool's public client, and orders through
the order behavior down to the real consumer and one charge. The distribution's response headers,
Content-Security-Policy included, are on every answer, and the page must raise no CSP violation.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import REPO_ROOT
from tests.localcloud import (
    local_site_config,
    signed_in_storefront,
    storefront_templates,
)
from tests.localedge import LocalEdge, cognito_endpoint, compile_catalog, java_handler

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NODE = shutil.which("node", path=str(REPO_ROOT / "node_modules" / ".bin"))
PASSWORD = "Correct-Horse-Battery-9!"
SCREENSHOT = REPO_ROOT / "docs" / "storefront-order.png"

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright comes with make setup")


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    return storefront_templates()


@pytest.fixture(scope="module")
def catalog_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_catalog(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), "Chromium comes with make setup (Debian's chromium package)"
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def storefront(templates, catalog_classes, browser, monkeypatch) -> Iterator[dict[str, Any]]:
    assert NODE is not None, "node comes with make setup (package.json)"
    with signed_in_storefront(templates, monkeypatch) as shop:
        edge = LocalEdge(
            templates[1],
            shop.orders,
            config=local_site_config(shop.pool),
            invoke_catalog=java_handler(catalog_classes),
            sign_in=cognito_endpoint(shop.pool.idp),
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
            }
        finally:
            context.close()
            edge.stop()


def ready(page: Any) -> None:
    page.wait_for_selector("main[data-ready=true]")


def sign_in_with_the_keyboard(page: Any, email: str) -> None:
    page.get_by_label("Email").fill("")
    page.get_by_label("Password").fill("")
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")  # labelled controls in keyboard order
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Signed in as {email}")


def order(page: Any, quantity: int) -> str:
    page.get_by_label("Quantity").fill(str(quantity))
    page.evaluate("document.querySelector('#status').removeAttribute('data-kind')")
    page.get_by_role("button", name="Place order").click()
    # Selectors, not a polled predicate: the page's CSP forbids the eval that polling would need.
    page.wait_for_selector("#status[data-kind]:not([data-kind=busy])")
    text: str = page.locator("#status").inner_text()
    return text


def test_a_customer_browses_signs_in_orders_and_is_charged_once(storefront, tmp_path):
    page, edge = storefront["page"], storefront["edge"]
    storefront["pool"].sign_up_and_in("ada@example.com", PASSWORD)  # an existing customer
    page.goto(edge.url + "/")
    ready(page)
    assert page.get_by_role("link", name="Sencha green tea, 100 g").is_visible()
    page.get_by_role("link", name="Sencha green tea, 100 g").click()
    ready(page)
    assert page.url == edge.url + "/products/green-tea"
    page.reload()  # the client route comes back through the rewrite
    ready(page)
    assert page.get_by_role("heading", name="Sencha green tea, 100 g").is_visible()
    sign_in_with_the_keyboard(page, "ada@example.com")
    status = order(page, 2)
    assert status.startswith("Order placed (request "), status
    storefront["drain"]()
    assert list(storefront["payments"].charges.values()) == [1], "charged exactly once"
    # The README's screenshot: refreshed on purpose with UPDATE_SCREENSHOT=1, never as a side effect.
    shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert page.evaluate("window.__csp") == [], "the page keeps to the distribution's CSP"
    # Everything came through the behaviors: the site, the catalog, sign-in and the order.
    paths = {path for _, path, _ in edge.requests}
    assert {"/", "/products/green-tea", "/app.js", "/config.json", "/api/orders"} <= paths
    assert ("POST", "/api/orders", 202) in edge.requests


def test_a_refused_order_shows_the_apis_message_and_an_expired_session_asks_to_sign_in_again(storefront):
    page, edge = storefront["page"], storefront["edge"]
    storefront["pool"].sign_up_and_in("grace@example.com", PASSWORD)
    page.goto(edge.url + "/products/espresso-beans")
    ready(page)
    sign_in_with_the_keyboard(page, "grace@example.com")
    assert order(page, 0).startswith("The order was refused: "), "a quantity of 0 fails the API's model"
    assert ("POST", "/api/orders", 400) in edge.requests
    storefront["clock"].advance(3601)  # the ID token expired
    assert order(page, 1) == "Your session has expired: please sign in again."
    assert page.get_by_role("heading", name="Sign in").is_visible()
    sign_in_with_the_keyboard(page, "grace@example.com")
    assert order(page, 1).startswith("Order placed")
    storefront["drain"]()
    assert sum(storefront["payments"].charges.values()) == 1
    assert page.evaluate("window.__csp") == []
