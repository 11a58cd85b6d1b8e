"""The policies an edge must pass, read from the templates: resource policies, a role's, a key's.

Each is indexed once per set of templates (``Templates.memo``), so an app of hundreds of stacks is read
in one pass per policy type, not once per edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._env import render, resolve
from ._iam import Statement, iter_documents, statements
from ._lambda import FUNCTION, function_target
from ._model import Resource, Stack, Templates

QUEUE, TOPIC, BUCKET = "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket"
KEY, ROLE = "AWS::KMS::Key", "AWS::IAM::Role"
EVENT_BUS, STATE_MACHINE = "AWS::Events::EventBus", "AWS::StepFunctions::StateMachine"
KINESIS, FIREHOSE, TABLE = (
    "AWS::Kinesis::Stream",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::DynamoDB::Table",
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
    QUEUE: (("AWS::SQS::QueuePolicy", "Queues", "queue policy"),),
    TOPIC: (
        ("AWS::SNS::TopicPolicy", "Topics", "topic policy"),
        ("AWS::SNS::TopicInlinePolicy", "TopicArn", "topic policy"),
    ),
    BUCKET: (("AWS::S3::BucketPolicy", "Bucket", "bucket policy"),),
}


def _unknown(templates: Templates, policy: Resource, key: str) -> bool:
    """Whether a policy's targets (``Roles``, ``Queues``...) hold a value only deploy time knows."""
    value = policy.props.get(key)
    return any(render(templates, policy.stack, item) is None for item in _values(value))


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


#: Where the index keeps the policies whose targets only deploy time knows.
UNKNOWN = Resource(Stack("«unknown»", "", {}), "«unknown»")


