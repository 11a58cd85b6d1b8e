"""The service-to-service edges of an app, each decided from the policies the templates hold.

An edge is one call a service makes on the app's behalf: an alarm publishing to a topic, a rule invoking
a function, a mapping reading a queue, CloudFront reading a bucket... For each, the principal (a service
principal, a role of the app, an origin access identity), the request context it sends
(:mod:`._context`) and every policy the call must pass (:mod:`._policies`) are read from the templates,
and :func:`._iam.decide` says whether it can deliver: True, False, or None (cannot decide, for example
an imported topic whose policy no template holds).

Defaults, where no resource policy is attached (AWS's documented behaviour):

- SNS: the default topic policy admits the topic owner's account, so CloudWatch alarms of the same
  account may publish; no other service principal is admitted.
- SQS, S3, Lambda: no resource policy admits no service principal; roles of the account need an
  identity-policy Allow, roles of another account both.
- KMS: a customer managed key admits a service principal only where its key policy names it; a role
  where the key policy names it, or delegates to its account and the role's policies allow the action.
  AWS managed keys (``alias/aws/sqs``, ``aws/sns``, ``aws/s3``, ``aws/kinesis``) admit the account's
  roles through their service and never a service principal: their policies cannot be changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._context import Context, assume_call, kms_call, role_call, s3_call, secure, service_call
from ._env import (
    NO_VALUE,
    account_of,
    fn_if_conditions,
    lookup,
    render,
    render_arn,
    resolve,
    same_account,
    unknown_why,
)
from ._iam import Decision, Policies, Principal, Request, Statement, action_matches, decide, role_arn_of
from ._lambda import FUNCTION, invoked_arn, invoked_function
from ._model import Resource, Stack, Templates
from ._policies import (
    BUCKET,
    EVENT_BUS,
    FIREHOSE,
    GLOBAL_TABLE,
    KEY,
    KINESIS,
    QUEUE,
    ROLE,
    STATE_MACHINE,
    TABLE,
    TOPIC,
    ConditionalKey,
    KeyClass,
    ResourcePolicy,
    RolePolicies,
    key_of,
    key_policy,
    might_attach,
    resource_policies,
    role_policies,
)

API_DESTINATION = "AWS::Events::ApiDestination"
__all__ = [
    "API_DESTINATION",
    "BUCKET",
    "EVENT_BUS",
    "FIREHOSE",
    "FUNCTION",
    "GLOBAL_TABLE",
    "KEY",
    "KINESIS",
    "QUEUE",
    "ROLE",
    "STATE_MACHINE",
    "TABLE",
    "TOPIC",
]

#: What sending to each kind of target takes: the actions on it, and on its key.
SEND: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    QUEUE: (("sqs:SendMessage",), ("kms:GenerateDataKey", "kms:Decrypt")),
    TOPIC: (("sns:Publish",), ("kms:GenerateDataKey", "kms:Decrypt")),
    FUNCTION: (("lambda:InvokeFunction",), ()),
    EVENT_BUS: (("events:PutEvents",), ()),
    STATE_MACHINE: (("states:StartExecution",), ()),
    KINESIS: (("kinesis:PutRecord",), ("kms:GenerateDataKey",)),
    FIREHOSE: (("firehose:PutRecord",), ()),
    # Lambda's S3 destination lists the bucket and puts an object (its execution role needs both).
    BUCKET: (("s3:PutObject", "s3:ListBucket"), ("kms:GenerateDataKey",)),
    # EventBridge calls an API destination with the target's role.
    API_DESTINATION: (("events:InvokeApiDestination",), ()),
}
_OBJECT_ACTIONS = frozenset({"s3:putobject", "s3:getobject"})
#: Defaults where no resource policy is attached: (admits the owner's CloudWatch alarms, name).
_DEFAULTS = {
    QUEUE: "SQS's default (the queue owner's account only)",
    TOPIC: "SNS's default topic policy (the owner account)",
    BUCKET: "S3's default (no bucket policy)",
    FUNCTION: "Lambda's default (no permission)",
}
_KINDS = {
    QUEUE: "queue",
    TOPIC: "topic",
    BUCKET: "bucket",
    FUNCTION: "function",
    KEY: "key",
    ROLE: "role",
    EVENT_BUS: "event bus",
    STATE_MACHINE: "state machine",
    KINESIS: "stream",
    FIREHOSE: "delivery stream",
    API_DESTINATION: "API destination",
}


@dataclass(frozen=True)
class Edge:
    """One service-to-service call of the app, decided."""

    family: str
    source: Resource
    location: str
    description: str
    decision: Decision
    fix: str


def combine(*decisions: Decision) -> Decision:
    """All must allow: the first refusal, else the first undecided, else allowed."""
    for wanted in (False, None):
        for decision in decisions:
            if decision.allowed is wanted:
                return decision
    return Decision(True, "allowed")


def label(resource: Resource) -> str:
    """``queue /Stack/Orders/Resource``: a resource's kind and construct path, for messages."""
    kind = _KINDS.get(resource.type) or re.sub(r"(?<!^)(?=[A-Z])", " ", resource.type.split("::")[-1]).lower()
    return f"{kind} {resource.path}"


