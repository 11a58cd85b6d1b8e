"""Deciding whether a principal may perform actions on a resource, from the templates' own policies.

Values in templates are CloudFormation: references to resources of the app, pseudo parameters, joins. A
value is rendered to a *symbolic string*: literals as written, a reference expanded to the ARN shape of
its resource type (``arn:aws:sqs:«AWS::Region»:«AWS::AccountId»:«S/Q.QueueName»``), pseudo parameters
as ``«AWS::Region»``. Two values that name the same thing render to the same string, so IAM's
wildcards (``*``, ``?``) can be matched on them as on literal ARNs. A value synth cannot know (a
parameter, an import from outside the app, ``Fn::Select``...) renders to None: "cannot decide".

Every check answers True, False or None (cannot decide); None is never turned into True or False.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._model import Resource, Stack, Templates

ACCOUNT = "«AWS::AccountId»"
REGION = "«AWS::Region»"
_PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}")
#: The ARN (or name) each resource type's Ref and attributes render to; ``{ref}`` is the Ref symbol.
_SHAPES: dict[tuple[str, str | None], str] = {
    ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{REGION}:{ACCOUNT}:{{QueueName}}",
    ("AWS::SQS::Queue", None): f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{QueueName}}",
    ("AWS::SQS::Queue", "QueueUrl"): f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{QueueName}}",
    ("AWS::SNS::Topic", None): f"arn:aws:sns:{REGION}:{ACCOUNT}:{{TopicName}}",
    ("AWS::SNS::Topic", "TopicArn"): f"arn:aws:sns:{REGION}:{ACCOUNT}:{{TopicName}}",
    ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{ref}}",
    ("AWS::S3::Bucket", "Arn"): "arn:aws:s3:::{ref}",
    ("AWS::KMS::Key", "Arn"): f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{{ref}}",
    ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{{ref}}",
    ("AWS::CloudWatch::Alarm", "Arn"): f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{{ref}}",
    ("AWS::Events::Rule", "Arn"): f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{{ref}}",
    ("AWS::Scheduler::Schedule", "Arn"): f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{{ref}}",
    ("AWS::DynamoDB::Table", "Arn"): f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{ref}}",
    (
        "AWS::DynamoDB::Table",
        "StreamArn",
    ): f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{ref}}/stream/{{attr}}",
    ("AWS::Kinesis::Stream", "Arn"): f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{{ref}}",
    ("AWS::Cognito::UserPool", "Arn"): f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{{ref}}",
    ("AWS::CloudFront::Distribution", None): "{ref}",
    ("AWS::CloudFront::Distribution", "Arn"): f"arn:aws:cloudfront::{ACCOUNT}:distribution/{{ref}}",
}
#: Names an ARN shape takes from the resource itself: ``{QueueName}`` is the QueueName property when it
#: is literal, else the resource's own symbol.
_NAME_PROPERTIES = {"QueueName": "QueueName", "TopicName": "TopicName"}


def _symbol(resource: Resource, attribute: str | None = None) -> str:
    return f"«{resource.stack.name}/{resource.logical_id}{'.' + attribute if attribute else ''}»"


def render(templates: Templates, stack: Stack, value: Any) -> str | None:
    """``value`` as a symbolic string, or None when synth cannot know it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    [(function, argument)] = value.items()
    if function == "Ref":
        return _reference(templates, stack, argument, None)
    if function == "Fn::GetAtt":
        name, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
        return _reference(templates, stack, name, attribute)
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        parts = [render(templates, stack, part) for part in argument[1]]
        return None if any(p is None for p in parts) else str(argument[0]).join(p for p in parts if p)
    if function == "Fn::Sub":
        return _sub(templates, stack, argument)
    if function in ("Fn::ImportValue", "Fn::GetStackOutput"):
        return _import(templates, stack, function, argument)
    return None


def _reference(templates: Templates, stack: Stack, name: Any, attribute: str | None) -> str | None:
    if attribute is None and name in _PSEUDO:
        return _PSEUDO[name]
    followed = templates.follow(stack, name, attribute)
    if followed is not None:
        return render(templates, *followed)
    if not isinstance(name, str) or name not in stack.resources:
        return None
    resource = Resource(stack, name)
    if attribute in _NAME_PROPERTIES and isinstance(resource.props.get(attribute), str):
        return str(resource.props[attribute])
    shape = _SHAPES.get((resource.type, attribute))
    if shape is None:
        return _symbol(resource, attribute)
    names = {
        key: resource.props.get(prop) if isinstance(resource.props.get(prop), str) else _symbol(resource, key)
        for key, prop in _NAME_PROPERTIES.items()
    }
    return shape.format(ref=_symbol(resource), attr=_symbol(resource, attribute), **names)


