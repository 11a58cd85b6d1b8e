"""The corpus split across two stacks and inside nested stacks: references cross stacks (exports) and
the nested boundary (parameters and outputs), and every edge is still decided, each broken twin still
refused with exactly its rule. The environment-agnostic and explicit forms, and the issue's pairs, are in
``test_checks.py`` (so the two halves of the corpus run on both workers)."""

from __future__ import annotations

import pytest

from tests.corpus import expect
from tests.corpus.kinds import KINDS

HERE = ("split", "nested")


@pytest.mark.parametrize("form", HERE)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_correct_kind_delivers_with_no_finding(corpus, form, name):
    expect.correct_kind_delivers(corpus, form, name)


@pytest.mark.parametrize("form", HERE)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_broken_twin_gives_exactly_its_rule(corpus, form, name):
    expect.broken_twin_gives_its_rule(corpus, form, name)


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
