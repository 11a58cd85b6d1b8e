"""Template values as the policy evaluation reads them: each stack's environment, and symbolic strings.

A value is rendered to a *symbolic string*: literals as written, a reference expanded to the ARN shape of
its resource type (``arn:aws:sqs:eu-west-1:111111111111:«S/Q.QueueName»``). ``AWS::AccountId`` and
``AWS::Region`` render as the stack's own literal account and region where the assembly gives them
(``env=cdk.Environment(account=..., region=...)``), else as the placeholders ``«AccountId»`` and
``«Region»``. Two values that name the same thing render to the same string, so IAM's wildcards
can be matched on them as on literal ARNs, and an account written as a literal in one place and as
``AWS::AccountId`` in a stack that deploys to it compares equal. A value synth cannot know (a parameter,
an import from outside the app, ``Fn::Select``, an ``Fn::If`` whose branches differ...) renders to None:
"cannot decide".

A name CloudFormation generates renders as a symbol with its known shape (``«S/Q|Orders-#-#»``: a queue
of stack ``Orders``), so a literal pattern meets it as IAM would meet the deployed name (see
:mod:`._conditions`). A Lambda alias or version renders as its function's ARN with the qualifier, and a
role's ARN holds its path. :func:`lookup` finds a resource of the app by a literal name, ARN or URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._model import Resource, Stack, Templates

ACCOUNT = "«AccountId»"
REGION = "«Region»"
PLACEHOLDERS = (ACCOUNT, REGION)
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}")
_LITERAL_ENV = re.compile(r"\d{12}|[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d")


def account_of(stack: Stack) -> str:
    """The stack's account: its literal account, else the ``«AccountId»`` placeholder."""
    return stack.account or ACCOUNT


def region_of(stack: Stack) -> str:
    return stack.region or REGION


def same_account(one: str, other: str) -> bool | None:
    """Whether two rendered accounts are one account: equal values are (environment-agnostic stacks of
    one app deploy to one account); two different literals are not; a literal against the placeholder
    cannot be decided at synth."""
    if one == other:
        return True
    if one in PLACEHOLDERS or other in PLACEHOLDERS:
        return None
    return False


def is_symbolic(value: str) -> bool:
    return ACCOUNT in value or REGION in value


def meets_literal(symbolic: str, literal: str) -> bool:
    """True when ``symbolic`` holds a placeholder and ``literal`` a literal account or region: the two may
    or may not be equal, and only deploy time knows."""
    return is_symbolic(symbolic) and not is_symbolic(literal) and bool(_LITERAL_ENV.search(literal))


@dataclass(frozen=True)
class Shape:
    """How a resource type's ``Ref`` and ``Arn`` render. ``arn`` is formatted with ``account``,
    ``region``, ``name`` (the ``name_property`` when literal, else the resource's symbol) and ``id``
    (the resource's symbol); ``ref`` says what ``Ref`` returns: ``"name"``, ``"arn"`` or ``"id"``."""

    arn: str
    name_property: str | None = None
    ref: str = "name"
    #: Other attributes: a format like ``arn`` (``{arn}`` is the rendered ARN).
    attributes: Mapping[str, str] | None = None


