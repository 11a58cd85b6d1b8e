"""The service-to-service edges of an app, each decided from the policies the templates hold.

An edge is one call a service makes on the app's behalf: an alarm publishing to a topic, a rule invoking
a function, a mapping reading a queue, CloudFront reading a bucket... For each, the principal (a service
principal, or a role of the app) and every policy the call must pass are read from the templates, and
:func:`constructs_lib.checks._iam.decide` says whether it can deliver: True, False, or None (cannot
decide, for example an imported topic whose policy no template holds).

Defaults, where no resource policy is attached (AWS's documented behaviour):

- SNS: the default topic policy admits the topic owner's account, so CloudWatch alarms of the same
  account may publish; no other service principal is admitted.
- SQS, S3, Lambda: no resource policy admits no service principal; roles of the account need an
  identity-policy Allow.
- KMS: a customer managed key needs its key policy to allow a service principal itself; a role passes
  when the key policy allows it, or allows the account root and the role's policies allow the action.
  AWS managed keys (``alias/aws/sqs``, ``alias/aws/sns``, S3's ``aws/s3``) admit the account's roles
  through their service and never a service principal: their policies cannot be changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._iam import (
    ACCOUNT,
    REGION,
    Decision,
    Principal,
    Request,
    Statement,
    account_root_allowed,
    decide,
    iter_documents,
    render,
    render_arn,
    resolve,
    statements,
)
from ._lambda import FUNCTION, function_target
from ._model import Resource, Stack, Templates

QUEUE, TOPIC, BUCKET, KEY, ROLE = (
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::IAM::Role",
)
AWS_MANAGED_KEYS = ("alias/aws/sqs", "alias/aws/sns", "alias/aws/s3")
SECURE = {"aws:securetransport": "true"}
#: AWS managed policies whose content matters to an edge, as AWS publishes them.
_MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole": [],
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
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


# ---------------------------------------------------------------------------------------- policies


def _attached(
    templates: Templates, kind: str, key: str, target: Resource, where: str
) -> list[Statement] | None:
    """Statements of every ``kind`` policy whose ``key`` names ``target``; None when there is none."""
    found: list[Statement] | None = None
    for policy in templates.of_type(kind):
        if target in templates.references(policy.stack, policy.props.get(key), target.type):
            found = (found or []) + statements(
                templates, policy.stack, policy.props.get("PolicyDocument"), where, resource_policy=True
            )
    return found


def queue_policy(templates: Templates, queue: Resource) -> list[Statement] | None:
    return _attached(templates, "AWS::SQS::QueuePolicy", "Queues", queue, "queue policy")


def topic_policy(templates: Templates, topic: Resource) -> list[Statement] | None:
    found = _attached(templates, "AWS::SNS::TopicPolicy", "Topics", topic, "topic policy")
    inline = _attached(templates, "AWS::SNS::TopicInlinePolicy", "TopicArn", topic, "topic policy")
    return found if inline is None else (found or []) + inline


def bucket_policy(templates: Templates, bucket: Resource) -> list[Statement] | None:
    return _attached(templates, "AWS::S3::BucketPolicy", "Bucket", bucket, "bucket policy")


def lambda_permissions(templates: Templates, function: Resource) -> list[Statement] | None:
    """``AWS::Lambda::Permission`` resources on ``function``, its versions and aliases (a permission on an
    alias is taken to cover a call through that alias: qualifiers are not compared)."""
    found: list[Statement] | None = None
    for permission in templates.of_type("AWS::Lambda::Permission"):
        props = permission.props
        target = function_target(templates, permission.stack, props.get("FunctionName"))
        if target is None or target.function != function:
            continue
        conditions: dict[str, dict[str, Any]] = {}
        for prop, operator, key in (
            ("SourceArn", "ArnLike", "aws:SourceArn"),
            ("SourceAccount", "StringEquals", "aws:SourceAccount"),
            ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
        ):
            if prop in props:
                conditions.setdefault(operator, {})[key] = props[prop]
        if props.get("InvokedViaFunctionUrl") is not None:
            conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = props["InvokedViaFunctionUrl"]
        principal = props.get("Principal")
        rendered_principal = render(templates, permission.stack, principal)
        kind = "Service" if rendered_principal and rendered_principal.endswith(".amazonaws.com") else "AWS"
        document = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {kind: principal},
                    "Action": props.get("Action"),
                    "Condition": conditions,
                    "Sid": permission.logical_id,
                }
            ]
        }
        found = (found or []) + statements(
            templates, permission.stack, document, "Lambda permission", resource_policy=True
        )
    return found


def role_policies(templates: Templates, role: Resource) -> tuple[list[Statement], list[str]]:
    """The role's identity statements, and the AWS managed policies whose content no template holds."""
    found = [
        s
        for document in iter_documents(role.props.get("Policies"))
        for s in statements(templates, role.stack, document, "role policy", resource_policy=False)
    ]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in templates.of_type(kind):
            if role in templates.references(policy.stack, policy.props.get("Roles"), ROLE):
                found += statements(
                    templates,
                    policy.stack,
                    policy.props.get("PolicyDocument"),
                    "role policy",
                    resource_policy=False,
                )
    unknown = []
    for arn in role.props.get("ManagedPolicyArns") or []:
        rendered = render(templates, role.stack, arn) or "an unresolved managed policy"
        name = rendered.split(":policy/", 1)[-1]
        if name in _MANAGED_POLICIES:
            actions = _MANAGED_POLICIES[name]
            if actions:
                document = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
                found += statements(
                    templates, role.stack, document, f"managed policy {name}", resource_policy=False
                )
        elif resolve(templates, role.stack, arn, "AWS::IAM::ManagedPolicy") is None:
            unknown.append(rendered)
    return found, unknown


