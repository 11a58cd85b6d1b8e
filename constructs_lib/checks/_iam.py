"""IAM's policy evaluation for one request: statements, principals, conditions, and the decision.

The order is AWS's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny in any policy that applies (identity, resource, key) wins before any Allow or delegation;
then a service principal needs an Allow in the resource policy (or the service's default where none is
attached); a role of the same account needs an Allow in its own policies or one that names it in the
resource policy; a role of another account needs both; and a KMS key admits a role only through its key
policy, naming the role or delegating to its account (``arn:aws:iam::<account>:root``) whose IAM
policies must then allow the action too.

Every check answers True, False or None (cannot decide); None is never turned into True or False, and
each None carries what could not be decided (a condition key the pack cannot know, an operator it does
not model, a value only deploy time knows).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._conditions import ContextValue, Verdict, all_of, any_of, condition, wildcard_match
from ._env import (
    ACCOUNT,
    account_of,
    fn_if_conditions,
    meets_literal,
    readable,
    render,
    render_arn,
    same_account,
    symbol,
    unknown_why,
)
from ._model import Resource, Stack, Templates

__all__ = ["Verdict", "all_of", "any_of", "condition", "wildcard_match"]

_REGIONAL_SERVICE = re.compile(
    r"^(?P<service>[a-z0-9.-]+?)\.(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d)\.amazonaws\.com$"
)
_ROOT = re.compile(r"^arn:aws:iam::(?P<account>[^:]+):root$")


# ---------------------------------------------------------------------------------------- principals


@dataclass(frozen=True)
class Principal:
    """Who makes the call: a service principal, a role of the app, or a CloudFront origin access identity."""

    service: str | None = None
    role: Resource | None = None
    oai: Resource | None = None

    def describe(self) -> str:
        if self.role is not None:
            return f"role {self.role.path}"
        if self.oai is not None:
            return f"origin access identity {self.oai.path}"
        return self.service or "an unknown principal"

    @property
    def account(self) -> str | None:
        """The role's account as rendered (literal or placeholder); None for a service principal."""
        return account_of(self.role.stack) if self.role is not None else None


#: How a statement's Principal names the caller.
EXPLICIT, DELEGATED, NO, UNKNOWN = "explicit", "delegated", "no", "unknown"


def _service_name(name: str) -> str:
    """``states.eu-west-1.amazonaws.com`` (a regional service principal) as ``states.amazonaws.com``."""
    match = _REGIONAL_SERVICE.match(name)
    return f"{match.group('service')}.amazonaws.com" if match else name


def _root_account(value: str) -> str | None:
    """The account a principal value names as a whole (its root ARN or its bare id), if it does."""
    match = _ROOT.match(value)
    if match:
        return match.group("account")
    return value if value == ACCOUNT or re.fullmatch(r"\d{12}", value) else None


def name_match(given: Mapping[str, tuple[str | None, ...]], principal: Principal) -> str:
    """How a Principal (or NotPrincipal) element names ``principal``: EXPLICIT, DELEGATED (the root of
    the role's own account), NO or UNKNOWN."""
    if "*" in given or "*" in given.get("AWS", ()):
        return EXPLICIT
    found = _named(given, principal)
    # A principal only deploy time knows (a parameter, a condition) may be any principal.
    return UNKNOWN if found == NO and any(None in values for values in given.values()) else found


def _named(given: Mapping[str, tuple[str | None, ...]], principal: Principal) -> str:
    if principal.service is not None:
        values = given.get("Service", ())
        wanted = _service_name(principal.service)
        return EXPLICIT if wanted in {_service_name(v) for v in values if v is not None} else NO
    if principal.oai is not None:
        canonical = symbol(principal.oai, "S3CanonicalUserId")
        arn = f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {symbol(principal.oai)}"
        named = [*given.get("CanonicalUser", ()), *given.get("AWS", ())]
        return EXPLICIT if canonical in named or arn in named else NO
    if principal.role is None:
        return UNKNOWN
    return _role_match(given.get("AWS", ()), principal.role)


def _role_match(values: tuple[str | None, ...], role: Resource) -> str:
    role_arn, account = role_arn_of(role), account_of(role.stack)
    results = set()
    for value in values:
        if value is None:
            results.add(UNKNOWN)
        elif value == role_arn:
            results.add(EXPLICIT)
        elif (root := _root_account(value)) is not None:
            same = same_account(root, account)
            results.add(DELEGATED if same else NO if same is False else UNKNOWN)
        else:
            results.add(UNKNOWN if meets_literal(role_arn, value) or meets_literal(value, role_arn) else NO)
    for wanted in (EXPLICIT, DELEGATED, UNKNOWN):
        if wanted in results:
            return wanted
    return NO


