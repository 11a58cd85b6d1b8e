"""The ingest API's Velocity templates: the SQS request, and how SQS's answers map to HTTP.

``constructs_lib.testing.velocity`` runs them offline, as API Gateway does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigateway as apigateway

from .._core.json_schema import JSON_SCHEMA_DRAFT_4
from .identity import REQUEST_ID_ATTRIBUTE, PlannedIdentity, identity_attributes_template

#: The header a FIFO producer sends its deduplication id in.
MESSAGE_DEDUPLICATION_ID_HEADER = "X-Message-Deduplication-Id"


def send_message_template(
    *,
    fifo: bool,
    message_group_id_header: str,
    content_based_deduplication: bool,
    identity: PlannedIdentity | None = None,
) -> str:
    """VTL that turns the request into an SQS SendMessage query (form-encoded) request.

    The body is sent as it came, with API Gateway's request id as the attribute ``apiRequestId`` and,
    with ``identity``, the caller's verified identity as ``caller.*`` attributes (see ``CallerIdentity``).

    FIFO ids are read from the request's headers whatever their case. API Gateway exposes headers to
    templates as a map keyed as the client sent them (``$input.params().header``, a Java map, so
    ``get('X-Message-Group-Id')`` misses the ``x-message-group-id`` that HTTP/2 clients send), while its
    request validator matches required headers case-insensitively. The template therefore walks the
    header names and compares them lowercased. The group id comes from the identity instead when
    ``identity.group_reference`` is set.

    With ``identity``, a client's deduplication id is sent as ``<caller key>:<id>`` (see
    ``PlannedIdentity.caller_key``): SQS deduplicates a FIFO queue's messages across all its senders, so
    an id used as it came would let one caller's message silently drop another's.
    """
    parts = [
        "Action=SendMessage",
        "MessageBody=$util.urlEncode($input.body)",
        f"MessageAttribute.1.Name={REQUEST_ID_ATTRIBUTE}",
        "MessageAttribute.1.Value.DataType=String",
        "MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)",
    ]
    caller = identity_attributes_template(identity, first_index=2) if identity is not None else ""
    if not fifo:
        return "&".join(parts) + caller
    return _fifo_request(parts, message_group_id_header, content_based_deduplication, identity) + caller


def _fifo_request(
    parts: list[str],
    message_group_id_header: str,
    content_based_deduplication: bool,
    identity: PlannedIdentity | None,
) -> str:
    """The request's ``parts`` with the FIFO group and deduplication ids (see ``send_message_template``)."""
    group_from_identity = identity.group_reference if identity is not None else None
    read = '#if($name.toLowerCase() == "%s")#set($%s = $input.params().header.get($name))#end'
    reads = [read % (MESSAGE_DEDUPLICATION_ID_HEADER.lower(), "dedupId")]
    if not group_from_identity:
        reads.insert(0, read % (message_group_id_header.lower(), "groupId"))
    lookup = (
        '#set($groupId = "")#set($dedupId = "")'
        "#foreach($name in $input.params().header.keySet())" + "".join(reads) + "#end"
    )
    if group_from_identity:
        lookup += f'#set($groupId = "{group_from_identity}")'
    parts = [*parts, "MessageGroupId=$util.urlEncode($groupId)"]
    # The client's id counts per caller: prefixed with what tells callers apart.
    scoped = (
        identity.caller_key + '#set($dedupId = "${callerKey}:${dedupId}")' if identity is not None else ""
    )
    if content_based_deduplication:
        # The client's id when it sends one; otherwise SQS hashes the body.
        return (
            lookup
            + "&".join(parts)
            + f'#if("$!dedupId" != ""){scoped}&MessageDeduplicationId=$util.urlEncode($dedupId)#end'
        )
    # The client's id when it sends one (its retries are then deduplicated), else this request's own id,
    # so that two distinct requests with the same body are never merged.
    parts.append("MessageDeduplicationId=$util.urlEncode($dedupId)")
    return (
        lookup
        + '#if("$!dedupId" == "")#set($dedupId = $context.requestId)'
        + (f"#else{scoped}" if scoped else "")
        + "#end"
        + "&".join(parts)
    )


#: SQS error codes that mean the request itself was wrong: answered 4xx, not paged as 5xx.
CLIENT_ERROR_CODES = ("InvalidParameterValue", "InvalidMessageContents", "MissingParameter")
#: How SQS says a message is over its size limit (InvalidParameterValue: "Message must be shorter than").
TOO_LARGE_MARKERS = ("shorter than", "MessageTooLong")
#: SQS throttling, a client fault (HTTP 400) in SQS's model that a retry cures: answered 503 + Retry-After.
THROTTLING_CODES = ("KmsThrottled", "RequestThrottled", "ThrottlingException")
#: Seconds a throttled client is asked to wait before it retries.
THROTTLED_RETRY_AFTER_SECONDS = 1