def a_type(resource: Resource) -> str:
    """``an AWS::Logs::LogGroup``: a resource's type with its article, for messages."""
    return f"an {resource.type}" if resource.type[:1] in "AEIOU" else f"a {resource.type}"


def edge(family: str, source: Resource, location: str, target: str, decision: Decision, fix: str) -> Edge:
    return Edge(family, source, location, f"{label(source)} → {target}", decision, fix)


# ---------------------------------------------------------------------------------------- one request


def may(
    templates: Templates,
    principal: Principal,
    actions: tuple[str, ...],
    target: Resource,
    *,
    arn: str | None = None,
    context: Context | None = None,
    key_actions: tuple[str, ...] = (),
) -> Decision:
    """Whether ``principal`` may do ``actions`` on ``target`` (and the key actions on its key).

    ``arn`` is the ARN called where it is not the target's own (a function's alias or version, a
    stream's). ``context`` is what a service principal sends (:func:`._context.service_call`); a role's
    own context is derived. Where several policies each set the target's whole policy, the edge must
    deliver under each, since any one of them may be the one applied last."""
    policies = resource_policies(templates, target)
    candidates: list[ResourcePolicy | None] = list(policies) if policies else [None]
    decisions = []
    for action in actions:
        resource_arn = arn or render_arn(templates, target)
        if target.type == BUCKET and action.lower() in _OBJECT_ACTIONS and arn is None:
            resource_arn += "/«object»"
        for policy in candidates:
            call = _Call(principal, action, resource_arn, context)
            decision = _one(templates, call, target, policy)
            if len(candidates) > 1 and decision.allowed is not True:
                decision = Decision(decision.allowed, _replaced(candidates, policy, decision))
            decisions.append(decision)
    if key_actions:
        decisions.append(key_allows(templates, principal, target, key_actions, context or {}))
    return combine(*decisions)


def _replaced(
    candidates: list[ResourcePolicy | None], policy: ResourcePolicy | None, decision: Decision
) -> str:
    names = ", ".join(p.name for p in candidates if p is not None)
    return (
        f"it has {len(candidates)} resource policies ({names}); each sets the whole policy, so the one "
        f"applied last replaces the others, and under {policy.name if policy else 'none'}: {decision.why}"
    )


@dataclass(frozen=True)
class _Call:
    principal: Principal
    action: str
    arn: str
    context: Context | None


def _one(templates: Templates, call: _Call, target: Resource, policy: ResourcePolicy | None) -> Decision:
    principal = call.principal
    default = _DEFAULTS.get(target.type, f"{target.type}'s default")
    unattached = tuple(might_attach(templates, target))
    extra = s3_call() if target.type == BUCKET else {}
    if principal.role is None:
        policies = Policies(
            resource=policy.statements if policy else None,
            default_allows=target.type == TOPIC and principal.service == "cloudwatch.amazonaws.com",
            default_name=default,
            resource_name=policy.name if policy else default,
            might_allow=unattached,
        )
        context = {**secure(), **extra, **(call.context or {})}
        return decide(Request(principal, call.action, call.arn, context), policies)
    same = same_account(account_of(principal.role.stack), account_of(target.stack))
    role_policy = _role_policies(
        role_policies(templates, principal.role),
        resource=policy.statements if policy else (),
        resource_name=policy.name if policy else default,
        same_account=same,
        might_allow=unattached,
    )
    context = {**role_call(principal, role_arn_of(principal.role)), **extra}
    return decide(Request(principal, call.action, call.arn, context), role_policy)


