"""The library's one error type and its problems, importable without aws_cdk (the cost CLI uses them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid prop: which prop, what it received, and how to fix it."""

    prop: str
    value: Any
    fix: str

    def __str__(self) -> str:
        return f"{self.prop}: got {describe(self.value)}; {self.fix}"


class ConstructsLibValidationError(ValueError):
    """Raised when a construct's props are invalid.

    Lists every problem found in one construct at once; each line names the prop, the value received and
    the fix. ``problems`` holds the same information as data.
    """

    def __init__(self, construct: str, problems: list[Problem]) -> None:
        self.construct = construct
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{construct} is misconfigured ({len(self.problems)} problem(s)):\n{lines}")


def describe(value: Any) -> str:
    """``value`` as an error message shows it: a Duration as words, a bare object by its type."""
    if _is_duration(value):
        return str(value.to_human_string()) if not value.is_unresolved() else "<token>"
    if value is None:
        return "None"
    text = repr(value)
    if re.fullmatch(r"<[\w.]+ object at 0x[0-9a-f]+>", text):
        kind = f"{type(value).__module__.split('.')[0]} {type(value).__name__}"  # not its address
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    return text if len(text) <= 120 else text[:117] + "..."


def _is_duration(value: Any) -> bool:
    """An aws_cdk Duration, recognised without importing aws_cdk (which starts jsii's runtime)."""
    kind = type(value)
    return kind.__name__ == "Duration" and kind.__module__.split(".")[0] == "aws_cdk"
