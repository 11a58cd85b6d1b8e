"""A small JSON API behind CloudFront and a function URL: GET /api/hello?name=..., GET /api/health."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="hello-api")


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    method, path = http.get("method", "GET"), event.get("rawPath", "/")
    if method != "GET":
        return _response(405, {"message": f"{method} is not supported"})
    if path == "/api/health":
        return _response(200, {"status": "ok"})
    if path == "/api/hello":
        name = (event.get("queryStringParameters") or {}).get("name", "world")[:64]
        return _response(200, {"message": f"hello, {name}", "requestId": str(uuid.uuid4())})
    return _response(404, {"message": f"no route for {path}"})
