"""``CallerIdentity``: the verified caller travels with every queued message, as SQS message attributes.

The values come from what API Gateway verified (``$context.authorizer`` and ``$context.identity`` in the
request template), never from the body or a header the client controls, and the body stays byte for byte
what the client sent. :func:`plan_caller_identity` checks the option against the method's authorization
and the queue; :func:`identity_attributes_template` writes the Velocity that the request template
includes, :attr:`PlannedIdentity.group_reference` the FIFO group id's, and
:attr:`PlannedIdentity.caller_key` the value that scopes a client's FIFO deduplication id to its caller.
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
    "GROUP_ID_VALUES",
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
#: The identity values a FIFO group id may be taken from: each is present on every request of its
#: authorization and fits SQS's group ids (at most 128 letters, digits and punctuation). An email may be
#: missing from a token, an ARN may be longer, a Lambda authorizer's principal id may hold any character.
GROUP_ID_VALUES = ("sub", "account", "apiKeyId")
#: The claims of a Cognito access token (what a method with OAuth scopes takes) that a template can read;
#: others, such as ``email``, are in ID tokens only, unless a pre-token-generation trigger adds them.
ACCESS_TOKEN_CLAIMS = frozenset(
    {"sub", "username", "client_id", "scope", "token_use", "auth_time", "iss", "exp", "iat", "jti",
     "origin_jti", "event_id", "version"}
)  # fmt: skip

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

    On a FIFO queue, a deduplication id the client sends (``X-Message-Deduplication-Id``) counts per
    caller: the template sends ``<caller key>:<the client's id>``, the key being the Cognito ``sub``,
    the IAM principal's unique id (the role's, not the session's), the Lambda authorizer's principal id
    (URL-encoded) or, with an API key alone, the key's id. Two callers who choose the same id are then
    never merged, and a caller's retry still is.

    Args:
        claims: Cognito claims to add (names that are Velocity identifiers, such as ``sub``, ``email``,
            ``email_verified``); ``sub`` must be one of them. Default: ``("sub",)``; refused with any other
            authorization.
        message_group_id: FIFO only: the identity value whose value is each message's group id
            (``"sub"``, ``"account"`` or ``"apiKeyId"``; see ``GROUP_ID_VALUES``), so that one caller's
            messages stay in order. Default: the group id comes from ``message_group_id_header``.
    """

    claims: Sequence[str] | None = None
    message_group_id: str | None = None


@dataclass(frozen=True)
class PlannedIdentity:
    """The checked option: each attribute's name and the Velocity reference its value comes from."""

    attributes: tuple[tuple[str, str], ...]
    #: VTL that sets ``$callerKey``: the value that scopes a client's FIFO deduplication id to its caller.
    caller_key: str = ""
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


def _caller_key(authorization: ApiAuthorization) -> str:
    """VTL that sets ``$callerKey`` to what tells this authorization's callers apart, in characters SQS
    takes in a deduplication id and without ':' (the separator from the client's id)."""
    kind = authorization.authorization_type
    if kind == apigateway.AuthorizationType.COGNITO:
        return '#set($callerKey = "$!context.authorizer.claims.sub")'
    if kind == apigateway.AuthorizationType.IAM:
        # The principal's unique id (AROA... of a role, AIDA... of a user); an assumed role's session
        # name, which whoever assumed the role chose, is dropped.
        return (
            '#set($callerKey = "$!context.identity.caller")#set($colon = $callerKey.indexOf(":"))'
            "#if($colon > 0)#set($callerKey = $callerKey.substring(0, $colon))#end"
        )
    if kind == apigateway.AuthorizationType.CUSTOM:
        return '#set($callerKey = $util.urlEncode("$!context.authorizer.principalId"))'
    return '#set($callerKey = "$!context.identity.apiKeyId")'


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
    _warn_of_claims_access_tokens_lack(problems, claims, authorization)
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
    return PlannedIdentity(
        attributes=tuple(sources.values()), caller_key=_caller_key(authorization), group_reference=group
    )


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
    problems.check(
        "sub" in claims,
        "caller_identity.claims",
        list(claims),
        "must include 'sub', the one claim that names a user for good (an email can be changed, and "
        "then belong to someone else); add 'sub'",
    )
    return tuple(dict.fromkeys(c for c in claims if c not in bad))


def _warn_of_claims_access_tokens_lack(
    problems: Problems, claims: Sequence[str], authorization: ApiAuthorization
) -> None:
    """With OAuth scopes the method takes access tokens, which carry no email or profile claims unless a
    pre-token-generation trigger adds them: only deploy time knows, so this is a warning."""
    lacking = [c for c in claims if c not in ACCESS_TOKEN_CLAIMS]
    if authorization.scopes and lacking:
        problems.warn(
            "callerClaimsNotInAccessTokens",
            f"caller_identity.claims {lacking}: the method has OAuth scopes {list(authorization.scopes)}, "
            "so callers send access tokens, and Cognito's access tokens do not carry these claims: every "
            "message would lack them. Remove them, or add them to access tokens with a "
            "pre-token-generation trigger (event version V2_0, Essentials or Plus plan)",
        )


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
    usable = [v for v in GROUP_ID_VALUES if v in sources]
    if value not in usable:
        why = {
            "arn": "an ARN can be longer than the 128 characters SQS takes in a group id (an assumed role's "
            "is up to 168)",
            "principalId": "a Lambda authorizer's principal id may be longer than 128 characters or hold "
            "characters SQS refuses in a group id (spaces, non-ASCII)",
        }.get(value, "a token without it would leave the group id empty, and SQS would refuse the message")
        if value not in sources:
            why = "it is not one of the identity's values"
        problems.add(
            "caller_identity.message_group_id",
            value,
            f"{why}; use one of {', '.join(usable) or 'none (this authorization has no safe group id)'}"
            + ("" if usable else ": take the group from message_group_id_header, or add .with_api_key()"),
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
