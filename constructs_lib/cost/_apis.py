"""API Gateway: REST and HTTP API requests, stages, authorizers and responses to direct callers."""

from __future__ import annotations

from collections.abc import Callable

from ..checks._model import Resource
from ._ledger import Collaborator
from ._traffic import KB_PER_GB, authorizer_ttl

API_DETAILED_METRICS = 7


class Apis(Collaborator):
    """Prices REST and HTTP APIs and says what their stages and authorizers cost."""

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        return {
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGatewayV2::Api": self._http_api,
            "AWS::ApiGateway::Stage": self._api_stage,
            "AWS::ApiGateway::Authorizer": self._authorizer,
            "AWS::ApiGatewayV2::Authorizer": self._authorizer,
        }

    def _rest_api(self, api: Resource) -> None:
        requests = self.traffic.api_requests.get(api, 0.0)
        self.ledger.charge(api, "apigateway.rest_requests", requests, "REST API requests")
        self._responses(api, requests)
        for stage in self.templates.of_type("AWS::ApiGateway::Stage"):
            if api in self.templates.references(stage.stack, stage.props.get("RestApiId")):
                self._stage(api, stage, requests)

    def _stage(self, api: Resource, stage: Resource, requests: float) -> None:
        access = stage.props.get("AccessLogSetting") or {}
        if access:
            line_kb = (len(str(access.get("Format", ""))) + 100) / 1024
            self.ledger.send_logs(api, access.get("DestinationArn"), requests * line_kb)
        settings = stage.props.get("MethodSettings") or []
        if any(isinstance(s, dict) and s.get("MetricsEnabled") for s in settings):
            methods = sum(
                1
                for m in self.templates.of_type("AWS::ApiGateway::Method")
                if api in self.templates.references(m.stack, m.props.get("RestApiId"))
                and m.props.get("HttpMethod") != "OPTIONS"
            )
            self.ledger.charge(
                api,
                "cloudwatch.custom_metrics",
                methods * API_DETAILED_METRICS,
                "API Gateway detailed metrics (per method)",
            )

    def _api_stage(self, stage: Resource) -> None:
        """Free (requests are priced on the API), unless it runs a cache cluster (billed by the hour)."""
        if stage.props.get("CacheClusterEnabled") is True:
            self.ledger.not_priced((stage, "an API cache cluster (billed per hour by size) is not modelled"))
        else:
            self.ledger.free((stage, "requests are priced on the API"))

    def _authorizer(self, authorizer: Resource) -> None:
        kind = str(authorizer.props.get("Type") or authorizer.props.get("AuthorizerType") or "")
        if kind in ("COGNITO_USER_POOLS", "JWT"):
            name = "Cognito" if kind.startswith("COGNITO") else "JWT"
            why = f"a {name} authorizer has no charge beyond the API call"
        else:
            ttl = authorizer_ttl(authorizer)
            cached = (
                f"its answers are cached {ttl:g} s, so its invocations come from the profile"
                if ttl
                else ("uncached, so every request to its methods invokes it")
            )
            why = f"a Lambda ({kind or 'REQUEST'}) authorizer: priced as its function's invocations; {cached}"
        self.ledger.free((authorizer, why))

    def _http_api(self, api: Resource) -> None:
        if api.props.get("ProtocolType") == "WEBSOCKET":
            self.ledger.not_priced((api, "WebSocket APIs (messages, connection minutes) are not modeled"))
            return
        requests = self.traffic.api_requests.get(api, 0.0)
        self.ledger.charge(api, "apigateway.http_requests", requests, "HTTP API requests")
        self._responses(api, requests)

    def _responses(self, api: Resource, requests: float) -> None:
        """An API called directly (no CDN in front) sends its responses out of the region."""
        if self.traffic.api_direct.get(api):
            self.ledger.charge(
                api,
                "datatransfer.internet_out",
                requests * self.usage.api_response_kb / KB_PER_GB,
                "responses to callers",
            )