def _sub(templates: Templates, stack: Stack, argument: Any) -> str | None:
    text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
    if not isinstance(text, str):
        return None
    out, position = [], 0
    for match in _SUB_VARIABLE.finditer(text):
        out.append(text[position : match.start()])
        name, attribute = match.group(1), match.group(2)
        if isinstance(variables, Mapping) and name in variables:
            piece = render(templates, stack, variables[name])
        else:
            piece = _reference(templates, stack, name, attribute)
        if piece is None:
            return None
        out.append(piece)
        position = match.end()
    return "".join(out) + text[position:]


def _import(templates: Templates, stack: Stack, function: str, argument: Any) -> str | None:
    if function == "Fn::ImportValue" and isinstance(argument, str):
        exported = templates._exports.get(argument)
        return render(templates, exported[0], exported[1]) if exported else None
    if isinstance(argument, Mapping):
        other = templates.stacks.get(str(argument.get("StackName")))
        output = other.template.get("Outputs", {}).get(argument.get("OutputName")) if other else None
        return render(templates, other, output.get("Value")) if other and output else None
    return None


def resolve(templates: Templates, stack: Stack, value: Any, *types: str) -> Resource | None:
    """The one resource of ``types`` that ``value`` names (following outputs across stacks), if any."""
    found = templates.references(stack, value, *types)
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------------------- matching


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.S)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool | None:
    """IAM's ``*``/``?`` matching; None when a literal account or region meets a symbolic one."""
    flags = re.I if ignore_case else 0
    if re.fullmatch(_pattern(pattern).pattern, value, flags | re.S):
        return True
    if (ACCOUNT in value or REGION in value) and re.search(r"\d{12}|[a-z]{2}(-gov)?-[a-z]+-\d", pattern):
        return None
    return False


def _all(results: Iterable[bool | None]) -> bool | None:
    values = list(results)
    return False if False in values else (None if None in values else True)


def _any(results: Iterable[bool | None]) -> bool | None:
    values = list(results)
    return True if True in values else (None if None in values else False)


# ---------------------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Principal:
    """Who makes the call: a service principal, or a role of the app (``role``), or both unknown."""

    service: str | None = None
    role: Resource | None = None


@dataclass(frozen=True)
class Request:
    """One call of an edge: the principal, the action, the resource's ARN and the request context."""

    principal: Principal
    action: str
    resource_arn: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    """One policy statement, rendered; ``where`` says which policy it comes from."""

    effect: str
    principals: Mapping[str, tuple[str | None, ...]] | None  # None: an identity policy (no Principal)
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str | None, ...]
    not_resources: tuple[str | None, ...]
    conditions: Mapping[str, Mapping[str, tuple[str | None, ...]]]
    where: str
    sid: str | None = None

    def describe(self) -> str:
        return f"{self.where} statement {self.sid!r}" if self.sid else f"a {self.where} statement"


def statements(
    templates: Templates, stack: Stack, document: Any, where: str, *, resource_policy: bool
) -> list[Statement]:
    """The statements of a policy document (a template value), rendered."""
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement", [])
    out = []
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, Mapping):
            continue

        def strings(value: Any) -> tuple[str | None, ...]:
            values = value if isinstance(value, list) else [] if value is None else [value]
            return tuple(render(templates, stack, v) for v in values)

        principals = None
        if resource_policy:
            principal = item.get("Principal", {})
            principals = (
                {"*": ("*",)}
                if principal == "*"
                else {kind: strings(v) for kind, v in principal.items()}
                if isinstance(principal, Mapping)
                else {}
            )
        conditions = {
            operator: {key: strings(v) for key, v in entries.items()}
            for operator, entries in (item.get("Condition") or {}).items()
            if isinstance(entries, Mapping)
        }
        out.append(
            Statement(
                effect=str(item.get("Effect")),
                principals=principals,
                actions=tuple(a for a in strings(item.get("Action")) if a),
                not_actions=tuple(a for a in strings(item.get("NotAction")) if a),
                resources=strings(item.get("Resource")),
                not_resources=strings(item.get("NotResource")),
                conditions=conditions,
                where=where,
                sid=item.get("Sid") if isinstance(item.get("Sid"), str) else None,
            )
        )
    return out


#: Condition keys the evaluation knows; a condition on any other key cannot be decided.
KNOWN_KEYS = frozenset(
    {
        "aws:securetransport",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "kms:viaservice",
        "kms:calleraccount",
        "lambda:functionurlauthtype",
        "lambda:invokedviafunctionurl",
    }
)


def _condition(
    operator: str, key: str, values: tuple[str | None, ...], context: Mapping[str, str]
) -> bool | None:
    base = operator.removesuffix("IfExists")
    if key.lower() not in KNOWN_KEYS or base not in _OPERATORS:
        return None
    actual = context.get(key.lower())
    if actual is None:
        return operator.endswith("IfExists") or "Not" in base
    negate, like = "Not" in base, base.endswith("Like") or base.startswith("Arn")
    if base == "Bool":
        matches = _any(None if v is None else v.lower() == actual.lower() for v in values)
    elif like:
        matches = _any(None if v is None else wildcard_match(v, actual) for v in values)
    else:
        matches = _any(None if v is None else (v == actual or _symbolic_mismatch(v, actual)) for v in values)
    return None if matches is None else (not matches if negate else matches)


