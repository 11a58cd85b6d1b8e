"""The synthesized templates of an app as the rules read them: resources, and what each value refers to.

Every stack that will deploy is read, nested stacks included (:mod:`._assembly` finds their templates),
with the environment the assembly gives each stack (a literal account and region, or none). References
are followed across stacks (``Fn::ImportValue`` and ``Fn::GetStackOutput``) and across the nested-stack
boundary (a nested template's ``Parameters`` take the parent's values; the parent's ``Fn::GetAtt
[Stack, Outputs.X]`` is the nested template's output), so a rule sees a queue in a stateful stack from
the event source mapping in a stateless one. Values that only deploy time can know (parameters, pseudo
parameters, intrinsic functions over them) stay unresolved: rules skip them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _assembly

_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}")


@dataclass(frozen=True, eq=False)
class Stack:
    """One synthesized template (compared by identity: each is loaded once)."""

    name: str
    template_path: str
    template: Mapping[str, Any] = field(repr=False)
    #: The literal account and region the stack deploys to; None where the stack leaves it to deploy
    #: time (an environment-agnostic stack writes ``AWS::AccountId`` and ``AWS::Region`` instead).
    account: str | None = None
    region: str | None = None
    #: For a nested stack: its parent, and the logical id of its ``AWS::CloudFormation::Stack`` there.
    parent: Stack | None = field(default=None, repr=False)
    parent_resource: str | None = None
    #: Logical id → construct path, where the assembly's metadata gives it.
    construct_paths: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: The stack's own construct path, where the metadata gives it.
    path: str | None = None
    #: Why the template could not be read (not JSON, not a template), when it could not.
    unreadable: str | None = None
    #: The name CloudFormation deploys the stack as, where the assembly gives it (a top-level stack's
    #: ``stackName``); None for a nested stack, whose name CloudFormation generates.
    deployed_name: str | None = None

    @property
    def resources(self) -> Mapping[str, Any]:
        resources = self.template.get("Resources", {})
        return resources if isinstance(resources, Mapping) else {}

    @property
    def root(self) -> Stack:
        """The top-level stack that deploys this one (itself when it is not nested)."""
        return self.parent.root if self.parent is not None else self


@dataclass(frozen=True)
class Resource:
    """One resource of one stack."""

    stack: Stack
    logical_id: str

    @property
    def type(self) -> str:
        kind = _mapping(self.stack.resources.get(self.logical_id)).get("Type")
        return kind if isinstance(kind, str) else ""

    @property
    def props(self) -> Mapping[str, Any]:
        """The resource's ``Properties`` (empty when absent or not a mapping)."""
        return _mapping(_mapping(self.stack.resources.get(self.logical_id)).get("Properties"))

    @property
    def path(self) -> str:
        """The construct path (``/Stack/Queue/Resource``), else ``<stack>/<logical id>``."""
        return self.stack.construct_paths.get(self.logical_id) or f"{self.stack.name}/{self.logical_id}"

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
        self._nested: dict[tuple[int, str], Stack] = {}
        self._by_type: dict[str, list[tuple[int, Resource]]] | None = None
        self._memo: dict[Any, Any] = {}
        #: The resource :meth:`of_type` yielded last: what a rule was reading when it failed.
        self.last_read: Resource | None = None
        for stack in stacks:
            if stack.parent is not None and stack.parent_resource is not None:
                self._nested[(id(stack.parent), stack.parent_resource)] = stack
            for output in _mapping(stack.template.get("Outputs")).values():
                export = _mapping(_mapping(output).get("Export")).get("Name")
                if isinstance(export, str):
                    self._exports[export] = (stack, _mapping(output).get("Value"))

    @classmethod
    def load(cls, template_paths: Sequence[str]) -> Templates:
        """Read the templates and every nested stack's under them; each stack is named by its file name,
        as ``Fn::GetStackOutput`` names it. The environment and construct paths come from the assembly
        beside each template, where there is one."""
        stacks: list[Stack] = []
        loaded: set[Path] = set()
        directories: dict[Path, _Directory] = {}
        for path in _assembly.unique(template_paths):
            if path not in loaded:
                if path.parent not in directories:
                    directories[path.parent] = _Directory(path.parent)
                directory = directories[path.parent]
                info = directory.infos.get(path.name, _assembly.StackInfo())
                stacks.extend(_load_tree(path, info, directory, None, None, loaded))
        return cls(stacks)

    def nested(self, stack: Stack, logical_id: str) -> Stack | None:
        """The nested stack that ``stack``'s ``AWS::CloudFormation::Stack`` resource deploys, if read."""
        return self._nested.get((id(stack), logical_id))

    def follow(self, stack: Stack, name: Any, attribute: str | None) -> tuple[Stack, Any] | None:
        """Where a ``Ref``/``Fn::GetAtt`` crosses a nested-stack boundary, the stack and value it stands
        for: a nested template's parameter is the parent's value for it, and ``Outputs.X`` of a nested
        stack resource is that template's output."""
        if not isinstance(name, str):
            return None
        parent = stack.parent
        if attribute is None and parent is not None and name in _mapping(stack.template.get("Parameters")):
            given = _mapping(parent.resources.get(stack.parent_resource or ""))
            parameters = _mapping(_mapping(given.get("Properties")).get("Parameters"))
            if name in parameters:
                return parent, parameters[name]
        if attribute is not None and attribute.startswith("Outputs."):
            child = self.nested(stack, name)
            output = _mapping(_mapping(child.template.get("Outputs")).get(attribute[8:])) if child else {}
            if child is not None and "Value" in output:
                return child, output["Value"]
        return None

    def exported(self, name: str) -> tuple[Stack, Any] | None:
        """The stack and value of the output exported as ``name`` (``Fn::ImportValue``), if in the app."""
        return self._exports.get(name)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per set of templates: an index the rules share (keyed by ``key``)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def of_type(self, *types: str) -> Iterator[Resource]:
        """The resources of ``types``, in template order (stack by stack, resource by resource)."""
        if self._by_type is None:
            self._by_type = {}
            order = 0
            for stack in self.stacks.values():
                for logical_id, resource in stack.resources.items():
                    kind = _mapping(resource).get("Type")
                    if isinstance(kind, str):
                        self._by_type.setdefault(kind, []).append((order, Resource(stack, logical_id)))
                        order += 1
        found = (
            self._by_type.get(types[0], [])
            if len(types) == 1
            else sorted(
                (entry for kind in dict.fromkeys(types) for entry in self._by_type.get(kind, ())),
                key=lambda entry: entry[0],
            )
        )
        for _, resource in found:
            self.last_read = resource
            yield resource

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
                (argument[0], ".", str(argument[1]))
                if isinstance(argument, list) and len(argument) == 2
                else str(argument).partition(".")
            )
            return self._reference(stack, name, attribute or None)
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
            outputs = _mapping(other.template.get("Outputs")) if other else {}
            output = _mapping(outputs.get(str(argument.get("OutputName"))))
            return self.pieces(other, output.get("Value")) if other and output else []
        # Anything else: keep only what it refers to, never a literal it might or might not produce.
        return [piece for piece in self._deep(stack, argument) if isinstance(piece, Reference)]

    def tokenized(self, stack: Stack, value: Any, tokens: list[Reference]) -> str:
        """``value`` as text (a JSON document written with intrinsics), each reference a ``«ref:N»``
        token appended to ``tokens`` (``tokens[N]``)."""
        out = []
        for piece in self.pieces(stack, value):
            if isinstance(piece, Reference):
                out.append(f"«ref:{len(tokens)}»")
                tokens.append(piece)
            else:
                out.append(piece)
        return "".join(out)

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
        followed = self.follow(stack, name, attribute)
        if followed is not None:
            return self.pieces(*followed)
        if isinstance(name, str) and isinstance(stack.resources.get(name), Mapping):
            return [Reference(Resource(stack, name), attribute)]
        return []

    def _sub(self, stack: Stack, argument: Any) -> list[Piece]:
        text, variables = (
            (argument[0], argument[1] if len(argument) > 1 else {})
            if isinstance(argument, list) and argument
            else (argument, {})
        )
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


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class _Directory:
    """What an assembly directory says of its templates, read once per load."""

    def __init__(self, path: Path) -> None:
        self.infos = _assembly.stack_infos(path)
        self._path = path
        self._assets: dict[str, dict[str, str]] = {}

    def assets(self, root: Stack) -> dict[str, str]:
        """Asset hash → file, the root stack's own asset manifest first (one nested template may be
        the content of several nested stacks, each with its own file)."""
        first = Path(root.template_path).name.replace(".template.json", ".assets.json")
        if first not in self._assets:
            self._assets[first] = _assembly.asset_files(self._path, first)
        return self._assets[first]


