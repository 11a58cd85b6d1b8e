"""The ingest API's Velocity templates: the SQS request, and how SQS's answers map to HTTP.

``constructs_lib.testing.velocity`` runs them offline, as API Gateway does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigateway as apigateway

from .._core.json_schema import JSON_SCHEMA_DRAFT_4

#: The header a FIFO producer sends its deduplication id in.
MESSAGE_DEDUPLICATION_ID_HEADER = "X-Message-Deduplication-Id"


def send_message_template(
    *, fifo: bool, message_group_id_header: str, content_based_deduplication: bool
) -> str:
    """VTL that turns the request into an SQS SendMessage query (form-encoded) request.

    FIFO ids are read from the request's headers whatever their case. API Gateway exposes headers to
    templates as a map keyed as the client sent them (``$input.params().header``, a Java map, so
    ``get('X-Message-Group-Id')`` misses the ``x-message-group-id`` that HTTP/2 clients send), while its
    request validator matches required headers case-insensitively. The template therefore walks the
    header names and compares them lowercased.
    """
    parts = [
        "Action=SendMessage",
        "MessageBody=$util.urlEncode($input.body)",
        "MessageAttribute.1.Name=apiRequestId",
        "MessageAttribute.1.Value.DataType=String",
        "MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)",
    ]
    if not fifo:
        return "&".join(parts)
    group, dedup = message_group_id_header.lower(), MESSAGE_DEDUPLICATION_ID_HEADER.lower()
    lookup = (
        '#set($groupId = "")#set($dedupId = "")'
        "#foreach($name in $input.params().header.keySet())"
        f'#if($name.toLowerCase() == "{group}")#set($groupId = $input.params().header.get($name))#end'
        f'#if($name.toLowerCase() == "{dedup}")#set($dedupId = $input.params().header.get($name))#end'
        "#end"
    )
    parts.append("MessageGroupId=$util.urlEncode($groupId)")
    if content_based_deduplication:
        # The client's id when it sends one; otherwise SQS hashes the body.
        return (
            lookup
            + "&".join(parts)
            + '#if("$!dedupId" != "")&MessageDeduplicationId=$util.urlEncode($dedupId)#end'
        )
    # The client's id when it sends one (its retries are then deduplicated), else this request's own id,
    # so that two distinct requests with the same body are never merged.
    parts.append("MessageDeduplicationId=$util.urlEncode($dedupId)")
    return lookup + '#if("$!dedupId" == "")#set($dedupId = $context.requestId)#end' + "&".join(parts)


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


def model_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    model = dict(schema)
    model.setdefault("$schema", JSON_SCHEMA_DRAFT_4)
    model.setdefault("title", "Message")
    return model
