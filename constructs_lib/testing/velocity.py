"""Run API Gateway mapping templates offline, as API Gateway would.

The templates are rendered by airspeed, a pure-Python Velocity engine, with a small emulation of what
API Gateway gives them (AWS's "API Gateway mapping template and access logging variable reference"):

- ``$input.body``, ``$input.path(x)`` and ``$input.json(x)`` (JSONPath on the body),
  ``$input.params()`` (``path``, ``querystring`` and ``header`` maps) and ``$input.params(name)``.
  The maps are Java maps: ``get`` is case-sensitive, and headers are keyed as the client sent them.
- ``$util.urlEncode`` with Java ``URLEncoder`` semantics (space as ``+``, ``*`` kept, ``~`` encoded),
  ``urlDecode``, ``escapeJavaScript``, ``parseJson``, ``base64Encode`` and ``base64Decode``.
- ``$context.requestId`` and the rest of ``$context``; ``#set($context.responseOverride.status = N)``
  overrides the integration response's status code, and ``$context.responseOverride.header.<Name>`` sets
  a response header (hyphenated names too, as Velocity 1.7 allows).

Gateway-response templates are not Velocity: API Gateway only substitutes ``$context`` variables in them,
without escaping; :func:`substitute` does the same.

:class:`IngestMethod` wraps a synthesized POST method of ``QueueBufferedIngest`` (request template,
integration responses, request parameters) so a test can send it a request and answer it as SQS would.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import airspeed

# Java String methods that API Gateway templates call and airspeed lacks (it maps methods per type).
airspeed.__additional_methods__[str].update(
    {
        "toLowerCase": lambda self: self.lower(),
        "toUpperCase": lambda self: self.upper(),
        "equals": lambda self, other: self == other,
        "equalsIgnoreCase": lambda self, other: other is not None and self.lower() == str(other).lower(),
        "isEmpty": lambda self: not self,
        "trim": lambda self: self.strip(),
        "indexOf": lambda self, value: self.find(value),
        "substring": lambda self, begin, end=None: self[int(begin) : None if end is None else int(end)],
    }
)


def java_url_encode(value: Any) -> str:
    """``java.net.URLEncoder.encode(value, "UTF-8")``: unreserved are A-Z a-z 0-9 . - * _; space is +."""
    return urllib.parse.quote_plus(str(value), safe="*").replace("~", "%7E")


def _json_path(document: Any, expression: str) -> Any:
    """The value at a simple JSONPath (``$``, ``$.a.b``, ``$.items[0].sku``); None when absent."""
    if not expression.startswith("$"):
        raise ValueError(f"not a JSONPath: {expression!r}")
    current = document
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", expression[1:]):
        if name:
            if not isinstance(current, dict) or name not in current:
                return None
            current = current[name]
        else:
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
    return current


class _Input:
    def __init__(self, body: str, params: dict[str, dict[str, str]]) -> None:
        self.body = body
        self._params = params

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for where in ("path", "querystring", "header"):
            if name in self._params[where]:
                return self._params[where][name]
        return ""

    def path(self, expression: str) -> Any:
        try:
            document = json.loads(self.body) if self.body else None
        except json.JSONDecodeError:
            return None
        return _json_path(document, expression)

    def json(self, expression: str) -> str:
        return json.dumps(self.path(expression))


class _Util:
    @staticmethod
    def urlEncode(value: Any) -> str:  # noqa: N802 - API Gateway's name
        return java_url_encode(value)

    @staticmethod
    def urlDecode(value: Any) -> str:  # noqa: N802
        return urllib.parse.unquote_plus(str(value))

    @staticmethod
    def escapeJavaScript(value: Any) -> str:  # noqa: N802
        text = str(value)
        for old, new in (
            ("\\", "\\\\"),
            ('"', '\\"'),
            ("'", "\\'"),
            ("\n", "\\n"),
            ("\r", "\\r"),
            ("\t", "\\t"),
        ):
            text = text.replace(old, new)
        return text

    @staticmethod
    def parseJson(value: str) -> Any:  # noqa: N802
        return json.loads(value)

    @staticmethod
    def base64Encode(value: Any) -> str:  # noqa: N802
        return base64.b64encode(str(value).encode()).decode()

    @staticmethod
    def base64Decode(value: Any) -> str:  # noqa: N802
        return base64.b64decode(str(value)).decode()


@dataclass
class Rendered:
    text: str
    status_override: int | None
    header_overrides: dict[str, str] = field(default_factory=dict)


#: ``$context.responseOverride.header.Retry-After``: Velocity 1.7 (API Gateway's) allows hyphens in
#: identifiers, airspeed does not; the names are spelled without them while rendering.
_HEADER_OVERRIDE = re.compile(r"(\$context\.responseOverride\.header\.)([A-Za-z0-9_-]+)")
_HYPHEN = "__hyphen__"


@functools.lru_cache(maxsize=256)
def _compiled(template: str) -> airspeed.Template:
    """A mapping template parsed once: a long run renders the same few templates for every request."""
    source = _HEADER_OVERRIDE.sub(lambda m: m.group(1) + m.group(2).replace("-", _HYPHEN), template)
    compiled = airspeed.Template(source)
    compiled.ensure_compiled()
    return compiled


def render(
    template: str,
    *,
    body: str = "",
    headers: Mapping[str, str] | None = None,
    querystring: Mapping[str, str] | None = None,
    path_params: Mapping[str, str] | None = None,
    request_id: str = "11111111-2222-3333-4444-555555555555",
    context: Mapping[str, Any] | None = None,
) -> Rendered:
    """Render one mapping template with API Gateway's variables."""
    params = {
        "path": dict(path_params or {}),
        "querystring": dict(querystring or {}),
        "header": dict(headers or {}),
    }
    ctx: dict[str, Any] = {
        "requestId": request_id,
        "responseOverride": {"header": {}},
        **dict(context or {}),
    }
    text = _compiled(template).merge({"input": _Input(body, params), "util": _Util(), "context": ctx})
    status = ctx["responseOverride"].get("status")
    headers_set = {
        name.replace(_HYPHEN, "-"): str(value) for name, value in ctx["responseOverride"]["header"].items()
    }
    return Rendered(
        text=text,
        status_override=int(status) if status is not None else None,
        header_overrides=headers_set,
    )


