"""Type checks of props against the constructor's own annotations, and signatures that editors can see."""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_cdk import Duration

from .validation import Problems, is_unresolved

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])


def visible_signature(cls: C) -> C:
    """Give a jsii construct class its real signature.

    jsii's metaclass defines ``__call__(*args, **kwargs)``, which is what ``help()``, ``inspect`` and
    editors show; the keyword-only props of ``__init__`` become the class's ``__signature__`` instead.
    """
    init = inspect.signature(cls.__init__)  # type: ignore[misc]
    params = list(init.parameters.values())[1:]  # drop self
    cls.__signature__ = init.replace(parameters=params, return_annotation=cls)  # type: ignore[attr-defined]
    return cls


def checked_arguments(owner: str) -> Callable[[F], F]:
    """Refuse, with :class:`ConstructsLibValidationError`, keyword-only arguments whose type the
    function's own annotations refuse, so ``scopes="a/b"`` or ``single_page_app="false"`` fail where
    they are given instead of meaning something else. ``owner`` names the function in the error.
    Positional arguments are left to the function, which names what it takes in its own words."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return function(*args, **kwargs)  # Python's own message names what is missing or extra
            given = {
                name: value
                for name, value in bound.arguments.items()
                if signature.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
            }
            problems = Problems(owner)
            check_types(problems, function, given)
            problems.raise_if_any()
            return function(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def check_types(problems: Problems, function: Callable[..., Any], given: Mapping[str, Any]) -> bool:
    """Record a problem for each value in ``given`` whose type ``function``'s annotation refuses.

    Tokens pass as numbers; jsii interfaces (protocols) cannot be checked at run time and pass.
    Returns True when every value has a fitting type.
    """
    hints = typing.get_type_hints(function)
    ok = True
    for name, value in given.items():
        annotation = hints.get(name)
        if value is None or annotation is None or _fits(value, annotation):
            continue
        problems.add(name, value, f"must be {_describe_type(annotation)}")
        ok = False
    return ok


def _alternatives(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def _fits(value: Any, annotation: Any) -> bool:
    return any(_fits_one(value, alternative) for alternative in _alternatives(annotation))


def _fits_one(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and is_unresolved(value)
        )
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin in (collections.abc.Mapping, dict):
        return isinstance(value, Mapping)
    if origin in (list, collections.abc.Sequence, tuple):
        item = (typing.get_args(annotation) or (Any,))[0]
        return isinstance(value, (list, tuple)) and all(_fits(v, item) for v in value)
    if isinstance(annotation, type):
        if getattr(annotation, "_is_protocol", False):
            return True  # a jsii interface: implemented across the language boundary, not checkable here
        return isinstance(value, annotation)
    return True


def _describe_type(annotation: Any) -> str:
    names = []
    for alternative in _alternatives(annotation):
        origin = typing.get_origin(alternative)
        if alternative is bool:
            names.append("True or False")
        elif alternative is int:
            names.append("a whole number (int)")
        elif alternative is float:
            names.append("a number")
        elif alternative is str:
            names.append("a string")
        elif alternative is Duration:
            names.append("a Duration, for example Duration.seconds(30)")
        elif origin in (collections.abc.Mapping, dict):
            names.append("a dict")
        elif origin in (list, collections.abc.Sequence, tuple):
            names.append("a list")
        elif isinstance(alternative, type) and issubclass(alternative, enum.Enum):
            names.append(f"a {alternative.__name__} member")
        elif isinstance(alternative, type):
            # aws_cdk.aws_sqs.QueueProps reads as aws_sqs.QueueProps; this library's own classes bare.
            module = alternative.__module__
            prefix = "" if module.startswith("constructs_lib") else f"{module.split('.')[-1]}."
            article = "an" if (prefix or alternative.__name__)[0].lower() in "aeiou" else "a"
            names.append(f"{article} {prefix}{alternative.__name__}")
        else:
            names.append(str(alternative))
    return " or ".join(names)