def role_arn_of(role: Resource) -> str:
    """A role's ARN (its path and name are its own properties: no reference to follow)."""
    return render_arn(_NO_TEMPLATES, role)


_NO_TEMPLATES = Templates([])


# ---------------------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Request:
    """One call of an edge: the principal, the action, the resource's ARN and the request context.

    ``context`` maps lower-case condition keys to the value the caller sends (or the values it may
    send), or None for a key the caller is known not to send; a key missing from it is one the pack
    cannot know."""

    principal: Principal
    action: str
    resource_arn: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    """One policy statement, rendered; ``where`` names its policy, ``index`` its place in it."""

    effect: str  # "Allow", "Deny", or "?" when synth cannot know it
    principals: Mapping[str, tuple[str | None, ...]] | None  # None: an identity policy (no Principal)
    actions: tuple[str | None, ...]
    not_actions: tuple[str | None, ...] = ()
    resources: tuple[str | None, ...] = ()
    not_resources: tuple[str | None, ...] = ()
    conditions: Mapping[str, Mapping[str, tuple[str | None, ...]]] = field(default_factory=dict)
    where: str = "a policy"
    index: int = 0
    sid: str | None = None
    not_principals: Mapping[str, tuple[str | None, ...]] | None = None
    #: What synth cannot read in this statement (an intrinsic where a statement or element belongs).
    opaque: str | None = None
    #: The CloudFormation condition of the resource that holds the statement: it exists only when the
    #: condition holds (a permission or policy with ``Condition: IsProd``).
    only_if: str | None = None
    #: Why an element of the statement cannot be read: "is conditional (Fn::If on X)" or "is known only
    #: at deploy time".
    unknown: str = "is known only at deploy time"

    def describe(self) -> str:
        sid = f" (Sid {self.sid!r})" if self.sid else ""
        return f"{self.where}, Statement[{self.index}]{sid}"


def statements(
    templates: Templates,
    stack: Stack,
    document: Any,
    where: str,
    *,
    resource_policy: bool,
    only_if: str | None = None,
) -> list[Statement]:
    """The statements of a policy document (a template value), rendered. What synth cannot read (an
    ``Fn::If`` where a statement belongs...) becomes an opaque statement, which decides nothing.
    ``only_if`` is the condition of the resource that holds the policy, if it has one."""
    if not isinstance(document, Mapping) or _intrinsic(document):
        return [_opaque(where, 0, f"the policy document {unknown_why(document)}", only_if)]
    raw = document.get("Statement", [])
    if isinstance(raw, Mapping) and _intrinsic(raw):
        return [_opaque(where, 0, f"its statements {unknown_why(raw)}", only_if)]
    items = raw if isinstance(raw, list) else [raw]
    return [
        _statement(templates, stack, item, (where, i, only_if), resource_policy)
        for i, item in enumerate(items)
    ]


def _intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and any(k == "Ref" or str(k).startswith("Fn::") for k in value)


def _opaque(where: str, index: int, why: str, only_if: str | None = None) -> Statement:
    return Statement("?", None, (), where=where, index=index, opaque=why, only_if=only_if)


def _statement(
    templates: Templates, stack: Stack, item: Any, place: tuple[str, int, str | None], resource_policy: bool
) -> Statement:
    where, index, only_if = place
    if not isinstance(item, Mapping) or _intrinsic(item):
        return _opaque(where, index, f"the statement {unknown_why(item)}", only_if)

    def strings(value: Any) -> tuple[str | None, ...]:
        values = value if isinstance(value, list) else [] if value is None else [value]
        return tuple(render(templates, stack, v) for v in values)

    def principal_element(value: Any) -> Mapping[str, tuple[str | None, ...]] | None:
        if value == "*":
            return {"*": ("*",)}
        if not isinstance(value, Mapping) or _intrinsic(value):
            return None
        return {str(k): strings(v) for k, v in value.items()}

    principals = principal_element(item.get("Principal", {})) if resource_policy else None
    not_principals = principal_element(item["NotPrincipal"]) if "NotPrincipal" in item else None
    raw_conditions = item.get("Condition") or {}
    opaque = None
    if not isinstance(raw_conditions, Mapping) or any(
        not isinstance(v, Mapping) for v in raw_conditions.values()
    ):
        opaque, raw_conditions = f"its Condition {unknown_why(raw_conditions)}", {}
    if resource_policy and principals is None and not_principals is None:
        opaque = f"its Principal {unknown_why(item.get('Principal'))}"
    effect = item.get("Effect")
    return Statement(
        effect=effect if effect in ("Allow", "Deny") else "?",
        principals=principals,
        not_principals=not_principals,
        actions=strings(item.get("Action")),
        not_actions=strings(item.get("NotAction")),
        resources=strings(item.get("Resource")),
        not_resources=strings(item.get("NotResource")),
        conditions={
            op: {key: strings(v) for key, v in entries.items()} for op, entries in raw_conditions.items()
        },
        where=where,
        index=index,
        sid=item.get("Sid") if isinstance(item.get("Sid"), str) else None,
        opaque=opaque if effect in ("Allow", "Deny") else opaque or f"its Effect {unknown_why(effect)}",
        only_if=only_if,
        unknown=unknown_why(item) if fn_if_conditions(item) else "is known only at deploy time",
    )