def _role_policies(found: RolePolicies, **given: Any) -> Policies:
    """The policies a role's call must pass: ``given`` (the resource's) and the role's own."""
    might_allow = (*found.unread, *given.pop("might_allow", ()))
    return Policies(
        identity=found.identity,
        might_allow=might_allow,
        boundary=found.boundary,
        boundary_unread=found.boundary_unread,
        **given,
    )


def role_may(
    templates: Templates, role: Resource, action: str, arn: str, *, account: str | None = None
) -> Decision:
    """Whether ``role``'s own policies allow ``action`` on ``arn`` (a target with no resource policy the
    pack reads: the default event bus, a universal target's API); ``account`` is the target's."""
    principal = Principal(role=role)
    same = same_account(account_of(role.stack), account) if account else True
    policies = _role_policies(role_policies(templates, role), resource=(), same_account=same)
    return decide(Request(principal, action, arn, role_call(principal, role_arn_of(role))), policies)


def key_allows(
    templates: Templates, principal: Principal, target: Resource, actions: tuple[str, ...], context: Context
) -> Decision:
    """Whether the key of ``target`` lets ``principal`` do ``actions`` (``kms:Decrypt``...). Where the
    encryption is conditional (``Fn::If``), each branch is decided, and the edge only where they agree."""
    key = key_of(templates, target)
    if not isinstance(key, ConditionalKey):
        return _key_allows(templates, principal, target, actions, context, key)
    when, otherwise = (
        _key_allows(templates, principal, target, actions, context, branch)
        for branch in (key.when, key.otherwise)
    )
    if when.allowed == otherwise.allowed:
        return when
    return Decision(
        None,
        f"its encryption is conditional (Fn::If on {key.condition}): when {key.condition} holds, "
        f"{_allowed_word(when)} ({when.why}); otherwise, {_allowed_word(otherwise)} ({otherwise.why})",
    )


def _allowed_word(decision: Decision) -> str:
    return {True: "allowed", False: "refused"}.get(decision.allowed, "undecided")  # type: ignore[arg-type]


def _key_allows(
    templates: Templates,
    principal: Principal,
    target: Resource,
    actions: tuple[str, ...],
    context: Context,
    key: KeyClass,
) -> Decision:
    if key == "none":
        return Decision(True, "not encrypted with KMS")
    if key == "aws-managed":
        return _aws_managed_key(principal, target)
    if not isinstance(key, Resource):
        return Decision(None, "its KMS key is not defined in this app, so its key policy cannot be read")
    policy = key_policy(templates, key)
    role = principal.role
    same = same_account(account_of(role.stack), account_of(key.stack)) if role else True
    call = role_call(principal, role_arn_of(role)) if role else {**secure(), **context}
    request_context = kms_call(principal, target, render_arn(templates, target), call)
    given: dict[str, Any] = {
        "resource": policy,
        "key_policy": True,
        "same_account": same,
        "resource_name": f"the key policy of {key.path}",
        "default_name": "the key policy",
    }
    policies = _role_policies(role_policies(templates, role), **given) if role else Policies(**given)
    key_arn = render_arn(templates, key)
    decision = combine(*(decide(Request(principal, a, key_arn, request_context), policies) for a in actions))
    if decision.allowed is True:
        return decision
    why = decision.why
    if decision.allowed is False and principal.service and _admits_only_through_services(policy):
        why += (
            "; like an AWS managed key's, it admits principals only through kms:CallerAccount and "
            f"kms:ViaService, and {principal.service} calls KMS itself"
        )
    return Decision(decision.allowed, f"key {key.path}: {why}")


def _aws_managed_key(principal: Principal, target: Resource) -> Decision:
    if principal.role is None:
        return Decision(
            False,
            f"it is encrypted with an AWS managed key, whose policy can never admit {principal.describe()}; "
            "use SSE-SQS/SSE-S3 or a customer managed key that grants the service",
        )
    same = same_account(account_of(principal.role.stack), account_of(target.stack))
    if same is False:
        return Decision(False, "it is encrypted with an AWS managed key, which admits no other account")
    if same is None:
        return Decision(None, "synth cannot tell whether the role is in the AWS managed key's account")
    return Decision(True, "the AWS managed key admits the account's roles through its service")