_QUEUE_URL = "https://sqs.{region}.amazonaws.com/{account}/{name}"
SHAPES: dict[str, Shape] = {
    "AWS::SQS::Queue": Shape(
        "arn:aws:sqs:{region}:{account}:{name}",
        "QueueName",
        "url",
        {"QueueUrl": _QUEUE_URL, "QueueName": "{name}"},
    ),
    "AWS::SNS::Topic": Shape(
        "arn:aws:sns:{region}:{account}:{name}",
        "TopicName",
        "arn",
        {"TopicArn": "{arn}", "TopicName": "{name}"},
    ),
    "AWS::Lambda::Function": Shape("arn:aws:lambda:{region}:{account}:function:{name}", "FunctionName"),
    "AWS::S3::Bucket": Shape(
        "arn:aws:s3:::{name}",
        "BucketName",
        attributes={
            "DomainName": "{name}.s3.amazonaws.com",
            "RegionalDomainName": "{name}.s3.{region}.amazonaws.com",
        },
    ),
    "AWS::KMS::Key": Shape("arn:aws:kms:{region}:{account}:key/{id}", ref="id"),
    # An alias's Ref is its name (alias/orders); its ARN is arn:aws:kms:<region>:<account>:alias/orders.
    "AWS::KMS::Alias": Shape("arn:aws:kms:{region}:{account}:{name}", "AliasName"),
    # A role's ARN holds its path: arn:aws:iam::<account>:role/app/orders-consumer for Path "/app/".
    "AWS::IAM::Role": Shape("arn:aws:iam::{account}:role{path}{name}", "RoleName"),
    "AWS::IAM::ManagedPolicy": Shape("arn:aws:iam::{account}:policy{path}{name}", "ManagedPolicyName", "arn"),
    "AWS::CloudWatch::Alarm": Shape("arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "AlarmName"),
    "AWS::CloudWatch::CompositeAlarm": Shape(
        "arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "AlarmName"
    ),
    # A rule on a custom event bus is rule/<bus name>/<rule name> (:func:`_rule_bus`).
    "AWS::Events::Rule": Shape("arn:aws:events:{region}:{account}:rule/{bus}{name}", "Name"),
    "AWS::Events::EventBus": Shape("arn:aws:events:{region}:{account}:event-bus/{name}", "Name"),
    "AWS::Events::ApiDestination": Shape(
        "arn:aws:events:{region}:{account}:api-destination/{name}/{id}", "Name"
    ),
    "AWS::Scheduler::ScheduleGroup": Shape(
        "arn:aws:scheduler:{region}:{account}:schedule-group/{name}", "Name"
    ),
    "AWS::DynamoDB::Table": Shape(
        "arn:aws:dynamodb:{region}:{account}:table/{name}",
        "TableName",
        attributes={"StreamArn": "{arn}/stream/{attr}"},
    ),
    "AWS::DynamoDB::GlobalTable": Shape(
        "arn:aws:dynamodb:{region}:{account}:table/{name}",
        "TableName",
        attributes={"StreamArn": "{arn}/stream/{attr}"},
    ),
    "AWS::Kinesis::Stream": Shape("arn:aws:kinesis:{region}:{account}:stream/{name}", "Name"),
    "AWS::Kinesis::StreamConsumer": Shape("{id}", ref="arn", attributes={"ConsumerARN": "{arn}"}),
    "AWS::KinesisFirehose::DeliveryStream": Shape(
        "arn:aws:firehose:{region}:{account}:deliverystream/{name}", "DeliveryStreamName"
    ),
    "AWS::StepFunctions::StateMachine": Shape(
        "arn:aws:states:{region}:{account}:stateMachine:{name}", "StateMachineName", "arn", {"Name": "{name}"}
    ),
    "AWS::Pipes::Pipe": Shape("arn:aws:pipes:{region}:{account}:pipe/{name}", "Name"),
    # A stage's Ref is its name, which API Gateway writes into the execute-api ARNs it sends.
    "AWS::ApiGateway::Stage": Shape("{name}", "StageName"),
    "AWS::ApiGatewayV2::Stage": Shape("{name}", "StageName"),
    "AWS::Cognito::UserPool": Shape("arn:aws:cognito-idp:{region}:{account}:userpool/{id}", ref="id"),
    "AWS::CloudFront::Distribution": Shape("arn:aws:cloudfront::{account}:distribution/{id}", ref="id"),
    "AWS::Logs::LogGroup": Shape("arn:aws:logs:{region}:{account}:log-group:{name}:*", "LogGroupName"),
}


def symbol(resource: Resource, attribute: str | None = None) -> str:
    return f"«{resource.stack.name}/{resource.logical_id}{'.' + attribute if attribute else ''}»"


#: Types whose generated name is ``<stack name>-<logical id>-<suffix>`` (CloudFormation's "Name type":
#: a physical ID from the stack name, the logical ID and a random string), with the name's length limit.
#: Where the whole name would pass the limit, CloudFormation keeps 13 characters for the random suffix
#: and its hyphen and shares the rest between the stack name and the logical ID, the stack's half rounding
#: up (names CloudFormation produced show it; AWS does not document it): a stack name no longer than its
#: half is kept whole.
_STACK_PREFIXED = {
    "AWS::SQS::Queue": 80,
    "AWS::SNS::Topic": 256,
    "AWS::Lambda::Function": 64,
    "AWS::IAM::Role": 64,
    "AWS::Events::Rule": 64,
    "AWS::DynamoDB::Table": 255,
    "AWS::Kinesis::Stream": 128,
}


#: A value only deploy time knows, as a symbol: ``«Stack/LogicalId»`` (or ``«Stack/LogicalId.Attr»``),
#: with ``|<shape>`` where the value is known to have that shape: a pattern whose ``#`` stands for a run
#: of characters without ``:`` or ``/`` (``Orders-#-#`` for a name generated in stack ``Orders``).
GENERATED = re.compile(r"«[^«»/]+/[^«»|]+(?:\|(?P<shape>[^«»]*))?»")


def readable(text: str) -> str:
    """``text`` for a message: each generated value's symbol without its shape."""
    return GENERATED.sub(lambda match: match.group(0).split("|", 1)[0].removesuffix("»") + "»", text)


def generated_name(resource: Resource) -> str:
    """The name CloudFormation generates for ``resource`` (no name given), as a symbol with its shape:
    ``<stack name>-<logical id>-<random suffix>`` for the types named so, so it starts with the stack's
    name where the assembly gives it (``Orders-*``), and holds two hyphens where it does not (a nested
    stack's name is generated too)."""
    limit = _STACK_PREFIXED.get(resource.type)
    if limit is None:
        return symbol(resource)
    stack_name = resource.stack.deployed_name
    half = (limit - 14 + 1) // 2
    whole = stack_name and len(stack_name) <= half and not set("*?#") & set(stack_name)
    shape = f"{stack_name}-#-#" if whole else "#-#-#"
    return f"«{resource.stack.name}/{resource.logical_id}|{shape}»"


def _pseudo(stack: Stack, name: str) -> str | None:
    return {
        "AWS::AccountId": account_of(stack),
        "AWS::Region": region_of(stack),
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack.deployed_name or f"«{stack.name}.StackName»",
        "AWS::StackId": f"«{stack.name}.StackId»",
    }.get(name)


def render(templates: Templates, stack: Stack, value: Any) -> str | None:
    """``value`` as a symbolic string, or None when synth cannot know it. An ``Fn::If`` whose branches
    render alike is that value; one whose branches differ only deploy time knows."""
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
        if isinstance(argument, list) and len(argument) == 2:
            return _reference(templates, stack, argument[0], str(argument[1]))
        name, _, attribute = str(argument).partition(".")
        return _reference(templates, stack, name, attribute or None)
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        separator, items = argument
        if not isinstance(separator, str) or not isinstance(items, list):
            return None
        parts = [render(templates, stack, part) for part in items]
        return None if any(p is None for p in parts) else separator.join(p for p in parts if p)
    if function == "Fn::Sub":
        return _sub(templates, stack, argument)
    if function in ("Fn::ImportValue", "Fn::GetStackOutput"):
        return _import(templates, stack, function, argument)
    if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
        branches = {render(templates, stack, branch) for branch in argument[1:]}
        return branches.pop() if len(branches) == 1 else None
    return None


NO_VALUE = {"Ref": "AWS::NoValue"}


def fn_if_conditions(value: Any) -> list[str]:
    """The conditions of every ``Fn::If`` in ``value`` (in order, each once)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        argument = value.get("Fn::If") if len(value) == 1 else None
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            found.append(argument[0])
        for item in value.values():
            found += fn_if_conditions(item)
    elif isinstance(value, list):
        for item in value:
            found += fn_if_conditions(item)
    return list(dict.fromkeys(found))


def unknown_why(value: Any) -> str:
    """Why synth cannot know ``value``: it is conditional (an ``Fn::If``), or only deploy time knows it."""
    conditions = fn_if_conditions(value)
    if conditions:
        return f"is conditional (Fn::If on {', '.join(conditions)})"
    return "is known only at deploy time"


def _reference(templates: Templates, stack: Stack, name: Any, attribute: str | None) -> str | None:
    if attribute is None and isinstance(name, str) and name.startswith("AWS::"):
        return _pseudo(stack, name)
    followed = templates.follow(stack, name, attribute)
    if followed is not None:
        return render(templates, *followed)
    if not isinstance(name, str) or not isinstance(stack.resources.get(name), Mapping):
        return None
    resource = Resource(stack, name)
    kind = str(stack.resources[name].get("Type"))
    if kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        return _qualified(templates, resource, attribute)
    shape = SHAPES.get(kind)
    if shape is None:
        return symbol(resource, attribute)
    values = _values(templates, resource, shape, attribute)
    arn = shape.arn.format(**values)
    if attribute is None:
        refs = {"arn": arn, "name": values["name"], "id": values["id"], "url": _QUEUE_URL.format(**values)}
        return refs[shape.ref]
    if attribute == "Arn":
        return arn
    template = (shape.attributes or {}).get(attribute)
    return template.format(arn=arn, **values) if template else symbol(resource, attribute)


def _values(templates: Templates, resource: Resource, shape: Shape, attribute: str | None) -> dict[str, str]:
    props = resource.props
    given = props.get(shape.name_property) if shape.name_property else None
    path = props.get("Path", "/")
    return {
        "account": account_of(resource.stack),
        "region": region_of(resource.stack),
        "name": given if isinstance(given, str) else generated_name(resource),
        "id": symbol(resource),
        "attr": symbol(resource, attribute),
        "path": path if isinstance(path, str) else symbol(resource, "Path"),
        "bus": _rule_bus(templates, resource) if resource.type == "AWS::Events::Rule" else "",
    }


def _rule_bus(templates: Templates, rule: Resource) -> str:
    """``<bus name>/`` for a rule on a custom event bus (its ARN is ``rule/<bus>/<rule>``), else ``""``."""
    value = rule.props.get("EventBusName")
    if value is None:
        return ""
    rendered = render(templates, rule.stack, value)
    if rendered is None:
        return symbol(rule, "EventBusName") + "/"
    bus = rendered.rsplit(":event-bus/", 1)[-1]
    return "" if bus == "default" else f"{bus}/"


def _qualified(templates: Templates, resource: Resource, attribute: str | None) -> str | None:
    """A Lambda alias's or version's ARN (its ``Ref``): the function's ARN with the alias name or the
    version number as qualifier; ``Fn::GetAtt [Version, Version]`` is the version number alone."""
    props = resource.props
    if resource.type == "AWS::Lambda::Version" and attribute == "Version":
        return symbol(resource, "Version")
    if attribute not in (None, "AliasArn", "FunctionArn"):
        return symbol(resource, attribute)
    functions = templates.references(resource.stack, props.get("FunctionName"), "AWS::Lambda::Function")
    function = (
        render_arn(templates, functions[0])
        if len(functions) == 1
        else render(templates, resource.stack, props.get("FunctionName"))
    )
    if function is None:
        return None
    if resource.type == "AWS::Lambda::Alias":
        name = render(templates, resource.stack, props.get("Name"))
        return f"{function}:{name if name is not None else symbol(resource, 'Name')}"
    return f"{function}:{symbol(resource, 'Version')}"


def _sub(templates: Templates, stack: Stack, argument: Any) -> str | None:
    text, variables = (
        (argument[0], argument[1]) if isinstance(argument, list) and argument else (argument, {})
    )
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
        exported = templates.exported(argument)
        return render(templates, *exported) if exported else None
    if isinstance(argument, Mapping):
        other = templates.stacks.get(str(argument.get("StackName")))
        outputs = other.template.get("Outputs") if other else None
        output = outputs.get(argument.get("OutputName")) if isinstance(outputs, Mapping) else None
        if other is not None and isinstance(output, Mapping):
            return render(templates, other, output.get("Value"))
    return None


_KNOWN_FUNCTIONS = frozenset(
    {"Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub", "Fn::ImportValue", "Fn::GetStackOutput"}
)


def known(value: Any) -> bool:
    """True when ``value`` holds only literals and the intrinsics this module renders: what it names can
    be read at synth (an ``Fn::If`` or an unknown function cannot)."""
    if isinstance(value, Mapping):
        intrinsic = len(value) == 1 and any(k == "Ref" or str(k).startswith("Fn::") for k in value)
        if intrinsic and next(iter(value)) not in _KNOWN_FUNCTIONS:
            return False
        return all(known(item) for item in value.values())
    if isinstance(value, list):
        return all(known(item) for item in value)
    return True


def render_arn(templates: Templates, resource: Resource) -> str:
    """The ARN of ``resource`` as the evaluation spells it."""
    shape = SHAPES.get(resource.type)
    lambda_qualified = resource.type in ("AWS::Lambda::Alias", "AWS::Lambda::Version")
    attribute = None if lambda_qualified or (shape is not None and shape.ref == "arn") else "Arn"
    rendered = _reference(templates, resource.stack, resource.logical_id, attribute)
    return rendered or symbol(resource)


def resolve(templates: Templates, stack: Stack, value: Any, *types: str) -> Resource | None:
    """The one resource of ``types`` that ``value`` names (following outputs across stacks), if any."""
    found = templates.references(stack, value, *types)
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------------------- by name or ARN

#: Types a policy, permission or target may name by a literal name, ARN or URL.
_NAMED_TYPES = (
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::S3::Bucket",
    "AWS::Lambda::Function",
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    "AWS::KMS::Alias",
    "AWS::Events::EventBus",
    "AWS::StepFunctions::StateMachine",
    "AWS::Kinesis::Stream",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::Logs::LogGroup",
)


def _named(templates: Templates) -> dict[str, list[Resource]]:
    """Every resource of :data:`_NAMED_TYPES` by its rendered ARN, its queue URL, and its literal name in
    its account and region (a bare name means the resource of that name in the caller's account and
    region)."""

    def build() -> dict[str, list[Resource]]:
        found: dict[str, list[Resource]] = {}
        for resource in templates.of_type(*_NAMED_TYPES):
            shape = SHAPES[resource.type]
            keys = [render_arn(templates, resource)]
            given = resource.props.get(shape.name_property) if shape.name_property else None
            name = render(templates, resource.stack, given) if given is not None else None
            if name is not None:
                keys.append(_name_key(resource.stack, name, global_=resource.type in _GLOBAL))
            if given is not None and (name is None or GENERATED.search(name) or is_symbolic(name)):
                keys.append(_UNKNOWN_NAME)  # a name only deploy time knows may be any literal one
            if resource.type == "AWS::SQS::Queue":
                keys.append(render(templates, resource.stack, {"Ref": resource.logical_id}) or "")
            for key in dict.fromkeys(keys):
                found.setdefault(key, []).append(resource)
        return found

    index: dict[str, list[Resource]] = templates.memo("resources by name", build)
    return index


_NAME_KEY = "\x00"
_UNKNOWN_NAME = "\x00unknown"


#: IAM and S3 names are global: a role's or bucket's name means it in every region of its account.
_GLOBAL = ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::S3::Bucket")


def _name_key(stack: Stack, name: str, *, global_: bool = False) -> str:
    return _NAME_KEY.join(("", account_of(stack), "" if global_ else region_of(stack), name))


def lookup(templates: Templates, stack: Stack, rendered: str | None, *types: str) -> Resource | None:
    """The one resource of ``types`` that a literal name, ARN or URL (``rendered``, read in ``stack``)
    names, if the app defines it."""
    if not rendered:
        return None
    index = _named(templates)
    found = [
        r
        for key in (rendered, _name_key(stack, rendered), _name_key(stack, rendered, global_=True))
        for r in index.get(key, [])
        if r.type in types
    ]
    found = list(dict.fromkeys(found))
    return found[0] if len(found) == 1 else None


def might_name(templates: Templates, stack: Stack, rendered: str | None, *types: str) -> bool:
    """Whether a value that names no resource of the app could still name one of ``types``: a value only
    deploy time knows, or a literal name or ARN of a resource whose account or region only deploy time
    knows (an environment-agnostic stack's)."""
    if rendered is None:
        return True
    for key, resources in _named(templates).items():
        if not any(r.type in types for r in resources):
            continue
        if key == _UNKNOWN_NAME:
            return True
        if key.startswith(_NAME_KEY):
            _, account, region, name = key.split(_NAME_KEY, 3)
            regions = same_account(region, region_of(stack)) if region else True
            unsure = None in (same_account(account, account_of(stack)), regions)
            if name == rendered and unsure:
                return True
        elif is_symbolic(key) and _placeholders_as_patterns(key).fullmatch(rendered):
            return True
    return False


@cache
def _placeholders_as_patterns(value: str) -> re.Pattern[str]:
    pattern = (
        re.escape(value).replace(re.escape(ACCOUNT), r"\d{12}").replace(re.escape(REGION), r"[a-z0-9-]+")
    )
    return re.compile(pattern)
