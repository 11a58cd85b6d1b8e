"""Template values as the policy evaluation reads them: each stack's environment, and symbolic strings.

A value is rendered to a *symbolic string*: literals as written, a reference expanded to the ARN shape of
its resource type (``arn:aws:sqs:eu-west-1:111111111111:«S/Q.QueueName»``). ``AWS::AccountId`` and
``AWS::Region`` render as the stack's own literal account and region where the assembly gives them
(``env=cdk.Environment(account=..., region=...)``), else as the placeholders ``«AccountId»`` and
``«Region»``. Two values that name the same thing render to the same string, so IAM's wildcards
can be matched on them as on literal ARNs, and an account written as a literal in one place and as
``AWS::AccountId`` in a stack that deploys to it compares equal. A value synth cannot know (a parameter,
an import from outside the app, ``Fn::Select``...) renders to None: "cannot decide".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
    "AWS::IAM::Role": Shape("arn:aws:iam::{account}:role/{name}", "RoleName"),
    "AWS::CloudWatch::Alarm": Shape("arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "AlarmName"),
    "AWS::CloudWatch::CompositeAlarm": Shape(
        "arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "AlarmName"
    ),
    "AWS::Events::Rule": Shape("arn:aws:events:{region}:{account}:rule/{name}", "Name"),
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


def _pseudo(stack: Stack, name: str) -> str | None:
    return {
        "AWS::AccountId": account_of(stack),
        "AWS::Region": region_of(stack),
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": f"«{stack.name}.StackName»",
        "AWS::StackId": f"«{stack.name}.StackId»",
    }.get(name)


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
    return None


def _reference(templates: Templates, stack: Stack, name: Any, attribute: str | None) -> str | None:
    if attribute is None and isinstance(name, str) and name.startswith("AWS::"):
        return _pseudo(stack, name)
    followed = templates.follow(stack, name, attribute)
    if followed is not None:
        return render(templates, *followed)
    if not isinstance(name, str) or not isinstance(stack.resources.get(name), Mapping):
        return None
    resource = Resource(stack, name)
    shape = SHAPES.get(str(stack.resources[name].get("Type")))
    if shape is None:
        return symbol(resource, attribute)
    props = resource.props if isinstance(resource.props, Mapping) else {}
    given = props.get(shape.name_property) if shape.name_property else None
    values = {
        "account": account_of(stack),
        "region": region_of(stack),
        "name": given if isinstance(given, str) else symbol(resource),
        "id": symbol(resource),
        "attr": symbol(resource, attribute),
    }
    arn = shape.arn.format(**values)
    if attribute is None:
        refs = {"arn": arn, "name": values["name"], "id": values["id"], "url": _QUEUE_URL.format(**values)}
        return refs[shape.ref]
    if attribute == "Arn":
        return arn
    template = (shape.attributes or {}).get(attribute)
    return template.format(arn=arn, **values) if template else symbol(resource, attribute)


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


#: For rendering a resource's own ARN, which follows no reference.
_NO_TEMPLATES = Templates([])


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


def render_arn(resource: Resource) -> str:
    """The ARN of ``resource`` as the evaluation spells it."""
    shape = SHAPES.get(resource.type)
    attribute = None if shape is not None and shape.ref == "arn" else "Arn"
    rendered = _reference(_NO_TEMPLATES, resource.stack, resource.logical_id, attribute)
    return rendered or symbol(resource)


def resolve(templates: Templates, stack: Stack, value: Any, *types: str) -> Resource | None:
    """The one resource of ``types`` that ``value`` names (following outputs across stacks), if any."""
    found = templates.references(stack, value, *types)
    return found[0] if len(found) == 1 else None