def substitute(template: str, context: Mapping[str, Any]) -> str:
    """A gateway-response template as API Gateway fills it: ``$context.a.b`` replaced, nothing escaped."""

    def value(match: re.Match[str]) -> str:
        current: Any = context
        for part in match.group(1).split("."):
            current = current.get(part, "") if isinstance(current, Mapping) else ""
        return str(current)

    return re.sub(r"\$context\.([A-Za-z.]+[A-Za-z])", value, template)


def _post_methods(resources: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(API logical id, resource path, method)`` of every POST method in a template's resources."""
    return [
        (
            _api_id(r["Properties"].get("RestApiId")),
            _resource_path(resources, r["Properties"].get("ResourceId")),
            r,
        )
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Method" and r["Properties"]["HttpMethod"] == "POST"
    ]


def _api_id(value: Any) -> str:
    """The logical id of the ``AWS::ApiGateway::RestApi`` a method's ``RestApiId`` refers to."""
    return str(value["Ref"]) if isinstance(value, Mapping) and "Ref" in value else "?"


def _resource_path(resources: Mapping[str, Any], value: Any) -> str:
    """The path of an ``AWS::ApiGateway::Resource`` (``""`` for the root), from PathPart and ParentId."""
    if isinstance(value, Mapping) and "Ref" in value and value["Ref"] in resources:
        properties = resources[value["Ref"]]["Properties"]
        parent = _resource_path(resources, properties.get("ParentId"))
        return f"{parent}/{properties['PathPart']}".strip("/")
    return ""


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class IngestMethod:
    """A synthesized ``QueueBufferedIngest`` POST method, run request by request."""

    method: dict[str, Any]
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_template(
        cls, template: Mapping[str, Any] | Any, *, path: str | None = None, api: str | None = None
    ) -> IngestMethod:
        """The POST method of a synthesized template (its JSON, or an ``assertions.Template``).

        ``path`` picks one when the template has several POST methods (``"messages"``, ``"api/orders"``);
        ``api`` (the ``AWS::ApiGateway::RestApi``'s logical id, or its start) picks the API when several
        have a POST method at that path. A choice that still leaves several methods is refused.
        """
        if hasattr(template, "to_json"):
            template = template.to_json()
        resources = template["Resources"]
        posts = [
            post
            for post in _post_methods(resources)
            if (path is None or post[1] == path.strip("/")) and (api is None or post[0].startswith(api))
        ]
        if len(posts) != 1:
            found = ", ".join(sorted(f"/{p} ({a})" for a, p, _ in posts)) or "none"
            choice = ("" if path is None else f" at path {path!r}") + (
                "" if api is None else f" of API {api!r}"
            )
            shared_path = len({p for _, p, _ in posts}) < len(posts)
            hint = "api='<RestApi logical id>'" if shared_path else "path='<resource path>'"
            raise ValueError(
                f"IngestMethod.from_template: expected one POST method, found {found}{choice}; "
                f"pass {hint} to pick one"
            )
        method = posts[0][2]["Properties"]
        gateway = {
            r["Properties"]["ResponseType"]: r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::ApiGateway::GatewayResponse"
        }
        return cls(method=method, gateway_responses=gateway)

    @property
    def required_headers(self) -> list[str]:
        return [
            name.removeprefix("method.request.header.")
            for name, required in (self.method.get("RequestParameters") or {}).items()
            if required and name.startswith("method.request.header.")
        ]

    def missing_required_headers(self, headers: Mapping[str, str]) -> list[str]:
        """What the request validator refuses: required headers, matched in any case."""
        present = {name.lower() for name in headers}
        return [name for name in self.required_headers if name.lower() not in present]

    def send_message_request(
        self,
        body: str,
        headers: Mapping[str, str] | None = None,
        *,
        request_id: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """The SQS SendMessage parameters the integration sends for this request (form-decoded).

        ``context`` is what API Gateway verified about the caller, such as ``{"authorizer": {"claims":
        {"sub": ...}}}`` (a Cognito authorizer; claim values are strings) or ``{"identity": {"userArn":
        ..., "accountId": ...}}`` (IAM).
        """
        template = self.method["Integration"]["RequestTemplates"]["application/json"]
        rendered = render(
            template, body=body, headers=headers, request_id=request_id or str(uuid.uuid4()), context=context
        )
        pairs = urllib.parse.parse_qsl(rendered.text, keep_blank_values=True, strict_parsing=True)
        names = [name for name, _ in pairs]
        assert len(names) == len(set(names)), f"a parameter is sent twice: {names}"
        return dict(pairs)

    @staticmethod
    def message_attributes(params: Mapping[str, str]) -> dict[str, dict[str, str]]:
        """The ``MessageAttributes`` of a SendMessage request's parameters, in boto3's shape."""
        attributes: dict[str, dict[str, str]] = {}
        index = 1
        while f"MessageAttribute.{index}.Name" in params:
            prefix = f"MessageAttribute.{index}"
            attributes[params[f"{prefix}.Name"]] = {
                "DataType": params[f"{prefix}.Value.DataType"],
                "StringValue": params[f"{prefix}.Value.StringValue"],
            }
            index += 1
        numbered = {name.split(".")[1] for name in params if name.startswith("MessageAttribute.")}
        assert numbered == {str(i) for i in range(1, index)}, f"attributes are numbered with gaps: {params}"
        return attributes

    def respond(self, sqs_status: int, sqs_body: Any, *, request_id: str = "req-1") -> Response:
        """What the client receives when SQS answers ``sqs_status`` with ``sqs_body``."""
        text = sqs_body if isinstance(sqs_body, str) else json.dumps(sqs_body)
        chosen = None
        for response in self.method["Integration"]["IntegrationResponses"]:
            pattern = response.get("SelectionPattern")
            if pattern and re.fullmatch(pattern, str(sqs_status)):
                chosen = response
                break
        if chosen is None:
            chosen = next(
                r for r in self.method["Integration"]["IntegrationResponses"] if not r.get("SelectionPattern")
            )
        rendered = render(chosen["ResponseTemplates"]["application/json"], body=text, request_id=request_id)
        status = rendered.status_override or int(chosen["StatusCode"])
        declared = {r["StatusCode"] for r in self.method["MethodResponses"]}
        assert str(status) in declared, f"{status} is not a declared method response ({sorted(declared)})"
        return Response(status=status, body=json.loads(rendered.text), headers=rendered.header_overrides)

    def gateway_response(self, kind: str, *, message: str, request_id: str = "req-1") -> Response:
        """A gateway response (for example BAD_REQUEST_BODY), filled in as API Gateway does."""
        spec = self.gateway_responses[kind]
        text = substitute(
            spec["ResponseTemplates"]["application/json"],
            # messageString is the message in quotes, with nothing inside escaped.
            {"requestId": request_id, "error": {"messageString": f'"{message}"'}},
        )
        return Response(status=int(spec["StatusCode"]), body=json.loads(text))
