"""What every form of the corpus must show, shared by the corpus's test modules."""

from __future__ import annotations

from collections import Counter

from constructs_lib.checks.rules.delivery_undecided import FAMILY_MODULES

from .fixtures import Corpus
from .kinds import KINDS


def correct_kind_delivers(corpus: Corpus, form: str, name: str) -> None:
    """The kind's correct app: at least one edge, every edge decided deliverable, no finding at all."""
    found = corpus.form(form)
    assert found.correct_findings.get(name, []) == []
    edges = found.correct_edges.get(name, [])
    assert edges, f"{name} ({form}) has no edge: its correct app would prove nothing"
    assert set(edges) == {True}


def broken_twin_gives_its_rule(corpus: Corpus, form: str, name: str) -> None:
    """The kind's broken twin: refused by its rule (as an error), and by no other rule."""
    findings = corpus.form(form).broken_findings.get(name, [])
    assert {rule for rule, _ in findings} == {KINDS[name].rule}, findings


def figures(corpus: Corpus, forms: tuple[str, ...]) -> str:
    """A line for the suite's figures: kinds, forms, edges decided, errors and undecided."""
    edges: Counter[bool | None] = Counter()
    errors = undecided = 0
    for form in forms:
        found = corpus.form(form)
        edges.update(e for values in found.correct_edges.values() for e in values)
        for rules in found.correct_findings.values():
            undecided += sum(rule == "DeliveryUndecided" for rule, _ in rules)
            errors += sum(rule != "DeliveryUndecided" for rule, _ in rules)
    twins = sum(
        {r for r, _ in corpus.form(form).broken_findings.get(name, [])} == {kind.rule}
        for form in forms
        for name, kind in KINDS.items()
    )
    return (
        f"corpus ({', '.join(forms)}): {len(KINDS)} kinds x {len(forms)} forms, {sum(edges.values())} edges "
        f"({edges[True]} deliver), {errors} errors, {undecided} undecided; broken twins giving exactly "
        f"their rule: {twins} of {len(KINDS) * len(forms)}"
    )


FAMILIES = tuple(module.FAMILY for module in FAMILY_MODULES)
