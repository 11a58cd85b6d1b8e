"""Lazy package exports: a package names its public objects and imports each module on first use, so
importing the package (or a light module inside it) never pulls in aws_cdk and jsii's runtime."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each name to the module (relative to the
    package) that defines it; a name is imported once, then kept in the package's ``namespace``."""

    def attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return attribute
