"""The policies an edge must pass, read from the templates: resource policies, a role's, a key's.

Each is indexed once per set of templates (``Templates.memo``), so an app of hundreds of stacks is read
in one pass per policy type, not once per edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._env import NO_VALUE, lookup, might_name, render, resolve
from ._iam import Statement, iter_documents, statements
from ._lambda import FUNCTION, FunctionTarget, invoked_arn, invoked_function
from ._model import Resource, Stack, Templates

QUEUE, TOPIC, BUCKET = "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket"
KEY, ROLE = "AWS::KMS::Key", "AWS::IAM::Role"
EVENT_BUS, STATE_MACHINE = "AWS::Events::EventBus", "AWS::StepFunctions::StateMachine"
KINESIS, FIREHOSE, TABLE, GLOBAL_TABLE = (
    "AWS::Kinesis::Stream",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
)
AWS_MANAGED_KEYS = ("alias/aws/sqs", "alias/aws/sns", "alias/aws/s3", "alias/aws/kinesis")
#: AWS managed policies whose content matters to an edge, as AWS publishes them.
_MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole": [],
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    "service-role/AWSLambdaKinesisExecutionRole": [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
    ],
    "service-role/AWSLambdaDynamoDBExecutionRole": [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ],
}


@dataclass(frozen=True)
class ResourcePolicy:
    """One resource policy as attached: the resource that attaches it, and its statements."""

    name: str
    statements: list[Statement]


#: Policy types that attach a whole policy to each resource they name: (policy type, property).
_WHOLE_POLICIES = {
    QUEUE: (
        ("AWS::SQS::QueuePolicy", "Queues", "queue policy"),
        ("AWS::SQS::QueueInlinePolicy", "Queue", "queue policy"),
    ),
    TOPIC: (
        ("AWS::SNS::TopicPolicy", "Topics", "topic policy"),
        ("AWS::SNS::TopicInlinePolicy", "TopicArn", "topic policy"),
    ),
    BUCKET: (("AWS::S3::BucketPolicy", "Bucket", "bucket policy"),),
}


def only_if(resource: Resource) -> str | None:
    """The CloudFormation condition a resource is created under (its ``Condition``), if any."""
    condition = _mapping(resource.stack.resources.get(resource.logical_id)).get("Condition")
    return condition if isinstance(condition, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _values(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


#: Where the index keeps the policies whose targets only deploy time knows.
UNKNOWN = Resource(Stack("«unknown»", "", {}), "«unknown»")


def named_targets(
    templates: Templates, holder: Resource, key: str, target_type: str
) -> tuple[list[Resource], bool]:
    """The resources of ``target_type`` that ``holder``'s ``key`` (``Roles``, ``Queues``...) names, by
    reference or by a literal name, ARN or URL; and whether it names one the pack cannot resolve that
    may be one of them (a value only deploy time knows, a literal ARN of an environment-agnostic stack)."""
    found: list[Resource] = []
    unknown = False
    for item in _values(holder.props.get(key)):
        named = templates.references(holder.stack, item, target_type)
        if named:
            found += named
            continue
        rendered = render(templates, holder.stack, item)
        literal = lookup(templates, holder.stack, rendered, target_type)
        if literal is not None:
            found.append(literal)
        elif might_name(templates, holder.stack, rendered, target_type):
            unknown = True
    return list(dict.fromkeys(found)), unknown


def _index(templates: Templates, kind: str, key: str, target_type: str) -> dict[Resource, list[Resource]]:
    def build() -> dict[Resource, list[Resource]]:
        found: dict[Resource, list[Resource]] = {}
        for policy in templates.of_type(kind):
            targets, unknown = named_targets(templates, policy, key, target_type)
            for target in targets:
                found.setdefault(target, []).append(policy)
            if unknown:
                found.setdefault(UNKNOWN, []).append(policy)
        return found

    index: dict[Resource, list[Resource]] = templates.memo(("attached", kind, key, target_type), build)
    return index


def might_attach(templates: Templates, target: Resource) -> list[str]:
    """Resource policies (or Lambda permissions) that may name ``target``: their targets only deploy
    time knows, so they may allow a call the policies read refuse."""
    if target.type == FUNCTION:
        lambda_permissions(templates, target)
        unknown: list[Resource] = templates.memo("lambda permissions to unknown functions", list)
    else:
        unknown = [
            policy
            for kind, key, _label in _WHOLE_POLICIES.get(target.type, ())
            for policy in _index(templates, kind, key, target.type).get(UNKNOWN, [])
        ]
    return [
        f"{policy.type.split('::')[-1]} {policy.path} (its target is known only at deploy time)"
        for policy in unknown
    ]


def resource_policies(templates: Templates, target: Resource) -> list[ResourcePolicy] | None:
    """The resource policies attached to ``target``; None when none is (the service's default applies).

    A queue, topic or bucket has one policy: each ``QueuePolicy``/``TopicPolicy``/``BucketPolicy`` (or
    inline policy) that names it sets the whole policy, so where there are several, one replaces the
    others. A function's permissions add up to one policy."""
    if target.type == FUNCTION:
        permissions = lambda_permissions(templates, target)
        return None if permissions is None else [ResourcePolicy("the function's permissions", permissions)]
    found = []
    for kind, key, label in _WHOLE_POLICIES.get(target.type, ()):
        for policy in _index(templates, kind, key, target.type).get(target, []):
            where = f"{label} {policy.path}"
            document = policy.props.get("PolicyDocument")
            read = statements(
                templates, policy.stack, document, where, resource_policy=True, only_if=only_if(policy)
            )
            found.append(ResourcePolicy(where, read))
    return found or None


def lambda_permissions(templates: Templates, function: Resource) -> list[Statement] | None:
    """``AWS::Lambda::Permission`` resources on ``function``, its versions and aliases, as statements. Each
    covers the ARN it names, qualifier included: a permission on an alias admits calls through that alias
    only, and one on the function calls of the unqualified function only (Lambda's "aliases and resource
    policies")."""

    def build() -> dict[Resource, list[Statement]]:
        found: dict[Resource, list[Statement]] = {}
        unknown: list[Resource] = templates.memo("lambda permissions to unknown functions", list)
        for permission in templates.of_type("AWS::Lambda::Permission"):
            name = permission.props.get("FunctionName")
            target = invoked_function(templates, permission.stack, name)
            if target is not None:
                found.setdefault(target.function, []).extend(_permission(templates, permission, target))
            elif might_name(templates, permission.stack, render(templates, permission.stack, name), FUNCTION):
                unknown.append(permission)
        return found

    index: dict[Resource, list[Statement]] = templates.memo("lambda permissions", build)
    return index.get(function)


#: Permission properties → the condition each stands for (``PrincipalOrgID`` is one the pack cannot
#: know at synth: the organization of the caller).
_PERMISSION_CONDITIONS = (
    ("SourceArn", "ArnLike", "aws:SourceArn"),
    ("SourceAccount", "StringEquals", "aws:SourceAccount"),
    ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
    ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
    ("EventSourceToken", "StringEquals", "lambda:EventSourceToken"),
)


def _permission(templates: Templates, permission: Resource, target: FunctionTarget) -> list[Statement]:
    props = permission.props
    conditions: dict[str, dict[str, Any]] = {}
    for prop, operator, key in _PERMISSION_CONDITIONS:
        if prop in props:
            conditions.setdefault(operator, {})[key] = props[prop]
    if props.get("InvokedViaFunctionUrl") is not None:
        conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = props["InvokedViaFunctionUrl"]
    principal = props.get("Principal")
    rendered = render(templates, permission.stack, principal) or ""
    kind = (
        "Service" if rendered.endswith(".amazonaws.com") or rendered.endswith(".amazonaws.com.cn") else "AWS"
    )
    statement = {
        "Effect": "Allow",
        "Principal": {kind: principal},
        "Action": props.get("Action"),
        "Resource": invoked_arn(templates, target),
        "Condition": conditions,
    }
    where = f"Lambda permission {permission.path}"
    return statements(
        templates,
        permission.stack,
        {"Statement": [statement]},
        where,
        resource_policy=True,
        only_if=only_if(permission),
    )


@dataclass(frozen=True)
class RolePolicies:
    """A role's identity statements, the policies that may add to them which the pack cannot read, and
    its permissions boundary (None: no boundary), or the name of a boundary the pack cannot read."""

    identity: list[Statement]
    unread: list[str]
    boundary: list[Statement] | None = None
    boundary_unread: str | None = None


def role_policies(templates: Templates, role: Resource) -> RolePolicies:
    """What a role's calls are allowed by: its inline policies, the ``AWS::IAM::Policy``,
    ``ManagedPolicy`` and ``RolePolicy`` resources that name it (by reference or by name), the managed
    policies it lists in ``ManagedPolicyArns`` (those of the app read, AWS's Lambda execution policies as
    published), and its permissions boundary."""

    def build() -> dict[Resource, list[Resource]]:
        found: dict[Resource, list[Resource]] = {}
        for policy in templates.of_type(
            "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"
        ):
            key = "RoleName" if policy.type == "AWS::IAM::RolePolicy" else "Roles"
            roles, unknown = named_targets(templates, policy, key, ROLE)
            for named in roles:
                found.setdefault(named, []).append(policy)
            if unknown:
                found.setdefault(UNKNOWN, []).append(policy)
        return found

    def read() -> RolePolicies:
        where = f"role {role.path}'s policies"
        found = [
            s
            for document in iter_documents(role.props.get("Policies"))
            for s in statements(templates, role.stack, document, where, resource_policy=False)
        ]
        attached: dict[Resource, list[Resource]] = templates.memo("role policies", build)
        for policy in attached.get(role, []):
            found += _policy_statements(templates, policy)
        unread = _managed(templates, role, found)
        unread += [
            f"policy {p.path} (its roles are known only at deploy time)" for p in attached.get(UNKNOWN, [])
        ]
        boundary, boundary_unread = _boundary(templates, role)
        return RolePolicies(found, unread, boundary, boundary_unread)

    result: RolePolicies = templates.memo(("role", role), read)
    return result


def _policy_statements(templates: Templates, policy: Resource) -> list[Statement]:
    document = policy.props.get("PolicyDocument")
    label = f"policy {policy.path}"
    return statements(
        templates, policy.stack, document, label, resource_policy=False, only_if=only_if(policy)
    )


def _app_managed_policy(templates: Templates, role: Resource, arn: Any) -> Resource | None:
    """The ``AWS::IAM::ManagedPolicy`` of the app that ``arn`` names (a reference, or its literal ARN)."""
    found = resolve(templates, role.stack, arn, "AWS::IAM::ManagedPolicy")
    if found is not None:
        return found
    return lookup(templates, role.stack, render(templates, role.stack, arn), "AWS::IAM::ManagedPolicy")


def _managed(templates: Templates, role: Resource, found: list[Statement]) -> list[str]:
    unread = []
    arns = role.props.get("ManagedPolicyArns")
    for arn in arns if isinstance(arns, list) else []:
        in_app = _app_managed_policy(templates, role, arn)
        if in_app is not None:
            if role not in named_targets(templates, in_app, "Roles", ROLE)[0]:
                found += _policy_statements(templates, in_app)  # else read above, as naming the role
            continue
        rendered = render(templates, role.stack, arn) or "an unresolved managed policy"
        name = rendered.split(":policy/", 1)[-1]
        if name in _MANAGED_POLICIES:
            actions = _MANAGED_POLICIES[name]
            if actions:
                document = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
                where = f"managed policy {name}"
                found += statements(templates, role.stack, document, where, resource_policy=False)
        else:
            unread.append(f"AWS managed policy {rendered}")
    return unread


def _boundary(templates: Templates, role: Resource) -> tuple[list[Statement] | None, str | None]:
    """The role's permissions boundary: a managed policy of the app is read; another (AWS managed, or
    outside the app) cannot be, and is named."""
    value = role.props.get("PermissionsBoundary")
    if value is None:
        return None, None
    policy = _app_managed_policy(templates, role, value)
    if policy is None:
        return None, render(templates, role.stack, value) or "(a value only deploy time knows)"
    document = policy.props.get("PolicyDocument")
    where = f"permissions boundary {policy.path}"
    return statements(templates, policy.stack, document, where, resource_policy=False), None


def key_policy(templates: Templates, key: Resource) -> list[Statement]:
    def read() -> list[Statement]:
        where = f"key policy of {key.path}"
        return statements(templates, key.stack, key.props.get("KeyPolicy"), where, resource_policy=True)

    found: list[Statement] = templates.memo(("key policy", key), read)
    return found


KeyClass = Resource | str | None


@dataclass(frozen=True)
class ConditionalKey:
    """A target whose encryption is an ``Fn::If``: the key of each branch (``when`` the condition holds,
    then ``otherwise``)."""

    condition: str
    when: KeyClass
    otherwise: KeyClass


def key_of(templates: Templates, target: Resource) -> KeyClass | ConditionalKey:
    """The key that encrypts ``target``: a key of the app, ``"aws-managed"``, ``"none"``, or None; where
    the encryption is conditional and its branches differ, each branch's (aws-cdk-lib's Kinesis streams
    are unencrypted in regions without KMS and use aws/kinesis elsewhere)."""
    value = _key_value(target)
    if isinstance(value, _Branches):
        when, otherwise = (_key_class(templates, target, branch) for branch in value.branches)
        return when if when == otherwise else ConditionalKey(value.condition, when, otherwise)
    return _key_class(templates, target, value)


_NO_KEY = object()


@dataclass(frozen=True)
class _Branches:
    condition: str
    branches: tuple[Any, Any]


def _branching(value: Any, read: Any) -> Any:
    """``read(value)``, or each branch read where ``value`` is an ``Fn::If`` (``AWS::NoValue`` is absent)."""
    argument = value.get("Fn::If") if isinstance(value, Mapping) and len(value) == 1 else None
    if isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str):
        branches = tuple(None if branch == NO_VALUE else branch for branch in argument[1:])
        return _Branches(argument[0], (read(branches[0]), read(branches[1])))
    return read(value)


