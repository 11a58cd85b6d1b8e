"""``QueueBufferedIngest``'s API props: the path, the message schema, the FIFO group header, the stage (name,
throttling, web ACL) and the API's escape hatch merged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._core import (
    Problems,
    is_unresolved,
    merge_props,
    or_default,
)
from .._core.json_schema import schema_problems

DEFAULT_PATH = "messages"
DEFAULT_STAGE_NAME = "prod"
DEFAULT_THROTTLING_RATE_LIMIT = 100.0
DEFAULT_THROTTLING_BURST_LIMIT = 200
DEFAULT_ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_MESSAGE_GROUP_ID_HEADER = "X-Message-Group-Id"
DEFAULT_MESSAGE_SCHEMA: Mapping[str, Any] = {"type": "object"}
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def _check_path(problems: Problems, path: str) -> tuple[str, ...]:
    parts = [p for p in path.strip("/").split("/")]
    if not path.strip("/") or not all(_PATH_SEGMENT.match(p) for p in parts):
        problems.add(
            "path",
            path,
            "must be one or more '/'-separated segments of letters, digits, '.', '_', '~' or '-', "
            "for example 'messages' or 'v1/orders'",
        )
        return (DEFAULT_PATH,)
    return tuple(parts)


def _check_schema(problems: Problems, schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return dict(DEFAULT_MESSAGE_SCHEMA)
    for prop, value, fix in schema_problems(schema, "message_schema"):
        problems.add(prop, value, fix)
    return dict(schema) if isinstance(schema, Mapping) else dict(DEFAULT_MESSAGE_SCHEMA)


def _check_group_header(problems: Problems, fifo: bool, header: str | None) -> None:
    if header is None:
        return
    if not fifo:
        problems.add(
            "message_group_id_header", header, "only used with fifo=True; set fifo=True or remove it"
        )
    elif not _HEADER_NAME.match(header):
        problems.add(
            "message_group_id_header", header, "must be a valid HTTP header name such as 'X-Message-Group-Id'"
        )


def _check_stage_and_web_acl(problems: Problems, stage_name: str | None, web_acl_arn: str | None) -> None:
    if stage_name is not None and not is_unresolved(stage_name):
        problems.check(
            bool(re.fullmatch(r"[A-Za-z0-9_-]{1,128}", stage_name)),
            "stage_name",
            stage_name,
            "must be 1-128 letters, digits, '-' or '_' (API Gateway's stage names), for example 'prod'",
        )
    if web_acl_arn is not None and not is_unresolved(web_acl_arn):
        problems.check(
            ":regional/webacl/" in web_acl_arn,
            "web_acl_arn",
            web_acl_arn,
            "must be the ARN of a REGIONAL WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/"
            "<name>/<id>); a CLOUDFRONT-scope ACL belongs on the distribution (CdnFrontedOrigin.web_acl_id)",
        )


def _check_throttling(problems: Problems, given: Mapping[str, Any]) -> dict[str, Any]:
    """The stage's throttling, checked and with defaults applied."""
    rate = or_default(given["throttling_rate_limit"], DEFAULT_THROTTLING_RATE_LIMIT)
    burst = or_default(given["throttling_burst_limit"], DEFAULT_THROTTLING_BURST_LIMIT)
    if not is_unresolved(rate) and rate <= 0:
        problems.add("throttling_rate_limit", rate, "must be a positive number of requests/s")
    if not is_unresolved(burst) and burst < 1:
        problems.add("throttling_burst_limit", burst, "must be a positive number of requests")
    elif not is_unresolved(burst) and not is_unresolved(rate) and rate > 0 and burst < rate:
        problems.add(
            "throttling_burst_limit",
            burst,
            f"must be at least throttling_rate_limit ({rate:g}/s): the bucket holds at most {burst} "
            "requests, "
            "so the steady rate could never be reached; raise it (twice the rate is the default's ratio)",
        )
    return {"throttling_rate_limit": rate, "throttling_burst_limit": burst}


def _first_api_in(scope: Construct) -> bool:
    """True unless the stack already sets API Gateway's account-level CloudWatch role."""
    stack = Stack.of(scope)
    return not any(isinstance(node, apigateway.CfnAccount) for node in stack.node.find_all())


def _merge_api_props(problems: Problems, user: Any, *, first_api_in_stack: bool) -> dict[str, Any]:
    return merge_props(
        problems,
        prop_name="api_props",
        l2_class=apigateway.RestApi,
        struct_class=apigateway.RestApiProps,
        defaults={
            "endpoint_types": [apigateway.EndpointType.REGIONAL],
            # AWS::ApiGateway::Account is one setting per account and region: set it once per stack.
            "cloud_watch_role": first_api_in_stack,
            "description": "Queue-buffered ingest: POST bodies are enqueued to SQS",
        },
        user=user,
        owned={
            "deploy_options": "stage_name, throttling_rate_limit, throttling_burst_limit, "
            "access_log_retention",
            "deploy": "nothing (the construct always deploys a stage)",
            "default_method_options": "authorization",
        },
    )
