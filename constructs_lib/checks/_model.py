"""The synthesized templates of an app as the rules read them: resources, and what each value refers to.

References are followed across stacks (``Fn::ImportValue`` and ``Fn::GetStackOutput``), so a rule sees a
queue in a stateful stack from the event source mapping in a stateless one. Values that only deploy time
can know (parameters, pseudo parameters, intrinsic functions over them) stay unresolved: rules skip them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}")


@dataclass(frozen=True, eq=False)
class Stack:
    """One synthesized template (compared by identity: each is loaded once)."""

    name: str
    template_path: str
    template: Mapping[str, Any] = field(repr=False)

    @property
    def resources(self) -> Mapping[str, Any]:
        resources: Mapping[str, Any] = self.template.get("Resources", {})
        return resources


@dataclass(frozen=True)
class Resource:
    """One resource of one stack."""

    stack: Stack
    logical_id: str

    @property
    def type(self) -> str:
        kind: str = self.stack.resources[self.logical_id]["Type"]
        return kind

    @property
    def props(self) -> Mapping[str, Any]:
        props: Mapping[str, Any] = self.stack.resources[self.logical_id].get("Properties", {})
        return props

    def __str__(self) -> str:
        return f"{self.stack.name}/{self.logical_id}"


@dataclass(frozen=True)
class Reference:
    """A ``Ref`` or ``Fn::GetAtt`` found in a value: the resource, and the attribute (None for Ref)."""

    resource: Resource
    attribute: str | None


#: A flattened value: literal strings and references, in the order they are joined.
Piece = str | Reference


def is_literal(value: Any) -> bool:
    """True when ``value`` holds no intrinsic function, so synth already knows it."""
    if isinstance(value, Mapping):
        return False
    if isinstance(value, list):
        return all(is_literal(item) for item in value)
    return True


def number(value: Any, default: float) -> float | None:
    """A numeric property (``default`` when absent), or None when only deploy time knows it."""
    if value is None:
        return default
    if isinstance(value, bool) or not is_literal(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Templates:
    """Every stack an app synthesized, with reference resolution across them."""

    def __init__(self, stacks: Sequence[Stack]) -> None:
        self.stacks = {stack.name: stack for stack in stacks}
        self._exports: dict[str, tuple[Stack, Any]] = {}
        for stack in stacks:
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    self._exports[export] = (stack, output.get("Value"))

    @classmethod
    def load(cls, template_paths: Sequence[str]) -> Templates:
        """Read the templates; each stack is named by its file name, as ``Fn::GetStackOutput`` names it."""
        stacks = []
        for path in template_paths:
            name = Path(path).name.removesuffix(".template.json")
            stacks.append(Stack(name, path, json.loads(Path(path).read_text())))
        return cls(stacks)

    def of_type(self, *types: str) -> Iterator[Resource]:
        for stack in self.stacks.values():
            for logical_id, resource in stack.resources.items():
                if resource.get("Type") in types:
                    yield Resource(stack, logical_id)

    def pieces(self, stack: Stack, value: Any) -> list[Piece]:
        """``value`` flattened into literal strings and references, following cross-stack outputs.

        Separators of ``Fn::Join`` are kept, so ``[function ARN, ":live"]`` reads as qualified. Functions
        whose result synth cannot know (``Fn::Select``, ``Fn::If``...) contribute their references only.
        """
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [str(value)]
        if isinstance(value, list):
            return [piece for item in value for piece in self.pieces(stack, item)]
        if not isinstance(value, Mapping) or len(value) != 1:
            return []
        [(function, argument)] = value.items()
        if function == "Ref":
            return self._reference(stack, argument, None)
        if function == "Fn::GetAtt":
            name, _, attribute = (
                (argument[0], ".", argument[1])
                if isinstance(argument, list)
                else str(argument).partition(".")
            )
            return self._reference(stack, name, attribute)
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            joined: list[Piece] = []
            for index, part in enumerate(parts if isinstance(parts, list) else [parts]):
                if index and isinstance(separator, str) and separator:
                    joined.append(separator)
                joined.extend(self.pieces(stack, part))
            return joined
        if function == "Fn::Sub":
            return self._sub(stack, argument)
        if function == "Fn::ImportValue" and isinstance(argument, str) and argument in self._exports:
            exporter, exported = self._exports[argument]
            return self.pieces(exporter, exported)
        if function == "Fn::GetStackOutput" and isinstance(argument, Mapping):
            other = self.stacks.get(str(argument.get("StackName")))
            output = other.template.get("Outputs", {}).get(argument.get("OutputName")) if other else None
            return self.pieces(other, output.get("Value")) if other and output else []
        # Anything else: keep only what it refers to, never a literal it might or might not produce.
        return [piece for piece in self._deep(stack, argument) if isinstance(piece, Reference)]

    def references(self, stack: Stack, value: Any, *types: str) -> list[Resource]:
        """The resources of ``types`` (any type when none) that ``value`` refers to, anywhere in it."""
        found: list[Resource] = []
        for piece in self._deep(stack, value):
            if not isinstance(piece, Reference) or piece.resource in found:
                continue
            if not types or piece.resource.type in types:
                found.append(piece.resource)
        return found

    def literal_text(self, stack: Stack, value: Any) -> str:
        """The literal parts of ``value`` joined, for matching host names such as ``.execute-api.``."""
        return "".join(piece for piece in self._deep(stack, value) if isinstance(piece, str))

    def _deep(self, stack: Stack, value: Any) -> list[Piece]:
        """Like :meth:`pieces`, and also looks inside mappings that are not intrinsic functions."""
        if isinstance(value, Mapping) and not _is_intrinsic(value):
            return [piece for item in value.values() for piece in self._deep(stack, item)]
        if isinstance(value, list):
            return [piece for item in value for piece in self._deep(stack, item)]
        return self.pieces(stack, value)

    def _reference(self, stack: Stack, name: Any, attribute: str | None) -> list[Piece]:
        if isinstance(name, str) and name in stack.resources:
            return [Reference(Resource(stack, name), attribute)]
        return []

    def _sub(self, stack: Stack, argument: Any) -> list[Piece]:
        text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
        if not isinstance(text, str):
            return []
        pieces: list[Piece] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(text):
            pieces.append(text[position : match.start()])
            name, attribute = match.group(1), match.group(2)
            if isinstance(variables, Mapping) and name in variables:
                pieces.extend(self.pieces(stack, variables[name]))
            else:
                pieces.extend(self._reference(stack, name, attribute))
            position = match.end()
        pieces.append(text[position:])
        return [piece for piece in pieces if piece != ""]


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