def iter_documents(value: Any) -> Iterator[Any]:
    """The policy documents of a role's inline ``Policies``."""
    for policy in value if isinstance(value, list) else []:
        if isinstance(policy, Mapping):
            yield policy.get("PolicyDocument")


# ---------------------------------------------------------------------------------------- statements apply


def principal_verdict(statement: Statement, principal: Principal) -> tuple[str, str]:
    """How ``statement`` names ``principal`` (EXPLICIT, DELEGATED, NO, UNKNOWN), and why when UNKNOWN."""
    if statement.not_principals is not None:
        excluded = name_match(statement.not_principals, principal)
        if excluded in (EXPLICIT, DELEGATED) and principal.role is not None:
            # A role calls as its sessions (arn:aws:sts::<account>:assumed-role/<role>/<session>): whether
            # NotPrincipal exempts them depends on the session and account ARNs it lists (IAM User Guide,
            # "NotPrincipal"), which synth cannot compare.
            return (
                UNKNOWN,
                "its NotPrincipal names the role or its account, but the role calls as its sessions",
            )
        return {EXPLICIT: NO, NO: EXPLICIT}.get(excluded, UNKNOWN), f"its NotPrincipal {statement.unknown}"
    if statement.principals is None:
        return EXPLICIT, ""  # an identity policy: it is attached to the principal
    found = name_match(statement.principals, principal)
    return found, f"its Principal {statement.unknown}"


def applies(statement: Statement, request: Request, *, principal: str | None = None) -> Verdict:
    """Whether ``statement`` covers ``request`` (principal, action, resource, conditions); with
    ``principal`` given, only when the statement names the caller that way (EXPLICIT or DELEGATED). A
    statement whose policy exists only under a condition covers the request only then: undecided."""
    if statement.opaque:
        return None, statement.opaque
    named, why_named = principal_verdict(statement, request.principal)
    if named == UNKNOWN:
        return None, why_named
    if named == NO or (principal is not None and named != principal):
        return False, ""
    checks: list[Verdict] = [
        _element("Action", statement, statement.actions, statement.not_actions, request.action),
        _resource_matches(statement, request.resource_arn),
    ]
    checks += [
        condition(operator, key, values, request.context)
        for operator, entries in statement.conditions.items()
        for key, values in entries.items()
    ]
    if any(value is False for value, _ in checks):
        return False, ""
    undecided = [why for value, why in checks if value is None]
    if undecided:
        return None, undecided[0]
    if statement.only_if:
        return None, f"its policy exists only when the condition {statement.only_if} holds"
    return True, ""


def _listed(
    items: tuple[str | None, ...], not_items: tuple[str | None, ...], value: str, *, ignore_case: bool = False
) -> bool | None:
    if not_items:
        hit = any_of(
            None if p is None else wildcard_match(p, value, ignore_case=ignore_case) for p in not_items
        )
        return None if hit is None else not hit
    return any_of(None if p is None else wildcard_match(p, value, ignore_case=ignore_case) for p in items)


def _element(
    name: str,
    statement: Statement,
    items: tuple[str | None, ...],
    not_items: tuple[str | None, ...],
    value: str,
) -> Verdict:
    """Whether an element (``Action``, ``Resource``) covers ``value``, and why when it cannot be told: a
    value of the element only deploy time knows, or a pattern that may or may not match ``value``."""
    ignore_case = name == "Action"
    found = _listed(items, not_items, value, ignore_case=ignore_case)
    if found is not None:
        return found, ""
    patterns = not_items or items
    if None in patterns:
        return None, f"its {name} {statement.unknown}"
    unsure = next(
        p for p in patterns if p is not None and wildcard_match(p, value, ignore_case=ignore_case) is None
    )
    return None, (
        f"its {'Not' if not_items else ''}{name} {unsure} may or may not match {readable(value)}, whose "
        "account, region or generated name only deploy time knows"
    )


