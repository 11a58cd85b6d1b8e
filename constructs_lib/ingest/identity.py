"""``CallerIdentity``: the verified caller travels with every queued message, as SQS message attributes.

The values come from what API Gateway verified (``$context.authorizer`` and ``$context.identity`` in the
request template), never from the body or a header the client controls, and the body stays byte for byte
what the client sent. :func:`plan_caller_identity` checks the option against the method's authorization
and the queue; :func:`identity_attributes_template` writes the Velocity that the request template
includes, and :attr:`PlannedIdentity.group_reference` the FIFO group id's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_sqs as sqs

from .._core import Problems, is_unresolved
from .._core.limits import SQS_MAX_MESSAGE_ATTRIBUTES
from .authorization import ApiAuthorization

__all__ = [
    "API_KEY_ID_ATTRIBUTE",
    "CALLER_ACCOUNT_ATTRIBUTE",
    "CALLER_ARN_ATTRIBUTE",
    "CALLER_ATTRIBUTE_PREFIX",
    "DEFAULT_CLAIMS",
    "PRINCIPAL_ID_ATTRIBUTE",
    "REQUEST_ID_ATTRIBUTE",
    "CallerIdentity",
    "PlannedIdentity",
    "claim_attribute",
]

#: The attribute every message carries: API Gateway's request id.
REQUEST_ID_ATTRIBUTE = "apiRequestId"
#: Every identity attribute's name starts with this.
CALLER_ATTRIBUTE_PREFIX = "caller."
#: IAM authorization: the caller's ARN (``$context.identity.userArn``) and account
#: (``$context.identity.accountId``).
CALLER_ARN_ATTRIBUTE = "caller.arn"
CALLER_ACCOUNT_ATTRIBUTE = "caller.account"
#: A Lambda (token or request) authorizer: the principal id it returned (``$context.authorizer.principalId``).
PRINCIPAL_ID_ATTRIBUTE = "caller.principalId"
#: A method that requires an API key: the key's id (``$context.identity.apiKeyId``).
API_KEY_ID_ATTRIBUTE = "caller.apiKeyId"
#: The claims a Cognito user-pool authorizer's caller is identified by when none are chosen.
DEFAULT_CLAIMS = ("sub",)

#: API Gateway exposes a claim as ``$context.authorizer.claims.<name>``: only names that are Velocity
#: identifiers can be written there (``cognito:groups`` or ``custom:tenant`` cannot).
_CLAIM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def claim_attribute(claim: str) -> str:
    """The message attribute that carries a Cognito claim: ``caller.<claim>``."""
    return CALLER_ATTRIBUTE_PREFIX + claim


@dataclass(frozen=True, kw_only=True)
class CallerIdentity:
    """Adds the verified caller to every queued message as SQS message attributes (``caller.*``).

    What the method's authorization verified decides what is added:

    - a Cognito user-pool authorizer: the chosen ``claims`` of the caller's token, each as
      ``caller.<claim>`` (default: ``caller.sub``); a claim the token lacks (``email`` in an access token)
      is left out of that message;
    - IAM: ``caller.arn`` and ``caller.account``;
    - a Lambda authorizer: ``caller.principalId``;
    - a method that requires an API key (``ApiAuthorization.with_api_key()``): also ``caller.apiKeyId``.

    Args:
        claims: Cognito claims to add (names that are Velocity identifiers, such as ``sub``, ``email``,
            ``email_verified``). Default: ``("sub",)``; refused with any other authorization.
        message_group_id: FIFO only: the identity value whose value is each message's group id (a claim
            name, ``"arn"``, ``"account"``, ``"principalId"`` or ``"apiKeyId"``), so that one caller's
            messages stay in order. Default: the group id comes from ``message_group_id_header``.
    """

    claims: Sequence[str] | None = None
    message_group_id: str | None = None


@dataclass(frozen=True)
class PlannedIdentity:
    """The checked option: each attribute's name and the Velocity reference its value comes from."""

    attributes: tuple[tuple[str, str], ...]
    #: The Velocity reference of the FIFO group id, when it comes from the identity.
    group_reference: str | None = None

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.attributes)


def _sources(authorization: ApiAuthorization, claims: Sequence[str]) -> dict[str, tuple[str, str]]:
    """identity value -> (attribute name, Velocity reference), for what this authorization verifies."""
    kind = authorization.authorization_type
    sources: dict[str, tuple[str, str]] = {}
    if kind == apigateway.AuthorizationType.COGNITO:
        sources.update({c: (claim_attribute(c), f"$!context.authorizer.claims.{c}") for c in claims})
    elif kind == apigateway.AuthorizationType.IAM:
        sources["arn"] = (CALLER_ARN_ATTRIBUTE, "$!context.identity.userArn")
        sources["account"] = (CALLER_ACCOUNT_ATTRIBUTE, "$!context.identity.accountId")
    elif kind == apigateway.AuthorizationType.CUSTOM:
        sources["principalId"] = (PRINCIPAL_ID_ATTRIBUTE, "$!context.authorizer.principalId")
    if authorization.api_key_required:
        sources["apiKeyId"] = (API_KEY_ID_ATTRIBUTE, "$!context.identity.apiKeyId")
    return sources