def role_of_function(templates: Templates, function: Resource) -> Resource | None:
    return resolve(templates, function.stack, function.props.get("Role"), ROLE)


def trusts(templates: Templates, role: Resource, service: str) -> Decision:
    """Whether ``role``'s trust policy lets ``service`` assume it."""
    trust = statements(
        templates,
        role.stack,
        role.props.get("AssumeRolePolicyDocument"),
        "trust policy",
        resource_policy=True,
    )
    request = Request(Principal(service=service), "sts:AssumeRole", render_arn(role), SECURE)
    decision = decide(request, resource_policy=trust)
    if decision.allowed is False:
        return Decision(False, f"role {role.logical_id}'s trust policy does not let {service} assume it")
    return decision


# ---------------------------------------------------------------------------------------- requests


def _role_request(
    templates: Templates, role: Resource, action: str, arn: str, resource_policy: list[Statement] | None
) -> Decision:
    identity, unknown = role_policies(templates, role)
    request = Request(Principal(role=role), action, arn, {**SECURE, "kms:calleraccount": ACCOUNT})
    decision = decide(request, resource_policy=resource_policy or [], identity_policy=identity)
    if decision.allowed is False and unknown and "denies" not in decision.why:
        return Decision(None, f"{decision.why}, unless AWS managed policy {', '.join(unknown)} does")
    return decision


def may(
    templates: Templates,
    principal: Principal,
    actions: tuple[str, ...],
    target: Resource,
    *,
    arn: str | None = None,
    context: Mapping[str, str] | None = None,
    key_actions: tuple[str, ...] = (),
) -> Decision:
    """Whether ``principal`` may do ``actions`` on ``target`` (and the key actions on its key)."""
    policy, default_allows, default_name = _resource_policy(templates, target, principal, context or {})
    resource_arn = arn or render_arn(target)
    decisions = []
    for action in actions:
        if principal.role is not None:
            decisions.append(_role_request(templates, principal.role, action, resource_arn, policy))
        else:
            request = Request(principal, action, resource_arn, {**SECURE, **(context or {})})
            decisions.append(
                decide(
                    request, resource_policy=policy, default_allows=default_allows, default_name=default_name
                )
            )
    if key_actions:
        decisions.append(key_allows(templates, principal, target, key_actions, context or {}))
    decision = combine(*decisions)
    if decision.allowed is True:
        return decision
    return Decision(decision.allowed, f"{_name(target)}: {decision.why}")


def _resource_policy(
    templates: Templates, target: Resource, principal: Principal, context: Mapping[str, str]
) -> tuple[list[Statement] | None, bool, str]:
    if target.type == QUEUE:
        return queue_policy(templates, target), False, "SQS's default (the queue owner's account only)"
    if target.type == TOPIC:
        same_account = principal.service == "cloudwatch.amazonaws.com"
        return topic_policy(templates, target), same_account, "SNS's default topic policy (the owner account)"
    if target.type == BUCKET:
        return bucket_policy(templates, target), False, "S3's default (no bucket policy)"
    if target.type == FUNCTION:
        return lambda_permissions(templates, target), False, "Lambda's default (no permission)"
    return None, False, f"{target.type}'s default"


def _name(resource: Resource) -> str:
    return f"{resource.type.split('::')[-1].lower()} {resource.logical_id}"


