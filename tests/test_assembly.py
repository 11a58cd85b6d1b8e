"""The template model reads every stack that will deploy: nested stacks, environments, construct paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs

from constructs_lib.checks._assembly import environment
from constructs_lib.checks._env import render
from constructs_lib.checks._model import Templates

ACCOUNT, REGION = "111111111111", "eu-west-1"


def _nested_app(outdir: Path, env: cdk.Environment | None) -> None:
    """A queue in the parent, its consumer in a nested stack, and a queue it sends to one level deeper."""
    app = cdk.App(outdir=str(outdir))
    parent = cdk.Stack(app, "Parent", env=env)
    queue = sqs.Queue(parent, "Orders", encryption_master_key=kms.Key(parent, "Key"))
    child = cdk.NestedStack(parent, "Workers")
    function = lambda_.Function(
        child,
        "Consumer",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    function.add_event_source(sources.SqsEventSource(queue))
    grandchild = cdk.NestedStack(child, "Outbox")
    sqs.Queue(grandchild, "Sent").grant_send_messages(function)
    cdk.CfnOutput(parent, "ConsumerArn", value=function.function_arn)
    app.synth()


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("assemblies")
    _nested_app(root / "explicit", cdk.Environment(account=ACCOUNT, region=REGION))
    _nested_app(root / "agnostic", None)
    return {"explicit": root / "explicit", "agnostic": root / "agnostic"}


def _load(outdir: Path) -> Templates:
    return Templates.load([str(outdir / "Parent.template.json")])


def test_nested_stacks_are_read_with_the_parents_environment(assemblies: dict[str, Path]) -> None:
    templates = _load(assemblies["explicit"])
    by_path = {stack.path: stack for stack in templates.stacks.values()}
    assert sorted(by_path) == ["/Parent", "/Parent/Workers", "/Parent/Workers/Outbox"]
    workers, outbox = by_path["/Parent/Workers"], by_path["/Parent/Workers/Outbox"]
    assert (workers.parent, outbox.parent) == (by_path["/Parent"], workers)
    assert outbox.root is by_path["/Parent"]
    assert {(s.account, s.region) for s in templates.stacks.values()} == {(ACCOUNT, REGION)}
    assert by_path["/Parent"].resources[str(workers.parent_resource)]["Type"] == "AWS::CloudFormation::Stack"


def test_an_environment_agnostic_assembly_has_no_literal_account(assemblies: dict[str, Path]) -> None:
    templates = _load(assemblies["agnostic"])
    assert len(templates.stacks) == 3
    assert {(s.account, s.region) for s in templates.stacks.values()} == {(None, None)}


@pytest.mark.parametrize("form", ["explicit", "agnostic"])
def test_a_nested_parameter_is_the_parents_value(assemblies: dict[str, Path], form: str) -> None:
    templates = _load(assemblies[form])
    mapping = next(templates.of_type("AWS::Lambda::EventSourceMapping"))
    assert mapping.stack.path == "/Parent/Workers"
    [queue] = templates.references(mapping.stack, mapping.props["EventSourceArn"], "AWS::SQS::Queue")
    assert queue.path == "/Parent/Orders/Resource"
    assert queue.stack.path == "/Parent"


def test_a_parents_output_of_a_nested_stack_is_the_nested_resource(assemblies: dict[str, Path]) -> None:
    templates = _load(assemblies["explicit"])
    parent = templates.stacks["Parent"]
    value = parent.template["Outputs"]["ConsumerArn"]["Value"]
    [function] = templates.references(parent, value, "AWS::Lambda::Function")
    assert function.path == "/Parent/Workers/Consumer/Resource"
    rendered = render(templates, parent, value)
    assert rendered is not None
    assert rendered.startswith("arn:aws:lambda:")
    assert "Consumer" in rendered


def test_a_grandchilds_output_reaches_the_policy_that_names_it(assemblies: dict[str, Path]) -> None:
    templates = _load(assemblies["explicit"])
    [policy] = templates.of_type("AWS::IAM::Policy")
    assert policy.stack.path == "/Parent/Workers"
    named = templates.references(policy.stack, policy.props["PolicyDocument"], "AWS::SQS::Queue")
    assert sorted(queue.path for queue in named) == [
        "/Parent/Orders/Resource",
        "/Parent/Workers/Outbox/Sent/Resource",
    ]


def test_without_an_asset_manifest_the_metadata_names_the_nested_templates(
    assemblies: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(assemblies["explicit"], copy)
    for manifest in copy.glob("*.assets.json"):
        manifest.unlink()
    assert sorted(s.path or "" for s in _load(copy).stacks.values()) == [
        "/Parent",
        "/Parent/Workers",
        "/Parent/Workers/Outbox",
    ]


def test_a_missing_or_broken_nested_template_leaves_the_rest_readable(
    assemblies: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(assemblies["explicit"], copy)
    [outbox] = [p for p in copy.glob("*.nested.template.json") if "Outbox" in p.name]
    outbox.write_text("{not json")
    templates = _load(copy)
    readable = sorted(s.path or "" for s in templates.stacks.values() if not s.unreadable)
    assert readable == ["/Parent", "/Parent/Workers"]
    [broken] = [s for s in templates.stacks.values() if s.unreadable]
    assert (broken.path, broken.resources) == ("/Parent/Workers/Outbox", {})
    [policy] = templates.of_type("AWS::IAM::Policy")
    # The outbox queue is no longer defined in any template read: nothing is invented for it.
    named = templates.references(policy.stack, policy.props["PolicyDocument"], "AWS::SQS::Queue")
    assert [queue.path for queue in named] == ["/Parent/Orders/Resource"]


def test_a_nested_template_given_as_a_path_too_is_read_once(assemblies: dict[str, Path]) -> None:
    outdir = assemblies["explicit"]
    nested = sorted(str(p) for p in outdir.glob("*.nested.template.json"))
    templates = Templates.load([str(outdir / "Parent.template.json"), *nested])
    assert len(templates.stacks) == 3


def test_templates_without_an_assembly_still_load(tmp_path: Path) -> None:
    path = tmp_path / "Loose.template.json"
    path.write_text(json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    [stack] = Templates.load([str(path)]).stacks.values()
    assert (stack.name, stack.account, stack.region, stack.path) == ("Loose", None, None, None)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("aws://111111111111/eu-west-1", ("111111111111", "eu-west-1")),
        ("aws://unknown-account/unknown-region", (None, None)),
        ("aws://111111111111/unknown-region", ("111111111111", None)),
        (None, (None, None)),
    ],
)
def test_environment_of_a_manifest_entry(spec: str | None, expected: tuple[str | None, str | None]) -> None:
    assert environment(spec) == expected


def test_two_nested_stacks_with_the_same_template_are_both_read(tmp_path: Path) -> None:
    """One construct in two parents: the same template content (one asset hash), two files."""
    app = cdk.App(outdir=str(tmp_path))
    for name in ("Blue", "Green"):
        parent = cdk.Stack(app, name, env=cdk.Environment(account=ACCOUNT, region=REGION))
        sqs.Queue(cdk.NestedStack(parent, "Shared"), "Queue")
    app.synth()
    templates = Templates.load([str(tmp_path / "Blue.template.json"), str(tmp_path / "Green.template.json")])
    nested = sorted(s.path or "" for s in templates.stacks.values() if s.parent is not None)
    assert nested == ["/Blue/Shared", "/Green/Shared"]
    queues = sorted(q.path for q in templates.of_type("AWS::SQS::Queue"))
    assert queues == ["/Blue/Shared/Queue/Resource", "/Green/Shared/Queue/Resource"]
