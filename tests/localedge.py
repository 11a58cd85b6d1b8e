"""A local edge for the storefront: the synthesized distribution's behaviors, served on 127.0.0.1.

Every rule comes from the templates, never restated here:

- which behavior a path takes (its ``PathPattern``, CloudFront's order);
- the default behavior serves the site from the deployment's source folder (``apps/storefront/site``)
  through the single-page-app rewrite, whose JavaScript from the template runs on node;
- ``/api/orders*`` goes to :class:`~tests.localcloud.OrdersApiThroughCdn` (origin request policy, origin
  key, Cognito authorizer, request validator and Velocity templates, moto's SQS);
- ``/api/catalog*`` goes to the real Java catalog handler, run under ``java`` with a function URL event;
- every answer gets the response headers policy's security headers (Content-Security-Policy included);
- ``/cognito/`` stands in for Cognito's endpoint: the calls the page makes (sign-in and its challenges,
  enrolling TOTP, a forgotten password, signing out) go to moto's Cognito. Two it lacks are emulated on
  moto's own records: ``RevokeToken`` (revokes the refresh token and the access tokens issued with it),
  and the email of ``ForgotPassword`` (its 6-digit code lands in :attr:`CognitoEndpoint.outbox`).

``/config.json`` is served as the deployment writes it, with the endpoint pointing at ``/cognito/``.

Run ``make local`` (``python -m tests.localedge``) to open the storefront in a browser.
"""

from __future__ import annotations

import json
import mimetypes
import subprocess
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from tests.localcloud import OrdersApiThroughCdn, behavior_for, resources_of

SITE = Path(__file__).resolve().parents[1] / "apps" / "storefront" / "site"
REWRITE_RUNNER = """
const readline = require('readline');
%s
const lines = readline.createInterface({input: process.stdin});
lines.on('line', (line) => {
  const request = JSON.parse(line);
  const event = {request: {uri: request.uri, method: request.method, headers: {}}};
  console.log(JSON.stringify(handler(event).uri));
});
"""