def _load_tree(
    path: Path,
    info: _assembly.StackInfo,
    directory: _Directory,
    parent: Stack | None,
    parent_resource: str | None,
    loaded: set[Path],
) -> list[Stack]:
    """The stack of ``path`` and, depth first, every nested stack it deploys whose template is here."""
    template = _assembly.read_json(path)
    loaded.add(path)
    readable = isinstance(template, Mapping) and isinstance(template.get("Resources", {}), Mapping)
    stack = Stack(
        _assembly.stack_name(path),
        str(path),
        template if readable else {},
        account=info.account if parent is None else parent.account,
        region=info.region if parent is None else parent.region,
        parent=parent,
        parent_resource=parent_resource,
        construct_paths=info.construct_paths,
        path=info.path,
        unreadable=None if readable else "it is not a CloudFormation template in JSON",
        deployed_name=info.stack_name if parent is None else None,
    )
    stacks = [stack]
    probe = Templates([stack])
    for logical_id, resource in stack.resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != _assembly.NESTED_STACK:
            continue
        url = probe.literal_text(stack, _mapping(resource.get("Properties")).get("TemplateURL"))
        file = _assembly.nested_template_file(
            url,
            info.construct_paths.get(logical_id),
            lambda: directory.assets(stack.root),
            info.nested_templates,
        )
        child_path = (path.parent / file).resolve() if file else None
        if child_path is None or child_path in loaded or not child_path.is_file():
            continue
        child_info = directory.infos.get(child_path.name, _assembly.StackInfo())
        stacks.extend(_load_tree(child_path, child_info, directory, stack, logical_id, loaded))
    return stacks


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