def action_matches(statement: Statement, action: str) -> bool | None:
    """Whether the statement's Action (or NotAction) covers ``action``, whatever the resource."""
    return _listed(statement.actions, statement.not_actions, action, ignore_case=True)


def _resource_matches(statement: Statement, arn: str) -> Verdict:
    if statement.principals is not None and not statement.resources and not statement.not_resources:
        return True, ""  # a resource policy may leave Resource out: the policy's own resource
    return _element("Resource", statement, statement.resources, statement.not_resources, arn)


# ---------------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Decision:
    """``allowed`` True, False or None (cannot decide), with what decided it."""

    allowed: bool | None
    why: str


@dataclass(frozen=True)
class Policies:
    """Every policy one request must pass, read from the templates."""

    #: The target's resource (or key) policy; None when none is attached, so the default applies.
    resource: Sequence[Statement] | None
    #: The role's own policies (for a role principal).
    identity: Sequence[Statement] = ()
    #: The service's behaviour where no resource policy is attached, and its name for messages.
    default_allows: bool = False
    default_name: str = "the service's default"
    #: A KMS key policy: IAM policies count only where the key policy delegates to the account.
    key_policy: bool = False
    #: Whether the principal's account is the target's (None: synth cannot compare them).
    same_account: bool | None = True
    #: Policies that may allow the call, which the pack cannot read: AWS managed policies whose content no
    #: template holds, policies whose target only deploy time knows. A refusal becomes undecided.
    might_allow: tuple[str, ...] = ()
    #: Names the resource policy in messages ("queue policy /S/Q/Policy/Resource").
    resource_name: str = "the resource policy"
    #: The role's permissions boundary: its statements (None: no boundary), or a sentence naming one the
    #: pack cannot read (an AWS managed policy, a policy outside the app).
    boundary: Sequence[Statement] | None = None
    boundary_unread: str | None = None


def decide(request: Request, policies: Policies) -> Decision:
    """IAM's evaluation of one request: an explicit Deny first, then the Allows (see the module), then a
    role's permissions boundary, which must allow the action too."""
    every = [*(policies.resource or ()), *policies.identity, *(policies.boundary or ())]
    pending: tuple[Statement, str] | None = None
    for statement in every:
        if statement.effect == "Allow":
            continue
        hit, why = applies(statement, request)
        if hit is True and statement.effect == "Deny":
            return Decision(False, f"{statement.describe()} denies {request.action}")
        if hit is not False and pending is None:
            pending = (statement, why or "its Effect is not known at synth")
    allowed = _allow(request, policies)
    if allowed.allowed is True:
        allowed = _within_boundary(request, policies)
    if allowed.allowed is False and policies.might_allow:
        return Decision(None, f"{allowed.why}, unless {', '.join(policies.might_allow)} does")
    if allowed.allowed is False or pending is None:
        return allowed
    statement, why = pending
    return Decision(None, f"cannot decide whether {statement.describe()} denies {request.action}: {why}")


def _within_boundary(request: Request, policies: Policies) -> Decision:
    """An allowed role call, limited by the role's permissions boundary (IAM: the boundary must allow the
    action too, whether the identity or the resource policy granted it to the role's ARN)."""
    action = request.action
    if policies.boundary_unread:
        why = f"its permissions boundary {policies.boundary_unread} cannot be read, so whether it allows"
        return Decision(None, f"{why} {action} only deploy time knows")
    if policies.boundary is None:
        return Decision(True, "allowed")
    found, statement, reason = _verdicts(policies.boundary, request)
    if found is None:
        return Decision(None, f"cannot decide whether {statement} allows {action}: {reason}")
    if found is False:
        name = policies.boundary[0].where if policies.boundary else "the role's permissions boundary"
        return Decision(
            False, f"no statement of {name} allows {action} (a role's boundary must allow what it calls too)"
        )
    return Decision(True, "allowed")