def _index(templates: Templates, kind: str, key: str, target_type: str) -> dict[Resource, list[Resource]]:
    def build() -> dict[Resource, list[Resource]]:
        found: dict[Resource, list[Resource]] = {}
        for policy in templates.of_type(kind):
            for target in templates.references(policy.stack, policy.props.get(key), target_type):
                found.setdefault(target, []).append(policy)
            if _unknown(templates, policy, key):
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

    A queue, topic or bucket has one policy: each ``QueuePolicy``/``TopicPolicy``/``BucketPolicy`` that
    names it sets the whole policy, so where there are several, one replaces the others. A function's
    permissions add up to one policy."""
    if target.type == FUNCTION:
        permissions = lambda_permissions(templates, target)
        return None if permissions is None else [ResourcePolicy("the function's permissions", permissions)]
    found = []
    for kind, key, label in _WHOLE_POLICIES.get(target.type, ()):
        for policy in _index(templates, kind, key, target.type).get(target, []):
            where = f"{label} {policy.path}"
            document = policy.props.get("PolicyDocument")
            found.append(
                ResourcePolicy(
                    where, statements(templates, policy.stack, document, where, resource_policy=True)
                )
            )
    return found or None


def lambda_permissions(templates: Templates, function: Resource) -> list[Statement] | None:
    """``AWS::Lambda::Permission`` resources on ``function``, its versions and aliases, as statements (a
    permission on an alias is taken to cover a call through that alias: qualifiers are not compared)."""

    def build() -> dict[Resource, list[Statement]]:
        found: dict[Resource, list[Statement]] = {}
        unknown: list[Resource] = templates.memo("lambda permissions to unknown functions", list)
        for permission in templates.of_type("AWS::Lambda::Permission"):
            name = permission.props.get("FunctionName")
            target = function_target(templates, permission.stack, name)
            if target is not None:
                found.setdefault(target.function, []).extend(_permission(templates, permission))
            elif render(templates, permission.stack, name) is None:
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


def _permission(templates: Templates, permission: Resource) -> list[Statement]:
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
        "Condition": conditions,
    }
    where = f"Lambda permission {permission.path}"
    return statements(templates, permission.stack, {"Statement": [statement]}, where, resource_policy=True)


def role_policies(templates: Templates, role: Resource) -> tuple[list[Statement], list[str]]:
    """The role's identity statements, and the policies that may add to them which the pack cannot read
    (AWS managed policies whose content no template holds, policies whose roles only deploy time knows)."""

    def build() -> dict[Resource, list[Resource]]:
        found: dict[Resource, list[Resource]] = {}
        for policy in templates.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for named in templates.references(policy.stack, policy.props.get("Roles"), ROLE):
                found.setdefault(named, []).append(policy)
            if _unknown(templates, policy, "Roles"):
                found.setdefault(UNKNOWN, []).append(policy)
        return found

    def read() -> tuple[list[Statement], list[str]]:
        where = f"role {role.path}'s policies"
        found = [
            s
            for document in iter_documents(role.props.get("Policies"))
            for s in statements(templates, role.stack, document, where, resource_policy=False)
        ]
        attached: dict[Resource, list[Resource]] = templates.memo("role policies", build)
        for policy in attached.get(role, []):
            label = f"policy {policy.path}"
            document = policy.props.get("PolicyDocument")
            found += statements(templates, policy.stack, document, label, resource_policy=False)
        unknown = _managed(templates, role, found)
        unknown += [
            f"policy {p.path} (its roles are known only at deploy time)" for p in attached.get(UNKNOWN, [])
        ]
        return found, unknown

    result: tuple[list[Statement], list[str]] = templates.memo(("role", role), read)
    return result


def _managed(templates: Templates, role: Resource, found: list[Statement]) -> list[str]:
    unknown = []
    arns = role.props.get("ManagedPolicyArns")
    for arn in arns if isinstance(arns, list) else []:
        rendered = render(templates, role.stack, arn) or "an unresolved managed policy"
        name = rendered.split(":policy/", 1)[-1]
        if name in _MANAGED_POLICIES:
            actions = _MANAGED_POLICIES[name]
            if actions:
                document = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
                where = f"managed policy {name}"
                found += statements(templates, role.stack, document, where, resource_policy=False)
        elif resolve(templates, role.stack, arn, "AWS::IAM::ManagedPolicy") is None:
            unknown.append(f"AWS managed policy {rendered}")
    return unknown


def key_policy(templates: Templates, key: Resource) -> list[Statement]:
    def read() -> list[Statement]:
        where = f"key policy of {key.path}"
        return statements(templates, key.stack, key.props.get("KeyPolicy"), where, resource_policy=True)

    found: list[Statement] = templates.memo(("key policy", key), read)
    return found


def key_of(templates: Templates, target: Resource) -> Resource | str | None:
    """The key that encrypts ``target``: a key of the app, ``"aws-managed"``, ``"none"``, or None."""
    value = _key_value(target)
    if isinstance(value, Mapping) and "Fn::If" in value:
        # aws-cdk-lib's Kinesis streams: unencrypted in regions without KMS, aws/kinesis elsewhere.
        branches = value["Fn::If"][1:] if isinstance(value["Fn::If"], list) else []
        found = {_key_class(templates, target, _setting(target, branch)) for branch in branches}
        return (
            found.pop() if len(found) == 1 else ("aws-managed" if found <= {"none", "aws-managed"} else None)
        )
    return _key_class(templates, target, value)


_NO_KEY = object()


def _setting(target: Resource, branch: Any) -> Any:
    """A ``Fn::If`` branch of the stream's encryption as a key value."""
    if branch == {"Ref": "AWS::NoValue"} or not isinstance(branch, Mapping):
        return _NO_KEY
    return branch.get("KeyId") if branch.get("EncryptionType") == "KMS" else _NO_KEY


def _key_value(target: Resource) -> Any:
    props = target.props
    if target.type == BUCKET:
        encryption = props.get("BucketEncryption")
        rules = (
            (encryption or {}).get("ServerSideEncryptionConfiguration")
            if isinstance(encryption, Mapping)
            else []
        )
        default = (rules[0] if isinstance(rules, list) and rules else {}).get(
            "ServerSideEncryptionByDefault"
        ) or {}
        if not str(default.get("SSEAlgorithm", "AES256")).startswith("aws:kms"):
            return _NO_KEY
        return default.get("KMSMasterKeyID", "alias/aws/s3")
    if target.type == KINESIS:
        stream = props.get("StreamEncryption")
        if isinstance(stream, Mapping) and "Fn::If" in stream:
            return stream
        return _setting(target, stream) if stream is not None else _NO_KEY
    value = props.get("KmsMasterKeyId")
    return _NO_KEY if value is None else value


def _key_class(templates: Templates, target: Resource, value: Any) -> Resource | str | None:
    if value is _NO_KEY:
        return "none"
    rendered = render(templates, target.stack, value)
    if rendered is not None and any(rendered == k or rendered.endswith(f":{k}") for k in AWS_MANAGED_KEYS):
        return "aws-managed"
    return resolve(templates, target.stack, value, KEY)