class ViewerRequestFunction:
    """The template's CloudFront Function, kept running on node and fed one request per line."""

    def __init__(self, code: str, node: str) -> None:
        self._process = subprocess.Popen(
            [node, "-e", REWRITE_RUNNER % code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()

    def uri(self, uri: str, method: str) -> str:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps({"uri": uri, "method": method}) + "\n")
            self._process.stdin.flush()
            return str(json.loads(self._process.stdout.readline()))

    def close(self) -> None:
        self._process.kill()
        self._process.wait()


def security_headers(stateless: Mapping[str, Any]) -> dict[str, str]:
    """The response headers policy's security headers, as CloudFront adds them to every answer."""
    [policy] = resources_of(stateless, "AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": config["FrameOptions"]["FrameOption"],
        "Referrer-Policy": config["ReferrerPolicy"]["ReferrerPolicy"],
    }
    hsts = config["StrictTransportSecurity"]
    headers["Strict-Transport-Security"] = (
        f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
        + ("; preload" if hsts.get("Preload") else "")
    )
    csp = config.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy")
    if csp:
        assert isinstance(csp, str), "the storefront's policy is literal (its stack has a region)"
        headers["Content-Security-Policy"] = csp
    return headers


class LocalEdge:
    """The distribution on ``http://127.0.0.1:<port>``: start it, point a browser at :attr:`url`."""

    def __init__(
        self,
        stateless: Mapping[str, Any],
        orders: OrdersApiThroughCdn,
        *,
        config: Mapping[str, str],
        invoke_catalog: Callable[[dict[str, Any]], dict[str, Any]],
        sign_in: Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]],
        node: str,
    ) -> None:
        self.stateless, self.orders, self.config = stateless, orders, dict(config)
        self.invoke_catalog, self.sign_in = invoke_catalog, sign_in
        [function] = resources_of(stateless, "AWS::CloudFront::Function").values()
        self.rewrite = ViewerRequestFunction(function["Properties"]["FunctionCode"], node)
        self.headers = security_headers(stateless)
        self.requests: list[tuple[str, str, int]] = []
        self._server = HTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LocalEdge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.rewrite.close()

    # ------------------------------------------------------------------------------------ routing

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """What the distribution answers: the behavior for ``path`` decides the origin."""
        if path.startswith("/cognito/") and method == "POST":
            target = headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
            status, answer = self.sign_in(target, json.loads(body or b"{}"))
            return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(answer).encode()
        behavior = behavior_for(self.stateless, path)
        if behavior.path_pattern.startswith("/api/orders"):
            response = self.orders.post(path, body.decode(), headers)
            return (
                response.status,
                {"Content-Type": "application/json", **response.headers},
                json.dumps(response.body).encode(),
            )
        if behavior.path_pattern.startswith("/api/catalog"):
            event = {
                "version": "2.0",
                "rawPath": path,
                "requestContext": {"http": {"method": method, "path": path}},
            }
            result = self.invoke_catalog(event)
            return int(result["statusCode"]), dict(result.get("headers") or {}), str(result["body"]).encode()
        return self._site(method, path)

    def _site(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        uri = self.rewrite.uri(path, method)
        if uri == "/config.json":
            return 200, {"Content-Type": "application/json"}, json.dumps(self.config).encode()
        file = (SITE / uri.lstrip("/")).resolve()
        if SITE not in file.parents or not file.is_file():
            return 404, {"Content-Type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>"
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".js":
            kind = "text/javascript"
        return 200, {"Content-Type": kind}, file.read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                status, headers, payload = edge.answer(self.command, path, dict(self.headers.items()), body)
                edge.requests.append((self.command, path, status))
                self.send_response(status)
                for name, value in {**headers, **edge.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# ------------------------------------------------------------------------------------ the storefront, running

CATALOG_SOURCES = Path(__file__).resolve().parents[1] / "apps" / "java" / "catalog" / "src" / "main"


def compile_catalog(out: Path) -> Path:
    """The Java catalog's classes (javac --release 17) and resources, in ``out``."""
    import shutil

    sources = sorted(str(p) for p in (CATALOG_SOURCES / "java").rglob("*.java"))
    subprocess.run(["javac", "--release", "17", "-d", str(out), *sources], check=True)
    shutil.copytree(CATALOG_SOURCES / "resources", out, dirs_exist_ok=True)
    return out


def java_handler(classes: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result = subprocess.run(
            ["java", "-cp", str(classes), "catalog.CatalogHandler"],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        answer: dict[str, Any] = json.loads(result.stdout)
        return answer

    return invoke


#: The Cognito calls the storefront's page makes (each is public: a client id, a session or an access
#: token), and the client method that makes each.
PAGE_CALLS = {
    "InitiateAuth": "initiate_auth",
    "RespondToAuthChallenge": "respond_to_auth_challenge",
    "AssociateSoftwareToken": "associate_software_token",
    "VerifySoftwareToken": "verify_software_token",
    "SetUserMFAPreference": "set_user_mfa_preference",
    "GetUser": "get_user",
    "ForgotPassword": "forgot_password",
    "ConfirmForgotPassword": "confirm_forgot_password",
}
#: moto hands out forgotten-password codes with this prefix (and checks only codes that carry it).
MOTO_CODE_PREFIX = "moto-confirmation-code:"


class CognitoEndpoint:
    """Cognito's JSON endpoint for the calls a page makes, answered by moto: call it with the target
    (``X-Amz-Target``'s operation) and the JSON body."""

    def __init__(self, idp: Any, on_email: Callable[[str, str], None] | None = None) -> None:
        self.idp, self.on_email = idp, on_email
        self.calls = {target: getattr(idp, method) for target, method in PAGE_CALLS.items()}
        #: The codes Cognito would have emailed (ForgotPassword), by username.
        self.outbox: dict[str, str] = {}

    def __call__(self, target: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        from botocore.exceptions import ClientError

        if target == "RevokeToken":
            return self.revoke_token(payload)
        if target not in self.calls:
            return 400, {"__type": "InvalidAction", "message": f"{target} is not served locally"}
        if target == "ConfirmForgotPassword":  # the emailed code, as moto checks it
            payload = {**payload, "ConfirmationCode": MOTO_CODE_PREFIX + str(payload.get("ConfirmationCode"))}
        try:
            answer = dict(self.calls[target](**payload))
        except ClientError as exc:
            error = exc.response["Error"]
            return 400, {"__type": error.get("Code"), "message": error.get("Message")}
        metadata = answer.pop("ResponseMetadata", {})
        code = metadata.get("HTTPHeaders", {}).get("x-moto-forgot-password-confirmation-code")
        if target == "ForgotPassword" and code:
            self.outbox[payload["Username"]] = code.removeprefix(MOTO_CODE_PREFIX)
            if self.on_email is not None:
                self.on_email(payload["Username"], self.outbox[payload["Username"]])
        return 200, answer

    def revoke_token(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """RevokeToken, which moto lacks, on moto's records: the refresh token of this client is revoked,
        with the access tokens issued with it (they share its ``origin_jti``)."""
        import base64

        from moto.cognitoidp.models import cognitoidp_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        token, client_id = payload.get("Token"), payload.get("ClientId")
        for pool in cognitoidp_backends[DEFAULT_ACCOUNT_ID][self.idp.meta.region_name].user_pools.values():
            entry = pool.refresh_tokens.get(token)
            if entry is None or entry[0] != client_id:
                continue
            pool.refresh_tokens[token] = None
            for access_token in list(pool.access_tokens):
                claims = access_token.split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
                if claims.get("origin_jti") == entry[2]:
                    del pool.access_tokens[access_token]
            return 200, {}
        return 400, {"__type": "NotAuthorizedException", "message": "Invalid token"}


def cognito_endpoint(idp: Any, on_email: Callable[[str, str], None] | None = None) -> CognitoEndpoint:
    """Cognito's JSON endpoint for the calls a page makes, answered by moto."""
    return CognitoEndpoint(idp, on_email)


def main() -> None:
    """``make local``: the storefront on the local edge, with a demo customer, until Ctrl-C."""
    import os
    import shutil
    import tempfile
    import time

    import pytest
    from moto import mock_aws

    from tests.breaker_support import FakeClock
    from tests.harness import REPO_ROOT
    from tests.localcloud import (
        STOREFRONT_ENVIRONMENT,
        CognitoAuthorizer,
        FakeContext,
        LocalCloud,
        LocalUserPool,
        local_site_config,
        order_consumer,
        record_sender_ids,
        storefront_templates,
    )

    os.environ.update(STOREFRONT_ENVIRONMENT)
    stateful, stateless = storefront_templates()
    node = shutil.which("node", path=str(REPO_ROOT / "node_modules" / ".bin")) or "node"

    class Payments:
        def charge(self, customer: str, order_id: str, amount: Any) -> str:
            print(f"charged {order_id} of customer {customer}: ${amount}")
            return f"ch-{order_id}"

    patch = pytest.MonkeyPatch()
    record_sender_ids(patch)
    with mock_aws(), tempfile.TemporaryDirectory() as work:
        clock = FakeClock(start=time.time())
        cloud = LocalCloud(stateful, stateless, clock)
        pool = LocalUserPool(stateful)
        pool.invite_and_sign_in("demo@example.com", "Demo-Customer-2026!")
        pool.invite("new@example.com", "Invited-Customer-2026!")
        orders = OrdersApiThroughCdn(cloud, stateless, CognitoAuthorizer(stateless, pool, time.time))
        consumer = order_consumer(cloud, patch, Payments())
        edge = LocalEdge(
            stateless,
            orders,
            config=local_site_config(pool),
            invoke_catalog=java_handler(compile_catalog(Path(work))),
            sign_in=cognito_endpoint(
                pool.idp, lambda user, code: print(f"Cognito would email {user} the code {code}")
            ),
            node=node,
        ).start()
        poller = cloud.poller(lambda event: consumer.handler(event, FakeContext()))
        print(
            f"The storefront runs at {edge.url}/ (sign in as demo@example.com / Demo-Customer-2026!, or as "
            "the newly invited new@example.com / Invited-Customer-2026!, who chooses a password first)"
        )
        try:
            while True:
                time.sleep(1)
                clock.advance(1)
                poller.tick()
        except KeyboardInterrupt:
            edge.stop()


if __name__ == "__main__":
    main()