def _verdicts(
    statements: Iterable[Statement], request: Request, principal: str | None = None
) -> tuple[bool | None, str, str]:
    """Whether any Allow of ``statements`` covers the request: the verdict, the statement that decided
    (or the first that could not be decided), and why it could not."""
    undecided: tuple[str, str] | None = None
    for statement in statements:
        if statement.effect == "Deny":
            continue
        hit, why = applies(statement, request, principal=principal)
        if hit is True and statement.effect == "Allow":
            return True, statement.describe(), ""
        if hit is not False and undecided is None:
            undecided = (statement.describe(), why or "its Effect is not known at synth")
    return (None, *undecided) if undecided else (False, "", "")


def _allow(request: Request, policies: Policies) -> Decision:
    action, who = request.action, request.principal.describe()
    if request.principal.role is None:
        if policies.resource is None:
            if policies.default_allows:
                return Decision(True, f"{policies.default_name} allows it")
            return Decision(
                False, f"no resource policy is attached, and {policies.default_name} does not allow it"
            )
        found, statement, why = _verdicts(policies.resource, request)
        if found is None:
            return Decision(None, f"cannot decide whether {statement} allows {action}: {why}")
        if found:
            return Decision(True, f"{statement} allows it")
        refused = f"no statement of {policies.resource_name} allows {action} for {who}"
        return Decision(False, refused + _near_miss(policies.resource, request))
    return _role_allow(request, policies)


def _near_miss(statements: Iterable[Statement], request: Request) -> str:
    """For a refusal: the first Allow that names the caller and the action but whose condition fails,
    and which condition (``; Statement[0] names it, but ... aws:SourceArn is ..., not ...``)."""
    for statement in statements:
        if statement.effect != "Allow" or statement.opaque:
            continue
        named, _ = principal_verdict(statement, request.principal)
        matched = _element("Action", statement, statement.actions, statement.not_actions, request.action)[0]
        if named not in (EXPLICIT, DELEGATED) or matched is not True:
            continue
        if _resource_matches(statement, request.resource_arn)[0] is False:
            covered = ", ".join(
                readable(r or "(a value only deploy time knows)") for r in statement.resources
            )
            return f"; {statement.describe()} names it for {covered}, not {readable(request.resource_arn)}"
        for operator, entries in statement.conditions.items():
            for key, values in entries.items():
                if condition(operator, key, values, request.context)[0] is False:
                    sent = request.context.get(key.lower())
                    shown = (
                        f"{request.principal.describe()} does not send {key}"
                        if sent is None
                        else f"{key} is {readable(str(sent))}"
                    )
                    wanted = ", ".join(v or "(a value only deploy time knows)" for v in values)
                    where = f"{statement.describe()} names it, but its condition {operator} {key} {wanted}"
                    return f"; {where} fails: {shown}"
    return ""


def _role_allow(request: Request, policies: Policies) -> Decision:
    identity = _verdicts(policies.identity, request)
    resource = policies.resource or ()
    named = _verdicts(resource, request, EXPLICIT)
    delegated = _verdicts(resource, request, DELEGATED)
    through_account = any_of([named[0], delegated[0]])
    cross = all_of([through_account, identity[0]])
    same = (
        any_of([named[0], all_of([delegated[0], identity[0]])])
        if policies.key_policy
        else any_of([identity[0], named[0]])
    )
    result = (
        {True: same, False: cross}.get(policies.same_account)
        if policies.same_account is not None
        else (same if same == cross else None)
    )
    if result is True:
        return Decision(True, "allowed")
    if result is None:
        found = next((v for v in (identity, named, delegated) if v[0] is None), None)
        if found is None:
            return Decision(None, "synth cannot tell whether the role and the resource are in one account")
        return Decision(None, f"cannot decide whether {found[1]} allows {request.action}: {found[2]}")
    return _role_refusal(request, policies, through_account)


def _role_refusal(request: Request, policies: Policies, through_account: bool | None) -> Decision:
    action, who = request.action, request.principal.describe()
    if policies.key_policy and not through_account:
        why = (
            f"{policies.resource_name} neither names {who} nor delegates to its account, so no IAM "
            f"policy can grant {action}"
        )
    elif policies.same_account is False and not through_account:
        why = f"{who} is in another account, and no statement of {policies.resource_name} allows {action}"
    elif policies.key_policy or policies.same_account is False:
        why = (
            f"{policies.resource_name} lets the role's account decide, and no statement of the role's "
            f"policies allows {action}"
        )
    elif not policies.resource:
        why = f"no statement of the role's policies allows {action}"
    else:
        why = f"no statement of the role's policies or of {policies.resource_name} allows {action}"
    return Decision(False, why)