def plan_caller_identity(
    problems: Problems,
    given: Mapping[str, Any],
    authorization: ApiAuthorization,
    queue_kwargs: Mapping[str, Any],
) -> PlannedIdentity | None:
    """Check ``caller_identity`` against the authorization and the queue (``given``: the construct's props,
    as they follow from an existing queue; ``queue_kwargs``: a new queue's); None when it is not given."""
    identity: CallerIdentity | None = given["caller_identity"]
    if identity is None:
        return None
    claims = _checked_claims(problems, identity.claims, authorization)
    sources = _sources(authorization, claims)
    if not sources:
        problems.add(
            "caller_identity",
            "ApiAuthorization.none(...)",
            "there is no authorizer to take the caller from: use ApiAuthorization.iam(), authorizer_of(...) "
            "or .with_api_key(), or remove caller_identity",
        )
        return None
    count = 1 + len(sources)  # the request id is always sent
    problems.check(
        count <= SQS_MAX_MESSAGE_ATTRIBUTES,
        "caller_identity",
        [name for name, _ in sources.values()],
        f"SQS takes at most {SQS_MAX_MESSAGE_ATTRIBUTES} message attributes, and these make {count} with "
        f"'{REQUEST_ID_ATTRIBUTE}'; choose fewer claims",
    )
    group = _group_reference(
        problems, identity.message_group_id, sources, bool(given["fifo"]), given["message_group_id_header"]
    )
    per_caller = group is not None and _deduplication_per_group(queue_kwargs, given["existing_queue"])
    problems.check(
        not (given["fifo"] and given["content_based_deduplication"]) or per_caller,
        "content_based_deduplication",
        True,
        "with caller_identity, two callers who send the same body within 5 minutes would become one message "
        "with the first caller's identity (attributes are not part of SQS's hash); turn it off, or take "
        "message_group_id from the identity on a queue whose deduplication_scope is MESSAGE_GROUP",
    )
    return PlannedIdentity(attributes=tuple(sources.values()), group_reference=group)


def _checked_claims(
    problems: Problems, claims: Sequence[str] | None, authorization: ApiAuthorization
) -> tuple[str, ...]:
    if claims is None:
        return DEFAULT_CLAIMS
    if authorization.authorization_type != apigateway.AuthorizationType.COGNITO:
        problems.add(
            "caller_identity.claims",
            list(claims) if not isinstance(claims, str) else claims,
            "claims come from a Cognito user-pool authorizer; with "
            f"{authorization.authorization_type.name} authorization the construct adds what that "
            "verifies (see CallerIdentity); remove claims",
        )
        return ()
    if isinstance(claims, str) or not claims or not all(isinstance(c, str) for c in claims):
        problems.add(
            "caller_identity.claims",
            claims,
            "must be a non-empty tuple of claim names, for example ('sub', 'email')",
        )
        return DEFAULT_CLAIMS
    bad = [c for c in claims if not _CLAIM_NAME.match(c)]
    problems.check(
        not bad,
        "caller_identity.claims",
        bad,
        "API Gateway passes a claim to templates as $context.authorizer.claims.<name>, which only takes "
        "names of letters, digits and '_' starting with a letter (not 'cognito:groups' or 'custom:x')",
    )
    problems.check(len(set(claims)) == len(claims), "caller_identity.claims", list(claims), "name each once")
    return tuple(dict.fromkeys(c for c in claims if c not in bad))


def _group_reference(
    problems: Problems,
    value: str | None,
    sources: Mapping[str, tuple[str, str]],
    fifo: bool,
    message_group_id_header: str | None,
) -> str | None:
    if value is None:
        return None
    if not fifo:
        problems.add(
            "caller_identity.message_group_id", value, "only FIFO queues have message groups; set fifo=True"
        )
        return None
    if message_group_id_header is not None:
        problems.add(
            "message_group_id_header",
            message_group_id_header,
            "the group id comes from caller_identity.message_group_id, so the header would be ignored; "
            "remove one of the two",
        )
    if value not in sources:
        problems.add(
            "caller_identity.message_group_id",
            value,
            f"must be one of the identity's values: {', '.join(sorted(sources))}",
        )
        return None
    return sources[value][1]


def _deduplication_per_group(queue_kwargs: Mapping[str, Any], existing_queue: sqs.Queue | None) -> bool:
    """Whether FIFO deduplication is scoped to the message group (high-throughput FIFO)."""
    if existing_queue is not None:
        cfn = existing_queue.node.default_child
        scope = cfn.deduplication_scope if isinstance(cfn, sqs.CfnQueue) else None
        return scope == "messageGroup" and not is_unresolved(scope)
    return bool(queue_kwargs.get("deduplication_scope") == sqs.DeduplicationScope.MESSAGE_GROUP)


def identity_attributes_template(identity: PlannedIdentity, *, first_index: int) -> str:
    """VTL that appends ``&MessageAttribute.N...`` for each identity value the request has.

    Numbering continues at ``first_index`` and skips a value that is empty (a claim the token lacks), so
    the attributes stay numbered without gaps and SQS never receives an empty attribute value.
    """
    parts = [f"#set($attributeIndex = {first_index - 1})"]
    for name, reference in identity.attributes:
        parts.append(
            f'#set($callerValue = "{reference}")#if($callerValue != "")'
            "#set($attributeIndex = $attributeIndex + 1)"
            f"&MessageAttribute.${{attributeIndex}}.Name={name}"
            "&MessageAttribute.${attributeIndex}.Value.DataType=String"
            "&MessageAttribute.${attributeIndex}.Value.StringValue=$util.urlEncode($callerValue)#end"
        )
    return "".join(parts)