def client_error_template() -> str:
    """VTL for an SQS 4xx: whose fault it is decides the status.

    413 or 400 when the request was at fault; 503 with ``Retry-After`` when SQS (or KMS behind it)
    throttled; else 502, the API's own fault (access denied, a disabled or missing key, a missing queue),
    said without blaming the request. SQS answers the query API in JSON (``Accept: application/json``) as
    ``{"Error": {"Code", "Message"}}``; the AWS JSON protocol's ``__type``/``message`` are read too.
    """
    code = "".join(f"$!input.path('{p}')" for p in ("$.Error.Code", "$.ErrorResponse.Error.Code", "$.__type"))
    text = "".join(
        f"$!input.path('{p}')" for p in ("$.Error.Message", "$.ErrorResponse.Error.Message", "$.message")
    )
    too_large = " || ".join(
        [f'$text.contains("{m}")' for m in TOO_LARGE_MARKERS]
        + [f'$code.contains("{m}")' for m in TOO_LARGE_MARKERS]
    )
    invalid = " || ".join(f'$code.contains("{c}")' for c in CLIENT_ERROR_CODES)
    throttled = " || ".join(f'$code.contains("{c}")' for c in THROTTLING_CODES)
    body = '{"message": "%s", "requestId": "$context.requestId"}'
    return (
        f'#set($code = "{code}")#set($text = "{text}")'
        f"#if({throttled})#set($context.responseOverride.status = 503)"
        f'#set($context.responseOverride.header.Retry-After = "{THROTTLED_RETRY_AFTER_SECONDS}")'
        + body % "The queue is busy; the message was not queued, retry after Retry-After seconds"
        + f"#elseif({too_large})#set($context.responseOverride.status = 413)"
        + body % "The message is larger than the queue accepts; it was not queued"
        + f"#elseif({invalid})#set($context.responseOverride.status = 400)"
        + body % "The queue refused the message as invalid; it was not queued"
        + "#else"
        + body
        % "The service could not queue the message (its queue or key refused the API: a fault on the "
        "service side, not in the request); it was not queued" + "#end"
    )


def integration_responses() -> list[apigateway.IntegrationResponse]:
    """Map SQS answers to HTTP: only an SQS 2xx answers 2xx (202).

    An SQS 4xx answers 400 or 413 when the request was at fault (see ``CLIENT_ERROR_CODES``), 503 with
    ``Retry-After`` when throttled (``THROTTLING_CODES``), else 502; an SQS 5xx answers 503; anything else
    500. Access and KMS errors stay 5xx, so the API 5xx alarm sees them.
    """
    json_ct = "application/json"
    return [
        apigateway.IntegrationResponse(
            status_code="202",
            selection_pattern=r"2\d{2}",
            response_templates={
                json_ct: '{"messageId": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')",'
                ' "requestId": "$context.requestId"}'
            },
        ),
        apigateway.IntegrationResponse(
            status_code="502",
            selection_pattern=r"4\d{2}",
            response_templates={json_ct: client_error_template()},
        ),
        apigateway.IntegrationResponse(
            status_code="503",
            selection_pattern=r"5\d{2}",
            response_templates={json_ct: '{"message": "The queue is unavailable; retry later"}'},
        ),
        apigateway.IntegrationResponse(
            status_code="500",
            response_templates={json_ct: '{"message": "The message was not queued"}'},
        ),
    ]


def method_responses() -> list[apigateway.MethodResponse]:
    """Every status the method answers (see ``integration_responses``); 503 may carry ``Retry-After``."""
    return [
        apigateway.MethodResponse(
            status_code=code,
            response_parameters={"method.response.header.Retry-After": False} if code == "503" else None,
        )
        for code in ("202", "400", "413", "500", "502", "503")
    ]


def model_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    model = dict(schema)
    model.setdefault("$schema", JSON_SCHEMA_DRAFT_4)
    model.setdefault("title", "Message")
    return model


def bad_request_body_template(schema: Mapping[str, Any]) -> str:
    """The 400 a body that fails the model gets: API Gateway's message, the schema's ``description`` as
    ``hint`` when it has one (what a valid body is), and the request id.

    Gateway-response templates only substitute variables (no VTL, no escaping), so the validator's
    detailed message, which contains quotes, cannot be embedded safely; ``messageString`` is quoted, and
    the hint is written at synth as a JSON string.
    """
    hint = schema.get("description")
    hint_field = f' "hint": {json.dumps(hint)},' if isinstance(hint, str) and hint else ""
    return '{"message": $context.error.messageString,' + hint_field + ' "requestId": "$context.requestId"}'


def bad_request_parameters_template() -> str:
    """The 400 a request without a required header (the FIFO group id) gets."""
    return '{"message": $context.error.messageString, "requestId": "$context.requestId"}'
