"""The corpus as session fixtures (a pytest plugin, registered in ``tests/conftest.py``).

``corpus_assemblies`` maps each form to the directory of its correct apps' cloud assembly, for any test
that wants real apps to run over (the pack's, the cost model's). A form is synthesized the first time it
is asked for, once per test process, with its broken twins (``corpus``), so a worker that needs two
forms pays for two (once, while the sources hold: the assemblies are cached on disk).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path

import pytest

from constructs_lib.checks._model import Templates
from tests.assembly_cache import cached_assembly

from . import apps


class Form:
    """One synthesized form: both assemblies, each read by the pack once."""

    def __init__(self, assemblies: apps.Assemblies) -> None:
        self.assemblies = assemblies

    @cached_property
    def correct(self) -> Templates:
        return apps.load(self.assemblies.correct)

    @cached_property
    def broken(self) -> Templates:
        return apps.load(self.assemblies.broken)

    @cached_property
    def correct_findings(self) -> Mapping[str, list[tuple[str, str]]]:
        return apps.findings_by_kind(self.correct)

    @cached_property
    def broken_findings(self) -> Mapping[str, list[tuple[str, str]]]:
        return apps.findings_by_kind(self.broken)

    @cached_property
    def correct_edges(self) -> Mapping[str, list[bool | None]]:
        return apps.edges_by_kind(self.correct)


class Corpus(Mapping[str, Path]):
    """Form → the correct assembly directory; each form synthesized on first use."""

    def __init__(self) -> None:
        self._forms: dict[str, Form] = {}

    def form(self, name: str) -> Form:
        if name not in apps.FORMS:
            raise KeyError(name)
        if name not in self._forms:
            # Cached on disk while the sources (the corpus's kinds included) hold: tests/assembly_cache.py.
            root = cached_assembly(f"corpus-{name}", lambda outdir: apps.synthesize(outdir, name))
            self._forms[name] = Form(apps.Assemblies(root / "correct", root / "broken"))
        return self._forms[name]

    def __getitem__(self, name: str) -> Path:
        return self.form(name).assemblies.correct

    def __iter__(self) -> Iterator[str]:
        return iter(apps.FORMS)

    def __len__(self) -> int:
        return len(apps.FORMS)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture(scope="session")
def corpus_assemblies(corpus: Corpus) -> Mapping[str, Path]:
    """Form (``agnostic``, ``explicit``, ``split``, ``nested``) → the correct corpus's assembly directory."""
    return corpus
