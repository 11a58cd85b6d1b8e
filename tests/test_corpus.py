"""The corpus split across two stacks and inside nested stacks: references cross stacks (exports) and
the nested boundary (parameters and outputs), and every edge is still decided, each broken twin still
refused with exactly its rule. The environment-agnostic and explicit forms, and the issue's pairs, are in
``test_checks.py`` (so the two halves of the corpus run on both workers)."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import pytest

from constructs_lib.checks import run_rules
from constructs_lib.checks._model import Templates
from tests.corpus import expect
from tests.corpus.kinds import KINDS
from tests.harness import REPO_ROOT

HERE = ("split", "nested")


@pytest.mark.parametrize("form", HERE)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_correct_kind_delivers_with_no_finding(corpus, form, name):
    expect.correct_kind_delivers(corpus, form, name)


@pytest.mark.parametrize("form", HERE)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_broken_twin_gives_exactly_its_rule(corpus, form, name):
    expect.broken_twin_gives_its_rule(corpus, form, name)


def test_the_readme_says_what_the_corpus_proves():
    readme = (REPO_ROOT / "docs" / "policy-pack.md").read_text()
    assert f"({len(KINDS)} kinds across the ten families" in readme
    for form in (
        "environment-agnostic;",
        "with an explicit account and region;",
        "split across two stacks",
        "inside nested stacks",
    ):
        assert form in readme, form


def test_split_kinds_reach_across_stacks(corpus):
    templates = corpus.form("split").correct
    split = [k for k in KINDS.values() if not k.together]
    assert len(split) >= 50
    for kind in split:
        assert {f"{kind.name}-Targets", f"{kind.name}-Sources"} <= set(templates.stacks), kind.name
    sources = templates.stacks["SqsConsumer-Sources"].template
    assert "Fn::GetStackOutput" in str(sources), "the mapping reads its queue from the other stack"


def test_nested_kinds_are_read_inside_their_nested_stacks(corpus):
    templates = corpus.form("nested").correct
    nested = {s.path for s in templates.stacks.values() if s.parent is not None}
    for kind in KINDS.values():
        assert f"/{kind.name}/Sources" in nested, kind.name
        assert kind.together or f"/{kind.name}/Targets" in nested, kind.name
    [mapping] = [m for m in templates.of_type("AWS::Lambda::EventSourceMapping") if "/SqsConsumer/" in m.path]
    assert mapping.stack.path == "/SqsConsumer/Sources"


def test_the_corpus_figures(corpus, record_property):
    line = expect.figures(corpus, HERE)
    record_property("figures", line)
    assert ", 0 errors, 0 undecided;" in line


#: Resource types the pack reads as an edge's source or as a policy of one.
READ_BY_THE_PACK = (
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::ApiGateway::Method",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::CloudFront::Distribution",
    "AWS::SNS::Subscription",
    "Custom::S3BucketNotifications",
    "AWS::StepFunctions::StateMachine",
    "AWS::Pipes::Pipe",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGateway::RestApi",
    "AWS::Lambda::Alias",
    "AWS::Events::ApiDestination",
    "AWS::KMS::Alias",
    "AWS::DynamoDB::GlobalTable",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::KMS::Key",
    "AWS::SQS::QueuePolicy",
    "AWS::SQS::QueueInlinePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::S3::BucketPolicy",
)
#: What a template may hold where the pack expects something else: an intrinsic it does not know, a
#: condition, a value of the wrong shape.
ODD_VALUES = ({"Fn::Unknown": ["x"]}, {"Fn::If": ["Condition", [], {"Ref": "AWS::NoValue"}]}, 7)


def test_a_value_the_pack_cannot_read_leaves_the_edge_undecided_with_its_path_never_a_traceback(corpus):
    """Every property the pack reads, in every kind's correct app, replaced by an unknown intrinsic, a
    condition or a number: no rule raises, each finding names a construct path, and what only deploy
    time could resolve (the intrinsics) is never refused. (A number where an action belongs is read, and
    may be refused.)"""
    templates = corpus.form("split").correct
    runs = 0
    for kind in KINDS.values():
        stacks = [s for s in templates.stacks.values() if kind_of_stack(s.name) == kind.name]
        for stack in stacks:
            for logical_id, resource in stack.resources.items():
                if resource.get("Type") not in READ_BY_THE_PACK:
                    continue
                for index, prop in enumerate(resource.get("Properties") or {}):
                    odd = ODD_VALUES[(runs + index) % len(ODD_VALUES)]
                    mutated = copy.deepcopy(dict(stack.template))
                    mutated["Resources"][logical_id]["Properties"][prop] = odd
                    others = [s for s in stacks if s is not stack]
                    found = run_rules(Templates([*others, dataclasses.replace(stack, template=mutated)]))
                    errors = [
                        (r.name, f.detail) for r, f in found if r.severity != "warning" and not f.severity
                    ]
                    assert errors == [] or odd == 7, (kind.name, logical_id, prop, odd)
                    for rule, finding in found:
                        assert finding.resource.path.startswith("/"), (rule.name, finding.detail)
                    runs += 1
    assert runs > 400


def kind_of_stack(name: str) -> str:
    return name.removesuffix("-Targets").removesuffix("-Sources")


def test_an_unreadable_template_or_nested_template_is_reported_undecided(corpus, tmp_path):
    copy_of = tmp_path / "nested"
    shutil.copytree(corpus["nested"], copy_of)
    [nested] = [p for p in copy_of.glob("*.nested.template.json") if p.name.startswith("SqsConsumerSources")]
    nested.write_text("{not json")
    (copy_of / "AlarmTopic.template.json").write_text("[]")
    found = run_rules(
        Templates.load([str(p) for p in copy_of.glob("*.template.json") if ".nested." not in p.name])
    )
    undecided = [f for rule, f in found if rule.name == "DeliveryUndecided"]
    assert sorted(f.resource.path for f in undecided if "cannot be read" in f.detail) == [
        "/SqsConsumer/Sources.NestedStack/Sources.NestedStackResource",
        "AlarmTopic/Template",
    ]
    assert not [f for rule, f in found if rule.name != "DeliveryUndecided" and rule.severity != "warning"]


def test_the_cost_model_prices_what_nested_stacks_deploy(corpus_assemblies):
    """The cost model reads the corpus through the same fixture: every KMS key (a fixed monthly price)
    is priced, those inside nested stacks too, as many as when the kinds are split across stacks."""
    from constructs_lib.cost import CostReport, estimate

    def keys(report: CostReport) -> list[str]:
        return [line.path for line in report.lines if line.resource_type == "AWS::KMS::Key"]

    in_nested, in_split = (
        keys(estimate(corpus_assemblies["nested"])),
        keys(estimate(corpus_assemblies["split"])),
    )
    assert len(in_nested) == len(in_split) >= 10
    assert any("SqsEncryptedConsumer" in path and "Targets" in path for path in in_nested)


@pytest.mark.parametrize("form", HERE)
def test_the_cost_model_prices_every_resource_of_the_corpus(corpus, form):
    """The cost model on the same correct apps: nothing dropped, no unknown type, no unbilled one unpriced."""
    from tests.test_apps import assert_every_resource_costed

    assert_every_resource_costed(corpus[form])