def key_of(templates: Templates, target: Resource) -> Resource | str | None:
    """The key that encrypts ``target``: a key of the app, ``"aws-managed"``, ``"none"``, or None."""
    if target.type == BUCKET:
        rules = (target.props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
        default = (rules[0] if rules else {}).get("ServerSideEncryptionByDefault") or {}
        if not str(default.get("SSEAlgorithm", "AES256")).startswith("aws:kms"):
            return "none"
        value = default.get("KMSMasterKeyID")
    else:
        value = target.props.get("KmsMasterKeyId")
    if value is None:
        return "aws-managed" if target.type == BUCKET else "none"
    rendered = render(templates, target.stack, value)
    if rendered is not None and any(rendered == k or rendered.endswith(f":{k}") for k in AWS_MANAGED_KEYS):
        return "aws-managed"
    return resolve(templates, target.stack, value, KEY)


def key_allows(
    templates: Templates,
    principal: Principal,
    target: Resource,
    actions: tuple[str, ...],
    context: Mapping[str, str],
) -> Decision:
    """Whether the key of ``target`` lets ``principal`` do ``actions`` (``kms:Decrypt``...)."""
    key = key_of(templates, target)
    if key == "none":
        return Decision(True, "not encrypted with KMS")
    if key == "aws-managed":
        if principal.service is not None:
            return Decision(
                False,
                f"it is encrypted with an AWS managed key, whose policy can never admit {principal.service}; "
                "use SSE-SQS/SSE-S3 or a customer managed key that grants the service",
            )
        return Decision(True, "the AWS managed key admits the account's roles through its service")
    if not isinstance(key, Resource):
        return Decision(None, "its KMS key is not defined in this app, so its key policy cannot be read")
    policy = statements(templates, key.stack, key.props.get("KeyPolicy"), "key policy", resource_policy=True)
    # The data service calls KMS on the caller's behalf: kms:ViaService names it.
    service = {QUEUE: "sqs", TOPIC: "sns", BUCKET: "s3"}.get(target.type)
    via = {"kms:viaservice": f"{service}.{REGION}.amazonaws.com"} if service else {}
    decisions = []
    for action in actions:
        key_context = {**SECURE, **context, **via, "kms:calleraccount": ACCOUNT}
        request = Request(principal, action, render_arn(key), key_context)
        direct = decide(request, resource_policy=policy)
        if (
            direct.allowed is not True
            and principal.role is not None
            and any(map(account_root_allowed, policy))
        ):
            direct = _role_request(templates, principal.role, action, render_arn(key), None)
        decisions.append(direct)
    decision = combine(*decisions)
    return (
        decision if decision.allowed else Decision(decision.allowed, f"key {key.logical_id}: {decision.why}")
    )


# ---------------------------------------------------------------------------------------- edge helpers


SEND = {
    QUEUE: (("sqs:SendMessage",), ("kms:GenerateDataKey", "kms:Decrypt")),
    TOPIC: (("sns:Publish",), ("kms:GenerateDataKey", "kms:Decrypt")),
    FUNCTION: (("lambda:InvokeFunction",), ()),
}


def deliver(
    templates: Templates,
    principal: Principal,
    stack: Stack,
    value: Any,
    *,
    context: Mapping[str, str] | None = None,
    kinds: tuple[str, ...] = (QUEUE, TOPIC, FUNCTION),
) -> tuple[str, Decision]:
    """``principal`` sends to whatever ``value`` names (a queue, topic or function): its name, decided."""
    if FUNCTION in kinds:
        target_function = function_target(templates, stack, value)
        if target_function is not None:
            decision = may(templates, principal, SEND[FUNCTION][0], target_function.function, context=context)
            return _name(target_function.function), decision
    target = resolve(templates, stack, value, *[k for k in kinds if k != FUNCTION])
    if target is None:
        shown = render(templates, stack, value) or "a value only deploy time knows"
        return shown, Decision(None, f"{shown} is not defined in this app, so its policies cannot be read")
    actions, key_actions = SEND[target.type]
    return _name(target), may(templates, principal, actions, target, context=context, key_actions=key_actions)


def source_context(source: Resource) -> dict[str, str]:
    """``aws:SourceArn`` and ``aws:SourceAccount`` as a service sends them for ``source``."""
    return {"aws:sourcearn": render_arn(source), "aws:sourceaccount": ACCOUNT, "aws:sourceowner": ACCOUNT}


def edge(family: str, source: Resource, location: str, target: str, decision: Decision, fix: str) -> Edge:
    return Edge(family, source, location, f"{_name(source)} → {target}", decision, fix)


EdgeFinder = Callable[[Templates], Iterable[Edge]]


def decided(templates: Templates, family: EdgeFinder) -> list[Edge]:
    """The edges ``family`` finds in ``templates``, decided once per set of templates: the family's rule
    and ``DeliveryUndecided`` both read them."""
    cache: dict[EdgeFinder, list[Edge]] = templates.__dict__.setdefault("_decided_edges", {})
    if family not in cache:
        cache[family] = list(family(templates))
    return cache[family]


def values_at(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]