def _symbolic_mismatch(expected: str, actual: str) -> bool | None:
    """Equality between a literal and a symbolic account or region cannot be decided."""
    return (
        None
        if (ACCOUNT in actual or REGION in actual) != (ACCOUNT in expected or REGION in expected)
        else False
    )


_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
}


def applies(statement: Statement, request: Request) -> bool | None:
    """Whether ``statement`` covers ``request``: principal, action, resource and conditions."""
    checks = [_principal_matches(statement, request.principal), _action_matches(statement, request.action)]
    checks.append(_resource_matches(statement, request.resource_arn))
    checks.extend(
        _condition(operator, key, values, request.context)
        for operator, entries in statement.conditions.items()
        for key, values in entries.items()
    )
    return _all(checks)


def _action_matches(statement: Statement, action: str) -> bool | None:
    if statement.not_actions:
        hit = _any(wildcard_match(a, action, ignore_case=True) for a in statement.not_actions)
        return None if hit is None else not hit
    return _any(wildcard_match(a, action, ignore_case=True) for a in statement.actions)


def _resource_matches(statement: Statement, arn: str) -> bool | None:
    if statement.not_resources:
        hit = _any(None if r is None else wildcard_match(r, arn) for r in statement.not_resources)
        return None if hit is None else not hit
    if statement.principals is not None and not statement.resources:
        return True  # resource policies may leave Resource out: the policy's own resource
    return _any(None if r is None else wildcard_match(r, arn) for r in statement.resources)


def _principal_matches(statement: Statement, principal: Principal) -> bool | None:
    if statement.principals is None:
        return True  # an identity policy: it is attached to the principal
    given = statement.principals
    if "*" in given or "*" in given.get("AWS", ()):
        return True
    if principal.service is not None:
        return _any(None if s is None else s == principal.service for s in given.get("Service", ()))
    if principal.role is None:
        return None
    # The account's root (or its id) delegates to the account's IAM policies: it admits no role by itself.
    role_arn = render_arn(principal.role)
    return _any(None if a is None else a == role_arn for a in given.get("AWS", ()))


def render_arn(resource: Resource) -> str:
    """The ARN of ``resource`` as the evaluation spells it."""
    attribute = None if (resource.type, None) in _SHAPES and (resource.type, "Arn") not in _SHAPES else "Arn"
    rendered = _reference(Templates([resource.stack]), resource.stack, resource.logical_id, attribute)
    return rendered or _symbol(resource)


def account_root_allowed(statement: Statement) -> bool:
    """A key-policy statement that hands the decision to IAM: it allows the account's root principal."""
    return statement.effect == "Allow" and any(
        a in (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT) for a in (statement.principals or {}).get("AWS", ())
    )


# ---------------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Decision:
    """``allowed`` True, False or None (cannot decide), with what decided it."""

    allowed: bool | None
    why: str


def decide(
    request: Request,
    *,
    resource_policy: list[Statement] | None,
    identity_policy: list[Statement] | None = None,
    default_allows: bool = False,
    default_name: str = "",
) -> Decision:
    """IAM's evaluation for one request in one account.

    An explicit Deny that applies wins. A service principal needs an Allow in the resource policy; a role
    needs one in its own policies or in the resource policy. ``resource_policy`` None means no resource
    policy is attached, so the service's default applies: ``default_allows`` (named ``default_name``).
    """
    every = [*(resource_policy or []), *(identity_policy or [])]
    for statement in every:
        if statement.effect == "Deny":
            hit = applies(statement, request)
            if hit is True:
                return Decision(False, f"{statement.describe()} denies {request.action}")
            if hit is None:
                return Decision(None, f"cannot decide whether {statement.describe()} denies {request.action}")
    allows = [s for s in every if s.effect == "Allow"]
    if request.principal.service is not None:
        allows = [s for s in allows if s.principals is not None]
        if resource_policy is None:
            if default_allows:
                return Decision(True, f"{default_name} allows it")
            return Decision(False, f"no resource policy is attached, and {default_name} does not allow it")
    verdicts = [applies(s, request) for s in allows]
    if True in verdicts:
        return Decision(True, "allowed")
    if None in verdicts:
        return Decision(None, f"cannot decide whether a statement allows {request.action}")
    where = "resource policy" if request.principal.service else "role's policies or the resource policy"
    return Decision(False, f"no statement of the {where} allows {request.action}")


def iter_documents(value: Any) -> Iterator[Any]:
    """The policy documents of a role's inline ``Policies``."""
    for policy in value if isinstance(value, list) else []:
        if isinstance(policy, Mapping):
            yield policy.get("PolicyDocument")