def _admits_only_through_services(policy: list[Statement]) -> bool:
    """A key policy whose every Allow needs ``kms:CallerAccount`` and ``kms:ViaService``."""
    allows = [s for s in policy if s.effect == "Allow"]
    return bool(allows) and all(
        {"kms:calleraccount", "kms:viaservice"}
        <= {k.lower() for entries in s.conditions.values() for k in entries}
        for s in allows
    )


def trusts(
    templates: Templates,
    role: Resource,
    service: str,
    *,
    source_arn: str | None = None,
    source_account: str | None = None,
) -> Decision:
    """Whether ``role``'s trust policy lets ``service`` assume it, for ``source_arn`` (what the service
    sends: the schedule group, rule, pipe or state machine)."""
    trust = statements_of_trust(templates, role)
    context = assume_call(service, source_arn, source_account or account_of(role.stack))
    request = Request(Principal(service=service), "sts:AssumeRole", role_arn_of(role), context)
    decision = decide(request, Policies(resource=trust, resource_name=f"the trust policy of {role.path}"))
    if decision.allowed is False:
        return Decision(
            False, f"role {role.path}: its trust policy does not let {service} assume it ({decision.why})"
        )
    return decision


def statements_of_trust(templates: Templates, role: Resource) -> list[Statement]:
    from ._iam import statements

    def read() -> list[Statement]:
        where = f"the trust policy of {role.path}"
        document = role.props.get("AssumeRolePolicyDocument")
        return statements(templates, role.stack, document, where, resource_policy=True)

    found: list[Statement] = templates.memo(("trust", role), read)
    return found


def role_of_function(templates: Templates, function: Resource) -> Resource | None:
    return resolve(templates, function.stack, function.props.get("Role"), ROLE)


def source_call(templates: Templates, service: str, source: Resource) -> Context:
    """What ``service`` sends when ``source`` (an alarm, a rule, a bucket...) makes it call a target."""
    return service_call(service, render_arn(templates, source), account_of(source.stack))


def any_resource(templates: Templates, role: Resource, action: str) -> Decision:
    """Whether ``role`` may call ``action`` on a resource the pack cannot name (a universal target's, an
    integration's): allowed on ``*``; refused when no statement of its policies names the action at
    all; else undecided."""
    anywhere = role_may(templates, role, action, "*")
    if anywhere.allowed is not False:
        return anywhere
    identity = role_policies(templates, role).identity
    if not any(s.effect == "Allow" and action_matches(s, action) for s in identity):
        return Decision(False, f"role {role.path}: {anywhere.why}")
    why = f"role {role.path} may call {action} on some resources only, and synth cannot name the one called"
    return Decision(None, why)


# ---------------------------------------------------------------------------------------- targets


def target_of(templates: Templates, stack: Stack, value: Any, kinds: tuple[str, ...]) -> Resource | str:
    """The resource of ``kinds`` that ``value`` names (a reference, or a literal name or ARN of a
    resource of the app), else a sentence saying what it is instead."""
    found = called(templates, stack, value, kinds)
    return found if isinstance(found, str) else found[0]


def called(
    templates: Templates, stack: Stack, value: Any, kinds: tuple[str, ...]
) -> tuple[Resource, str | None] | str:
    """Like :func:`target_of`, with the ARN the caller calls where it is not the target's own: a
    function's alias or version (``function:orders:live``), which IAM and Lambda's permissions tell
    apart from the function."""
    if FUNCTION in kinds:
        function = invoked_function(templates, stack, value)
        if function is not None:
            return function.function, invoked_arn(templates, function) if function.qualified else None
    others = tuple(k for k in kinds if k != FUNCTION)
    target = resolve(templates, stack, value, *others) if others else None
    if target is not None:
        return target, None
    rendered = render(templates, stack, value)
    literal = lookup(templates, stack, rendered, *others) if others else None
    if literal is not None:
        return literal, None
    named = templates.references(stack, value)
    if named and rendered is not None:
        return (
            f"{label(named[0])} is {a_type(named[0])}, which the pack does not model as the target of this "
            "edge yet"
        )
    if rendered is None:
        return f"its target {unknown_why(value)}, so its policies cannot be read"
    return f"{rendered} is not defined in this app, so its policies cannot be read"