def _stream_key(stream: Any) -> Any:
    if not isinstance(stream, Mapping):
        return _NO_KEY
    return stream.get("KeyId") if stream.get("EncryptionType") == "KMS" else _NO_KEY


def _bucket_key(encryption: Any) -> Any:
    rules = encryption.get("ServerSideEncryptionConfiguration") if isinstance(encryption, Mapping) else []
    default = (rules[0] if isinstance(rules, list) and rules else {}).get(
        "ServerSideEncryptionByDefault"
    ) or {}
    if not str(default.get("SSEAlgorithm", "AES256")).startswith("aws:kms"):
        return _NO_KEY
    return default.get("KMSMasterKeyID", "alias/aws/s3")


def _key_value(target: Resource) -> Any:
    props = target.props
    if target.type == BUCKET:
        return _branching(props.get("BucketEncryption"), _bucket_key)
    if target.type == KINESIS:
        return _branching(props.get("StreamEncryption"), _stream_key)
    return _branching(props.get("KmsMasterKeyId"), lambda value: _NO_KEY if value is None else value)


def _key_class(templates: Templates, target: Resource, value: Any) -> KeyClass:
    if value is _NO_KEY:
        return "none"
    rendered = render(templates, target.stack, value)
    if rendered is not None and any(rendered == k or rendered.endswith(f":{k}") for k in AWS_MANAGED_KEYS):
        return "aws-managed"
    key = resolve(templates, target.stack, value, KEY)
    if key is None:
        key = _aliased_key(templates, target, value, rendered)
    return key


def _aliased_key(templates: Templates, target: Resource, value: Any, rendered: str | None) -> Resource | None:
    """The key an ``AWS::KMS::Alias`` of the app points to, where ``value`` names the alias (by
    reference, by name, or by ARN: ``kms.Alias`` writes ``arn:...:alias/<name>`` for its key ARN)."""
    alias = resolve(templates, target.stack, value, "AWS::KMS::Alias")
    if alias is None and rendered is not None:
        alias = lookup(templates, target.stack, rendered, "AWS::KMS::Alias")
    if alias is None:
        return None
    return resolve(templates, alias.stack, alias.props.get("TargetKeyId"), KEY)