def not_in_app(value: Any, what: str) -> str:
    """Why an edge's ``what`` (its role, its function...) cannot be read: conditional (an ``Fn::If``
    between two), or not defined in this app."""
    if fn_if_conditions(value):
        return f"its {what} {unknown_why(value)}, so its policies cannot be read"
    return f"its {what} is not defined in this app, so its policies cannot be read"


def deliver(
    templates: Templates,
    principal: Principal,
    stack: Stack,
    value: Any,
    *,
    context: Context | None = None,
    kinds: tuple[str, ...] = (QUEUE, TOPIC, FUNCTION),
) -> tuple[str, Decision]:
    """``principal`` sends to whatever ``value`` names (a queue, topic, function...): its name, decided."""
    found = called(templates, stack, value, kinds)
    if isinstance(found, str):
        default_bus = _default_bus(templates, principal, stack, value)
        return default_bus if default_bus is not None else ("its target", Decision(None, found))
    target, arn = found
    actions, key_actions = SEND[target.type]
    name = label(target) if arn is None else f"{label(target)} (qualifier {arn.rsplit(':', 1)[-1]})"
    return name, may(templates, principal, actions, target, arn=arn, context=context, key_actions=key_actions)


def _default_bus(
    templates: Templates, principal: Principal, stack: Stack, value: Any
) -> tuple[str, Decision] | None:
    """A role sending to the account's default event bus, which has no resource in any template."""
    rendered = render(templates, stack, value) or ""
    if (
        principal.role is None
        or not rendered.startswith("arn:aws:events:")
        or not rendered.endswith(":event-bus/default")
    ):
        return None
    account = rendered.split(":")[4]
    decision = role_may(templates, principal.role, "events:PutEvents", rendered, account=account)
    return f"the default event bus {rendered}", decision


# ---------------------------------------------------------------------------------------- families

EdgeFinder = Callable[[Templates], Iterable[Edge]]


def guarded(
    family: str,
    fix: str,
    templates: Templates,
    types: tuple[str, ...],
    find: Callable[[Resource], Iterable[Edge]],
) -> Iterator[Edge]:
    """``find(resource)`` for each resource of ``types``. A resource the pack cannot read (an intrinsic
    where a list belongs, a value of the wrong shape) gives an undecided edge that names it, never a
    traceback."""
    for resource in templates.of_type(*types):
        try:
            found = list(find(resource))
        except Exception as error:
            why = f"the pack cannot read this resource ({type(error).__name__}: {error})"
            found = [
                Edge(
                    family,
                    resource,
                    "Properties",
                    f"{label(resource)} → its targets",
                    Decision(None, why),
                    fix,
                )
            ]
        yield from found


def decided(templates: Templates, family: EdgeFinder) -> list[Edge]:
    """The edges ``family`` finds in ``templates``, decided once per set of templates: the family's rule
    and ``DeliveryUndecided`` both read them."""
    found: list[Edge] = templates.memo(("edges", family), lambda: list(family(templates)))
    return found


def values_at(value: Any) -> list[Any]:
    """A list property's items. A conditional item or list (``Fn::If [c, x, AWS::NoValue]``) exists only
    when its condition holds, so it is read as present: its edge is decided for the one configuration
    that has it. An ``Fn::If`` between two values is kept as it is (its target is then conditional)."""
    conditional = _present_branch(value)
    if conditional is not None:
        return values_at(conditional)
    items = value if isinstance(value, list) else [] if value is None else [value]
    found = []
    for item in items:
        branch = _present_branch(item)
        found += values_at(branch) if branch is not None else [item]
    return found


def _present_branch(value: Any) -> Any:
    """``x`` of ``Fn::If [c, x, AWS::NoValue]`` (or of ``[c, AWS::NoValue, x]``, or with ``[]`` for
    ``AWS::NoValue``), else None."""
    argument = value.get("Fn::If") if isinstance(value, Mapping) and len(value) == 1 else None
    if not isinstance(argument, list) or len(argument) != 3:
        return None
    branches = [b for b in argument[1:] if b != NO_VALUE and b != []]
    return branches[0] if len(branches) == 1 else None


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else empty: for reading optional nested properties."""
    return value if isinstance(value, Mapping) else {}
